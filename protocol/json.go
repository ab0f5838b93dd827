package protocol

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"strconv"
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

func (s *scanner) skipSpace() { s.pos = skipWS(s.data, s.pos) }

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

// lsb and msb are the lowest and highest bit of each byte of a word.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strStop marks the bytes that end a fast run inside a string: the quote,
// the backslash and the control characters. strStopStrict adds every
// non-ASCII byte, so that strict mode validates UTF-8 rune by rune while
// ASCII text is skipped with one table load per byte.
var strStop, strStopStrict = func() (lenient, strict [256]bool) {
	for c := 0; c < 256; c++ {
		stop := c < 0x20 || c == '"' || c == '\\'
		lenient[c] = stop
		strict[c] = stop || c >= utf8.RuneSelf
	}
	return
}()

// scanString consumes a string at the cursor (which must be at '"') and
// returns the span of its content without quotes, and whether it holds
// escapes.
func (s *scanner) scanString() (start, end int, escaped bool, err error) {
	start = s.pos + 1
	j, esc, msg := stringEnd(s.data, start, s.stopTable())
	s.pos = j
	if msg != "" {
		return 0, 0, false, s.fail(msg)
	}
	return start, j - 1, esc, nil
}

func (s *scanner) stopTable() *[256]bool {
	if s.strict {
		return &strStopStrict
	}
	return &strStop
}

// stringEnd scans string content from i, just after the opening quote. It
// returns the index just after the closing quote and whether the content
// holds escapes, or a message and the index of the problem. It works on
// plain values rather than the scanner so that the index stays in a
// register.
func stringEnd(data []byte, i int, stop *[256]bool) (j int, escaped bool, msg string) {
	strict := stop == &strStopStrict
	for {
		// Eight bytes at a time: flag each byte that is a quote, a
		// backslash, a control character or (strict) not ASCII. The
		// borrow of the subtractions can only flag bytes above a truly
		// flagged one, so the lowest flag is exact.
		for {
			if i+8 > len(data) {
				for i < len(data) && !stop[data[i]] {
					i++
				}
				break
			}
			x := binary.LittleEndian.Uint64(data[i : i+8])
			q := x ^ ('"' * lsb)
			b := x ^ ('\\' * lsb)
			m := (x-0x20*lsb)&^x | (q-lsb)&^q | (b-lsb)&^b
			if strict {
				m |= x
			}
			if m &= msb; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(data) {
			return len(data), false, "unexpected end of string"
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, escaped, ""
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return i, false, "unexpected end of string"
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex4(data[i+2:i+6]) {
					return i, false, "invalid \\u escape"
				}
				i += 6
			default:
				return i, false, "invalid escape"
			}
		case c < 0x20:
			return i, false, "control character in string"
		default: // non-ASCII, stopped on in strict mode only
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false, "invalid UTF-8 in string"
			}
			i += size
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// numberEnd returns the index just after the number starting at i, or
// false and the index of the problem.
func numberEnd(d []byte, i int) (int, bool) {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i]-'0' < 10 {
			i++
		}
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return i, false
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
			return i, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	return i, true
}

// parseInt parses a JSON number that is an integer without exponent or
// fraction, as .NET's GetInt32/GetInt64 accept.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// skipWS returns the index of the first byte at or after i that is not
// JSON white space.
func skipWS(data []byte, i int) int {
	for i < len(data) {
		if c := data[i]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		i++
	}
	return i
}

// skipValue validates and consumes one value at the cursor, of any depth,
// without recursion: depth is tracked in a bit stack (1 = object) so a
// hostile document cannot exhaust the goroutine stack. depth is the nesting
// level of the value's container, counted against maxDepth. It is the
// decoder's hottest path (arguments, items and results all pass through
// it), so it keeps its index in a local variable and calls only plain
// functions; the scanner's cursor is written back once, at the end.
func (s *scanner) skipValue(depth int) error {
	var stackBuf [4]uint64
	stack := stackBuf[:]
	top := -1 // index of the innermost open container in bit positions
	data := s.data
	stop := s.stopTable()
	i := s.pos
	fail := func(at int, msg string) error {
		s.pos = at
		return s.fail(msg)
	}
	for {
		// Expect a value.
		i = skipWS(data, i)
		if i >= len(data) {
			return fail(i, "unexpected end of JSON input")
		}
		switch c := data[i]; c {
		case '"':
			j, _, msg := stringEnd(data, i+1, stop)
			if msg != "" {
				return fail(j, msg)
			}
			i = j
		case '{', '[':
			i++
			top++
			depth++
			if s.maxDepth > 0 && depth > s.maxDepth {
				s.pos = i
				return errDepth
			}
			w := top >> 6
			if w >= len(stack) {
				stack = append(stack, 0)
			}
			bit := uint64(1) << (top & 63)
			i = skipWS(data, i)
			if c == '[' {
				stack[w] &^= bit
				if i < len(data) && data[i] == ']' {
					i++
					top--
					depth--
					break
				}
				continue
			}
			stack[w] |= bit
			if i < len(data) && data[i] == '}' {
				i++
				top--
				depth--
				break
			}
			j, msg := memberNameEnd(data, i, stop)
			if msg != "" {
				return fail(j, msg)
			}
			i = j
			continue
		case 't', 'f', 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
				return fail(i, "invalid literal")
			}
			i += len(lit)
		default:
			if c != '-' && (c < '0' || c > '9') {
				return fail(i, "unexpected character")
			}
			j, ok := numberEnd(data, i)
			if !ok {
				return fail(j, "invalid number")
			}
			i = j
		}
		// After a value: close containers or move to the next element.
		for {
			if top < 0 {
				s.pos = i
				return nil
			}
			i = skipWS(data, i)
			if i >= len(data) {
				return fail(i, "unexpected end of JSON input")
			}
			c := data[i]
			inObject := stack[top>>6]&(1<<(top&63)) != 0
			if c == ',' {
				i++
				if inObject {
					j, msg := memberNameEnd(data, i, stop)
					if msg != "" {
						return fail(j, msg)
					}
					i = j
				}
				break
			}
			if inObject && c == '}' || !inObject && c == ']' {
				i++
				top--
				depth--
				continue
			}
			return fail(i, "expected ',' or end of container")
		}
	}
}

// memberNameEnd consumes `"name" :` from i and returns the index after
// the colon, or a message and the index of the problem.
func memberNameEnd(data []byte, i int, stop *[256]bool) (int, string) {
	i = skipWS(data, i)
	if i >= len(data) {
		return i, "unexpected end of JSON input"
	}
	if data[i] != '"' {
		return i, "expected property name"
	}
	j, _, msg := stringEnd(data, i+1, stop)
	if msg != "" {
		return j, msg
	}
	j = skipWS(data, j)
	if j >= len(data) {
		return j, "unexpected end of JSON input"
	}
	if data[j] != ':' {
		return j, "expected ':'"
	}
	return j + 1, ""
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
