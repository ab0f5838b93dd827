// Package textsafe makes untrusted text (server error bodies, close
// reasons, user ids, group names, token claims) safe to print on one line
// of a terminal or a log. The TUI has its own, width-aware sanitiser for
// the screen; this one is for errors, logs and plain command output.
package textsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Line returns s with everything that could change what a terminal shows,
// or where the line ends, made visible as an escape: C0 and C1 control
// characters (ESC, so every CSI and OSC sequence, included) as \xHH, line
// breaks as \n and \r, bidirectional overrides and isolates as \uHHHH,
// and invalid UTF-8 as \xHH. Text with none of these is returned as is.
func Line(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case isBidi(r):
			b.WriteString(`\u`)
			b.WriteString(strconv.FormatInt(int64(r), 16))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Clip returns Line of s cut to at most n bytes of the original, on a
// character boundary, with "…" marking the cut: a log line stays short
// whatever a client sent.
func Clip(s string, n int) string {
	if len(s) <= n {
		return Line(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return Line(s[:n]) + "…"
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return true
		}
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				if r == utf8.RuneError || r >= 0x80 && r < 0xa0 || isBidi(r) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// isBidi reports the characters that reorder or hide text (Trojan Source):
// the marks and the embedding, override and isolate controls.
func isBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
