package tui

import (
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/charmbracelet/x/ansi"
)

// sanitize returns s with everything that could drive or confuse a terminal
// made visible as an escape: C0 and C1 control characters (so ESC, and with
// it every CSI and OSC sequence, becomes the text `\x1b[...`), DEL, invalid
// UTF-8 bytes, line and paragraph separators, and invisible format
// characters such as the bidi overrides (U+202A to U+202E, U+2066 to
// U+2069) that reorder what a reader sees. Zero width joiners stay, because
// emoji sequences need them.
//
// Every string that came from the network goes through sanitize before it
// reaches the screen.
func sanitize(s string) string { return textsafe.Line(s) }

// sanitizeBytes is sanitize for a byte slice.
func sanitizeBytes(p []byte) string { return sanitize(string(p)) }

// fit truncates s, which may hold styles, to w cells and pads it with spaces
// to exactly w cells. Widths come from x/ansi, so wide and combining
// characters are measured as the terminal draws them and never cut in half.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := width(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = width(s)
	}
	if sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
}

// clip truncates s to at most w cells with an ellipsis, without padding.
func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// width is ansi.StringWidth(s), in one pass over the bytes when s holds
// only what the screen's own chrome is made of: printable ASCII, SGR
// sequences, and the one-cell symbols of the box-drawing, block and
// punctuation ranges (│ … ● ▄ ›). Measuring graphemes costs some 20 times
// more, and every line of every frame is measured; anything else (wide or
// combining characters, other sequences) goes to ansi.StringWidth.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			n++
			i++
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[':
			// A CSI sequence: parameters, then one final byte.
			j := i + 2
			for j < len(s) && s[j] >= 0x20 && s[j] < 0x40 {
				j++
			}
			if j >= len(s) || s[j] < 0x40 || s[j] > 0x7e {
				return ansi.StringWidth(s)
			}
			i = j + 1
		case c == 0xe2 && i+2 < len(s) && oneCell(s[i+1], s[i+2]):
			n++
			i += 3
		default:
			return ansi.StringWidth(s)
		}
	}
	return n
}

// oneCell reports whether the three-byte UTF-8 sequence 0xe2 b1 b2 is a
// symbol one cell wide that never combines with what follows: U+2010 to
// U+203F (dashes, quotes, bullets, the ellipsis, ‹ ›) and U+2500 to U+25FF
// (box drawing, blocks, geometric shapes), less the invisible and
// reordering characters among them, which sanitize escapes anyway.
func oneCell(b1, b2 byte) bool {
	if b2 < 0x80 || b2 > 0xbf {
		return false
	}
	switch b1 {
	case 0x80: // U+2000–U+203F
		return b2 >= 0x90 && b2 <= 0xbf && b2 != 0xa8 && b2 != 0xa9 && (b2 < 0xaa || b2 > 0xae) &&
			b2 != 0x8b && b2 != 0x8c && b2 != 0x8d && b2 != 0x8e && b2 != 0x8f
	case 0x94, 0x95, 0x96: // U+2500–U+25BF
		return true
	case 0x97: // U+25C0–U+25FF, less ◽ and ◾, which are wide
		return b2 != 0xbd && b2 != 0xbe
	}
	return false
}

// compactJSON returns raw JSON on one line: whitespace outside strings goes,
// strings stay as written (escapes included). It stops once it has written
// limit bytes, so a 1 MiB payload costs what fits on a row, not its size.
// The result still needs sanitize: JSON strings may hold raw bidi overrides,
// and a lenient peer may send raw control characters.
func compactJSON(raw []byte, limit int) string {
	var b strings.Builder
	b.Grow(max(min(len(raw), limit), 0)) // the most it writes: one allocation
	inStr, esc := false, false
	for _, c := range raw {
		if b.Len() >= limit {
			break
		}
		if inStr {
			b.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inStr = true
		}
		b.WriteByte(c)
	}
	return b.String()
}
