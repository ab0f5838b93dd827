package protocol

import (
	"encoding/json"
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

// TestSkipValueMatchesEncodingJSON: lenient validation of whole values
// agrees with encoding/json.Valid (which, like JSON.parse on a string,
// accepts invalid UTF-8 inside strings as replacement characters).
func TestSkipValueMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`[]`, `{}`, `[1,2,3]`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `"x"`, `-0.5e-3`, `0`,
		`[1,]`, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `[01]`, `[1.]`, `[.5]`, `[1e]`, `[-]`, `[tru]`, `[nulll]`,
		`[[[[]]]]`, `[[[[]]]`, `{"a":{"b":{"c":[1,{"d":[]}]}}}`, ` [ 1 , 2 ] `, "[\"a\tb\"]", `["\ud800"]`,
		`{"a":"` + strings.Repeat("x", 100) + `"}`, `[` + strings.Repeat(`"é☃",`, 30) + `1]`,
	}
	for _, d := range docs {
		var s scanner
		s.reset([]byte(d), 0)
		err := s.skipValue(0)
		if err == nil {
			s.skipSpace()
			if s.pos != len(d) {
				err = s.fail("trailing")
			}
		}
		if got, want := err == nil, json.Valid([]byte(d)); got != want {
			t.Errorf("%q: skipValue ok=%v, encoding/json %v (%v)", d, got, want, err)
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
