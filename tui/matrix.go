package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Render draws the routing matrix in w×h cells at most: the most recent
// deliveries as rows, our connections as columns, and a mark where a
// connection received the message. "Send to user alice" shows as marks
// under both of alice's connections and none under bob's.
func (r *routing) Render(w, h int) []string {
	s := r.com.styles
	conns := r.roster.conns
	lines := []string{s.Section.Render("ROUTING MATRIX ") + s.Muted.Render("recent messages × connections; ● received, · not; r or esc closes")}
	if len(conns) == 0 {
		return append(lines, s.Faint.Render("  no connection yet"))
	}
	const timeW, targetW, routeW = 8, 12, 16
	colW := make([]int, len(conns))
	var head strings.Builder
	head.WriteString(fit("time", timeW) + " " + fit("target", targetW) + " " + fit("route", routeW))
	for i, c := range conns {
		name := clip(r.roster.shortLabel(c), 12)
		colW[i] = max(ansi.StringWidth(name), 3) + 2
		head.WriteString(fit("  "+name, colW[i]))
	}
	lines = append(lines, s.Label.Render(fit(head.String(), w)))
	rows := h - len(lines)
	n := len(r.recent)
	for k := max(n-rows, 0); k < n; k++ {
		d := &r.recent[(r.start+k)%n]
		route, style := sanitize(d.route), s.Stream.Route
		if route == "" {
			route, style = "~"+r.infer(d), s.Stream.RouteInferred
		}
		var b strings.Builder
		b.WriteString(s.Stream.Time.Render(d.time.In(r.com.loc).Format("15:04:05")) + " ")
		b.WriteString(s.Stream.Target.Render(fit(sanitize(d.target), targetW)) + " ")
		b.WriteString(style.Render(fit(route, routeW)))
		for i := range conns {
			cell := s.NoMark.Render("·")
			if d.received(i) {
				cell = s.Mark.Render("●")
			}
			b.WriteString(fit("  "+cell, colW[i]))
		}
		lines = append(lines, fit(b.String(), w))
	}
	if n == 0 {
		lines = append(lines, s.Faint.Render("  no messages yet"))
	}
	return lines
}
