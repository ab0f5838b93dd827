package protocol

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"

	"github.com/tinylib/msgp/msgp"
)

// This file turns JSON into MessagePack: what a caller hands the client
// as arguments, and what the REST API and the function app send, are
// JSON, and a MessagePack connection needs them in its own form. It is the
// inverse of msgpackvalue.go: {"$binary":"<base64>"} becomes bin and
// {"$ext":N,"$binary":"<base64>"} an extension, so a value that arrived
// as MessagePack goes back out as it came.

// errBadJSON reports JSON that does not parse; callers hand the converter
// values they have already checked, so it names no position.
var errBadJSON = errors.New("the value is not valid JSON")

// AppendJSONAsMessagePack appends the MessagePack form of one JSON value.
// Integers take the smallest integer format (unsigned when not negative,
// as the official writers do), other numbers float 64.
func AppendJSONAsMessagePack(dst, value []byte) ([]byte, error) {
	s := scanner{data: value, maxDepth: lenientMaxDepth}
	dst, err := jsonToMsgpack(dst, &s, 0)
	if err != nil {
		return dst, err
	}
	if s.skipSpace(); s.pos != len(s.data) {
		return dst, errBadJSON
	}
	return dst, nil
}

func jsonToMsgpack(dst []byte, s *scanner, depth int) ([]byte, error) {
	if depth > lenientMaxDepth {
		return dst, errDepth
	}
	switch s.peekKind() {
	case kindObject:
		return jsonObjectToMsgpack(dst, s, depth)
	case kindArray:
		s.pos++
		return jsonContainer(dst, s, depth, ']', func(dst []byte, n uint32) []byte {
			return msgp.AppendArrayHeader(dst, n)
		}, func(dst []byte) ([]byte, error) {
			return jsonToMsgpack(dst, s, depth+1)
		})
	case kindString:
		start, end, esc, err := s.scanString()
		if err != nil {
			return dst, errBadJSON
		}
		if esc {
			return msgp.AppendString(dst, unescape(s.data[start:end])), nil
		}
		return msgp.AppendStringFromBytes(dst, s.data[start:end]), nil
	case kindNumber:
		start := s.pos
		end, ok := numberEnd(s.data, start)
		if !ok {
			return dst, errBadJSON
		}
		s.pos = end
		return appendJSONNumber(dst, s.data[start:end]), nil
	case kindTrue, kindFalse, kindNull:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
				s.pos += len(lit)
				switch lit {
				case "null":
					return msgp.AppendNil(dst), nil
				default:
					return msgp.AppendBool(dst, lit == "true"), nil
				}
			}
		}
	}
	return dst, errBadJSON
}

// appendJSONNumber writes an integer in the smallest integer format, and
// any other number as float 64.
func appendJSONNumber(dst, raw []byte) []byte {
	if n, ok := parseInt(raw); ok {
		if n >= 0 {
			return msgp.AppendUint64(dst, uint64(n))
		}
		return msgp.AppendInt64(dst, n)
	}
	if u, err := strconv.ParseUint(bytesString(raw), 10, 64); err == nil {
		return msgp.AppendUint64(dst, u)
	}
	f, _ := strconv.ParseFloat(bytesString(raw), 64)
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 && !(f == 0 && math.Signbit(f)) {
		if f >= 0 {
			return msgp.AppendUint64(dst, uint64(f))
		}
		return msgp.AppendInt64(dst, int64(f))
	}
	return msgp.AppendFloat64(dst, f)
}

// jsonContainer writes the elements of an array or object whose opening
// byte the cursor has passed. The count is known only at the end, so the
// elements are written after room for the largest header and moved back
// once the header is known.
func jsonContainer(dst []byte, s *scanner, depth int, closing byte,
	header func([]byte, uint32) []byte, element func([]byte) ([]byte, error)) ([]byte, error) {
	const room = 5
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0)
	var n uint32
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == closing {
		s.pos++
	} else {
		for {
			var err error
			if dst, err = element(dst); err != nil {
				return dst, err
			}
			n++
			s.skipSpace()
			if s.pos >= len(s.data) {
				return dst, errBadJSON
			}
			c := s.data[s.pos]
			s.pos++
			if c == closing {
				break
			}
			if c != ',' {
				return dst, errBadJSON
			}
		}
	}
	h := header(dst[at:at], n) // written over the room, at most 5 bytes
	hl := len(h)
	copy(dst[at+hl:], dst[at+room:])
	return dst[:len(dst)-(room-hl)], nil
}

func jsonObjectToMsgpack(dst []byte, s *scanner, depth int) ([]byte, error) {
	if b, ok := wrappedBinary(s); ok {
		return b(dst), nil
	}
	s.pos++
	return jsonContainer(dst, s, depth, '}', func(dst []byte, n uint32) []byte {
		return msgp.AppendMapHeader(dst, n)
	}, func(dst []byte) ([]byte, error) {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return dst, errBadJSON
		}
		var err error
		if dst, err = jsonToMsgpack(dst, s, depth+1); err != nil {
			return dst, err
		}
		if s.colon() != nil {
			return dst, errBadJSON
		}
		return jsonToMsgpack(dst, s, depth+1)
	})
}

// wrappedBinary recognizes {"$binary":"<base64>"} and
// {"$ext":N,"$binary":"<base64>"} at the cursor, the forms binary and
// extension values take in JSON, and returns their writer.
func wrappedBinary(s *scanner) (func([]byte) []byte, bool) {
	var (
		data   []byte
		ext    int64
		hasExt bool
		hasBin bool
	)
	p := parser{r: &lenientRules}
	p.s = *s
	err := p.eachMember(func(name []byte, nameEsc bool, kind valueKind, start, end int) error {
		switch {
		case !nameEsc && string(name) == "$binary" && kind == kindString && !hasBin:
			raw := p.s.data[start+1 : end-1]
			b, err := base64.StdEncoding.AppendDecode(nil, raw)
			if err != nil {
				return err
			}
			data, hasBin = b, true
		case !nameEsc && string(name) == "$ext" && kind == kindNumber && !hasExt:
			n, ok := parseInt(p.s.data[start:end])
			if !ok || n < math.MinInt8 || n > math.MaxInt8 {
				return errBadJSON
			}
			ext, hasExt = n, true
		default:
			return errBadJSON
		}
		return nil
	})
	if err != nil || !hasBin {
		return nil, false
	}
	s.pos = p.s.pos
	if !hasExt {
		return func(dst []byte) []byte { return msgp.AppendBytes(dst, data) }, true
	}
	return func(dst []byte) []byte {
		out, _ := msgp.AppendExtension(dst, &msgp.RawExtension{Type: int8(ext), Data: data})
		return out
	}, true
}
