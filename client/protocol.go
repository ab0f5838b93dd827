package client

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sigr-dev/sigr/protocol"
)

// wireProtocol is the hub protocol of a Conn (Options.Protocol): how its
// messages are written, framed and read. The handshake is JSON in both.
type wireProtocol struct {
	name   string
	binary bool // MessagePack: binary transport messages, length-prefixed records
	ping   []byte
	// pingBody is a received Ping's usual record, which the receive path
	// skips without parsing.
	pingBody []byte
	close    []byte
}

var (
	jsonWire = &wireProtocol{
		name:     protocol.ProtocolJSON,
		ping:     []byte("{\"type\":6}\x1e"),
		pingBody: []byte(`{"type":6}`),
		close:    []byte("{\"type\":7}\x1e"),
	}
	msgpackWire = &wireProtocol{
		name:     protocol.ProtocolMessagePack,
		binary:   true,
		ping:     []byte{0x02, 0x91, 0x06},
		pingBody: []byte{0x91, 0x06},
		close:    mustMessagePack(protocol.NewClose("", false)),
	}
)

func mustMessagePack(m protocol.Message) []byte {
	b, err := protocol.AppendMessagePack(nil, &m)
	if err != nil {
		panic(err)
	}
	return b
}

// wireFor returns the protocol Options.Protocol names.
func wireFor(name string) (*wireProtocol, error) {
	switch strings.ToLower(name) {
	case "", protocol.ProtocolJSON:
		return jsonWire, nil
	case protocol.ProtocolMessagePack:
		return msgpackWire, nil
	}
	return nil, fmt.Errorf("client: unknown hub protocol %q: use %q or %q", name, protocol.ProtocolJSON, protocol.ProtocolMessagePack)
}

// handshake is the handshake request: version 1, or 2 to ask for stateful
// reconnect (which older servers reject).
func (w *wireProtocol) handshake(version int) []byte {
	return protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: w.name, Version: version})
}

// encode writes m as one record. Only MessagePack can fail: arguments
// that are not a JSON array of valid JSON.
func (w *wireProtocol) encode(m *protocol.Message) ([]byte, error) {
	if !w.binary {
		return protocol.AppendMessage(nil, m), nil
	}
	return protocol.AppendMessagePack(nil, m)
}

// encodeOwn writes a message sigr builds itself, which always encodes.
func (w *wireProtocol) encodeOwn(m *protocol.Message) []byte {
	b, err := w.encode(m)
	if err != nil {
		panic("client: " + err.Error())
	}
	return b
}

// trackable reports whether an encoded record gets a sequence id under
// stateful reconnect.
func (w *wireProtocol) trackable(rec []byte) bool {
	if w.binary {
		return protocol.IsTrackableMessagePack(rec)
	}
	return protocol.IsTrackable(rec)
}

// transferFormat is the negotiate transfer format a transport must offer.
func (w *wireProtocol) transferFormat() string {
	if w.binary {
		return "Binary"
	}
	return "Text"
}

// isPing reports whether rec is a Ping in its usual form.
func (w *wireProtocol) isPing(rec []byte) bool { return bytes.Equal(rec, w.pingBody) }

// framer splits a transport's payloads into records for one protocol:
// 0x1E-separated JSON, or length-prefixed MessagePack after the JSON
// handshake response.
type framer struct {
	json   protocol.Framer
	binary *protocol.BinaryFramer // nil for JSON
}

func newFramer(w *wireProtocol, limit int) framer {
	f := framer{json: protocol.Framer{MaxRecordSize: limit}}
	if w.binary {
		f.binary = &protocol.BinaryFramer{MaxRecordSize: limit}
	}
	return f
}

// SplitOwned appends the records payload completes (see
// protocol.Framer.SplitOwned).
func (f *framer) SplitOwned(dst [][]byte, payload []byte) ([][]byte, error) {
	if f.binary != nil {
		return f.binary.SplitOwned(dst, payload)
	}
	return f.json.SplitOwned(dst, payload)
}

// splitHandshake splits a payload that may end the handshake response:
// the response is the first 0x1E-ended record; in MessagePack what follows
// it is length-prefixed.
func (f *framer) splitHandshake(dst [][]byte, payload []byte) ([][]byte, error) {
	if f.binary == nil {
		return f.json.SplitOwned(dst, payload)
	}
	if f.json.Buffered() == 0 {
		if i := bytes.IndexByte(payload, protocol.RecordSeparator); i >= 0 {
			dst = append(dst, payload[:i:i])
			return f.binary.SplitOwned(dst, payload[i+1:])
		}
	}
	f.json.Feed(payload)
	rec, ok, err := f.json.Next()
	if err != nil || !ok {
		return dst, err
	}
	dst = append(dst, bytes.Clone(rec))
	rest := f.json.Remainder()
	return f.binary.SplitOwned(dst, rest)
}

// Reset drops a record cut in half, for a resumed transport.
func (f *framer) Reset() {
	f.json.Reset()
	if f.binary != nil {
		f.binary.Reset()
	}
}

// isTextRecord reports whether p is JSON: 0x1E-ended records starting with
// an object, as every JSON record and the handshake of either protocol is.
// A MessagePack record starts with its length and then an array, so it
// cannot look like one.
func isTextRecord(p []byte) bool {
	return len(p) >= 3 && p[0] == '{' && (p[1] == '"' || p[1] == '}') && p[len(p)-1] == protocol.RecordSeparator
}
