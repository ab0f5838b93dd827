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
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
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
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// compactJSON returns raw JSON on one line: whitespace outside strings goes,
// strings stay as written (escapes included). It stops once it has written
// limit bytes, so a 1 MiB payload costs what fits on a row, not its size.
// The result still needs sanitize: JSON strings may hold raw bidi overrides,
// and a lenient peer may send raw control characters.
func compactJSON(raw []byte, limit int) string {
	var b strings.Builder
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
