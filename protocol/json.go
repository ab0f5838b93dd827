package protocol

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small validating JSON scanner. The hub protocol needs
// only a handful of top-level members per record, and everything else
// (arguments, results, items) is kept raw, so a scanner that validates and
// skips values without building them is several times faster than
// encoding/json and allocates nothing.

type valueKind uint8

const (
	kindInvalid valueKind = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindTrue
	kindFalse
	kindNull
)

// tokenName is the .NET JsonTokenType spelling used in the official error
// texts ("Unexpected JSON Token Type 'Null'...").
func (k valueKind) tokenName() string {
	switch k {
	case kindObject:
		return "Object"
	case kindArray:
		return "Array"
	case kindString:
		return "String"
	case kindNumber:
		return "Number"
	case kindTrue:
		return "True"
	case kindFalse:
		return "False"
	case kindNull:
		return "Null"
	}
	return "None"
}

// syntaxError is a JSON syntax error at a byte offset.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return e.msg + " at offset " + strconv.Itoa(e.off) }

var errDepth = errors.New("JSON nested too deeply")

// scanner walks one JSON document held in data.
type scanner struct {
	data     []byte
	pos      int
	maxDepth int  // 0 means no limit
	strict   bool // reject invalid UTF-8 inside strings, as System.Text.Json does
}

func (s *scanner) reset(data []byte, maxDepth int) {
	s.data, s.pos, s.maxDepth = data, 0, maxDepth
}

func (s *scanner) fail(msg string) error { return &syntaxError{msg: msg, off: s.pos} }

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peekKind reports the kind of the value starting at the cursor, after
// white space, without consuming it.
func (s *scanner) peekKind() valueKind {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return kindInvalid
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return kindObject
	case '[':
		return kindArray
	case '"':
		return kindString
	case 't':
		return kindTrue
	case 'f':
		return kindFalse
	case 'n':
		return kindNull
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return kindNumber
		}
	}
	return kindInvalid
}

// scanString consumes a string at the cursor (which must be at '"') and
// returns the span of its content without quotes, and whether it holds
// escapes.
func (s *scanner) scanString() (start, end int, escaped bool, err error) {
	s.pos++ // opening quote
	start = s.pos
	data := s.data
	for i := s.pos; i < len(data); {
		c := data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return start, i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				s.pos = i
				return 0, 0, false, s.fail("unexpected end of string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex4(data[i+2:i+6]) {
					s.pos = i
					return 0, 0, false, s.fail("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return 0, 0, false, s.fail("invalid escape")
			}
		case c < 0x20:
			s.pos = i
			return 0, 0, false, s.fail("control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			if !s.strict {
				i++
				continue
			}
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return 0, 0, false, s.fail("invalid UTF-8 in string")
			}
			i += size
		}
	}
	s.pos = len(data)
	return 0, 0, false, s.fail("unexpected end of string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// scanNumber consumes a number with the exact JSON grammar.
func (s *scanner) scanNumber() error {
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return s.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return s.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return s.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return nil
}

func (s *scanner) scanLiteral(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// skipValue validates and consumes one value at the cursor, of any depth,
// without recursion: depth is tracked in a bit stack (1 = object) so a
// hostile document cannot exhaust the goroutine stack. depth is the nesting
// level of the value's container, counted against maxDepth.
func (s *scanner) skipValue(depth int) error {
	var stackBuf [4]uint64
	stack := stackBuf[:0:len(stackBuf)]
	top := -1 // index of the innermost open container in bit positions
	push := func(isObj bool) error {
		top++
		depth++
		if s.maxDepth > 0 && depth > s.maxDepth {
			return errDepth
		}
		if top/64 >= len(stack) {
			stack = append(stack, 0)
		}
		if isObj {
			stack[top/64] |= 1 << (top % 64)
		} else {
			stack[top/64] &^= 1 << (top % 64)
		}
		return nil
	}
	inObject := func() bool { return stack[top/64]&(1<<(top%64)) != 0 }

	for {
		// Expect a value.
		switch s.peekKind() {
		case kindString:
			if _, _, _, err := s.scanString(); err != nil {
				return err
			}
		case kindNumber:
			if err := s.scanNumber(); err != nil {
				return err
			}
		case kindTrue:
			if err := s.scanLiteral("true"); err != nil {
				return err
			}
		case kindFalse:
			if err := s.scanLiteral("false"); err != nil {
				return err
			}
		case kindNull:
			if err := s.scanLiteral("null"); err != nil {
				return err
			}
		case kindObject:
			s.pos++
			if err := push(true); err != nil {
				return err
			}
			s.skipSpace()
			if s.pos < len(s.data) && s.data[s.pos] == '}' {
				s.pos++
				top--
				depth--
				break
			}
			if err := s.memberName(); err != nil {
				return err
			}
			continue
		case kindArray:
			s.pos++
			if err := push(false); err != nil {
				return err
			}
			s.skipSpace()
			if s.pos < len(s.data) && s.data[s.pos] == ']' {
				s.pos++
				top--
				depth--
				break
			}
			continue
		default:
			if s.pos >= len(s.data) {
				return s.fail("unexpected end of JSON input")
			}
			return s.fail("unexpected character")
		}
		// After a value: close containers or move to the next element.
		for {
			if top < 0 {
				return nil
			}
			s.skipSpace()
			if s.pos >= len(s.data) {
				return s.fail("unexpected end of JSON input")
			}
			c := s.data[s.pos]
			if c == ',' {
				s.pos++
				if inObject() {
					if err := s.memberName(); err != nil {
						return err
					}
				}
				break
			}
			if inObject() && c == '}' || !inObject() && c == ']' {
				s.pos++
				top--
				depth--
				continue
			}
			return s.fail("expected ',' or end of container")
		}
	}
}

// memberName consumes `"name" :` inside an object.
func (s *scanner) memberName() error {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.fail("unexpected end of JSON input")
	}
	if s.data[s.pos] != '"' {
		return s.fail("expected property name")
	}
	if _, _, _, err := s.scanString(); err != nil {
		return err
	}
	return s.colon()
}

func (s *scanner) colon() error {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.fail("unexpected end of JSON input")
	}
	if s.data[s.pos] != ':' {
		return s.fail("expected ':'")
	}
	s.pos++
	return nil
}

// eachMember walks the object at the cursor and calls fn for each member
// with the raw name (without quotes), whether it has escapes, and the span
// and kind of its value. Values are validated and skipped by the walker;
// fn may stop the walk by returning an error.
func (s *scanner) eachMember(fn func(name []byte, nameEsc bool, kind valueKind, start, end int) error) error {
	if s.peekKind() != kindObject {
		return s.fail("expected object")
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of JSON input")
		}
		if s.data[s.pos] != '"' {
			return s.fail("expected property name")
		}
		ns, ne, nesc, err := s.scanString()
		if err != nil {
			return err
		}
		if err := s.colon(); err != nil {
			return err
		}
		kind := s.peekKind()
		start := s.pos
		if err := s.skipValue(1); err != nil {
			return err
		}
		if err := fn(s.data[ns:ne], nesc, kind, start, s.pos); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of JSON input")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

// nameEquals compares a raw member name with want, decoding escapes only
// when the name has any.
func nameEquals(raw []byte, escaped bool, want string) bool {
	if !escaped {
		return string(raw) == want
	}
	return unescape(raw) == want
}

func decodeName(raw []byte, escaped bool) string {
	if !escaped {
		return string(raw)
	}
	return unescape(raw)
}

// decodeStringValue decodes a raw JSON string value including its quotes.
func decodeStringValue(v []byte) string {
	if len(v) < 2 {
		return ""
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' {
			return unescape(inner)
		}
	}
	return string(inner)
}

// unescape decodes the content of a JSON string that the scanner has
// already validated. Lone surrogates become U+FFFD, as in encoding/json.
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			break
		}
		switch raw[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(raw) {
				return string(out)
			}
			r := rune(hexVal(raw[i+1 : i+5]))
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 = rune(hexVal(raw[i+3 : i+7]))
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, raw[i])
		}
	}
	return string(out)
}

func hexVal(b []byte) int {
	v := 0
	for _, c := range b {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= int(c - '0')
		case c >= 'a' && c <= 'f':
			v |= int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v |= int(c-'A') + 10
		}
	}
	return v
}
