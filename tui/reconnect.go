package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/client"
)

// reconnMsg reports a close or a reopen of one connection asked for from
// the screen (x, R).
type reconnMsg struct {
	label  string
	closed bool // the connection was closed; else it was reopened
	err    error
}

// gap is a stream row of sigr's own: one connection was away from from
// until the row's time. resumed says it came back by stateful reconnect,
// with nothing lost; otherwise messages sent meanwhile did not reach it.
type gap struct {
	from    time.Time
	resumed bool
}

// text is what the row says.
func (g *gap) text(to time.Time, loc *time.Location) string {
	span := g.from.In(loc).Format("15:04:05") + "–" + to.In(loc).Format("15:04:05")
	if g.resumed {
		return "resumed " + span + ", nothing lost"
	}
	return "disconnected " + span + ", messages sent meanwhile were not received"
}

// word is the row's target column and what the filter's target: matches.
func (g *gap) word() string { return "gap" }

// onState applies a state event, and marks in the stream the end of each
// gap in a connection's life: when it comes back, a row says for how long
// it was away and whether anything was lost.
func (m *Model) onState(ev *Event) {
	i := m.roster.connFor(ev)
	c := m.roster.conns[i]
	was := c.state
	m.roster.applyState(ev)
	switch {
	case was == client.Connected && ev.State != client.Connected,
		ev.State == client.Reconnecting && c.lostAt.IsZero():
		// Reconnecting says it was connected, even when this screen did
		// not see it (a replay of a saved stream starts with the gap).
		c.lostAt = ev.Time
	case ev.State == client.Connected && !c.lostAt.IsZero():
		m.stream.push(entry{time: ev.Time, conn: int32(i), delivery: noDelivery, gap: &gap{from: c.lostAt, resumed: ev.Resumed}})
		c.lostAt = time.Time{}
	}
	if ev.State == client.Connected && m.flash.text == connectingFlash(c.label) {
		// The flash said it was on its way: it has arrived.
		m.setFlash(sanitize(c.label)+" connected", false)
	}
}

// connectingFlash is the hint line while a connection opened from here is
// on its way.
func connectingFlash(label string) string { return "connecting " + sanitize(label) + "…" }

// reconnector is the session's Reconnector, or nil with a flash saying
// why there is none.
func (m *Model) reconnector() Reconnector {
	r, ok := m.cfg.Session.(Reconnector)
	if !ok {
		m.setFlash("this session cannot close or reopen connections", true)
		return nil
	}
	return r
}

// reconnectNow reconnects the selected connection at once, skipping the
// rest of its backoff; a connection closed with x opens again.
func (m *Model) reconnectNow() tea.Cmd {
	c := m.roster.selected()
	r := m.reconnector()
	if c == nil || r == nil {
		return nil
	}
	label, ctx := c.label, m.cfg.Context
	m.setFlash("reconnecting "+sanitize(label)+" now…", false)
	return func() tea.Msg { return reconnMsg{label: label, err: r.Reopen(ctx, label)} }
}

// toggleConn closes the selected connection, or opens again one closed
// here.
func (m *Model) toggleConn() tea.Cmd {
	c := m.roster.selected()
	r := m.reconnector()
	if c == nil || r == nil {
		return nil
	}
	label, ctx := c.label, m.cfg.Context
	if c.closed {
		m.setFlash("opening "+sanitize(label)+" again…", false)
		return func() tea.Msg { return reconnMsg{label: label, err: r.Reopen(ctx, label)} }
	}
	m.setFlash("closing "+sanitize(label)+"…", false)
	return func() tea.Msg { return reconnMsg{label: label, closed: true, err: r.CloseConn(ctx, label)} }
}

// onReconn records what a close or a reopen did.
func (m *Model) onReconn(msg reconnMsg) {
	i, ok := m.roster.index[msg.label]
	if !ok {
		return
	}
	c := m.roster.conns[i]
	switch {
	case msg.err != nil && msg.closed:
		m.setFlash("close "+sanitize(msg.label)+": "+sanitize(msg.err.Error()), true)
	case msg.err != nil:
		m.setFlash("reconnect "+sanitize(msg.label)+": "+sanitize(msg.err.Error()), true)
	case msg.closed:
		// A closed connection emits nothing more: the screen says it.
		if c.state == client.Connected {
			c.lostAt = m.cfg.Now()
		}
		c.state, c.closed, c.retryAt, c.attempt = client.Disconnected, true, time.Time{}, 0
		m.setFlash(sanitize(msg.label)+" closed: x opens it again", false)
	default:
		m.setFlash(connectingFlash(msg.label), false)
	}
}
