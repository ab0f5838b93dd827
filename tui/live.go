package tui

import (
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/protocol"
)

// liveState is the service's own view of its hubs, from sigr's emulator:
// every connection with its user, transport and groups, and every group
// with its members. When it is known, the sidebar, the token inspector and
// route inference read it instead of what this screen did itself.
type liveState struct {
	known  bool
	states []protocol.HubState // sorted by hub
	byID   map[string]*protocol.ConnectionState
	// from says how the service was found (which key signs the requests);
	// why says why there is no view, or why it is stale.
	from, why string
}

// applyLive takes a new reading of the service's state.
func (r *roster) applyLive(states []protocol.HubState) {
	sort.Slice(states, func(i, j int) bool { return states[i].Hub < states[j].Hub })
	r.live.known, r.live.states = true, states
	r.live.byID = map[string]*protocol.ConnectionState{}
	for i := range states {
		for j := range states[i].Connections {
			c := &states[i].Connections[j]
			r.live.byID[c.ID] = c
		}
	}
}

// liveConn is the service's view of c, or nil.
func (r *roster) liveConn(c *conn) *protocol.ConnectionState {
	if !r.live.known || c.connectionID == "" {
		return nil
	}
	return r.live.byID[c.connectionID]
}

// ours returns our connection with the service's connection id, or nil.
func (r *roster) ours(id string) *conn {
	for _, c := range r.conns {
		if c.connectionID == id {
			return c
		}
	}
	return nil
}

// liveName names a connection of the service: our label for ours, else
// its user, else anonymous with the start of its id.
func (r *roster) liveName(id string) string {
	if c := r.ours(id); c != nil {
		return r.shortLabel(c)
	}
	if lc := r.live.byID[id]; lc != nil && lc.User != "" {
		return sanitize(lc.User)
	}
	return "anon " + sanitize(clip(id, 6))
}

// liveGroupMatch is the service's group of exactly the connections of
// ours in got, if there is one.
func (r *roster) liveGroupMatch(got []int) string {
	in := map[int]bool{}
	for _, i := range got {
		in[i] = true
	}
	for _, st := range r.live.states {
		for _, g := range st.Groups {
			members := 0
			match := true
			for i, c := range r.conns {
				if c.connectionID == "" || !containsString(g.Connections, c.connectionID) {
					continue
				}
				members++
				if !in[i] {
					match = false
				}
			}
			if match && members == len(got) && members > 0 {
				return g.Name
			}
		}
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// renderLive is the sidebar's Connections and Groups from the service's
// view, w cells wide: ours first, selectable, with their groups; then the
// service's other connections; then each group with how many connections
// it has and who is in it.
func (r *roster) renderLive(w int, focused bool) []string {
	s := r.com.styles
	lines := []string{fit(heading(s, "CONNECTIONS", 11, focused)+s.Faint.Render(" live"), w)}
	ourIDs := map[string]bool{}
	for i, c := range r.conns {
		if c.connectionID != "" {
			ourIDs[c.connectionID] = true
		}
		extra := ""
		if lc := r.liveConn(c); lc != nil && len(lc.Groups) > 0 {
			extra = sanitize(strings.Join(lc.Groups, ","))
		}
		lines = append(lines, r.connLine(c, w, i == r.sel, focused, extra))
	}
	var others []string
	for _, st := range r.live.states {
		for _, lc := range st.Connections {
			if ourIDs[lc.ID] {
				continue
			}
			right := " " + transportShort(lc.Transport)
			body := " " + r.liveName(lc.ID)
			if len(lc.Groups) > 0 {
				body += " " + s.Faint.Render(sanitize(strings.Join(lc.Groups, ",")))
			}
			body = fit(s.Muted.Render(body), max(w-3-ansi.StringWidth(right), 1)) + s.Muted.Render(right)
			others = append(others, " "+s.Muted.Render("◦")+fit(body, w-2))
		}
	}
	const maxOthers = 6
	if len(others) > maxOthers {
		n := len(others) - maxOthers + 1
		others = append(others[:maxOthers-1], s.Faint.Render(fit("   + "+itoa(n)+" more", w)))
	}
	lines = append(lines, others...)

	lines = append(lines, "", fit(heading(s, "GROUPS", 6, false)+s.Faint.Render(" live"), w))
	n := 0
	for _, st := range r.live.states {
		if len(r.live.states) > 1 && len(st.Groups) > 0 {
			lines = append(lines, " "+s.HubName.Render(clip(sanitize(st.Hub), w-1)))
		}
		for _, g := range st.Groups {
			n++
			lines = append(lines, r.liveGroupLine(g, w))
		}
	}
	if n == 0 {
		lines = append(lines, s.Faint.Render(fit(" none on the service", w)))
	}
	return lines
}

// liveGroupLine is one group: its name, how many connections a send to it
// reaches now, and its members: connections by name, then users whose
// membership waits for a connection, faint.
func (r *roster) liveGroupLine(g protocol.GroupState, w int) string {
	s := r.com.styles
	var names []string
	seen := map[string]bool{}
	users := map[string]bool{}
	for _, id := range g.Connections {
		name := r.liveName(id)
		if lc := r.live.byID[id]; lc != nil {
			users[lc.User] = true
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	line := " " + sanitize(g.Name) + s.Muted.Render(" ("+itoa(len(g.Connections))+")")
	if len(names) > 0 {
		line += " " + s.Muted.Render(strings.Join(names, ","))
	}
	var waiting []string
	for _, u := range g.Users {
		if !users[u] {
			waiting = append(waiting, sanitize(u))
		}
	}
	if len(waiting) > 0 {
		line += " " + s.Faint.Render(strings.Join(waiting, ","))
	}
	return fit(line, w)
}
