package protocol

import (
	"fmt"
	"math"
	"strconv"
)

// The rules of the official TypeScript client (@microsoft/signalr 10.0.11,
// JsonHubProtocol.ts), which Lenient applies: JSON.parse reads the whole
// record, then the client checks only the fields it relies on, once per
// message type, with JavaScript's notions of numbers and truthiness.

// lenientMaxDepth bounds nesting in lenient mode. V8 itself allows more,
// but a monitor must not be made to walk a document nested a million deep.
const lenientMaxDepth = 1000

var lenientRules = rules{
	mode:     Lenient,
	maxDepth: lenientMaxDepth,
	// A browser has decoded the text before JSON.parse sees it.
	validUTF8:   false,
	wholeRecord: true,
	// wrongType, wrongStreamID and nullStreamID left empty: JSON.parse
	// takes any value, and the checks below look at types.
	stringHeaders: false,
}

// lenientText is the client's error for each message type that fails its
// check.
var lenientText = [...]string{
	TypeInvocation:       "Invalid payload for Invocation message.",
	TypeStreamItem:       "Invalid payload for StreamItem message.",
	TypeCompletion:       "Invalid payload for Completion message.",
	TypeStreamInvocation: "Invalid payload for StreamInvocation message.",
	TypeCancelInvocation: "Invalid payload for CancelInvocation message.",
	TypeAck:              "Invalid SequenceId for Ack message.",
	TypeSequence:         "Invalid SequenceId for Sequence message.",
}

// checkLenient is the client's check of each message type (its
// _isInvocationMessage and the like): one condition per type, and one
// text when it fails.
func checkLenient(p *parser, m *Message) error {
	if p.kinds[memType] != kindNumber {
		return perr("Invalid payload.")
	}
	var ok bool
	switch m.Type {
	case TypeInvocation:
		ok = p.nonEmpty(memTarget, m.Target) &&
			(p.kinds[memInvocationID] == kindInvalid || p.nonEmpty(memInvocationID, m.InvocationID))
	case TypeStreamItem:
		ok = p.nonEmpty(memInvocationID, m.InvocationID) && p.kinds[memItem] != kindInvalid
	case TypeCompletion:
		ok = p.nonEmpty(memInvocationID, m.InvocationID) && lenientCompletion(p, m)
	case TypeStreamInvocation:
		// The client never expects this from a server and ignores it;
		// sigr decodes it with the Invocation rules, id required.
		ok = p.nonEmpty(memTarget, m.Target) && p.nonEmpty(memInvocationID, m.InvocationID)
	case TypeCancelInvocation:
		ok = p.nonEmpty(memInvocationID, m.InvocationID)
	case TypeAck, TypeSequence:
		ok = p.kinds[memSequenceID] == kindNumber
	default:
		return nil
	}
	if !ok {
		return perr(lenientText[m.Type])
	}
	return nil
}

// nonEmpty reports whether member mb, whose decoded value is v, is a
// string that is not empty.
func (p *parser) nonEmpty(mb member, v string) bool {
	return p.kinds[mb] == kindString && v != ""
}

// lenientCompletion is `if (result && error) throw`, then
// `if (!result && error)` the error must be a non-empty string.
func lenientCompletion(p *parser, m *Message) bool {
	if !truthy(p.kinds[memError], p.errorRaw) {
		return true
	}
	return !truthy(p.kinds[memResult], m.Result) && p.nonEmpty(memError, m.Error)
}

// truthy is JavaScript truthiness of a raw JSON value.
func truthy(kind valueKind, raw []byte) bool {
	switch kind {
	case kindNull, kindFalse, kindInvalid:
		return false
	case kindString:
		return len(raw) > 2
	case kindNumber:
		f, err := strconv.ParseFloat(string(raw), 64)
		return err != nil || (f != 0 && !math.IsNaN(f))
	}
	return true
}

// lenientNotObject reports a record that is valid JSON but not an object:
// the client reads `.type` of whatever JSON.parse returned.
func lenientNotObject(p *parser, kind valueKind) error {
	s := &p.s
	if err := s.skipValue(0); err != nil {
		return p.syntax()
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return p.syntax()
	}
	if kind == kindNull {
		// V8's TypeError for a property of null.
		return perr("Cannot read properties of null (reading 'type')")
	}
	return perr("Invalid payload.")
}

// lenientSyntax imitates V8's JSON.parse error for malformed JSON at the
// cursor, in its common forms.
func lenientSyntax(s *scanner) error {
	if s.pos >= len(s.data) {
		return perr("Unexpected end of JSON input")
	}
	c := s.data[s.pos]
	tok := string(rune(c))
	if c < 0x20 || c >= 0x7f {
		tok = fmt.Sprintf("\\x%02x", c)
	}
	return perr(fmt.Sprintf("Unexpected token '%s' in JSON at position %d", tok, s.pos))
}
