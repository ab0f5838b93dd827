package protocol

import (
	"strconv"
	"unicode/utf8"
)

// AppendMessage appends m in the official JSON byte form, followed by the
// record separator, and returns the extended buffer. The form is what the
// .NET JsonHubProtocol writes: `type` first, then headers (when there are
// any), then the type's own fields in a fixed order; Arguments, Item,
// Result and Headers are written exactly as held, so a decoded message
// re-encodes to the bytes it came from.
func AppendMessage(dst []byte, m *Message) []byte {
	dst = append(dst, `{"type":`...)
	dst = strconv.AppendInt(dst, int64(m.Type), 10)
	switch m.Type {
	case TypePing:
	case TypeClose:
		if m.Has(FieldError) {
			dst = append(dst, `,"error":`...)
			dst = appendString(dst, m.Error)
		}
		if m.AllowReconnect {
			dst = append(dst, `,"allowReconnect":true`...)
		}
	case TypeAck, TypeSequence:
		dst = append(dst, `,"sequenceId":`...)
		dst = strconv.AppendInt(dst, m.SequenceID, 10)
	default:
		dst = appendHeaders(dst, m.Headers)
		if m.InvocationID != "" {
			dst = append(dst, `,"invocationId":`...)
			dst = appendString(dst, m.InvocationID)
		}
		switch m.Type {
		case TypeInvocation, TypeStreamInvocation:
			dst = append(dst, `,"target":`...)
			dst = appendString(dst, m.Target)
			dst = append(dst, `,"arguments":`...)
			dst = appendRaw(dst, m.Arguments, "[]")
			if m.StreamIDs != nil {
				dst = append(dst, `,"streamIds":[`...)
				for i, id := range m.StreamIDs {
					if i > 0 {
						dst = append(dst, ',')
					}
					dst = appendString(dst, id)
				}
				dst = append(dst, ']')
			}
		case TypeStreamItem:
			dst = append(dst, `,"item":`...)
			dst = appendRaw(dst, m.Item, "null")
		case TypeCompletion:
			if m.Error != "" {
				dst = append(dst, `,"error":`...)
				dst = appendString(dst, m.Error)
			} else if m.Has(FieldResult) {
				dst = append(dst, `,"result":`...)
				dst = appendRaw(dst, m.Result, "null")
			}
		case TypeCancelInvocation:
		default:
			// A type this version does not define: keep what it carried.
			if m.Has(FieldTarget) {
				dst = append(dst, `,"target":`...)
				dst = appendString(dst, m.Target)
			}
			if m.Has(FieldArguments) {
				dst = append(dst, `,"arguments":`...)
				dst = append(dst, m.Arguments...)
			}
		}
	}
	dst = append(dst, '}')
	return append(dst, RecordSeparator)
}

func appendHeaders(dst []byte, h []byte) []byte {
	if len(h) == 0 || isEmptyObject(h) {
		return dst
	}
	dst = append(dst, `,"headers":`...)
	return append(dst, h...)
}

func isEmptyObject(b []byte) bool {
	n := 0
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			if n == 0 && c == '{' || n == 1 && c == '}' {
				n++
				continue
			}
			return false
		}
	}
	return n == 2
}

func appendRaw(dst, raw []byte, empty string) []byte {
	if len(raw) == 0 {
		return append(dst, empty...)
	}
	return append(dst, raw...)
}

const hexDigits = "0123456789ABCDEF"

// appendString writes s as a JSON string the way System.Text.Json does with
// UnsafeRelaxedJsonEscaping (what SignalR uses): non-ASCII text is written
// as is, quotes, backslashes and control characters are escaped, and
// invalid UTF-8 becomes U+FFFD so the output is always valid JSON.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
