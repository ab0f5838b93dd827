package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s with everything that could change what a terminal shows,
// or where the line ends, made visible as an escape: C0 and C1 control
// characters (ESC, so every CSI and OSC sequence, included) and invalid
// UTF-8 bytes as \xHH, line breaks as \n and \r, and as \uHHHH the C1
// controls (so the rune U+009B reads apart from a stray 0x9b byte), the
// line and paragraph separators and every format character (bidirectional
// overrides and isolates among them) except the zero-width joiners that
// emoji and some scripts need. Text with none of these is returned as is.
func Line(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			break
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r, size):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
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

// unsafeRune reports whether a non-ASCII rune must be escaped: invalid
// encodings, C1 controls, line and paragraph separators, and format
// characters (bidi controls, which reorder text, among them) other than
// the joiners that emoji and some scripts need.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r == 0x200c || r == 0x200d: // ZWNJ, ZWJ
		return false
	case unicode.Is(unicode.Cf, r):
		return true
	}
	return false
}
