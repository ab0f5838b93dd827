package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/protocol"
)

// stream returns the message list: a header line, the error panel when a
// connection failed, then one row per visible message. It touches only the
// rows on screen, whatever the size of the history.
func (m *Model) stream(w, h int) []string {
	s := m.styles
	lines := []string{m.streamHeader(w)}
	lines = append(lines, m.errorPanel(w)...)
	rows := max(h-len(lines), 0)
	total := m.viewLen()
	if total == 0 {
		msg := "waiting for messages…"
		if m.query.active() {
			msg = "no message matches the filter (esc clears it)"
		} else if len(m.conns) == 0 {
			msg = "no connection yet: press n to open one"
		}
		lines = append(lines, "", s.Faint.Render(fit("  "+msg, w)))
		return lines
	}
	cols := m.columns(w)
	top := min(m.viewIndex(m.topSeq), total-1)
	cur := min(m.viewIndex(m.cursor), total-1)
	for i := top; i < total && i < top+rows; i++ {
		e := m.history.at(m.viewSeq(i))
		lines = append(lines, m.streamRow(e, cols, w, i == cur))
	}
	return lines
}

func (m *Model) streamHeader(w int) string {
	s := m.styles
	head := s.Section.Render("STREAM ") + s.Muted.Render(fmt.Sprintf("%d msgs", m.totalCount))
	if m.dropped > 0 {
		head += s.FlashErr.Render(fmt.Sprintf(" %d dropped", m.dropped))
	}
	switch {
	case m.paused:
		head += "  " + s.Badge.Render(fmt.Sprintf(" paused, %d new ", m.history.next-m.pauseNext))
	case m.follow:
		head += s.Muted.Render("  following")
	default:
		head += s.Muted.Render("  scrolled (end follows)")
	}
	if m.query.active() {
		head += "  " + s.Label.Render("filter ") + s.Bold.Render(clip(sanitize(m.query.raw), 24)) + " " + m.matchCount()
	}
	return fit(head, w)
}

// cols are the widths of the stream's columns.
type cols struct{ conn, target, route int }

func (m *Model) columns(w int) cols {
	c := cols{conn: 6, target: 10, route: 10}
	for _, cn := range m.conns {
		c.conn = max(c.conn, ansi.StringWidth(m.shortLabel(cn)))
	}
	c.conn = min(c.conn, 14)
	if w >= 90 {
		c.target, c.route = 14, 16
	}
	return c
}

// streamRow is one message: time, connection, target, route and the
// arguments on one line.
func (m *Model) streamRow(e *entry, c cols, w int, selected bool) string {
	s := m.styles
	cn := m.conns[e.conn]
	t := e.time.In(m.cfg.Location).Format("15:04:05")
	target, isType := e.msg.Target, false
	if e.msg.Type != protocol.TypeInvocation && e.msg.Type != protocol.TypeStreamInvocation {
		target, isType = e.msg.Type.String(), true
	}
	route, inferred := m.routeOf(e)
	if inferred && route != "" {
		route = "~" + route
	}
	argW := max(w-8-1-c.conn-1-c.target-1-c.route-1, 4)
	args := payloadText(&e.msg, argW*4+16)

	cells := []string{t, fit(m.shortLabel(cn), c.conn), fit(sanitize(target), c.target), fit(route, c.route), fit(args, argW)}
	if selected {
		st := s.SelectedDim
		if m.focus == focusStream {
			st = s.Selected
		}
		return st.Render(fit(strings.Join(cells, " "), w))
	}
	tgtStyle := s.Stream.Target
	if isType {
		tgtStyle = s.Stream.Type
	}
	routeStyle := s.Stream.Route
	if inferred {
		routeStyle = s.Stream.RouteInferred
	}
	return s.Stream.Time.Render(cells[0]) + " " + s.Stream.Conn.Render(cells[1]) + " " + tgtStyle.Render(cells[2]) + " " +
		routeStyle.Render(cells[3]) + " " + s.Stream.Args.Render(cells[4])
}

// payloadText is what a row shows of a message, sanitised and at most
// about limit bytes: the arguments, the stream item or the result as
// one-line JSON, else the error text.
func payloadText(msg *protocol.Message, limit int) string {
	switch {
	case msg.Has(protocol.FieldArguments):
		return sanitize(compactJSON(msg.Arguments, limit))
	case msg.Has(protocol.FieldItem):
		return sanitize(compactJSON(msg.Item, limit))
	case msg.Has(protocol.FieldResult):
		return sanitize(compactJSON(msg.Result, limit))
	case msg.Error != "":
		e := msg.Error
		if len(e) > limit {
			e = e[:limit]
		}
		return "error: " + sanitize(e)
	}
	return ""
}

// routeOf says why e arrived: the emulator's route header when present,
// else an inference from which of our connections received the same record
// (reported as inferred).
func (m *Model) routeOf(e *entry) (string, bool) {
	if r, ok := e.msg.Header("route"); ok {
		return sanitize(r), false
	}
	if e.msg.Type != protocol.TypeInvocation && e.msg.Type != protocol.TypeStreamInvocation {
		// Completions, closes and the like answer one connection; a
		// route means nothing for them.
		return "", false
	}
	d := m.deliveryByID(e.delivery)
	if d == nil || len(m.conns) < 2 {
		return "", true
	}
	return m.inferRoute(d), true
}

// inferRoute guesses a delivery's route from the set of our connections
// that received it: all of them is a broadcast, exactly one user's
// connections is that user, exactly a known group's members is that group.
func (m *Model) inferRoute(d *delivery) string {
	var got []int
	live := 0
	for i, c := range m.conns {
		if i < len(d.conns) && d.conns[i] {
			got = append(got, i)
		}
		if c.state == StateConnected || (i < len(d.conns) && d.conns[i]) {
			live++
		}
	}
	if len(got) == 0 {
		return ""
	}
	if len(got) == live && live > 1 {
		return "broadcast"
	}
	user := m.conns[got[0]].who()
	sameUser := true
	for _, i := range got {
		if m.conns[i].who() != user {
			sameUser = false
		}
	}
	if sameUser {
		all := true
		for i, c := range m.conns {
			if c.who() == user && c.hub == m.conns[got[0]].hub && (i >= len(d.conns) || !d.conns[i]) {
				all = false
			}
		}
		if all && user != "anon" {
			return "user:" + sanitize(user)
		}
	}
	for _, name := range m.groupOrd {
		g := m.groups[name]
		if m.groupMatches(g, got) {
			return "group:" + sanitize(g.name)
		}
	}
	if len(got) == 1 {
		return "connection"
	}
	return "?"
}

// groupMatches reports whether the connections got are exactly the
// connections of g's known members.
func (m *Model) groupMatches(g *group, got []int) bool {
	in := map[int]bool{}
	for _, i := range got {
		in[i] = true
	}
	members := 0
	for i, c := range m.conns {
		member := false
		for _, mb := range g.members {
			if mb == c.who() || mb == c.label || mb == c.connectionID {
				member = true
			}
		}
		if member {
			members++
			if !in[i] {
				return false
			}
		}
	}
	return members == len(got) && members > 0
}
