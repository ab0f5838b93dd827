package protocol

import (
	"math"
	"strconv"
)

// ParseMessage decodes one record (without its 0x1E) into a Message. The
// Message aliases record: Arguments, Headers, Item and Result are
// sub-slices of it, so copy the record first if its buffer will be reused.
// A message of a type this protocol does not define comes back with its
// Type and no error: both official parsers ignore such messages so that
// the protocol can grow, and a monitor wants to show them.
func ParseMessage(record []byte, mode Mode) (m Message, err error) {
	// Named results: the message is built in place, not copied out.
	var p parser
	p.r = &lenientRules
	if mode == Strict {
		p.r = &strictRules
	}
	err = p.parse(record, &m)
	return m, err
}

type parser struct {
	s scanner
	r *rules

	// What the member loop saw, for the checks of the whole message:
	// the JSON type of the last value of each member (kindInvalid when
	// absent), and the raw last value of error, whose JavaScript
	// truthiness the lenient Completion check needs.
	kinds    [memberCount]valueKind
	errorRaw []byte
	strEsc   bool // the last string scalar read holds escapes
}

func (p *parser) parse(record []byte, m *Message) error {
	s := &p.s
	s.reset(record, p.r.maxDepth)
	s.strict = p.r.validUTF8
	kind := s.peekKind()
	if kind != kindObject {
		return p.notObject(kind)
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
	} else {
		for {
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return p.syntax()
			}
			// The name and its colon, scanned with a local index.
			j, nesc, msg := stringEnd(record, s.pos+1, s.stopTable())
			if msg != "" {
				s.pos = j
				return p.syntax()
			}
			name := record[s.pos+1 : j-1]
			j = skipWS(record, j)
			if j >= len(record) || record[j] != ':' {
				s.pos = j
				return p.syntax()
			}
			s.pos = j + 1
			var mb member
			if nesc {
				mb = memberOf([]byte(unescape(name)))
			} else {
				mb = memberOf(name)
			}
			if err := p.member(mb, m); err != nil {
				return err
			}
			done, err := p.commaOrEnd('}')
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	if p.r.wholeRecord {
		s.skipSpace()
		if s.pos != len(s.data) {
			return p.syntax()
		}
	}
	return p.check(m)
}

// member decodes the value of one top-level member; the cursor is at it.
// A value of the wrong JSON type goes to the rules first (p.wrongType),
// then, when they tolerate it, is skipped or clears its field.
func (p *parser) member(mb member, m *Message) error {
	s := &p.s
	switch mb {
	case memType:
		kind, start, err := p.scalar()
		if err != nil {
			return err
		}
		p.kinds[memType] = kind
		if kind != kindNumber {
			return p.tolerate(mb, kind, start)
		}
		// JSON.parse gives the number 1 for 1.0 or 1e0 too.
		n, whole, err := p.integer(mb, s.data[start:s.pos])
		if err != nil {
			return err
		}
		if !whole || n < math.MinInt32 || n > math.MaxInt32 {
			if err := p.wrongType(mb); err != nil {
				return err
			}
			m.Type = 0
			return nil
		}
		m.Type = MessageType(n)
	case memInvocationID, memTarget, memError:
		kind, start, err := p.scalar()
		if err != nil {
			return err
		}
		p.kinds[mb] = kind
		if mb == memError {
			p.errorRaw = s.data[start:s.pos]
		}
		if kind != kindString {
			if kind == kindObject || kind == kindArray {
				return p.tolerate(mb, kind, start)
			}
			if err := p.wrongType(mb); err != nil {
				return err
			}
			// Other scalars (null too) clear the field, so that a
			// later check sees no string.
			clearString(m, mb)
			return nil
		}
		// scalar noted whether the string holds escapes, so most values
		// are copied without a second look; targets repeat, so they are
		// interned.
		raw := s.data[start+1 : s.pos-1]
		switch mb {
		case memInvocationID:
			m.InvocationID = decodeName(raw, p.strEsc)
			m.Fields |= FieldInvocationID
		case memTarget:
			if p.strEsc {
				m.Target = unescape(raw)
			} else {
				m.Target = internString(raw)
			}
			m.Fields |= FieldTarget
		default:
			m.Error = decodeName(raw, p.strEsc)
			m.Fields |= FieldError
		}
	case memAllowReconnect:
		kind, start, err := p.scalar()
		if err != nil {
			return err
		}
		p.kinds[mb] = kind
		if kind != kindTrue && kind != kindFalse {
			return p.tolerate(mb, kind, start)
		}
		m.AllowReconnect = kind == kindTrue
		m.Fields |= FieldAllowReconnect
	case memSequenceID:
		kind, start, err := p.scalar()
		if err != nil {
			return err
		}
		p.kinds[mb] = kind
		if kind == kindNull && p.r.nullSequenceIDAbsent {
			m.SequenceID = 0
			m.Fields &^= FieldSequenceID
			return nil
		}
		if kind != kindNumber {
			return p.tolerate(mb, kind, start)
		}
		n, _, err := p.integer(mb, s.data[start:s.pos])
		if err != nil {
			return err
		}
		m.SequenceID = n
		m.Fields |= FieldSequenceID
	case memArguments:
		kind, start, err := p.scalar()
		if err != nil {
			return err
		}
		if kind != kindArray {
			if err := p.wrongType(mb); err != nil {
				return err
			}
		}
		// Whatever its type, the value is kept raw.
		if err := p.skipRest(start); err != nil {
			return err
		}
		p.kinds[mb] = kind
		m.Arguments = s.data[start:s.pos]
		m.Fields |= FieldArguments
	case memItem, memResult:
		kind := s.peekKind()
		start := s.pos
		if err := s.skipValue(1); err != nil {
			return p.syntax()
		}
		p.kinds[mb] = kind
		if mb == memItem {
			m.Item = s.data[start:s.pos]
			m.Fields |= FieldItem
		} else {
			m.Result = s.data[start:s.pos]
			m.Fields |= FieldResult
		}
	case memHeaders:
		return p.headers(m)
	case memStreamIDs:
		return p.streamIDs(m)
	default:
		if err := s.skipValue(1); err != nil {
			return p.syntax()
		}
	}
	return nil
}

// wrongType returns the rules' error for a value of member mb that is of
// the wrong JSON type, or nil when they tolerate it.
func (p *parser) wrongType(mb member) error {
	if text := p.r.wrongType[mb]; text != "" {
		return perr(text)
	}
	return nil
}

// integer reads a number member as .NET's GetInt32 and GetInt64 do. A
// number with a fraction or an exponent, or past int64, is of the wrong
// type: an error when the rules say so, else it is read as JSON.parse
// does, as a float, and truncated; whole then says whether it had no
// fraction and fit an int64.
func (p *parser) integer(mb member, raw []byte) (n int64, whole bool, err error) {
	if n, ok := parseInt(raw); ok {
		return n, true, nil
	}
	if err := p.wrongType(mb); err != nil {
		return 0, false, err
	}
	f, _ := strconv.ParseFloat(string(raw), 64)
	return int64(f), f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64, nil
}

// tolerate handles a value of the wrong type that leaves the Message as it
// is: an error when the rules say so, else a container is skipped.
func (p *parser) tolerate(mb member, kind valueKind, start int) error {
	if err := p.wrongType(mb); err != nil {
		return err
	}
	if kind == kindObject || kind == kindArray {
		return p.skipRest(start)
	}
	return nil
}

func clearString(m *Message, mb member) {
	switch mb {
	case memInvocationID:
		m.InvocationID = ""
		m.Fields &^= FieldInvocationID
	case memTarget:
		m.Target = ""
		m.Fields &^= FieldTarget
	default:
		m.Error = ""
		m.Fields &^= FieldError
	}
}

// syntax, notObject and check are the mode's own code: malformed JSON at
// the cursor, a record that is no object, and the checks of the whole
// message. They are called directly, not through function values, so
// that the parser and the Message stay on the stack.

func (p *parser) syntax() error {
	if p.r.mode == Strict {
		return perr(errReadingJSON)
	}
	return lenientSyntax(&p.s)
}

func (p *parser) notObject(kind valueKind) error {
	if kind == kindInvalid {
		return p.syntax()
	}
	if p.r.mode == Strict {
		return strictNotObject(p, kind)
	}
	return lenientNotObject(p, kind)
}

func (p *parser) check(m *Message) error {
	if p.r.mode == Strict {
		return checkStrict(p, m)
	}
	return checkLenient(p, m)
}

func (p *parser) headers(m *Message) error {
	kind, start, err := p.scalar()
	if err != nil {
		return err
	}
	if kind != kindObject {
		if err := p.wrongType(memHeaders); err != nil {
			return err
		}
		if kind == kindArray {
			return p.skipRest(start)
		}
		return nil
	}
	if p.r.stringHeaders {
		err = p.checkHeaderValues()
	} else {
		err = p.skipRest(start)
	}
	if err != nil {
		return err
	}
	m.Headers = p.s.data[start:p.s.pos]
	m.Fields |= FieldHeaders
	return nil
}

func (p *parser) streamIDs(m *Message) error {
	s := &p.s
	kind, start, err := p.scalar()
	if err != nil {
		return err
	}
	if kind != kindArray {
		if err := p.wrongType(memStreamIDs); err != nil {
			return err
		}
		if kind == kindObject {
			return p.skipRest(start)
		}
		return nil
	}
	ids := m.StreamIDs[:0]
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
	} else {
		for {
			vkind, vstart, err := p.scalar()
			if err != nil {
				return err
			}
			if vkind == kindString {
				ids = append(ids, decodeStringValue(s.data[vstart:s.pos]))
			} else {
				text := p.r.wrongStreamID
				if vkind == kindNull {
					text = p.r.nullStreamID
				}
				if text != "" {
					return perr(text)
				}
				if vkind == kindObject || vkind == kindArray {
					if err := p.skipRest(vstart); err != nil {
						return err
					}
				}
			}
			done, err := p.commaOrEnd(']')
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	m.StreamIDs = ids
	m.Fields |= FieldStreamIDs
	return nil
}
