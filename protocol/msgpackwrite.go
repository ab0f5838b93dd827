package protocol

import (
	"errors"
	"strconv"

	"github.com/tinylib/msgp/msgp"
)

// AppendMessagePack appends m as one MessagePack record: its varint length
// prefix, then the array the .NET MessagePackHubProtocol writes for its
// type (every position filled: an empty headers map, a nil invocation id
// for a non-blocking invocation, an empty streamIds array, a nil error and
// allowReconnect false on a Close). Arguments, Item, Result and Headers
// hold JSON and are converted; an error means one of them is not valid
// JSON, or m's type is not one the protocol defines.
func AppendMessagePack(dst []byte, m *Message) ([]byte, error) {
	// The body is written after room for the longest prefix and moved
	// back once its length is known.
	at := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0)
	body := len(dst)
	dst, err := appendMessagePackBody(dst, m)
	if err != nil {
		return dst[:at], err
	}
	n := len(dst) - body
	var prefix [maxVarintLen]byte
	p := AppendVarint(prefix[:0], uint32(n))
	copy(dst[at:], p)
	copy(dst[at+len(p):], dst[body:])
	return dst[:at+len(p)+n], nil
}

func appendMessagePackBody(dst []byte, m *Message) ([]byte, error) {
	var err error
	switch m.Type {
	case TypeInvocation, TypeStreamInvocation:
		dst = msgp.AppendArrayHeader(dst, 6)
		dst = msgp.AppendInt64(dst, int64(m.Type))
		dst = appendMsgpackHeaders(dst, m)
		if m.InvocationID == "" {
			dst = msgp.AppendNil(dst)
		} else {
			dst = msgp.AppendString(dst, m.InvocationID)
		}
		dst = msgp.AppendString(dst, m.Target)
		switch {
		case len(m.Arguments) == 0:
			dst = msgp.AppendArrayHeader(dst, 0)
		case !isJSONArray(m.Arguments):
			return dst, errors.New("arguments: not a JSON array")
		default:
			if dst, err = AppendJSONAsMessagePack(dst, m.Arguments); err != nil {
				return dst, errors.New("arguments: " + err.Error())
			}
		}
		dst = msgp.AppendArrayHeader(dst, uint32(len(m.StreamIDs)))
		for _, id := range m.StreamIDs {
			dst = msgp.AppendString(dst, id)
		}
	case TypeStreamItem:
		dst = msgp.AppendArrayHeader(dst, 4)
		dst = msgp.AppendInt64(dst, int64(m.Type))
		dst = appendMsgpackHeaders(dst, m)
		dst = msgp.AppendString(dst, m.InvocationID)
		if dst, err = appendJSONOrNil(dst, m.Item); err != nil {
			return dst, errors.New("item: " + err.Error())
		}
	case TypeCompletion:
		kind := mpVoidResult
		switch {
		case m.Has(FieldError) || m.Error != "":
			kind = mpErrorResult
		case m.Has(FieldResult):
			kind = mpNonVoidResult
		}
		n := uint32(5)
		if kind == mpVoidResult {
			n = 4
		}
		dst = msgp.AppendArrayHeader(dst, n)
		dst = msgp.AppendInt64(dst, int64(m.Type))
		dst = appendMsgpackHeaders(dst, m)
		dst = msgp.AppendString(dst, m.InvocationID)
		dst = msgp.AppendInt64(dst, int64(kind))
		switch kind {
		case mpErrorResult:
			dst = msgp.AppendString(dst, m.Error)
		case mpNonVoidResult:
			if dst, err = appendJSONOrNil(dst, m.Result); err != nil {
				return dst, errors.New("result: " + err.Error())
			}
		}
	case TypeCancelInvocation:
		dst = msgp.AppendArrayHeader(dst, 3)
		dst = msgp.AppendInt64(dst, int64(m.Type))
		dst = appendMsgpackHeaders(dst, m)
		dst = msgp.AppendString(dst, m.InvocationID)
	case TypePing:
		dst = append(dst, 0x91, byte(TypePing))
	case TypeClose:
		dst = msgp.AppendArrayHeader(dst, 3)
		dst = msgp.AppendInt64(dst, int64(m.Type))
		if m.Error == "" {
			dst = msgp.AppendNil(dst)
		} else {
			dst = msgp.AppendString(dst, m.Error)
		}
		dst = msgp.AppendBool(dst, m.AllowReconnect)
	case TypeAck, TypeSequence:
		dst = msgp.AppendArrayHeader(dst, 2)
		dst = msgp.AppendInt64(dst, int64(m.Type))
		dst = appendMpInt(dst, m.SequenceID)
	default:
		return dst, errors.New("message type " + strconv.Itoa(int(m.Type)) + " has no MessagePack form")
	}
	return dst, nil
}

func appendJSONOrNil(dst, raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return msgp.AppendNil(dst), nil
	}
	return AppendJSONAsMessagePack(dst, raw)
}

// appendMsgpackHeaders writes the headers with string values as a map.
func appendMsgpackHeaders(dst []byte, m *Message) []byte {
	n := 0
	m.eachHeader(func([]byte, bool, []byte) { n++ })
	dst = msgp.AppendMapHeader(dst, uint32(n))
	m.eachHeader(func(name []byte, nameEsc bool, value []byte) {
		dst = msgp.AppendString(dst, decodeName(name, nameEsc))
		dst = msgp.AppendString(dst, decodeStringValue(value))
	})
	return dst
}

// appendMpInt writes n as the official writers do: unsigned formats for
// numbers that are not negative.
func appendMpInt(dst []byte, n int64) []byte {
	if n >= 0 {
		return msgp.AppendUint64(dst, uint64(n))
	}
	return msgp.AppendInt64(dst, n)
}

// isJSONArray reports whether raw JSON starts an array.
func isJSONArray(raw []byte) bool {
	i := skipWS(raw, 0)
	return i < len(raw) && raw[i] == '['
}
