package tui

import (
	"fmt"
	"strings"

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
	s := m.com.styles
	left := s.Brand.Render("sigr") + " " + s.URL.Render(sanitize(m.cfg.URL))
	hubs := m.roster.hubs()
	if len(hubs) > 0 {
		left += s.Muted.Render("  hub ") + s.HubName.Render(sanitize(strings.Join(hubs, ",")))
	}
	var conns []string
	for _, c := range m.roster.conns {
		conns = append(conns, m.roster.badge(c, w >= 100, m.now))
	}
	right := s.Bold.Render(fmt.Sprintf("%.1f", m.stats.total.perSecond(m.now))) + s.Muted.Render(" msg/s")
	if m.stream.paused {
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

// bottomLine is the filter input while filtering, else a flash message,
// else one line of key hints for what has the focus.
func (m *Model) bottomLine(w int) string {
	s := m.com.styles
	if m.filtering {
		return fit(m.filter.View()+"  "+m.stream.matchCount(), w)
	}
	if m.confirming {
		extra := len(m.roster.conns) - m.cfg.Initial
		return fit(s.FlashErr.Render(fmt.Sprintf("quit, closing %d connection(s) opened here too? y quits, any other key stays", extra)), w)
	}
	if m.flash.text != "" && m.now.Before(m.flash.until) {
		st := s.Flash
		if m.flash.err {
			st = s.FlashErr
		}
		return fit(st.Render(m.flash.text), w)
	}
	h := m.help
	h.SetWidth(w)
	if m.focus == focusTo && m.overlay != overlayForm {
		// The destination is free text: say first what it takes here.
		return fit(s.Hint.Render(destinations(m.roster.kind()))+"  "+h.ShortHelpView(m.hints()), w)
	}
	return fit(h.ShortHelpView(m.hints()), w)
}

// hints are the keys the hint line shows for what has the focus.
func (m *Model) hints() []key.Binding {
	k := m.keys
	closes := relabel(k.Quit, "q", "close")
	switch {
	case m.overlay == overlayForm:
		return []key.Binding{relabel(k.Submit, "enter", "next/submit"), relabel(k.NextFocus, "tab", "field"), relabel(k.Back, "esc", "cancel")}
	case m.focus >= focusAs:
		return []key.Binding{k.Submit, k.NextFocus, relabel(k.Back, "esc", "leave input"), k.Interrupt}
	case m.overlay == overlayTrace:
		return []key.Binding{k.Back, k.Up, k.Down, closes}
	case m.overlay == overlayMatrix || m.overlay == overlaySent:
		return []key.Binding{k.Back, k.Up, k.Down, k.Details, closes}
	case m.overlay == overlayToken:
		return []key.Binding{k.Back, relabel(k.Copy, "y", "copy claims"), closes}
	case m.overlay != overlayNone:
		return []key.Binding{k.Back, k.Up, k.Down, k.Copy, closes}
	}
	if m.cfg.Replay != nil {
		// Nothing to write or open in a replay.
		return []key.Binding{k.Help, k.ChatView, k.NextFocus, k.Filter, k.Details, k.Matrix, k.PerMessage, relabel(k.Quit, "q", "quit")}
	}
	return k.ShortHelp()
}
