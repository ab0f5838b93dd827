package tui

import (
	"strconv"
	"strings"
)

// autoView picks the stream's default view when the connections change:
// one row per message once several connections are open, so that a
// broadcast is one row and counts once, unless the user chose with m.
func (m *Model) autoView() {
	if !m.viewChosen {
		m.setPerMessage(len(m.roster.conns) > 1)
	}
}

// setPerMessage shows the stream and counts TARGETS per message (on) or
// per receipt.
func (m *Model) setPerMessage(on bool) {
	m.stream.setPerMessage(on)
	m.stats.perMessage = on
}

// togglePerMessage is the m key.
func (m *Model) togglePerMessage() {
	m.viewChosen = true
	m.setPerMessage(!m.stream.perMessage)
	if m.stream.perMessage {
		m.setFlash("one row per message, with the connections that received it (m: one per receipt)", false)
	} else {
		m.setFlash("one row per receipt: each connection's copy of a message (m: one per message)", false)
	}
}

// receivers names the connections that received e's message, for the
// per-message view's connection column: every one, "all N", or e's own
// connection when the message was not joined to others. labels are the
// roster's shortLabels.
func (s *stream) receivers(e *entry, labels []string) string {
	d := s.routing.byID(e.delivery)
	if d == nil {
		return labels[e.conn]
	}
	names := labelsWhere(labels, d.received)
	switch {
	case len(names) == 0:
		return labels[e.conn]
	case len(names) > 1 && len(names) == len(labels):
		return "all " + strconv.Itoa(len(names))
	}
	return strings.Join(names, ",")
}
