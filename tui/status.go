package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// transportShort abbreviates a transport name for the status line.
func transportShort(t string) string {
	switch t {
	case "WebSockets":
		return "WS"
	case "ServerSentEvents":
		return "SSE"
	case "LongPolling":
		return "LP"
	}
	return sanitize(t)
}

// statusLine is the top line: the URL, the hubs, each connection's state
// and the total message rate.
func (m *Model) statusLine(w int) string {
	s := m.styles
	left := s.Brand.Render("sigr") + " " + s.URL.Render(sanitize(m.cfg.URL))
	hubs := m.hubs()
	if len(hubs) > 0 {
		left += s.Muted.Render("  hub ") + s.HubName.Render(sanitize(strings.Join(hubs, ",")))
	}
	var conns []string
	for _, c := range m.conns {
		conns = append(conns, m.connBadge(c, w >= 100))
	}
	right := s.Bold.Render(fmt.Sprintf("%.1f", m.total.perSecond(m.now))) + s.Muted.Render(" msg/s")
	if m.paused {
		right = s.Badge.Render(" PAUSED ") + " " + right
	}
	mid := strings.Join(conns, "  ")
	avail := w - ansi.StringWidth(right) - 1
	line := left
	if mid != "" {
		line += s.Separator.Render("  │ ") + mid
	}
	line = clip(line, avail)
	gap := max(w-ansi.StringWidth(line)-ansi.StringWidth(right), 1)
	return line + strings.Repeat(" ", gap) + right
}

// connBadge is one connection in the status line: a dot, the user id from
// its token, the transport, and the reconnect attempt and countdown.
func (m *Model) connBadge(c *conn, withTransport bool) string {
	s := m.styles
	b := s.dot(c.state) + " " + m.shortLabel(c)
	switch c.state {
	case StateConnected:
		if c.transport != "" && withTransport {
			b += s.Muted.Render(" " + transportShort(c.transport))
		}
		b += m.recoveries(c, withTransport)
	case StateReconnecting, StateConnecting:
		word := "connecting"
		if c.state == StateReconnecting {
			word = "reconnecting"
		}
		if c.attempt > 0 {
			word += fmt.Sprintf(" #%d", c.attempt)
		}
		if !c.retryAt.IsZero() {
			if d := c.retryAt.Sub(m.now); d > 0 {
				word += " in " + d.Round(time.Second).String()
			}
		}
		b += s.Muted.Render(" " + word)
	default:
		b += s.Muted.Render(" disconnected")
	}
	return b
}

// recoveries tells a resumed connection (↺, nothing lost, same id) from
// one that reconnected (⟳, a new connection id, groups to join again).
func (m *Model) recoveries(c *conn, words bool) string {
	var out string
	if c.resumes > 0 {
		if words {
			out += fmt.Sprintf(" ↺ resumed %d", c.resumes)
		} else {
			out += fmt.Sprintf(" ↺%d", c.resumes)
		}
	}
	if c.reconnects > 0 {
		if words {
			out += fmt.Sprintf(" ⟳ new id %d", c.reconnects)
		} else {
			out += fmt.Sprintf(" ⟳%d", c.reconnects)
		}
	}
	if out == "" {
		return ""
	}
	return m.styles.Muted.Render(out)
}

// shortLabel is a connection's label without "@hub" when every connection
// is on one hub, plus the token's user id when it differs from the one
// asked for.
func (m *Model) shortLabel(c *conn) string {
	l := c.label
	if len(m.hubs()) == 1 {
		if i := strings.LastIndexByte(l, '@'); i > 0 {
			l = l[:i]
		}
	}
	l = sanitize(l)
	if c.tokenUser != "" && c.tokenUser != c.user {
		l += " (" + sanitize(c.tokenUser) + ")"
	}
	return l
}

func (m *Model) hubs() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range m.conns {
		if !seen[c.hub] {
			seen[c.hub] = true
			out = append(out, c.hub)
		}
	}
	if len(out) == 0 && m.cfg.Hub != "" {
		out = append(out, m.cfg.Hub)
	}
	sort.Strings(out)
	return out
}

func (m *Model) asLabel() string {
	if c := m.me(); c != nil {
		return c.who()
	}
	return "anon"
}

// composerLine is the composer: who we send as, the destination, the target
// and the message.
func (m *Model) composerLine(w int) string {
	s := m.styles
	label := func(text string, f focusArea) string {
		if m.focus == f {
			return s.SectionFocus.Render(text)
		}
		return s.Label.Render(text)
	}
	as := s.Muted.Render("as ") + s.Stream.Conn.Render(sanitize(m.asLabel()))
	line := as + "  " + label("to ", focusTo) + m.to.View() + " " + label("target ", focusTarget) + m.target.View() +
		" " + label("› ", focusBody)
	body := m.body
	body.SetWidth(max(w-ansi.StringWidth(line)-2, 4))
	return fit(line+body.View(), w)
}

// bottomLine is the filter input while filtering, else a flash message,
// else one line of key hints for what has the focus.
func (m *Model) bottomLine(w int) string {
	s := m.styles
	if m.filtering {
		return fit(m.filterIn.View()+"  "+m.matchCount(), w)
	}
	if m.flash != "" && m.now.Before(m.flashUntil) {
		st := s.Flash
		if m.flashErr {
			st = s.FlashErr
		}
		return fit(st.Render(m.flash), w)
	}
	h := m.help
	h.SetWidth(w)
	var keys []key.Binding
	switch {
	case m.overlay == overlayForm:
		keys = []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next/submit")),
			key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "field")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		}
	case m.focus >= focusBody:
		keys = []key.Binding{m.keys.Send, m.keys.NextFocus, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave input")),
			key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))}
	case m.overlay != overlayNone:
		keys = []key.Binding{m.keys.Back, m.keys.Up, m.keys.Down, m.keys.Copy, m.keys.Quit}
	default:
		keys = m.keys.ShortHelp()
	}
	return fit(h.ShortHelpView(keys), w)
}

func (m *Model) matchCount() string {
	if !m.query.active() {
		return m.styles.Muted.Render(fmt.Sprintf("%d messages", m.history.Len()))
	}
	return m.styles.Bold.Render(fmt.Sprintf("%d", len(m.matches))) + m.styles.Muted.Render(fmt.Sprintf("/%d match", m.history.Len()))
}
