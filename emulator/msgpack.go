package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// This file is what the emulator does differently for a connection that
// chose the MessagePack hub protocol: its records are length-prefixed
// MessagePack after the JSON handshake, its WebSocket messages binary, and
// its upstream calls application/x-msgpack.

// msgpackPing is an encoded MessagePack Ping, shared by every connection.
var msgpackPing = []byte{0x02, 0x91, byte(protocol.TypePing)}

// binaryTransferError is the .NET server's handshake error for a binary
// protocol on a transport that carries only text.
const binaryTransferError = "Cannot use the '%s' protocol on the current transport. The transport does not support 'Binary' transfer format."

// ping returns the connection's encoded Ping.
func (c *conn) ping() []byte {
	if c.msgpack.Load() {
		return msgpackPing
	}
	return pingRecord
}

// encode writes a message the emulator builds in the connection's
// protocol. Only values that are not valid JSON, or arguments that are no
// array, fail in MessagePack; the emulator checks what it is given, so a
// failure is logged and the message not sent.
func (c *conn) encode(m *protocol.Message) []byte {
	if !c.msgpack.Load() {
		return protocol.AppendMessage(nil, m)
	}
	b, err := protocol.AppendMessagePack(nil, m)
	if err != nil {
		c.s.log.Warn("a message could not be written as MessagePack; not sent", "hub", c.hubName,
			"connectionId", c.id, "type", m.Type.String(), "err", err)
		return nil
	}
	return b
}

// frames is one message encoded at most once per protocol, however many
// connections it goes to: REST and function-app messages arrive as JSON
// and a broadcast converts them once for all its MessagePack connections.
// It is used by one goroutine.
type frames struct {
	m       *protocol.Message
	json    []byte
	msgpack []byte
	mpErr   error

	// The same as WebSocket frames, for direct writes (sendDirect),
	// built for the first connection that takes one.
	wsJSON, wsMsgpack []byte
}

// ws returns the WebSocket frame of payload, c's encoding of f.
func (f *frames) ws(c *conn, payload []byte) []byte {
	if c.msgpack.Load() {
		if f.wsMsgpack == nil {
			f.wsMsgpack = appendFrame(nil, opBinary, payload)
		}
		return f.wsMsgpack
	}
	if f.wsJSON == nil {
		f.wsJSON = appendFrame(nil, opText, payload)
	}
	return f.wsJSON
}

// newFrames encodes m for JSON connections at once; MessagePack waits for
// the first connection that needs it.
func newFrames(m *protocol.Message) *frames {
	return &frames{m: m, json: protocol.AppendMessage(nil, m)}
}

// of returns the frame for c, or nil when m cannot be written in c's
// protocol.
func (f *frames) of(c *conn) []byte {
	if !c.msgpack.Load() {
		return f.json
	}
	if f.msgpack == nil && f.mpErr == nil {
		f.msgpack, f.mpErr = protocol.AppendMessagePack(nil, f.m)
		if f.mpErr != nil {
			c.s.log.Warn("a message could not be written as MessagePack; not sent to MessagePack connections",
				"hub", c.hubName, "type", f.m.Type.String(), "err", f.mpErr)
		}
	}
	return f.msgpack
}

// receiveBinary feeds MessagePack bytes after the handshake. The caller
// holds c.inMu.
func (c *conn) receiveBinary(p []byte) bool {
	c.bframer.Feed(p)
	for {
		rec, ok, err := c.bframer.Next()
		if err != nil {
			c.framingFailed(err)
			return false
		}
		if !ok {
			return true
		}
		c.touch()
		if !c.message(rec) {
			return false
		}
	}
}

// parse decodes one inbound record in the connection's protocol. The
// caller holds c.inMu.
func (c *conn) parse(rec []byte) (protocol.Message, error) {
	if c.bframer != nil {
		return c.mpdec.Parse(rec)
	}
	return protocol.ParseMessage(rec, protocol.Lenient)
}

// trackable reports whether an encoded frame of the connection gets a
// sequence id under stateful reconnect.
func (c *conn) trackable(f []byte) bool {
	if c.msgpack.Load() {
		return protocol.IsTrackableMessagePack(f)
	}
	return protocol.IsTrackable(f)
}

// completeMsgpack relays a MessagePack client's upstream answer: records
// with their length prefixes, the first of them the Completion. An answer
// that is not framed MessagePack would break the client's connection; it
// is refused with an error that says so.
func (u *upstream) completeMsgpack(c *conn, id string, answer []byte, rec *UpstreamCall) {
	recs, err := protocol.SplitBinaryRecords(answer)
	if err != nil || len(recs) == 0 {
		rec.Failure = "error: the upstream answered 200 with a body that is not length-prefixed MessagePack records (" +
			textsafe.Clip(errText(err), 100) + "); for a MessagePack client a SignalRTrigger function answers with a MessagePack Completion."
		rec.Body = firstLine(bytes.NewReader(answer))
		c.enqueue(c.completionFrame(id, "Invocation failed, "+rec.Failure))
		return
	}
	if m, err := protocol.ParseMessagePack(recs[0], protocol.Lenient); err != nil || m.Type != protocol.TypeCompletion || m.InvocationID != id {
		u.log.Warn("the upstream's answer is not a Completion of the invocation; relayed as it is", "hub", c.hubName,
			"connectionId", c.id, "invocationId", textsafe.Clip(id, 100))
	}
	for _, r := range recs {
		c.enqueue(append(protocol.AppendVarint(nil, uint32(len(r))), r...))
	}
}

func errText(err error) string {
	if err == nil {
		return "no record"
	}
	return err.Error()
}

// msgpackServerless reads an upstream body of type application/x-msgpack
// (one length-prefixed hub message, as the service forwards a MessagePack
// client's invocation) into the fields the function app uses.
func msgpackServerless(body []byte, msg *serverlessMessage) error {
	recs, err := protocol.SplitBinaryRecords(body)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return errors.New("the body is empty")
	}
	m, err := protocol.ParseMessagePack(recs[0], protocol.Strict)
	if err != nil {
		return err
	}
	msg.Type, msg.InvocationID, msg.Target, msg.Error = int(m.Type), m.InvocationID, m.Target, m.Error
	if len(m.Arguments) > 0 {
		if err := json.Unmarshal(m.Arguments, &msg.Arguments); err != nil {
			return fmt.Errorf("arguments: %w", err)
		}
	}
	return nil
}
