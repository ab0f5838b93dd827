package emulator

import (
	"errors"
	"fmt"

	"github.com/sigr-dev/sigr/protocol"
)

// receive feeds bytes from the client into the connection: the handshake
// first, then hub messages. It reports false once the connection is
// closing and further input is pointless. The caller holds c.inMu.
func (c *conn) receive(p []byte) bool {
	if c.closing() {
		return false
	}
	if c.bframer != nil {
		return c.receiveBinary(p)
	}
	c.framer.Feed(p)
	for {
		rec, ok, err := c.framer.Next()
		if err != nil {
			c.framingFailed(err)
			return false
		}
		if !ok {
			if sf := c.sf.Load(); sf != nil {
				sf.payloadDone()
			}
			return true
		}
		c.touch()
		if !c.handshaken.Load() {
			if !c.handshake(rec) {
				return false
			}
			if c.bframer != nil {
				// What followed the handshake is MessagePack.
				return c.receiveBinary(c.framer.Remainder())
			}
			continue
		}
		if !c.message(rec) {
			return false
		}
	}
}

// handshake answers the handshake record. The JSON and MessagePack
// protocols, versions 1 and 2, are accepted (MessagePack not on
// Server-Sent Events, which carry only text); 2 on a WebSocket switches
// stateful reconnect on when negotiate offered it (the official server
// lets version 1 switch it off).
func (c *conn) handshake(rec []byte) bool {
	req, err := protocol.ParseHandshakeRequest(rec)
	errText := ""
	switch {
	case err != nil:
		errText = err.Error()
	case req.Protocol != protocol.ProtocolJSON && req.Protocol != protocol.ProtocolMessagePack:
		errText = fmt.Sprintf("The protocol '%s' is not supported.", req.Protocol)
	case req.Protocol == protocol.ProtocolMessagePack && c.transport == transportSSE:
		errText = fmt.Sprintf(binaryTransferError, req.Protocol)
	case req.Version < 0 || req.Version > 2:
		errText = fmt.Sprintf("The server does not support version %d of the '%s' protocol.", req.Version, req.Protocol)
	}
	if errText != "" {
		c.enqueue(protocol.AppendHandshakeResponse(nil, errText))
		c.close(nil, false, "handshake failed: "+errText)
		return false
	}
	c.timerMu.Lock()
	if c.hsTimer != nil {
		c.hsTimer.Stop()
	}
	c.timerMu.Unlock()
	c.proto = req.Protocol
	if req.Protocol == protocol.ProtocolMessagePack {
		c.bframer = &protocol.BinaryFramer{MaxRecordSize: c.s.opts.MaxMessageSize}
		c.mpdec.Mode = protocol.Lenient
		c.msgpack.Store(true)
	}
	if !c.s.register(c, protocol.AppendHandshakeResponse(nil, ""), req.Version) {
		m := protocol.NewClose("Connection closed with an error. The service is shutting down.", true)
		c.close(&m, false, "service closing")
		return false
	}
	c.s.up.connected(c)
	return true
}

// message handles one hub message from the client. Invocations go to the
// upstream; without a matching upstream template they are dropped, as the
// real service does, with one warning per connection.
func (c *conn) message(rec []byte) bool {
	m, err := c.parse(rec)
	if err != nil {
		c.fail("Connection closed with an error. Invalid message: "+err.Error(), "invalid message")
		return false
	}
	if sf := c.sf.Load(); sf != nil {
		process, errText := sf.incoming(&m)
		if errText != "" {
			c.fail("Connection closed with an error. "+errText, "stateful reconnect: "+errText)
			return false
		}
		if !process {
			return true
		}
	}
	switch m.Type {
	case protocol.TypeClose:
		c.close(nil, false, "client sent Close")
		return false
	case protocol.TypeInvocation, protocol.TypeStreamInvocation:
		c.s.up.invocation(c, &m, rec)
	}
	return true
}

// framingFailed closes the connection over a record its framer refused.
func (c *conn) framingFailed(err error) {
	var tl *protocol.RecordTooLargeError
	if errors.As(err, &tl) {
		c.fail(fmt.Sprintf("Connection closed with an error. A message exceeded the maximum message size of %d bytes.", tl.Limit), "message too large")
		return
	}
	c.fail("Connection closed with an error. "+err.Error(), "framing error")
}

// fail closes the connection with a Close message carrying errText.
func (c *conn) fail(errText, reason string) {
	m := protocol.NewClose(errText, false)
	c.close(&m, false, reason)
}
