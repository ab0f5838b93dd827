package protocol

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file writes event lines, whose schema docs/events.md documents: one
// JSON object per line with `time` and `event`, shared by `sigr watch`,
// `sigr decode` and the TUI's copy of a message. They are appended to a
// caller's buffer so that a busy receive loop writes lines without
// allocating.

// EventContext is what an event line says besides the message itself.
type EventContext struct {
	Connection string // label such as "alice@chat"; omitted when empty
	Hub        string // omitted when empty
	Raw        []byte // the record as received; written as raw or rawBase64 when not nil
}

// StateEvent is a connection state change.
type StateEvent struct {
	Connection   string
	Hub          string
	State        string // connecting, connected, reconnecting, disconnected
	Transport    string // WebSockets, ServerSentEvents, LongPolling
	ConnectionID string
	Attempt      int
	RetryIn      time.Duration // written as retryInMs when positive
	Resumed      bool          // a stateful-reconnect resume, not a new connection
	Error        string
}

func appendHead(dst []byte, t time.Time, event string) []byte {
	dst = append(dst, `{"time":"`...)
	dst = appendTime(dst, t)
	dst = append(dst, `","event":"`...)
	dst = append(dst, event...)
	return append(dst, '"')
}

func appendStringField(dst []byte, name, v string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, v)
}

// appendRawField writes a raw JSON value. Raw values hold what arrived;
// invalid UTF-8 can only sit inside their strings, so replacing it keeps
// the line valid JSON. A peer that pretty-prints its values puts line
// breaks in them; a JSON string holds none raw, so they can only stand
// between tokens, and become spaces to keep the event on one line.
func appendRawField(dst []byte, name string, v []byte) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	start := len(dst)
	if utf8.Valid(v) {
		dst = append(dst, v...)
	} else {
		for len(v) > 0 {
			r, size := utf8.DecodeRune(v)
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, v[:size]...)
			}
			v = v[size:]
		}
	}
	if bytes.IndexByte(dst[start:], '\n') >= 0 || bytes.IndexByte(dst[start:], '\r') >= 0 {
		for i, c := range dst[start:] {
			if c == '\n' || c == '\r' {
				dst[start+i] = ' '
			}
		}
	}
	return dst
}

func appendContext(dst []byte, c *EventContext) []byte {
	if c.Connection != "" {
		dst = appendStringField(dst, "connection", c.Connection)
	}
	if c.Hub != "" {
		dst = appendStringField(dst, "hub", c.Hub)
	}
	return dst
}

func appendRawRecord(dst []byte, raw []byte) []byte {
	if raw == nil {
		return dst
	}
	if utf8.Valid(raw) {
		return appendStringField(dst, "raw", string(raw))
	}
	dst = append(dst, `,"rawBase64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, raw)
	return append(dst, '"')
}

// AppendMessageEvent appends the line for a hub message: `event` named
// after its type, and each field the message carried under its protocol
// name, values as they arrived.
func AppendMessageEvent(dst []byte, t time.Time, m *Message, c EventContext) []byte {
	dst = appendHead(dst, t, m.Type.String())
	dst = appendContext(dst, &c)
	if !m.Type.Known() {
		dst = append(dst, `,"type":`...)
		dst = strconv.AppendInt(dst, int64(m.Type), 10)
	}
	if m.Has(FieldTarget) {
		dst = appendStringField(dst, "target", m.Target)
	}
	if m.Has(FieldArguments) {
		dst = appendRawField(dst, "arguments", m.Arguments)
	}
	if m.Has(FieldInvocationID) {
		dst = appendStringField(dst, "invocationId", m.InvocationID)
	}
	if m.Has(FieldItem) {
		dst = appendRawField(dst, "item", m.Item)
	}
	if m.Has(FieldResult) {
		dst = appendRawField(dst, "result", m.Result)
	}
	if m.Has(FieldError) {
		dst = appendStringField(dst, "error", m.Error)
	}
	if m.Has(FieldHeaders) {
		dst = appendRawField(dst, "headers", m.Headers)
	}
	if m.Has(FieldStreamIDs) {
		dst = append(dst, `,"streamIds":[`...)
		for i, id := range m.StreamIDs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, id)
		}
		dst = append(dst, ']')
	}
	if m.Has(FieldAllowReconnect) {
		dst = append(dst, `,"allowReconnect":`...)
		dst = strconv.AppendBool(dst, m.AllowReconnect)
	}
	if m.Has(FieldSequenceID) {
		dst = append(dst, `,"sequenceId":`...)
		dst = strconv.AppendInt(dst, m.SequenceID, 10)
	}
	dst = appendRawRecord(dst, c.Raw)
	return append(dst, '}', '\n')
}

// AppendStateEvent appends the line for a connection state change.
func AppendStateEvent(dst []byte, t time.Time, s StateEvent) []byte {
	dst = appendHead(dst, t, "state")
	dst = appendContext(dst, &EventContext{Connection: s.Connection, Hub: s.Hub})
	dst = appendStringField(dst, "state", s.State)
	if s.Transport != "" {
		dst = appendStringField(dst, "transport", s.Transport)
	}
	if s.ConnectionID != "" {
		dst = appendStringField(dst, "connectionId", s.ConnectionID)
	}
	if s.Attempt > 0 {
		dst = append(dst, `,"attempt":`...)
		dst = strconv.AppendInt(dst, int64(s.Attempt), 10)
	}
	if s.RetryIn > 0 {
		dst = append(dst, `,"retryInMs":`...)
		dst = strconv.AppendInt(dst, s.RetryIn.Milliseconds(), 10)
	}
	if s.Resumed {
		dst = append(dst, `,"resumed":true`...)
	}
	if s.Error != "" {
		dst = appendStringField(dst, "error", s.Error)
	}
	return append(dst, '}', '\n')
}

// AppendErrorEvent appends the line for a record that could not be
// decoded: errText is the official message with nothing added.
func AppendErrorEvent(dst []byte, t time.Time, errText string, c EventContext) []byte {
	dst = appendHead(dst, t, "error")
	dst = appendContext(dst, &c)
	dst = appendStringField(dst, "error", errText)
	if c.Raw != nil {
		dst = appendRawRecord(dst, c.Raw)
	}
	return append(dst, '}', '\n')
}

// AppendHandshakeRequestEvent appends the line for a handshake request.
func AppendHandshakeRequestEvent(dst []byte, t time.Time, r HandshakeRequest, c EventContext) []byte {
	dst = appendHead(dst, t, "handshakeRequest")
	dst = appendContext(dst, &c)
	dst = appendStringField(dst, "protocol", r.Protocol)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, int64(r.Version), 10)
	dst = appendRawRecord(dst, c.Raw)
	return append(dst, '}', '\n')
}

// AppendHandshakeResponseEvent appends the line for a handshake response.
func AppendHandshakeResponseEvent(dst []byte, t time.Time, r HandshakeResponse, c EventContext) []byte {
	dst = appendHead(dst, t, "handshakeResponse")
	dst = appendContext(dst, &c)
	if r.HasError {
		dst = appendStringField(dst, "error", r.Error)
	}
	dst = appendRawRecord(dst, c.Raw)
	return append(dst, '}', '\n')
}
