package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/client"
)

// Render returns the sidebar's Connections and Groups sections, w cells
// wide; focused marks the selection as having the keys.
func (r *roster) Render(w int, focused bool) []string {
	if r.live.known {
		return r.renderLive(w, focused)
	}
	s := r.com.styles
	var lines []string
	lines = append(lines, heading(s, "CONNECTIONS", w, focused))
	if len(r.conns) == 0 {
		lines = append(lines, s.Faint.Render(fit(" none yet", w)))
	}
	// Connections that name no hub (a plain hub's, or not yet connected)
	// come first, under no hub's name.
	for i, c := range r.conns {
		if c.hub == "" {
			lines = append(lines, r.connLine(c, w, i == r.sel, focused, ""))
		}
	}
	hubs := r.hubs()
	for _, hub := range hubs {
		if len(hubs) > 1 {
			lines = append(lines, " "+s.HubName.Render(clip(sanitize(hub), w-1)))
		}
		for i, c := range r.conns {
			if c.hub == hub {
				lines = append(lines, r.connLine(c, w, i == r.sel, focused, ""))
			}
		}
	}

	// Without the service's own view, the groups are only what this
	// screen did: say so, so that nobody takes them for the service's.
	lines = append(lines, "", fit(heading(s, "GROUPS", 6, false)+s.Faint.Render(" as joined here"), w))
	if len(r.groupOrder) == 0 {
		lines = append(lines, s.Faint.Render(fit(" g to join one", w)))
	}
	for _, name := range r.groupOrder {
		g := r.groups[name]
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
	return lines
}

// connLine is one of our connections, w cells wide: its state, label,
// extra (its groups, from the service) and transport.
func (r *roster) connLine(c *conn, w int, selected, focused bool, extra string) string {
	s := r.com.styles
	tr := transportShort(c.transport)
	if c.state != client.Connected {
		tr = c.state.String()
	}
	right := " " + tr
	label := " " + r.shortLabel(c)
	if extra != "" {
		label += " " + s.Muted.Render(extra)
	}
	body := fit(label, max(w-3-ansi.StringWidth(right), 1)) + right
	switch {
	case selected && focused:
		return " " + s.dot(c.state) + s.Selected.Render(fit(body, w-2))
	case selected:
		return " " + s.dot(c.state) + s.SelectedDim.Render(fit(body, w-2))
	}
	return " " + s.dot(c.state) + fit(body, w-2)
}

// badge is one connection in the status line: a dot, the user id from
// its token, the transport, and the reconnect attempt and countdown.
func (r *roster) badge(c *conn, withTransport bool, now time.Time) string {
	s := r.com.styles
	b := s.dot(c.state) + " " + r.shortLabel(c)
	switch c.state {
	case client.Connected:
		if c.transport != "" && withTransport {
			b += s.Muted.Render(" " + transportShort(c.transport))
		}
		b += r.recoveries(c, withTransport)
	case client.Reconnecting, client.Connecting:
		word := "connecting"
		if c.state == client.Reconnecting {
			word = "reconnecting"
		}
		if c.attempt > 0 {
			word += fmt.Sprintf(" #%d", c.attempt)
		}
		if !c.retryAt.IsZero() {
			if d := c.retryAt.Sub(now); d > 0 {
				word += " in " + d.Round(time.Second).String()
			}
		}
		b += s.Muted.Render(" " + word)
	case client.Disconnected:
		if c.closed {
			b += s.Muted.Render(" closed (x reopens)")
		} else {
			b += s.Muted.Render(" disconnected")
		}
	default:
		b += s.Muted.Render(" disconnected")
	}
	return b
}

// recoveries tells a resumed connection (↺, nothing lost, same id) from
// one that reconnected (⟳, a new connection id, groups to join again).
func (r *roster) recoveries(c *conn, words bool) string {
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
	return r.com.styles.Muted.Render(out)
}

// RenderErrors is the error panel, w cells wide: the failed connections
// with what happened and what to try, until esc dismisses them or they
// reconnect. It is empty when nothing failed.
func (r *roster) RenderErrors(w int, now time.Time) []string {
	s := r.com.styles
	inner := w - s.ErrorPanel.GetHorizontalFrameSize()
	if inner < 10 {
		return nil
	}
	var body []string
	shown := 0
	for _, c := range r.conns {
		if !c.failing() {
			continue
		}
		if shown == 2 {
			body = append(body, s.Muted.Render("… and more connections failed"))
			break
		}
		shown++
		title := fmt.Sprintf("%s: %s", sanitize(c.label), c.state)
		if c.state == client.Reconnecting && !c.retryAt.IsZero() {
			if d := c.retryAt.Sub(now); d > 0 {
				title += fmt.Sprintf(", attempt %d in %s", c.attempt, d.Round(time.Second))
			}
		}
		body = append(body, s.ErrorTitle.Render(clip("✗ "+title, inner)))
		errLines := strings.Split(wrapText(sanitize(c.err), inner), "\n")
		if len(errLines) > 4 {
			errLines = append(errLines[:3], errLines[3]+"…")
		}
		body = append(body, errLines...)
		for _, l := range strings.Split(wrapText("try: "+hintFor(c), inner), "\n") {
			body = append(body, s.Hint.Render(l))
		}
	}
	if len(body) == 0 {
		return nil
	}
	body = append(body, s.Muted.Render("esc dismisses"))
	return strings.Split(s.ErrorPanel.Width(w).Render(strings.Join(body, "\n")), "\n")
}

// hintFor says what to try for a connection's error. The client's errors
// already say what happened; the hint adds the next step on this screen.
func hintFor(c *conn) string {
	e := strings.ToLower(c.err)
	switch {
	case strings.Contains(e, "401") || strings.Contains(e, "unauthorized") || strings.Contains(e, "403"):
		return "the server refused the credentials: pass a function key with --query code=KEY, check --header, or use --connection-string with the right key"
	case strings.Contains(e, "connection refused") || strings.Contains(e, "no such host"):
		return "nothing answers at that address: start the app (sigr emulator runs one locally) or fix the URL"
	case strings.Contains(e, "negotiate"):
		return "check that the URL is the function app base (e.g. http://127.0.0.1:7071/api) and that its negotiate function works"
	case strings.Contains(e, "token") && strings.Contains(e, "expire"):
		return "the access token expired: press n to open a fresh connection"
	case c.state == client.Reconnecting:
		return "sigr is reconnecting by itself; wait, or press n to open a fresh connection"
	}
	return "press n to open a fresh connection, or restart sigr"
}
