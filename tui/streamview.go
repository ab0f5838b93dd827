package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// Header is the stream's title line, w cells wide: the counts from st,
// whether it follows, is paused or scrolled, and the filter.
func (s *stream) Header(w int, st *stats) string {
	sty := s.com.styles
	head := sty.Section.Render("STREAM ") + sty.Muted.Render(fmt.Sprintf("%d msgs", st.count))
	if st.dropped > 0 {
		head += sty.FlashErr.Render(fmt.Sprintf(" %d dropped", st.dropped))
	}
	if s.perMessage {
		head += sty.Muted.Render("  per message")
	} else if len(s.roster.conns) > 1 {
		head += sty.Muted.Render("  per receipt")
	}
	switch {
	case s.paused:
		head += "  " + sty.Badge.Render(fmt.Sprintf(" paused, %d new ", s.history.next-s.pauseNext))
	case s.follow:
		head += sty.Muted.Render("  following")
	default:
		head += sty.Muted.Render("  scrolled (end follows)")
	}
	if s.query.active() {
		head += "  " + sty.Label.Render("filter ") + sty.Bold.Render(clip(sanitize(s.query.raw), 24)) + " " + s.matchCount()
	}
	return fit(head, w)
}

// matchCount says how many messages the filter matches of those kept.
func (s *stream) matchCount() string {
	sty := s.com.styles
	if !s.query.active() {
		return sty.Muted.Render(fmt.Sprintf("%d messages", s.history.Len()))
	}
	return sty.Bold.Render(fmt.Sprintf("%d", len(s.matches))) + sty.Muted.Render(fmt.Sprintf("/%d match", s.history.Len()))
}

// Render returns at most rows visible rows, w cells wide, from top; a hint
// when there are none. focused styles the selection as having the keys. It
// touches only the rows on screen, whatever the size of the history.
func (s *stream) Render(w, rows int, focused bool) []string {
	total := s.len()
	if total == 0 {
		msg := "waiting for messages…"
		if s.query.active() {
			msg = "no message matches the filter (esc clears it)"
		} else if len(s.roster.conns) == 0 {
			msg = "no connection yet: press n to open one"
		}
		return []string{"", s.com.styles.Faint.Render(fit("  "+msg, w))}
	}
	labels := s.roster.shortLabels()
	cols := s.columns(w, labels)
	top := min(s.index(s.top), total-1)
	cur := min(s.index(s.cursor), total-1)
	lines := make([]string, 0, max(min(rows, total-top), 0))
	s.rows.next()
	for i := top; i < total && i < top+rows; i++ {
		lines = append(lines, s.row(s.history.at(s.seq(i)), cols, labels, w, i == cur, focused))
	}
	return lines
}

// rowCache holds the rows drawn by the last Render and this one, by seq.
// A stored message never changes, so during a flood a frame styles and
// measures only the rows that scrolled into view: drawing a row is most of
// a frame's cost. It is a memo, not state: a row is reused only when
// everything else it shows is the same (rowKey).
type rowCache struct {
	last, cur map[uint64]cachedRow
}

type cachedRow struct {
	key  rowKey
	line string
}

// rowKey is what a row shows besides its message: the width and columns,
// the selection, the theme and zone, and what other messages or
// connections can change (the receivers, the route inferred from them, the
// invocation it answers).
type rowKey struct {
	w                  int
	c                  cols
	selected, focused  bool
	who, route, target string
	inferred, answered bool
	styles             *Styles
	loc                *time.Location
}

// next starts a Render: the rows of the last one stay reusable, older
// ones go.
func (rc *rowCache) next() {
	if rc.cur == nil {
		rc.last, rc.cur = map[uint64]cachedRow{}, map[uint64]cachedRow{}
		return
	}
	rc.last, rc.cur = rc.cur, rc.last
	clear(rc.cur)
}

// get returns the row of seq drawn with k, if there is one.
func (rc *rowCache) get(seq uint64, k *rowKey) (string, bool) {
	r, ok := rc.cur[seq]
	if !ok {
		r, ok = rc.last[seq]
	}
	if !ok || r.key != *k {
		return "", false
	}
	rc.cur[seq] = r
	return r.line, true
}

func (rc *rowCache) put(seq uint64, k *rowKey, line string) {
	if rc.cur != nil {
		rc.cur[seq] = cachedRow{key: *k, line: line}
	}
}

// cols are the widths of the stream's columns.
type cols struct{ conn, target, route int }

func (s *stream) columns(w int, labels []string) cols {
	c := cols{conn: 6, target: 10, route: 10}
	for _, l := range labels {
		c.conn = max(c.conn, ansi.StringWidth(l))
	}
	c.conn = min(c.conn, 14)
	if w >= 90 {
		if s.perMessage {
			// Room for the connections that received a message.
			c.conn = 14
		}
		c.target, c.route = 14, 16
	}
	return c
}

// row is one entry: time, connection, target, route and the arguments on
// one line; for a record that failed to parse, the parser's text and the
// record instead. labels are the roster's shortLabels.
func (s *stream) row(e *entry, c cols, labels []string, w int, selected, focused bool) string {
	sty := s.com.styles
	if e.gap != nil {
		return s.gapRow(e, e.time.In(s.com.loc).Format("15:04:05"), c, labels, w, selected, focused)
	}
	target, tgtStyle := e.msg.Target, &sty.pens.Target
	route, inferred := s.routing.routeOf(e)
	routeStyle := &sty.pens.Route
	if inferred {
		routeStyle = &sty.pens.RouteInferred
	}
	iv := s.calls.of(e)
	switch {
	case e.failed:
		target, tgtStyle = "unreadable", &sty.pens.Err
	case iv != nil:
		// The answer to an invocation made here: named after its method,
		// the route column saying which part of the answer it is.
		target, route, routeStyle = iv.target, answerPart(e), &sty.pens.Type
		if e.msg.Error != "" {
			routeStyle = &sty.pens.Err
		}
	case e.msg.Type != protocol.TypeInvocation && e.msg.Type != protocol.TypeStreamInvocation:
		target, tgtStyle = e.msg.Type.String(), &sty.pens.Type
	}
	if inferred && route != "" {
		route = "~" + route
	}
	who := s.who(e, labels)
	key := rowKey{w: w, c: c, selected: selected, focused: focused, who: who, route: route, target: target,
		inferred: inferred, answered: iv != nil, styles: sty, loc: s.com.loc}
	if selected {
		// Not kept: one row a frame, and its style is the one that
		// monochrome changes in place.
		return s.drawRow(e, iv, key, tgtStyle, routeStyle)
	}
	if line, ok := s.rows.get(e.seq, &key); ok {
		return line
	}
	line := s.drawRow(e, iv, key, tgtStyle, routeStyle)
	s.rows.put(e.seq, &key, line)
	return line
}

// drawRow styles and measures a message's row, as row describes it.
func (s *stream) drawRow(e *entry, iv *invocation, k rowKey, tgtStyle, routeStyle *pen) string {
	sty := s.com.styles
	c, w, t, who, target, route := k.c, k.w, e.time.In(s.com.loc).Format("15:04:05"), k.who, k.target, k.route
	argW := max(w-8-1-c.conn-1-c.target-1-c.route-1, 4)
	var args string
	switch {
	case e.failed:
		args = failedText(e, argW*4+16)
	case iv != nil && e.msg.Error != "":
		// The route column already says error.
		args = textsafe.Clip(e.msg.Error, argW*4+16)
	case iv != nil && e.msg.Type == protocol.TypeCompletion && !e.msg.Has(protocol.FieldResult):
		args = "no result"
		if iv.stream {
			args = "end of stream"
		}
	default:
		args = payloadText(&e.msg, argW*4+16)
		if c, ok := s.chatOf(e); ok {
			// A chat message reads as one: its author and text first.
			args = c + "  " + args
		}
	}

	cells := []string{t, fit(who, c.conn), fit(sanitize(target), c.target), fit(route, c.route), fit(args, argW)}
	if k.selected {
		return sty.selection(k.focused).Render(fit(strings.Join(cells, " "), w))
	}
	return sty.pens.Time.Render(cells[0]) + " " + sty.pens.Conn.Render(cells[1]) + " " + tgtStyle.Render(cells[2]) + " " +
		routeStyle.Render(cells[3]) + " " + sty.pens.Args.Render(cells[4])
}

// gapRow is a gap's row: when, which connection, and what was lost.
func (s *stream) gapRow(e *entry, t string, c cols, labels []string, w int, selected, focused bool) string {
	sty := s.com.styles
	argW := max(w-8-1-c.conn-1-c.target-1, 4)
	who := s.who(e, labels)
	cells := []string{t, fit(who, c.conn), fit(e.gap.word(), c.target), fit(e.gap.text(e.time, s.com.loc), argW)}
	if selected {
		return sty.selection(focused).Render(fit(strings.Join(cells, " "), w))
	}
	st := sty.FlashErr
	if e.gap.resumed {
		st = sty.Muted
	}
	return sty.Stream.Time.Render(cells[0]) + " " + sty.Stream.Conn.Render(cells[1]) + " " + st.Render(cells[2]+" "+cells[3])
}

// who is a row's connection column: e's connection, or in the
// per-message view every connection that received its message.
func (s *stream) who(e *entry, labels []string) string {
	if s.perMessage {
		return s.receivers(e, labels)
	}
	return labels[e.conn]
}

// chatOf is `sender: text` when e is a chat message that names its
// author, from its delivery when that is still kept, else from e itself.
// Without an author the JSON reads as well on its own.
func (s *stream) chatOf(e *entry) (string, bool) {
	b, ok := chatContent{}, false
	if d := s.routing.byID(e.delivery); d != nil {
		b, ok = chatContent{sender: d.sender, text: d.text}, d.chat != noDelivery
	} else if e.delivery != noDelivery {
		b, ok = chatOf(&e.msg, s.routing.chatTarget)
	}
	if !ok || b.sender == "" {
		return "", false
	}
	return chatText(b), true
}

// answerPart names which part of an invocation's answer e is: an item of
// its stream, its completion, or an error (the hub's, or sigr's note of
// none).
func answerPart(e *entry) string {
	switch {
	case e.note != nil || e.msg.Error != "":
		return "error"
	case e.msg.Type == protocol.TypeStreamItem:
		return "item"
	}
	return "completion"
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

// failedText is what a row shows of a record that failed to parse,
// sanitised and at most about limit bytes of each part: the parser's text,
// then the record as received.
func failedText(e *entry, limit int) string {
	return textsafe.Clip(e.msg.Error, limit) + "  raw: " + textsafe.Clip(string(e.raw), limit)
}
