package tui

import tea "charm.land/bubbletea/v2"

// click selects what a left click lands on: a row of the stream, a
// connection in the sidebar, or a target in TARGETS (which enter then
// picks). Overlays and the chat keep their keys.
func (m *Model) click(msg tea.MouseClickMsg) {
	mouse := msg.Mouse()
	if mouse.Button != tea.MouseLeft || m.overlay != overlayNone {
		return
	}
	y := mouse.Y - 1 // the status line is row 0
	if y < 0 || y >= m.bodyRows() {
		return
	}
	if sw := m.sidebarWidth(); sw > 0 && mouse.X < sw {
		m.clickSidebar(sw, y)
		return
	}
	if m.view != viewStream {
		return
	}
	row := y - 1 - len(m.roster.RenderErrors(m.mainWidth(), m.now))
	if row >= 0 && m.stream.selectRow(row) {
		m.focus = focusStream
		m.composer.focus(m.focus)
	}
}

// clickSidebar selects the connection or the target on sidebar line y.
func (m *Model) clickSidebar(w, y int) {
	n := len(m.roster.Render(w, false))
	switch {
	case y < n:
		i := m.roster.connAtLine(y)
		if i < 0 {
			return
		}
		m.roster.sel, m.stats.sel = i, -1
	default:
		// A blank line and the TARGETS heading come first.
		t := y - n - 2
		if t < 0 || t >= min(len(m.stats.order), m.targetRows()) {
			return
		}
		m.stats.sel = t
	}
	m.focus = focusSidebar
	m.composer.focus(m.focus)
}

// connAtLine is the index of the connection on line y of the roster's
// rendering, or -1: the lines Render and renderLive lay out.
func (r *roster) connAtLine(y int) int {
	if r.live.known {
		if y >= 1 && y <= len(r.conns) {
			return y - 1
		}
		return -1
	}
	var lines []int
	lines = append(lines, -1) // CONNECTIONS
	if len(r.conns) == 0 {
		lines = append(lines, -1)
	}
	for i, c := range r.conns {
		if c.hub == "" {
			lines = append(lines, i)
		}
	}
	hubs := r.hubs()
	for _, hub := range hubs {
		if len(hubs) > 1 {
			lines = append(lines, -1)
		}
		for i, c := range r.conns {
			if c.hub == hub {
				lines = append(lines, i)
			}
		}
	}
	if y < 0 || y >= len(lines) {
		return -1
	}
	return lines[y]
}
