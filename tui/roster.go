package tui

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// roster is what the screen knows of the session: its connections, in the
// order they were first seen, the one selected in the sidebar, and the
// groups joined through sigr with their known members.
type roster struct {
	com        *common
	key        string // the access key that tokens are checked with, if known
	defaultHub string // shown while no connection is known
	conns      []*conn
	index      map[string]int // by label
	sel        int
	groups     map[string]*group
	groupOrder []string
	live       liveState // the service's own view, when it serves one
}

// conn is what the screen knows about one connection.
type conn struct {
	label        string
	hub          string // as asked for, then as the service names it; "" on a plain hub
	user         string // asked for
	tokenUser    string // from the token's claims
	state        client.State
	transport    string
	connectionID string
	attempt      int
	retryAt      time.Time
	err          string
	dismissed    string // the err that esc dismissed from the error panel
	token        string
	claims       map[string]any
	sigErr       string // why the token's signature does not match the key
	// resumes counts stateful-reconnect resumes (same connection, nothing
	// lost); reconnects counts full reconnects, each a new connection id.
	resumes    int
	reconnects int
	// known is set once it has connected; service says whether it went to
	// Azure SignalR Service (a redirect named the hub) or to a plain hub.
	known, service bool
	// closed is set while it is closed from the screen (x); lostAt is when
	// it was last connected, while it is not.
	closed bool
	lostAt time.Time
}

// who is the user id to show: the token's, else the one asked for.
func (c *conn) who() string {
	if c.tokenUser != "" {
		return c.tokenUser
	}
	if c.user != "" {
		return c.user
	}
	return "anon"
}

// failing reports whether the error panel shows c: it has an error that
// was not dismissed and is not connected.
func (c *conn) failing() bool {
	return c.err != "" && c.state != client.Connected && c.dismissed != c.err
}

// group is a group joined through sigr, with the members sigr knows of.
type group struct {
	name    string
	hub     string
	members []string
	exists  string // "", "yes", "no": the REST existence check
}

func newRoster(com *common, defaultHub string, initial []GroupMember) *roster {
	r := &roster{com: com, defaultHub: defaultHub, index: map[string]int{}, groups: map[string]*group{}}
	for _, g := range initial {
		r.addMember(g.Hub, g.Group, g.Member)
	}
	return r
}

// open adds a connection the session has just opened, as connecting.
func (r *roster) open(spec ConnSpec) {
	i, ok := r.index[spec.Label()]
	if !ok {
		r.add(spec).state = client.Connecting
		return
	}
	// Opened again (R, x): the same connection in the sidebar, on its way.
	c := r.conns[i]
	c.state, c.closed, c.retryAt, c.attempt = client.Connecting, false, time.Time{}, 0
}

// connFor returns the index of ev's connection, adding it if the session
// did not announce it.
func (r *roster) connFor(ev *Event) int {
	if i, ok := r.index[ev.Conn.Label()]; ok {
		return i
	}
	r.add(ev.Conn)
	return len(r.conns) - 1
}

func (r *roster) add(spec ConnSpec) *conn {
	c := &conn{label: spec.Label(), hub: spec.Hub, user: spec.User}
	r.index[c.label] = len(r.conns)
	r.conns = append(r.conns, c)
	return c
}

// of returns the connection that received e.
func (r *roster) of(e *entry) *conn { return r.conns[e.conn] }

// selected is the connection the composer, the token inspector and group
// actions act for: the one selected in the sidebar.
func (r *roster) selected() *conn {
	if len(r.conns) == 0 {
		return nil
	}
	return r.conns[clampInt(r.sel, 0, len(r.conns)-1)]
}

func (r *roster) moveSelection(n int) {
	r.sel = clampInt(r.sel+n, 0, max(len(r.conns)-1, 0))
}

// applyState records a state event.
func (r *roster) applyState(ev *Event) {
	c := r.conns[r.connFor(ev)]
	if ev.State == client.Connected {
		switch {
		case ev.Resumed:
			c.resumes++
		case ev.ConnectionID != "" && c.connectionID != "" && ev.ConnectionID != c.connectionID:
			c.reconnects++
		}
	}
	c.state = ev.State
	if ev.State == client.Connected {
		// The hub is the one the redirect names: none on a plain hub, even
		// if one was asked for.
		c.known, c.service, c.hub = true, ev.Hub != "", ev.Hub
	}
	if ev.Transport != "" {
		c.transport = ev.Transport
	}
	if ev.ConnectionID != "" {
		c.connectionID = ev.ConnectionID
	}
	c.attempt = ev.Attempt
	c.retryAt = time.Time{}
	if ev.RetryIn > 0 {
		c.retryAt = ev.Time.Add(ev.RetryIn)
	}
	if ev.State == client.Connected {
		c.err = ""
	} else if ev.Err != nil {
		c.err = ev.Err.Error()
	}
	c.setToken(ev.AccessToken, r.key)
}

// setToken records c's access token, decoded and, with the access key,
// checked.
func (c *conn) setToken(tok, key string) {
	if tok == "" || tok == c.token {
		return
	}
	c.token = tok
	c.claims = decodeClaims(tok)
	c.tokenUser, c.sigErr = "", ""
	if c.claims != nil {
		c.tokenUser = protocol.UserIDFromClaims(c.claims)
		if key != "" {
			c.sigErr = verifyToken(tok, key)
		}
	}
}

// verifyWith checks every token with key from now on, those already
// received too.
func (r *roster) verifyWith(key string) {
	r.key = key
	for _, c := range r.conns {
		if c.claims != nil {
			c.sigErr = verifyToken(c.token, key)
		}
	}
}

// dismissErrors hides the current errors from the error panel until they
// change.
func (r *roster) dismissErrors() {
	for _, c := range r.conns {
		if c.err != "" {
			c.dismissed = c.err
		}
	}
}

// addMember records that member is in the group, which it creates on
// first use.
func (r *roster) addMember(hub, name, member string) *group {
	g := r.groups[name]
	if g == nil {
		g = &group{name: name, hub: hub}
		r.groups[name] = g
		r.groupOrder = append(r.groupOrder, name)
	}
	g.members = append(removeString(g.members, member), member)
	return g
}

// removeMember records that member left the group.
func (r *roster) removeMember(hub, name, member string) *group {
	g := r.addMember(hub, name, member)
	g.members = removeString(g.members, member)
	return g
}

// groupsOf is the groups c is in: the service's view when it is known,
// else as far as this screen knows, those it saw c, its user or its
// connection id join. live says which.
func (r *roster) groupsOf(c *conn) (groups []string, live bool) {
	if lc := r.liveConn(c); lc != nil {
		return lc.Groups, true
	}
	return r.joinedGroups(c), false
}

// joinedGroups is the groups this screen saw c, its user or its
// connection id join.
func (r *roster) joinedGroups(c *conn) []string {
	var out []string
	for _, name := range r.groupOrder {
		for _, mb := range r.groups[name].members {
			if mb == c.who() || mb == c.label || (c.connectionID != "" && mb == c.connectionID) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// nameOf is how group members are named: the label of our connection
// with that id, else the id itself.
func (r *roster) nameOf(connectionID string) string {
	name := connectionID
	for _, c := range r.conns {
		if c.connectionID == connectionID {
			name = c.label
		}
	}
	return name
}

// uniqueLabel names a new connection user@hub (user on a plain hub), or
// user#2@hub when that identity is already open: a second connection of
// the same user is how user routing is checked.
func (r *roster) uniqueLabel(spec ConnSpec) string {
	l := spec.Label()
	u, h, named := strings.Cut(l, "@")
	for n := 2; ; n++ {
		if _, dup := r.index[l]; !dup {
			return l
		}
		l = u + "#" + strconv.Itoa(n)
		if named {
			l += "@" + h
		}
	}
}

// kind says what the session's URL turned out to be: Azure SignalR Service
// once any connection was redirected there, a plain hub once one connected
// without, unknown before.
func (r *roster) kind() hubKind {
	k := hubUnknown
	for _, c := range r.conns {
		switch {
		case c.service:
			return hubService
		case c.known:
			k = hubPlain
		}
	}
	return k
}

// hubs returns the hubs the connections name, sorted, or the default hub
// while there is none; a plain hub names none.
func (r *roster) hubs() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range r.conns {
		if c.hub != "" && !seen[c.hub] {
			seen[c.hub] = true
			out = append(out, c.hub)
		}
	}
	if len(out) == 0 && r.defaultHub != "" {
		out = append(out, r.defaultHub)
	}
	sort.Strings(out)
	return out
}

// shortLabel is a connection's label without "@hub" when every connection
// is on one hub, plus the token's user id when it differs from the one
// asked for.
func (r *roster) shortLabel(c *conn) string { return c.shortLabel(len(r.hubs()) == 1) }

// shortLabels are every connection's shortLabel, by index: a frame names
// connections on many rows, and hubs is a map and a sort each time.
func (r *roster) shortLabels() []string {
	oneHub := len(r.hubs()) == 1
	out := make([]string, len(r.conns))
	for i, c := range r.conns {
		out[i] = c.shortLabel(oneHub)
	}
	return out
}

// shortLabel is c's label, without "@hub" when oneHub, as roster's
// shortLabel describes.
func (c *conn) shortLabel(oneHub bool) string {
	l := c.label
	if oneHub {
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

// labelsWhere are the labels, of shortLabels, of the connections for
// which got is true, in order.
func labelsWhere(labels []string, got func(i int) bool) []string {
	var out []string
	for i, l := range labels {
		if got(i) {
			out = append(out, l)
		}
	}
	return out
}

func removeString(s []string, v string) []string {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
