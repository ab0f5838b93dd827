package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// wrapText wraps plain text to w cells.
func wrapText(s string, w int) string {
	return ansi.Wrap(s, max(w, 8), "")
}

// helpPanel is the `?` page: every key, and the filter and destination
// syntax.
func (m *Model) helpPanel(w int) string {
	// The key map never changes, so the page is drawn once per width and
	// theme: drawn each frame, it cost more than the stream under it.
	if hm := &m.helpMemo; hm.panel != "" && hm.w == w && hm.styles == m.com.styles && hm.mono == m.mono {
		return hm.panel
	}
	p := m.drawHelp(w)
	m.helpMemo = helpMemo{w: w, styles: m.com.styles, mono: m.mono, panel: p}
	return p
}

// helpMemo is the last `?` page drawn, and for what width and theme.
type helpMemo struct {
	w      int
	styles *Styles
	mono   bool // monochrome changes styles in place
	panel  string
}

func (m *Model) drawHelp(w int) string {
	s := m.com.styles
	inner := w - s.Panel.GetHorizontalFrameSize()
	h := m.help
	h.SetWidth(0) // the panel clips; the help bubble would drop whole columns
	h.ShowAll = true
	lines := []string{s.PanelTitle.Render("Keys"), ""}
	for _, l := range strings.Split(h.FullHelpView(m.keys.FullHelp()), "\n") {
		lines = append(lines, clip(l, inner))
	}
	lines = append(lines, "")
	notes := []string{
		"filter: words match target, route, connection, user or payload; target:X route:X conn:X user:X narrow it; !word excludes; a | b (or a OR b) is either",
		"composer: as is who you send as (set it there, the sidebar never changes it); to is all, user:ID, group:NAME or conn:ID; plain text to newMessage goes out as the chat sample body; a JSON array is sent as the arguments",
		"routes marked ~ are inferred from which of your connections received the message",
		"q quits outside inputs; esc leaves an input first",
	}
	for _, n := range notes {
		for _, l := range strings.Split(wrapText(n, inner), "\n") {
			lines = append(lines, s.Hint.Render(l))
		}
	}
	return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
}
