package protocol

import (
	"math"
	"strconv"

	"github.com/tinylib/msgp/msgp"
)

// The rules of the official TypeScript client's MessagePackHubProtocol
// (@microsoft/signalr-protocol-msgpack 10.0.11), which Lenient applies:
// @msgpack/msgpack decodes the whole record first, so any problem in it,
// wherever it sits, is reported before the client looks at the message;
// then the client checks the array's length per type and, for types 1 to
// 3, that the headers are an object. It checks nothing else: a target
// that is no string is taken as it is. sigr keeps a field of the wrong
// type out of the Message rather than invent a value for it.

// mpSlot is what an element of a message array holds.
type mpSlot uint8

const (
	slotNone mpSlot = iota
	slotType
	slotHeaders
	slotID
	slotTarget
	slotArguments
	slotStreamIDs
	slotItem
	slotResultKind
	slotResult
	slotError
	slotAllowReconnect
	slotSequenceID
)

// lenientSlot is the slot of element i of a message of type t; the payload
// of a Completion depends on its result kind.
func lenientSlot(t MessageType, i int, resultKind float64) mpSlot {
	if i == 0 {
		return slotType
	}
	switch t {
	case TypeInvocation, TypeStreamInvocation:
		return [...]mpSlot{slotNone, slotHeaders, slotID, slotTarget, slotArguments, slotStreamIDs, slotNone}[min(i, 6)]
	case TypeStreamItem:
		return [...]mpSlot{slotNone, slotHeaders, slotID, slotItem, slotNone}[min(i, 4)]
	case TypeCompletion:
		switch i {
		case 1:
			return slotHeaders
		case 2:
			return slotID
		case 3:
			return slotResultKind
		case 4:
			switch resultKind {
			case mpErrorResult:
				return slotError
			case mpNonVoidResult:
				return slotResult
			}
		}
	case TypeCancelInvocation:
		return [...]mpSlot{slotNone, slotHeaders, slotID, slotNone}[min(i, 3)]
	case TypeClose:
		return [...]mpSlot{slotNone, slotError, slotAllowReconnect, slotNone}[min(i, 3)]
	case TypeAck, TypeSequence:
		if i == 1 {
			return slotSequenceID
		}
	}
	return slotNone
}

// isMpString reports whether lead starts a str.
func isMpString(lead byte) bool { return lead >= 0xa0 && lead <= 0xbf || lead >= 0xd9 && lead <= 0xdb }

// mpNumber reads a number as JavaScript holds it: every integer and float
// format becomes a float64.
func mpNumber(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) < mpHeadLen(b[0]) {
		return 0, false
	}
	switch lead := b[0]; {
	case lead <= 0x7f || lead >= 0xe0 || lead >= 0xd0 && lead <= 0xd3:
		n, _, err := msgp.ReadInt64Bytes(b)
		return float64(n), err == nil
	case lead >= 0xcc && lead <= 0xcf:
		n, _, err := msgp.ReadUint64Bytes(b)
		return float64(n), err == nil
	case lead == 0xca:
		f, _, err := msgp.ReadFloat32Bytes(b)
		return float64(f), err == nil
	case lead == 0xcb:
		f, _, err := msgp.ReadFloat64Bytes(b)
		return f, err == nil
	}
	return 0, false
}

func parseMsgpackLenient(record []byte, m *Message, buf []byte) ([]byte, error) {
	if len(record) == 0 {
		return buf, perr("Invalid payload.")
	}
	c := mpConv{lenient: true}
	lead := record[0]
	if !(lead >= 0x90 && lead <= 0x9f || lead == 0xdc || lead == 0xdd) {
		rest, f := c.skip(record, 1)
		if f.failed() {
			return buf, perr(f.jsText())
		}
		if len(rest) > 0 {
			return buf, extraBytes(record, rest)
		}
		if lead == 0xc0 {
			// V8's TypeError for properties.length of null.
			return buf, perr("Cannot read properties of null (reading 'length')")
		}
		return buf, perr("Invalid payload.")
	}
	n, b, err := msgp.ReadArrayHeaderBytes(record)
	if err != nil {
		return buf, perr(short(record).jsText())
	}
	var (
		headersOf  string // typeof the headers element; "" when absent
		resultKind float64
	)
	for i := 0; uint32(i) < n; i++ {
		if len(b) == 0 {
			return buf, perr(short(b).jsText())
		}
		lead := b[0]
		slot := lenientSlot(m.Type, i, resultKind)
		var f fault
		switch slot {
		case slotType, slotResultKind, slotSequenceID:
			v, ok := mpNumber(b)
			switch {
			case !ok:
			case slot == slotType:
				// JavaScript compares the number with each type: 1.0 is
				// an Invocation, 1.5 a type it does not know.
				if v == math.Trunc(v) && v >= math.MinInt32 && v <= math.MaxInt32 {
					m.Type = MessageType(v)
				}
			case slot == slotResultKind:
				resultKind = v
			case !math.IsNaN(v):
				m.SequenceID = int64(v)
				m.Fields |= FieldSequenceID
			}
			b, f = c.skip(b, 1)
		case slotHeaders:
			headersOf = mpTypeof(lead)
			if lead >= 0x81 && lead <= 0x8f || (lead == 0xde || lead == 0xdf) && !emptyMap(b) {
				start := len(buf)
				if buf, b, f = c.value(buf, b, 1); !f.failed() {
					m.Headers = buf[start:len(buf):len(buf)]
					m.Fields |= FieldHeaders
				}
			} else {
				b, f = c.skip(b, 1)
			}
		case slotID, slotTarget, slotError:
			if !isMpString(lead) {
				b, f = c.skip(b, 1)
				break
			}
			s, rest, err := msgp.ReadStringZC(b)
			if err != nil {
				f = short(b)
				break
			}
			b = rest
			switch slot {
			case slotID:
				if len(s) > 0 {
					m.InvocationID = string(s)
					m.Fields |= FieldInvocationID
				}
			case slotTarget:
				m.Target = internString(s)
				m.Fields |= FieldTarget
			default:
				m.Error = string(s)
				m.Fields |= FieldError
			}
		case slotArguments, slotItem, slotResult:
			start := len(buf)
			if buf, b, f = c.value(buf, b, 1); f.failed() {
				break
			}
			v := buf[start:len(buf):len(buf)]
			switch slot {
			case slotArguments:
				m.Arguments = v
				m.Fields |= FieldArguments
			case slotItem:
				m.Item = v
				m.Fields |= FieldItem
			default:
				m.Result = v
				m.Fields |= FieldResult
			}
		case slotStreamIDs:
			b, f = c.streamIDs(m, b)
		case slotAllowReconnect:
			if lead == 0xc3 {
				m.AllowReconnect = true
				m.Fields |= FieldAllowReconnect
			}
			b, f = c.skip(b, 1)
		default:
			b, f = c.skip(b, 1)
		}
		if f.failed() {
			return buf, perr(f.jsText())
		}
	}
	if len(b) > 0 {
		return buf, extraBytes(record, b)
	}
	if n == 0 {
		return buf, perr("Invalid payload.")
	}
	if !m.Type.Known() {
		return buf, nil
	}
	return buf, checkMsgpackLenient(m, int(n), headersOf, resultKind)
}

// checkMsgpackLenient is the client's check of each message type: the
// headers must be an object, and the array long enough for the type.
func checkMsgpackLenient(m *Message, n int, headersOf string, resultKind float64) error {
	switch m.Type {
	case TypeInvocation, TypeStreamItem, TypeCompletion, TypeStreamInvocation, TypeCancelInvocation:
		// typeof null is "object" too; a missing element is undefined.
		if headersOf != "object" {
			return perr("Invalid headers.")
		}
	}
	var need int
	switch m.Type {
	case TypeInvocation, TypeStreamInvocation:
		// The client ignores type 4 (a server never sends it); sigr checks
		// it as an Invocation.
		need = 5
	case TypeStreamItem:
		need = 4
	case TypeCompletion:
		need = 4
		if resultKind != mpVoidResult {
			need = 5
		}
	case TypeCancelInvocation:
		need = 3
	case TypeClose:
		need = 2
	}
	if n < need {
		return perr("Invalid payload for " + mpMessageName[m.Type] + " message.")
	}
	return nil
}

var mpMessageName = [...]string{
	TypeInvocation:       "Invocation",
	TypeStreamItem:       "StreamItem",
	TypeCompletion:       "Completion",
	TypeStreamInvocation: "StreamInvocation",
	TypeCancelInvocation: "CancelInvocation",
	TypePing:             "Ping",
	TypeClose:            "Close",
	TypeAck:              "Ack",
	TypeSequence:         "Sequence",
}

// streamIDs reads a streamIds array, keeping its strings; any other value
// is checked and left out.
func (c mpConv) streamIDs(m *Message, b []byte) ([]byte, fault) {
	lead := b[0]
	if !(lead >= 0x90 && lead <= 0x9f || lead == 0xdc || lead == 0xdd) {
		return c.skip(b, 1)
	}
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return b, short(b)
	}
	var f fault
	for i := uint32(0); i < n; i++ {
		if len(b) > 0 && isMpString(b[0]) {
			s, rest, err := msgp.ReadStringZC(b)
			if err != nil {
				return b, short(b)
			}
			m.StreamIDs = append(m.StreamIDs, string(s))
			b = rest
			continue
		}
		if b, f = c.skip(b, 2); f.failed() {
			return b, f
		}
	}
	if len(m.StreamIDs) > 0 {
		m.Fields |= FieldStreamIDs
	}
	return b, fault{}
}

// emptyMap reports whether b starts with a map16 or map32 of no entries.
func emptyMap(b []byte) bool {
	n, _, err := msgp.ReadMapHeaderBytes(b)
	return err == nil && n == 0
}

// extraBytes is @msgpack/msgpack's error for bytes after the value.
func extraBytes(record, rest []byte) error {
	pos := len(record) - len(rest)
	return perr("Extra " + strconv.Itoa(len(rest)) + " of " + strconv.Itoa(len(record)) + " byte(s) found at buffer[" + strconv.Itoa(pos) + "]")
}
