package protocol

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// refStringEnd is a byte-at-a-time reference for stringEnd: the index after
// the closing quote and whether there were escapes, or ok false.
func refStringEnd(data []byte, i int, strict bool) (int, bool, bool) {
	escaped := false
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return 0, false, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex4(data[i+2:i+6]) {
					return 0, false, false
				}
				i += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		case c >= 0x80 && strict:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, false, false
			}
			i += size
		default:
			i++
		}
	}
	return 0, false, false
}

// TestStringEndEveryPosition puts each kind of byte the eight-byte scan
// must stop at (quote, backslash escapes, control characters, non-ASCII
// and invalid UTF-8) at every offset of strings of every length up to 40,
// and compares with the byte-at-a-time reference in both modes.
func TestStringEndEveryPosition(t *testing.T) {
	specials := []string{`"`, `\"`, `\\`, `\n`, `\u00e9`, `\uZZZZ`, `\q`, "\x00", "\x1f", "\x7f", "é", "☃", "😀", "\xff", "\xc3", "\xed\xa0\x80", " ", "~"}
	for n := 0; n <= 40; n++ {
		for pos := 0; pos <= n; pos++ {
			for _, sp := range specials {
				body := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				for _, tail := range []string{`"`, `"` + strings.Repeat("x", 9), ""} {
					data := []byte(`"` + body + tail)
					for _, strict := range []bool{false, true} {
						stop := &strStop
						if strict {
							stop = &strStopStrict
						}
						j, esc, msg := stringEnd(data, 1, stop)
						rj, resc, rok := refStringEnd(data, 1, strict)
						if (msg == "") != rok || rok && (j != rj || esc != resc) {
							t.Fatalf("strict=%v %q: got (%d,%v,%q), want (%d,%v,%v)", strict, data, j, esc, msg, rj, resc, rok)
						}
					}
				}
			}
		}
	}
}

// FuzzMatchesEncodingJSON holds the scanner and the decoder to
// encoding/json on the same bytes. Lenient validation of a whole value is
// json.Valid (which, like JSON.parse on decoded text, takes invalid UTF-8
// inside strings); strict validation is that, valid UTF-8 and at most 64
// levels of nesting. A string value decodes to the same text. A record
// ParseMessage accepts holds the members encoding/json reads from it: raw
// values byte for byte, strings, numbers and booleans as decoded values.
func FuzzMatchesEncodingJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return // encoding/json has a nesting limit of its own, at 10 000
		}
		valid := json.Valid(data)
		for _, strict := range []bool{false, true} {
			var s scanner
			s.reset(data, 0)
			want := valid
			if strict {
				s.maxDepth, s.strict = strictMaxDepth, true
				want = valid && utf8.Valid(data) && nesting(data) <= strictMaxDepth
			}
			err := s.skipValue(0)
			if err == nil {
				s.skipSpace()
				if s.pos != len(data) {
					err = s.fail("trailing")
				}
			}
			if (err == nil) != want {
				t.Fatalf("strict=%v %q: skipValue ok=%v, encoding/json %v (%v)", strict, data, err == nil, want, err)
			}
		}
		if !valid {
			return
		}
		value := bytes.Trim(data, " \t\r\n")
		if value[0] == '"' {
			var str string
			if err := json.Unmarshal(value, &str); err != nil {
				t.Fatal(err)
			}
			if got := validUTF8(decodeStringValue(value)); got != str {
				t.Fatalf("%q decodes to %q, encoding/json %q", value, got, str)
			}
		}
		for _, mode := range []Mode{Strict, Lenient} {
			if m, err := ParseMessage(data, mode); err == nil {
				matchMembers(t, data, mode, &m)
			}
		}
	})
}

// nesting is the deepest level of containers in a valid document.
func nesting(data []byte) int {
	d := json.NewDecoder(bytes.NewReader(data))
	depth, deepest := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// matchMembers compares a parsed message with encoding/json's reading of
// its record, member by member. Records that repeat a member are left out:
// which occurrence counts differs between the official parsers.
func matchMembers(t *testing.T, record []byte, mode Mode, m *Message) {
	t.Helper()
	var members map[string]json.RawMessage
	if err := json.Unmarshal(record, &members); err != nil {
		t.Fatalf("%s: ParseMessage took %q, encoding/json: %v", mode, record, err)
	}
	n := 0
	p := parser{r: &lenientRules}
	p.s.reset(record, 0)
	p.s.peekKind()
	_ = p.eachMember(func([]byte, bool, valueKind, int, int) error { n++; return nil })
	if n != len(members) {
		return
	}
	fail := func(name string, got any) {
		t.Helper()
		t.Fatalf("%s %q: %s is %#v, encoding/json read %s", mode, record, name, got, members[name])
	}
	// Strict rejects invalid UTF-8; lenient keeps it, and encoding/json
	// reads each invalid byte as U+FFFD, as validUTF8 does.
	str := func(name, got string, field Field) {
		var want string // what a value that is no string leaves
		if raw := members[name]; len(raw) > 0 && raw[0] == '"' {
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			// Strict drops an empty invocation id.
			if !m.Has(field) && !(field == FieldInvocationID && want == "") {
				fail(name, "absent")
			}
		}
		if validUTF8(got) != want {
			fail(name, got)
		}
	}
	str("target", m.Target, FieldTarget)
	str("invocationId", m.InvocationID, FieldInvocationID)
	str("error", m.Error, FieldError)
	for _, c := range []struct {
		name  string
		got   []byte
		field Field
		kinds string // the first bytes of the values the message keeps
	}{
		{"arguments", m.Arguments, FieldArguments, ""},
		{"item", m.Item, FieldItem, ""},
		{"result", m.Result, FieldResult, ""},
		{"headers", m.Headers, FieldHeaders, "{"},
	} {
		want, ok := members[c.name]
		if ok && c.kinds != "" && want[0] != c.kinds[0] {
			ok = false
		}
		if m.Has(c.field) != ok || !bytes.Equal(c.got, want) {
			fail(c.name, string(c.got))
		}
	}
	if m.Has(FieldHeaders) && utf8.Valid(record) {
		var all map[string]any
		_ = json.Unmarshal(m.Headers, &all)
		want := map[string]string{}
		for k, v := range all {
			if v, ok := v.(string); ok {
				want[k] = v
			}
		}
		if got := m.HeaderMap(); !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
			fail("headers", got)
		}
	}
	var ids []any
	if json.Unmarshal(members["streamIds"], &ids) == nil && ids != nil {
		var want []string
		for _, id := range ids {
			if id, ok := id.(string); ok {
				want = append(want, id)
			}
		}
		if !m.Has(FieldStreamIDs) || len(m.StreamIDs) != len(want) {
			fail("streamIds", m.StreamIDs)
		}
		for i := range want {
			if validUTF8(m.StreamIDs[i]) != want[i] {
				fail("streamIds", m.StreamIDs)
			}
		}
	} else if m.Has(FieldStreamIDs) {
		fail("streamIds", m.StreamIDs)
	}
	var b bool
	if err := json.Unmarshal(members["allowReconnect"], &b); err == nil && members["allowReconnect"][0] != 'n' {
		if !m.Has(FieldAllowReconnect) || m.AllowReconnect != b {
			fail("allowReconnect", m.AllowReconnect)
		}
	} else if m.Has(FieldAllowReconnect) {
		fail("allowReconnect", m.AllowReconnect)
	}
	var seq int64
	if err := json.Unmarshal(members["sequenceId"], &seq); err == nil && members["sequenceId"][0] != 'n' {
		if !m.Has(FieldSequenceID) || m.SequenceID != seq {
			fail("sequenceId", m.SequenceID)
		}
	}
	// A type of the wrong JSON type fails in both modes; a number that is
	// no int32 fails in strict and gives type 0 in lenient, where
	// JSON.parse reads 1.0 as 1.
	var typ float64
	if err := json.Unmarshal(members["type"], &typ); err == nil && members["type"][0] != 'n' {
		want := MessageType(0)
		if typ == math.Trunc(typ) && typ >= math.MinInt32 && typ <= math.MaxInt32 {
			want = MessageType(typ)
		}
		if m.Type != want {
			fail("type", m.Type)
		}
	}
}

func TestInternString(t *testing.T) {
	a := internString([]byte("newMessage"))
	b := internString([]byte("newMessage"))
	if a != "newMessage" || b != a {
		t.Fatalf("intern: %q %q", a, b)
	}
	if internString(nil) != "" {
		t.Fatal("empty")
	}
	long := strings.Repeat("t", internMaxLen+1)
	if internString([]byte(long)) != long {
		t.Fatal("long name")
	}
	// Collisions and churn never return a wrong string.
	for i := range 5000 {
		name := "target" + string(rune('a'+i%26)) + strings.Repeat("x", i%7)
		if got := internString([]byte(name)); got != name {
			t.Fatalf("intern(%q) = %q", name, got)
		}
	}
	// The bytes may change after interning; the string does not.
	buf := []byte("mutable")
	s := internString(buf)
	copy(buf, "XXXXXXX")
	if s != "mutable" {
		t.Fatalf("interned string aliases its input: %q", s)
	}
}

// TestHeaderDoesNotAllocate checks that reading a header whose value
// repeats, as a monitor reads the route of every message, costs no
// allocation, and that an escaped value, a long one and the last of two
// same-named headers still read as before.
func TestHeaderDoesNotAllocate(t *testing.T) {
	long := strings.Repeat("g", internMaxLen+1)
	m, err := ParseMessage([]byte(`{"type":1,"target":"t","arguments":[],"headers":{"route":"group:devs","q":"a\"b\u00e9","long":"`+long+`","d":"1","d":"2"}}`), Lenient)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"route": "group:devs", "q": "a\"bé", "long": long, "d": "2"} {
		if got, ok := m.Header(k); !ok || got != want {
			t.Errorf("Header(%q) = %q, %v; want %q", k, got, ok, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.Header("route") }); n != 0 {
		t.Fatalf("Header allocates %v times per lookup", n)
	}
	// The value must not alias the record, which its owner may reuse.
	raw := []byte(`{"type":1,"target":"t","arguments":[],"headers":{"route":"user:zed-1234"}}`)
	m, _ = ParseMessage(raw, Lenient)
	got, _ := m.Header("route")
	copy(raw[bytes.Index(raw, []byte("zed")):], "XXX")
	if got != "user:zed-1234" {
		t.Fatalf("Header's value changed with the record: %q", got)
	}
}
