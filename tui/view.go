package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
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
	if m.overlay == overlayHelp {
		// The key map needs the room more than the sidebar does.
		lines = append(lines, m.mainArea(m.width, bodyH)...)
	} else if sw := m.sidebarWidth(); sw > 0 {
		main := m.mainArea(m.mainWidth(), bodyH)
		side := m.sidebar(sw, bodyH)
		sep := m.com.styles.Separator.Render("│")
		for i := range bodyH {
			lines = append(lines, side[i]+sep+main[i])
		}
	} else {
		lines = append(lines, m.mainArea(m.width, bodyH)...)
	}
	lines = append(lines, m.composer.Render(m.width, m.focus, m.roster.kind()), m.bottomLine(m.width))
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
	case overlayHelp:
		out = centered(m.helpPanel(min(w-2, 92)), w, h)
	case overlayToken:
		out = centered(m.tokenPanel(m.roster.selected(), min(w-2, 90)), w, h)
	case overlaySent:
		out = m.sent.Render(w, h)
	case overlayTrace:
		out = m.trace.Render(w, h)
	case overlayForm:
		if m.form != nil {
			out = centered(m.form.Render(m.com.styles, min(w-2, 70)), w, h)
		}
	default:
		if m.view == viewChat {
			out = m.chatArea(w, h)
		} else {
			out = m.streamArea(w, h)
		}
	}
	return padLines(out, w, h)
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

// centered places a rendered panel in the middle of a w×h area.
func centered(panel string, w, h int) []string {
	return strings.Split(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, panel), "\n")
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
