package protocol

import (
	"bytes"
	"encoding/json"
	"sort"
)

// RecordSeparator ends every JSON hub protocol record, the handshake included.
const RecordSeparator byte = 0x1E

// MessageType is the numeric `type` of a hub message.
type MessageType int

// Hub message types, as numbered by the hub protocol.
const (
	TypeInvocation       MessageType = 1
	TypeStreamItem       MessageType = 2
	TypeCompletion       MessageType = 3
	TypeStreamInvocation MessageType = 4
	TypeCancelInvocation MessageType = 5
	TypePing             MessageType = 6
	TypeClose            MessageType = 7
	TypeAck              MessageType = 8
	TypeSequence         MessageType = 9
)

var typeNames = [...]string{
	TypeInvocation:       "invocation",
	TypeStreamItem:       "streamItem",
	TypeCompletion:       "completion",
	TypeStreamInvocation: "streamInvocation",
	TypeCancelInvocation: "cancelInvocation",
	TypePing:             "ping",
	TypeClose:            "close",
	TypeAck:              "ack",
	TypeSequence:         "sequence",
}

// String returns the type's name in an event line ("invocation",
// "streamItem", ...; see docs/events.md), or "unknown" for a type this
// protocol version does not define.
func (t MessageType) String() string {
	if t.Known() {
		return typeNames[t]
	}
	return "unknown"
}

// Known reports whether t is one of the types 1 to 9.
func (t MessageType) Known() bool { return t >= TypeInvocation && t <= TypeSequence }

// Trackable reports whether messages of type t get sequence ids under
// stateful reconnect (types 1 to 5).
func (t MessageType) Trackable() bool { return t >= TypeInvocation && t <= TypeCancelInvocation }

// Field is a set of message fields; Message.Fields says which ones were
// present on the wire, so a monitor can tell `"error":""` from no error and
// `"result":null` from a void completion.
type Field uint16

// Message fields, one bit each.
const (
	FieldInvocationID Field = 1 << iota
	FieldTarget
	FieldArguments
	FieldStreamIDs
	FieldHeaders
	FieldItem
	FieldResult
	FieldError
	FieldAllowReconnect
	FieldSequenceID
)

// Message is one hub message of any type. It is a flat tagged union rather
// than one Go type per message type, so that decoding a message costs no
// interface boxing and a receive loop can reuse one value.
//
// Arguments, Item, Result and Headers hold the raw JSON exactly as it
// arrived, so a monitor never loses a byte. A decoded Message aliases the
// record it was parsed from: those raw fields are sub-slices of it.
type Message struct {
	Type   MessageType
	Fields Field // which fields are present; set by the decoder and constructors

	InvocationID   string          // types 1-5; optional on 1
	Target         string          // types 1, 4
	Arguments      json.RawMessage // types 1, 4: normally a JSON array
	StreamIDs      []string        // types 1, 4
	Headers        json.RawMessage // all but 6: a JSON object of string values
	Item           json.RawMessage // type 2
	Result         json.RawMessage // type 3
	Error          string          // types 3, 7
	AllowReconnect bool            // type 7
	SequenceID     int64           // types 8, 9
}

// Has reports whether every field of f is present.
func (m *Message) Has(f Field) bool { return m.Fields&f == f }

// Header returns the value of one hub-protocol header. It reports false when
// the header is absent or its value is not a string. A monitor reads the
// same header (the emulator's route) on every message, and its values
// repeat, so a short value is interned like a target: the lookup does not
// allocate.
func (m *Message) Header(key string) (string, bool) {
	var found []byte
	ok := false
	m.eachHeader(func(name []byte, nameEsc bool, value []byte) {
		if nameEquals(name, nameEsc, key) {
			found, ok = value, true
		}
	})
	if !ok {
		return "", false
	}
	if len(found) >= 2 && bytes.IndexByte(found, '\\') < 0 {
		return internString(found[1 : len(found)-1]), true
	}
	return decodeStringValue(found), true
}

// HeaderMap returns the headers with string values as a map; it is meant
// for display and tests, not for the receive path.
func (m *Message) HeaderMap() map[string]string {
	if len(m.Headers) == 0 {
		return nil
	}
	out := map[string]string{}
	m.eachHeader(func(name []byte, nameEsc bool, value []byte) {
		out[decodeName(name, nameEsc)] = decodeStringValue(value)
	})
	return out
}

// eachHeader calls fn for each header whose value is a string, in order,
// with the raw name and the raw value (quotes included). Headers that are
// not a valid object give what comes before the first problem.
func (m *Message) eachHeader(fn func(name []byte, nameEsc bool, value []byte)) {
	if len(m.Headers) == 0 {
		return
	}
	p := parser{r: &lenientRules}
	p.s.reset(m.Headers, 0)
	if p.s.peekKind() != kindObject {
		return
	}
	_ = p.eachMember(func(name []byte, nameEsc bool, kind valueKind, start, end int) error {
		if kind == kindString {
			fn(name, nameEsc, m.Headers[start:end])
		}
		return nil
	})
}

// EncodeHeaders returns h as a JSON object with its keys sorted, ready for
// Message.Headers. A nil or empty map gives nil (no headers).
func EncodeHeaders(h map[string]string) json.RawMessage {
	if len(h) == 0 {
		return nil
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(appendString(nil, k))
		b.WriteByte(':')
		b.Write(appendString(nil, h[k]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// NewInvocation returns a non-blocking invocation of target with args, a
// raw JSON array (nil means no arguments, written as []).
func NewInvocation(target string, args json.RawMessage) Message {
	if args == nil {
		args = json.RawMessage("[]")
	}
	return Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments, Target: target, Arguments: args}
}

// NewPing returns a Ping message.
func NewPing() Message { return Message{Type: TypePing} }

// NewClose returns a Close message. An empty errText leaves `error` out.
func NewClose(errText string, allowReconnect bool) Message {
	m := Message{Type: TypeClose}
	if errText != "" {
		m.Fields |= FieldError
		m.Error = errText
	}
	if allowReconnect {
		m.Fields |= FieldAllowReconnect
		m.AllowReconnect = true
	}
	return m
}

// NewCompletion returns a completion for invocationID carrying result (raw
// JSON; nil means a void completion) or, when errText is not empty, an error.
func NewCompletion(invocationID string, result json.RawMessage, errText string) Message {
	m := Message{Type: TypeCompletion, Fields: FieldInvocationID, InvocationID: invocationID}
	switch {
	case errText != "":
		m.Fields |= FieldError
		m.Error = errText
	case result != nil:
		m.Fields |= FieldResult
		m.Result = result
	}
	return m
}

// NewAck returns an Ack for every trackable message up to sequenceID.
func NewAck(sequenceID int64) Message {
	return Message{Type: TypeAck, Fields: FieldSequenceID, SequenceID: sequenceID}
}

// NewSequence returns the Sequence message that starts a resumed connection.
func NewSequence(sequenceID int64) Message {
	return Message{Type: TypeSequence, Fields: FieldSequenceID, SequenceID: sequenceID}
}
