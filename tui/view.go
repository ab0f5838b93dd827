package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Screen layout: one status line at the top, the composer and the hint line
// at the bottom, the sidebar and the main area in between.
const (
	chromeRows  = 3
	minSidebarW = 20
	maxSidebarW = 32
)

func (m *Model) sidebarWidth() int {
	if m.width < 60 {
		return 0
	}
	return clampInt(m.width/4, minSidebarW, maxSidebarW)
}

func (m *Model) mainWidth() int {
	sw := m.sidebarWidth()
	if sw == 0 {
		return m.width
	}
	return m.width - sw - 1
}

func (m *Model) bodyRows() int { return max(m.height-chromeRows, 1) }

// streamRows is how many messages the stream shows: the body less its
// header line and the error panel.
func (m *Model) streamRows() int {
	return max(m.bodyRows()-1-len(m.roster.RenderErrors(m.mainWidth(), m.now)), 1)
}

// View draws the whole screen from the model's state; it changes nothing.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "sigr"
	return v
}

// render returns the screen as a string of exactly height lines of width
// cells each, so that a resize never leaves garbage behind.
func (m *Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.statusLine(m.width))

	bodyH := m.bodyRows()
	if sw := m.sidebarWidth(); sw > 0 {
		main := m.mainArea(m.mainWidth(), bodyH)
		side := m.sidebar(sw, bodyH)
		sep := m.com.styles.Separator.Render("│")
		for i := range bodyH {
			lines = append(lines, side[i]+sep+main[i])
		}
	} else {
		lines = append(lines, m.mainArea(m.width, bodyH)...)
	}
	if m.overlay == overlayHelp {
		// The key map is drawn over the whole screen, which stays in
		// sight around it.
		over(lines[1:], m.helpPanel(min(m.width-2, 92)), m.width)
	}
	lines = append(lines, m.composerLine(), m.bottomLine(m.width))
	for i := range lines {
		lines[i] = fit(lines[i], m.width)
	}
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	return strings.Join(lines, "\n")
}

// mainArea returns exactly h lines of w cells: the stream, or the overlay
// that replaces it.
func (m *Model) mainArea(w, h int) []string {
	var out []string
	switch m.overlay {
	case overlayDetail:
		out = m.detailPane(w, h)
	case overlayMatrix:
		out = m.routing.Render(w, h)
	case overlaySent:
		out = m.sent.Render(w, h)
	case overlayTrace:
		out = m.trace.Render(w, h)
	default:
		if m.view == viewChat {
			out = m.chatArea(w, h)
		} else {
			out = m.streamArea(w, h)
		}
	}
	out = padLines(out, w, h)
	if p := m.panel(w, h); p != "" {
		// The token and the forms are drawn over the main area, leaving the
		// sidebar to pick a connection from.
		over(out, p, w)
	}
	return out
}

// streamArea is the stream's header, the error panel when a connection
// failed, then the stream's rows.
func (m *Model) streamArea(w, h int) []string {
	lines := make([]string, 0, h)
	lines = append(lines, m.stream.Header(w, m.stats))
	lines = append(lines, m.roster.RenderErrors(w, m.now)...)
	return append(lines, m.stream.Render(w, max(h-len(lines), 0), m.focus == focusStream)...)
}

// chatArea is the chat's header, the error panel when a connection
// failed, then the chat.
func (m *Model) chatArea(w, h int) []string {
	lines := make([]string, 0, h)
	lines = append(lines, m.chat.Header(w))
	lines = append(lines, m.roster.RenderErrors(w, m.now)...)
	return append(lines, m.chat.Render(w, max(h-len(lines), 0), m.focus == focusStream)...)
}

// composerLine is the composer, or in a replay the note that says why
// there is none.
func (m *Model) composerLine() string {
	if r := m.cfg.Replay; r != nil {
		return m.com.styles.Hint.Render(fit("read-only replay of "+sanitize(r.Name)+": the composer is disabled; w saves, ? keys, q quits", m.width))
	}
	return m.composer.Render(m.width, m.focus, m.roster.kind())
}

// panel is the token or a form, w cells and h lines at most: what is
// drawn over the main area, or "".
func (m *Model) panel(w, h int) string {
	switch {
	case m.overlay == overlayToken:
		return m.tokenPanel(m.roster.selected(), min(w-2, 90), h)
	case m.overlay == overlayForm && m.form != nil:
		return m.form.Render(m.com.styles, min(w-2, 70))
	}
	return ""
}

// over draws panel in the middle of lines, each w cells wide, keeping what
// lies to either side of it.
func over(lines []string, panel string, w int) {
	rows := strings.Split(panel, "\n")
	pw := lipgloss.Width(panel)
	top := max((len(lines)-len(rows))/2, 0)
	left := max((w-pw)/2, 0)
	for i, r := range rows {
		if top+i >= len(lines) {
			break
		}
		base := fit(lines[top+i], w)
		r = fit(r, pw)
		lines[top+i] = ansi.Truncate(base, left, "") + "\x1b[m" + r + "\x1b[m" + ansi.TruncateLeft(base, left+pw, "")
	}
}

// padLines makes lines exactly h lines of exactly w cells.
func padLines(lines []string, w, h int) []string {
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	return lines
}
