package tui

// sidebar returns exactly h lines of w cells: the roster's Connections and
// Groups, then the busiest targets.
func (m *Model) sidebar(w, h int) []string {
	lines := m.roster.Render(w, m.focus == focusSidebar)
	lines = append(lines, "", heading(m.com.styles, "TARGETS", w, false))
	lines = append(lines, m.stats.Render(w, h-len(lines), m.now)...)
	return padLines(lines, w, h)
}

// heading is a sidebar section's title, w cells wide, in the accent colour
// when the section has the keys.
func heading(s *Styles, title string, w int, focused bool) string {
	if focused {
		return s.SectionFocus.Render(fit(title, w))
	}
	return s.Section.Render(fit(title, w))
}
