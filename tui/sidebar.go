package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// sidebar returns exactly h lines of w cells: the roster's Connections and
// Groups, then the busiest targets.
func (m *Model) sidebar(w, h int) []string {
	inTargets := m.focus == focusSidebar && m.stats.sel >= 0
	lines := m.roster.Render(w, m.focus == focusSidebar && !inTargets)
	lines = append(lines, "", heading(m.com.styles, "TARGETS", w, inTargets))
	lines = append(lines, m.stats.Render(w, h-len(lines), m.now, inTargets)...)
	return padLines(lines, w, h)
}

// targetRows is how many targets the sidebar shows.
func (m *Model) targetRows() int {
	return max(m.bodyRows()-len(m.roster.Render(max(m.sidebarWidth(), 1), false))-2, 0)
}

// moveSidebar moves the sidebar's selection by n: through the
// connections, then on down into TARGETS and back.
func (m *Model) moveSidebar(n int) {
	if m.stats.sel >= 0 {
		if !m.stats.moveSelection(n, m.targetRows()) {
			m.roster.sel = len(m.roster.conns) - 1
		}
		return
	}
	last := len(m.roster.conns) - 1
	if n > 0 && m.roster.sel >= last {
		m.stats.moveSelection(1, m.targetRows())
		return
	}
	m.roster.moveSelection(n)
}

// pickTarget filters the stream by the target selected in TARGETS.
func (m *Model) pickTarget() tea.Cmd {
	t := m.stats.selectedTarget(m.targetRows())
	if t == "" {
		return nil
	}
	q := "target:" + t
	if strings.ContainsAny(t, " |!") {
		q = "target:" + strings.Fields(strings.NewReplacer("|", " ", "!", " ").Replace(t))[0]
	}
	m.filter.SetValue(q)
	m.stream.setQuery(q)
	m.overlay, m.view = overlayNone, viewStream
	return m.setFocus(focusStream)
}

// heading is a sidebar section's title, w cells wide, in the accent colour
// when the section has the keys.
func heading(s *Styles, title string, w int, focused bool) string {
	if focused {
		return s.SectionFocus.Render(fit(title, w))
	}
	return s.Section.Render(fit(title, w))
}
