package protocol

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/tinylib/msgp/msgp"
)

// This file turns one MessagePack value into JSON, so that a MessagePack
// message fills the same Message (raw JSON arguments, item, result and
// headers) and writes the same event lines as a JSON one. Binary values
// become {"$binary":"<base64>"}, extension values other than timestamps
// {"$ext":<type>,"$binary":"<base64>"}, timestamps an RFC 3339 string, and
// floats that JSON cannot hold the strings "NaN", "Infinity", "-Infinity"
// (what System.Text.Json writes with named floating-point literals).

// mpMaxDepth bounds nesting: the official JavaScript decoder walks any
// depth with a stack of its own, but sigr recurses and must not be made to
// walk a value nested a million deep.
const mpMaxDepth = 1000

// faultKind says what is wrong with a MessagePack value.
type faultKind uint8

const (
	faultNone      faultKind = iota
	faultShortHead           // a header, number or extension type cut off
	faultShortBody           // a str, bin or ext body cut off
	faultBadByte             // 0xc1, which MessagePack never uses
	faultKeyType             // a map key neither string nor number (JavaScript only)
	faultProtoKey            // the key __proto__ (JavaScript only)
	faultTimestamp           // a timestamp of a size the spec does not define (JavaScript only)
	faultDepth               // nested deeper than mpMaxDepth
	faultWrongCode           // a valid value of a type the reader did not expect (.NET only)
)

// fault is a problem found in a MessagePack value, with what each
// official parser needs to word it.
type fault struct {
	kind   faultKind
	code   byte   // the lead byte at the problem
	typeof string // JavaScript typeof of a bad map key
	size   int    // the data size of a bad timestamp
}

func (f fault) failed() bool { return f.kind != faultNone }

// jsText is the official JavaScript client's error for f: the texts of
// @msgpack/msgpack 2.8 and of V8's DataView.
func (f fault) jsText() string {
	switch f.kind {
	case faultShortHead:
		return "Offset is outside the bounds of the DataView"
	case faultShortBody:
		return "Insufficient data"
	case faultBadByte:
		return "Unrecognized type byte: 0x" + hex2(f.code)
	case faultKeyType:
		return "The type of key must be string or number but " + f.typeof
	case faultProtoKey:
		return "The key __proto__ is not allowed"
	case faultTimestamp:
		return "Unrecognized data size for timestamp (expected 4, 8, or 12): " + strconv.Itoa(f.size)
	case faultDepth:
		return "MessagePack value nested deeper than " + strconv.Itoa(mpMaxDepth) + " levels"
	}
	return f.netText()
}

// netText is the text MessagePack-CSharp's reader throws for f, where the
// .NET hub protocol lets it through unwrapped.
func (f fault) netText() string {
	switch f.kind {
	case faultShortHead, faultShortBody:
		return "Attempted to read past the end of the stream."
	case faultDepth:
		return "MessagePack value nested deeper than " + strconv.Itoa(mpMaxDepth) + " levels"
	}
	return "Unexpected msgpack code " + strconv.Itoa(int(f.code)) + " (" + mpFormatName(f.code) + ") encountered."
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&0xF]})
}

// mpFormatName is the MessagePack spec's name of the format a lead byte
// starts, as MessagePack-CSharp spells it in its errors.
func mpFormatName(c byte) string {
	switch {
	case c <= 0x7f:
		return "positive fixint"
	case c <= 0x8f:
		return "fixmap"
	case c <= 0x9f:
		return "fixarray"
	case c <= 0xbf:
		return "fixstr"
	case c >= 0xe0:
		return "negative fixint"
	}
	return [...]string{
		"nil", "(never used)", "false", "true", "bin 8", "bin 16", "bin 32", "ext 8",
		"ext 16", "ext 32", "float 32", "float 64", "uint 8", "uint 16", "uint 32", "uint 64",
		"int 8", "int 16", "int 32", "int 64", "fixext 1", "fixext 2", "fixext 4", "fixext 8",
		"fixext 16", "str 8", "str 16", "str 32", "array 16", "array 32", "map 16", "map 32",
	}[c-0xc0]
}

// mpHeadLen is how many bytes the value starting with lead needs before
// its body: the lead byte, a length or a number, and an extension's type.
func mpHeadLen(lead byte) int {
	switch {
	case lead <= 0xbf || lead >= 0xe0:
		return 1
	}
	return [...]int{
		1, 1, 1, 1, 2, 3, 5, 3, // nil, never used, false, true, bin 8/16/32, ext 8
		4, 6, 5, 9, 2, 3, 5, 9, // ext 16/32, float 32/64, uint 8/16/32/64
		2, 3, 5, 9, 2, 2, 2, 2, // int 8/16/32/64, fixext 1/2/4/8
		2, 2, 3, 5, 3, 5, 3, 5, // fixext 16, str 8/16/32, array 16/32, map 16/32
	}[lead-0xc0]
}

// short classifies a value cut off at b: before the end of its head, or in
// its body.
func short(b []byte) fault {
	if len(b) == 0 || len(b) < mpHeadLen(b[0]) {
		var c byte
		if len(b) > 0 {
			c = b[0]
		}
		return fault{kind: faultShortHead, code: c}
	}
	return fault{kind: faultShortBody, code: b[0]}
}

// mpExt reads an extension value's type and data.
func mpExt(b []byte) (typ int8, data, rest []byte, f fault) {
	if len(b) < mpHeadLen(b[0]) {
		return 0, nil, b, short(b)
	}
	var n, off int
	switch lead := b[0]; lead {
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		n, off = 1<<(lead-0xd4), 2
	case 0xc7:
		n, off = int(b[1]), 3
	case 0xc8:
		n, off = int(binary.BigEndian.Uint16(b[1:])), 4
	default:
		n, off = int(binary.BigEndian.Uint32(b[1:])), 6
	}
	typ = int8(b[off-1])
	if len(b)-off < n {
		return 0, nil, b, fault{kind: faultShortBody, code: b[0]}
	}
	return typ, b[off : off+n], b[off+n:], fault{}
}

// isExt reports whether lead starts an extension value.
func isExt(lead byte) bool { return lead >= 0xc7 && lead <= 0xc9 || lead >= 0xd4 && lead <= 0xd8 }

// mpTimestamp decodes the data of a timestamp extension (type -1).
func mpTimestamp(data []byte) (time.Time, bool) {
	switch len(data) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(data)), 0), true
	case 8:
		v := binary.BigEndian.Uint64(data)
		return time.Unix(int64(v&0x3ffffffff), int64(v>>34)), true
	case 12:
		return time.Unix(int64(binary.BigEndian.Uint64(data[4:])), int64(binary.BigEndian.Uint32(data))), true
	}
	return time.Time{}, false
}

// bytesString views b as a string without copying, for writers that do
// not keep their argument.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// mpConv converts MessagePack values to JSON under one parser's rules.
type mpConv struct {
	// lenient applies the JavaScript decoder's rules to map keys and
	// timestamps; otherwise every key is written as its text and a
	// timestamp of an unknown size as any other extension.
	lenient bool
}

// value appends the JSON form of the value at the start of b to dst and
// returns the bytes after it.
func (c mpConv) value(dst, b []byte, depth int) ([]byte, []byte, fault) {
	if len(b) == 0 {
		return dst, b, short(b)
	}
	if depth > mpMaxDepth {
		return dst, b, fault{kind: faultDepth, code: b[0]}
	}
	lead := b[0]
	switch {
	case lead <= 0x7f:
		return strconv.AppendInt(dst, int64(lead), 10), b[1:], fault{}
	case lead >= 0xe0:
		return strconv.AppendInt(dst, int64(int8(lead)), 10), b[1:], fault{}
	case lead >= 0xa0 && lead <= 0xbf, lead >= 0xd9 && lead <= 0xdb:
		s, rest, err := msgp.ReadStringZC(b)
		if err != nil {
			return dst, b, short(b)
		}
		return appendString(dst, bytesString(s)), rest, fault{}
	case lead <= 0x8f, lead == 0xde, lead == 0xdf:
		return c.object(dst, b, depth)
	case lead <= 0x9f, lead == 0xdc, lead == 0xdd:
		n, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return dst, b, short(b)
		}
		b = rest
		dst = append(dst, '[')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			var f fault
			if dst, b, f = c.value(dst, b, depth+1); f.failed() {
				return dst, b, f
			}
		}
		return append(dst, ']'), b, fault{}
	}
	switch lead {
	case 0xc0:
		return append(dst, "null"...), b[1:], fault{}
	case 0xc2:
		return append(dst, "false"...), b[1:], fault{}
	case 0xc3:
		return append(dst, "true"...), b[1:], fault{}
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, rest, err := msgp.ReadUint64Bytes(b)
		if err != nil {
			return dst, b, short(b)
		}
		return strconv.AppendUint(dst, u, 10), rest, fault{}
	case 0xd0, 0xd1, 0xd2, 0xd3:
		i, rest, err := msgp.ReadInt64Bytes(b)
		if err != nil {
			return dst, b, short(b)
		}
		return strconv.AppendInt(dst, i, 10), rest, fault{}
	case 0xca:
		f, rest, err := msgp.ReadFloat32Bytes(b)
		if err != nil {
			return dst, b, short(b)
		}
		return appendFloat(dst, float64(f), 32), rest, fault{}
	case 0xcb:
		f, rest, err := msgp.ReadFloat64Bytes(b)
		if err != nil {
			return dst, b, short(b)
		}
		return appendFloat(dst, f, 64), rest, fault{}
	case 0xc4, 0xc5, 0xc6:
		v, rest, err := msgp.ReadBytesZC(b)
		if err != nil {
			return dst, b, short(b)
		}
		dst = append(dst, `{"$binary":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v)
		return append(dst, '"', '}'), rest, fault{}
	case 0xc1:
		return dst, b, fault{kind: faultBadByte, code: lead}
	}
	// An extension.
	typ, data, rest, f := mpExt(b)
	if f.failed() {
		return dst, b, f
	}
	if typ == -1 {
		t, ok := mpTimestamp(data)
		if ok {
			dst = append(dst, '"')
			dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
			return append(dst, '"'), rest, fault{}
		}
		if c.lenient {
			return dst, b, fault{kind: faultTimestamp, code: lead, size: len(data)}
		}
	}
	dst = append(dst, `{"$ext":`...)
	dst = strconv.AppendInt(dst, int64(typ), 10)
	dst = append(dst, `,"$binary":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, '"', '}'), rest, fault{}
}

// object writes a map as a JSON object. A string key is written as is; a
// number key as its text (JavaScript turns it into a property name); any
// other key is an error for the JavaScript decoder and, under .NET's rules,
// is written as the text of its JSON form.
func (c mpConv) object(dst, b []byte, depth int) ([]byte, []byte, fault) {
	n, rest, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return dst, b, short(b)
	}
	b = rest
	dst = append(dst, '{')
	var f fault
	for i := uint32(0); i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		if len(b) == 0 {
			return dst, b, short(b)
		}
		lead := b[0]
		if lead >= 0xa0 && lead <= 0xbf || lead >= 0xd9 && lead <= 0xdb {
			k, rest, err := msgp.ReadStringZC(b)
			if err != nil {
				return dst, b, short(b)
			}
			b = rest
			if c.lenient && string(k) == "__proto__" {
				return dst, b, fault{kind: faultProtoKey, code: lead}
			}
			dst = appendString(dst, bytesString(k))
		} else {
			// The key's JSON form, then quoted in place.
			start := len(dst)
			if dst, b, f = c.value(dst, b, depth+1); f.failed() {
				return dst, b, f
			}
			if c.lenient {
				if kind := mpTypeof(lead); kind != "number" {
					return dst, b, fault{kind: faultKeyType, code: lead, typeof: kind}
				}
			}
			key := string(dst[start:])
			dst = appendString(dst[:start], key)
		}
		dst = append(dst, ':')
		if dst, b, f = c.value(dst, b, depth+1); f.failed() {
			return dst, b, f
		}
	}
	return append(dst, '}'), b, fault{}
}

// mpTypeof is JavaScript's typeof of the value the JavaScript decoder
// builds for a value starting with lead.
func mpTypeof(lead byte) string {
	switch {
	case lead <= 0x7f || lead >= 0xe0 || lead >= 0xca && lead <= 0xd3:
		return "number"
	case lead >= 0xa0 && lead <= 0xbf || lead >= 0xd9 && lead <= 0xdb:
		return "string"
	case lead == 0xc2 || lead == 0xc3:
		return "boolean"
	}
	// null, arrays, maps, Uint8Array, Date and ExtData are objects.
	return "object"
}

// skip walks the value at the start of b without writing it, with the
// checks of value.
func (c mpConv) skip(b []byte, depth int) ([]byte, fault) {
	if len(b) == 0 {
		return b, short(b)
	}
	if depth > mpMaxDepth {
		return b, fault{kind: faultDepth, code: b[0]}
	}
	switch lead := b[0]; {
	case lead >= 0x90 && lead <= 0x9f, lead == 0xdc, lead == 0xdd:
		n, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return b, short(b)
		}
		b = rest
		var f fault
		for i := uint32(0); i < n; i++ {
			if b, f = c.skip(b, depth+1); f.failed() {
				return b, f
			}
		}
		return b, fault{}
	case lead >= 0x80 && lead <= 0x8f, lead == 0xde, lead == 0xdf:
		n, rest, err := msgp.ReadMapHeaderBytes(b)
		if err != nil {
			return b, short(b)
		}
		b = rest
		var f fault
		for i := uint32(0); i < n; i++ {
			if len(b) == 0 {
				return b, short(b)
			}
			key := b[0]
			if c.lenient && isMpString(key) {
				k, _, err := msgp.ReadStringZC(b)
				if err == nil && string(k) == "__proto__" {
					return b, fault{kind: faultProtoKey, code: key}
				}
			}
			if b, f = c.skip(b, depth+1); f.failed() {
				return b, f
			}
			if c.lenient {
				if kind := mpTypeof(key); kind != "number" && kind != "string" {
					return b, fault{kind: faultKeyType, code: key, typeof: kind}
				}
			}
			if b, f = c.skip(b, depth+1); f.failed() {
				return b, f
			}
		}
		return b, fault{}
	case lead == 0xc1:
		return b, fault{kind: faultBadByte, code: lead}
	case isExt(lead):
		typ, data, rest, f := mpExt(b)
		if f.failed() {
			return b, f
		}
		if c.lenient && typ == -1 {
			if _, ok := mpTimestamp(data); !ok {
				return b, fault{kind: faultTimestamp, code: lead, size: len(data)}
			}
		}
		return rest, fault{}
	}
	rest, err := msgp.Skip(b)
	if err != nil {
		return b, short(b)
	}
	return rest, fault{}
}

// appendFloat writes f as JavaScript prints a number (encoding/json's
// form), with the precision of its MessagePack width; NaN and the
// infinities, which JSON cannot hold, become strings.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// e-07 becomes e-7, as in JavaScript.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
