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
	return max(m.bodyRows()-1-len(m.errorPanel(m.mainWidth())), 1)
}

// layoutInputs sizes the composer's inputs to the window.
func (m *Model) layoutInputs() {
	m.to.SetWidth(12)
	m.target.SetWidth(11)
	m.filterIn.SetWidth(max(m.width-30, 10))
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
		sep := m.styles.Separator.Render("│")
		for i := range bodyH {
			lines = append(lines, side[i]+sep+main[i])
		}
	} else {
		lines = append(lines, m.mainArea(m.width, bodyH)...)
	}
	lines = append(lines, m.composerLine(m.width), m.bottomLine(m.width))
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
		out = m.matrix(w, h)
	case overlayHelp:
		out = m.centered(m.helpPanel(min(w-2, 92)), w, h)
	case overlayToken:
		out = m.centered(m.tokenPanel(min(w-2, 90)), w, h)
	case overlayForm:
		if m.form != nil {
			out = m.centered(m.form.render(m.styles, min(w-2, 70)), w, h)
		}
	default:
		out = m.stream(w, h)
	}
	return padLines(out, w, h)
}

// centered places a rendered panel in the middle of a w×h area.
func (m *Model) centered(panel string, w, h int) []string {
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
