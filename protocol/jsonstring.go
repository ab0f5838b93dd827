package protocol

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// This file decodes the content of JSON strings the scanner has validated
// and measured: member names, values, and their escapes.

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
	if bytes.IndexByte(inner, '\\') >= 0 {
		return unescape(inner)
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
