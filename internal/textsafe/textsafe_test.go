package textsafe

import (
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text, ünïcode, 表", "plain text, ünïcode, 表"},
		{"\x1b]0;pwned\x07\x1b[2Jboom", `\x1b]0;pwned\x07\x1b[2Jboom`},
		{"two\nlines\r\tx", `two\nlines\r\tx`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"admin\u202e\u2066txt.exe", `admin\u202e\u2066txt.exe`},
		{"del\x7f", `del\x7f`},
		{"soft\u00adhyphen, ZWJ 👩\u200d💻 kept", "soft\\u00adhyphen, ZWJ 👩\u200d💻 kept"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := Clip("short", 10); got != "short" {
		t.Errorf("Clip kept %q", got)
	}
	// 5 bytes would cut the second 'é' (2 bytes) in half: keep 4.
	if got := Clip("ééé", 5); got != "éé…" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip(strings.Repeat("\x1b", 300), 200); strings.ContainsRune(got, 0x1b) || !strings.HasSuffix(got, "…") {
		t.Errorf("Clip left raw escapes or no mark: %q", got[:20])
	}
}
