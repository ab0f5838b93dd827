package tui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws counts as a small bar chart, scaled to their maximum.
func sparkline(counts []int) string {
	peak := 0
	for _, c := range counts {
		peak = max(peak, c)
	}
	var b strings.Builder
	for _, c := range counts {
		if c == 0 || peak == 0 {
			b.WriteRune(' ')
			continue
		}
		i := (c*len(sparkRunes) - 1) / peak
		b.WriteRune(sparkRunes[clampInt(i, 0, len(sparkRunes)-1)])
	}
	return b.String()
}

// sidebar returns exactly h lines of w cells: Connections grouped by hub,
// Groups with their known members, and Targets with counts and rates.
func (m *Model) sidebar(w, h int) []string {
	s := m.styles
	heading := func(title string, focused bool) string {
		if focused {
			return s.SectionFocus.Render(fit(title, w))
		}
		return s.Section.Render(fit(title, w))
	}
	var lines []string

	lines = append(lines, heading("CONNECTIONS", m.focus == focusSidebar))
	if len(m.conns) == 0 {
		lines = append(lines, s.Faint.Render(fit(" none yet", w)))
	}
	for _, hub := range m.hubs() {
		if len(m.hubs()) > 1 {
			lines = append(lines, " "+s.HubName.Render(clip(sanitize(hub), w-1)))
		}
		for i, c := range m.conns {
			if c.hub != hub {
				continue
			}
			lines = append(lines, m.connLine(i, c, w))
		}
	}

	lines = append(lines, "", heading("GROUPS", false))
	if len(m.groupOrd) == 0 {
		lines = append(lines, s.Faint.Render(fit(" g to join one", w)))
	}
	for _, name := range m.groupOrd {
		g := m.groups[name]
		mark := ""
		switch g.exists {
		case "yes":
			mark = s.Dot.Connected.Render(" ✓")
		case "no":
			mark = s.Faint.Render(" ∅")
		}
		members := s.Muted.Render(" " + sanitize(strings.Join(g.members, ",")))
		lines = append(lines, fit(" "+sanitize(g.name)+mark+members, w))
	}

	lines = append(lines, "", heading("TARGETS", false))
	if len(m.targetOrd) == 0 {
		lines = append(lines, s.Faint.Render(fit(" none yet", w)))
	}
	room := h - len(lines)
	for _, t := range m.topTargets(max(room, 0)) {
		count := strconv.Itoa(t.count)
		spark := sparkline(t.rate.series(m.now, 6))
		nameW := max(w-1-len(count)-1-6-1, 3)
		name := fit(sanitize(t.name), nameW)
		lines = append(lines, " "+s.Stream.Target.Render(name)+" "+s.Muted.Render(count)+" "+s.Spark.Render(spark))
	}
	return padLines(lines, w, h)
}

func (m *Model) connLine(i int, c *conn, w int) string {
	s := m.styles
	tr := transportShort(c.transport)
	if c.state != StateConnected {
		tr = c.state.String()
	}
	name := m.shortLabel(c)
	right := " " + tr
	body := fit(" "+name, max(w-3-ansi.StringWidth(right), 1)) + right
	if i == m.selConn {
		if m.focus == focusSidebar {
			return " " + s.dot(c.state) + s.Selected.Render(fit(body, w-2))
		}
		return " " + s.dot(c.state) + s.SelectedDim.Render(fit(body, w-2))
	}
	return " " + s.dot(c.state) + fit(body, w-2)
}

// topTargets returns the n busiest targets. Sorting copies only the small
// per-target table, never the history.
func (m *Model) topTargets(n int) []*targetStat {
	ts := slices.Clone(m.targetOrd)
	slices.SortStableFunc(ts, func(a, b *targetStat) int { return b.count - a.count })
	if len(ts) > n {
		ts = ts[:n]
	}
	return ts
}
