package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// matrixLayout is the routing matrix's columns for one width: the fixed
// ones, one per connection of ours, and the payload, which takes the rest.
type matrixLayout struct {
	target, route, sender int // 0 leaves the column out
	conn                  []int
	names                 []string // the connection columns' headings
	payload               int
	// legend names the connections when the headings are numbers
	// because the names do not fit.
	legend bool
}

// minPayload is the narrowest payload column the matrix keeps before it
// numbers the connection columns instead of naming them.
const minPayload = 16

func (r *routing) layout(w int) matrixLayout {
	l := matrixLayout{route: 14, sender: 8}
	if w >= 100 {
		l.target, l.route, l.sender = 12, 18, 10
	}
	fixed := 8 + 1 + l.route + 1 + l.sender + 1
	if l.target > 0 {
		fixed += l.target + 1
	}
	conns := r.roster.conns
	l.conn = make([]int, len(conns))
	l.names = make([]string, len(conns))
	sum := 0
	for i, c := range conns {
		l.names[i] = clip(r.roster.shortLabel(c), 12)
		l.conn[i] = ansi.StringWidth(l.names[i]) + 1
		sum += l.conn[i]
	}
	if fixed+sum+1+minPayload > w {
		l.legend, sum = true, 0
		for i := range conns {
			l.names[i] = strconv.Itoa(i + 1)
			l.conn[i] = len(l.names[i]) + 1
			sum += l.conn[i]
		}
	}
	l.payload = max(w-fixed-sum-1, 4)
	return l
}

// Render draws the routing matrix in w×h cells: the recent deliveries as
// rows (time, target, route, sender, one mark per connection of ours, the
// payload), the selected one highlighted. "Send to user alice" shows as
// marks under both of alice's connections and none under bob's; a send
// from this screen that reached nobody is a row of its own, with the
// service's reason.
func (r *routing) Render(w, h int) []string {
	s := r.com.styles
	lines := []string{fit(s.Section.Render("ROUTING ")+
		s.Muted.Render("● received · not  ✗ reached nobody  enter details · r closes"), w)}
	conns := r.roster.conns
	if len(conns) == 0 && r.recent.len() == 0 {
		return append(lines, s.Faint.Render("  no connection yet"))
	}
	l := r.layout(w)
	var head strings.Builder
	head.WriteString(fit("time", 8) + " ")
	if l.target > 0 {
		head.WriteString(fit("target", l.target) + " ")
	}
	head.WriteString(fit("route", l.route) + " " + fit("sender", l.sender) + " ")
	for i, name := range l.names {
		head.WriteString(fit(name, l.conn[i]))
	}
	head.WriteString("payload")
	lines = append(lines, s.Label.Render(fit(head.String(), w)))
	legend := r.legend(l, w)
	rows := max(h-len(lines)-len(legend), 1)
	if r.recent.len() == 0 {
		lines = append(lines, s.Faint.Render("  no messages yet"))
	} else {
		sel, _ := r.nav.selected(r.recent.first(), r.recent.end())
		lines = append(lines, r.nav.render(r.recent.end(), rows, func(id uint64) []string {
			return []string{r.row(r.recent.byID(id), l, w, id == sel)}
		})...)
	}
	for len(lines) < h-len(legend) {
		lines = append(lines, "")
	}
	return append(lines, legend...)
}

// legend names the connections under the matrix when its columns are
// numbered.
func (r *routing) legend(l matrixLayout, w int) []string {
	if !l.legend {
		return nil
	}
	var b strings.Builder
	b.WriteString("connections:")
	for i, c := range r.roster.conns {
		b.WriteString("  " + l.names[i] + " " + r.roster.shortLabel(c))
	}
	lines := strings.Split(wrapText(b.String(), w), "\n")
	for i := range lines {
		lines[i] = r.com.styles.Muted.Render(fit(lines[i], w))
	}
	return lines
}

// fix keeps the matrix's selection on screen in w×h cells.
func (r *routing) fix(w, h int) {
	rows := h - 2 - len(r.legend(r.layout(w), w))
	r.nav.fix(r.recent.first(), r.recent.end(), max(rows, 1), func(uint64) int { return 1 })
}

// row is one delivery of the matrix, w cells wide.
func (r *routing) row(d *delivery, l matrixLayout, w int, selected bool) string {
	s := r.com.styles
	route, routeStyle := sanitize(d.route), s.Stream.Route
	switch {
	case d.undelivered:
		route, routeStyle = "✗ "+route, s.FlashErr
	case route == "":
		route, routeStyle = "~"+r.infer(d), s.Stream.RouteInferred
	}
	sender, senderStyle := sanitize(d.sender), s.Stream.Conn
	if sender == "" {
		sender, senderStyle = "-", s.Faint
	}
	payload, payloadStyle := sanitize(d.text), s.Stream.Args
	if d.undelivered {
		// The ✗ in the route column already says it reached nobody.
		payload, payloadStyle = sanitize(d.reason), s.FlashErr
	}
	cells := []string{s.Stream.Time.Render(d.time.In(r.com.loc).Format("15:04:05"))}
	if l.target > 0 {
		cells = append(cells, s.Stream.Target.Render(fit(sanitize(d.target), l.target)))
	}
	cells = append(cells, routeStyle.Render(fit(route, l.route)), senderStyle.Render(fit(sender, l.sender)))
	var marks strings.Builder
	for i := range l.conn {
		cell := s.NoMark.Render("·")
		if d.received(i) {
			cell = s.Mark.Render("●")
		}
		marks.WriteString(fit(cell, l.conn[i]))
	}
	cells = append(cells, marks.String()+payloadStyle.Render(fit(payload, l.payload)))
	line := fit(strings.Join(cells, " "), w)
	if selected {
		return s.Selected.Render(ansi.Strip(line))
	}
	return line
}
