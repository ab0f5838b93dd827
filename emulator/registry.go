package emulator

import (
	"sort"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// maxNoTTLGroups is how many user-group memberships without a TTL the
// service keeps per user: the 100 most recently updated (REST 2022-06-01).
const maxNoTTLGroups = 100

// noTTLLifetime is how long a membership without a TTL lives.
const noTTLLifetime = 365 * 24 * time.Hour

// hub holds the connections, users and groups of one hub. Everything in
// it is guarded by Service.mu.
type hub struct {
	name       string
	conns      map[string]*conn
	users      map[string]map[*conn]struct{}
	groups     map[string]map[*conn]struct{}
	userGroups map[string]map[string]*membership // user -> group -> membership
}

// membership is one user-group membership. It applies to the user's
// current connections and to every future one until it expires.
type membership struct {
	expires time.Time
	noTTL   bool
	updated time.Time

	// Where it lives, for the sweep that finds it through Service.expiries.
	hub         *hub
	user, group string
	idx         int // in Service.expiries; -1 once popped
}

func hubKey(name string) string { return strings.ToLower(name) }

// hubLocked returns the hub named name, creating it when create is set.
func (s *Service) hubLocked(name string, create bool) *hub {
	k := hubKey(name)
	h := s.hubs[k]
	if h == nil && create {
		h = &hub{
			name:       name,
			conns:      map[string]*conn{},
			users:      map[string]map[*conn]struct{}{},
			groups:     map[string]map[*conn]struct{}{},
			userGroups: map[string]map[string]*membership{},
		}
		s.hubs[k] = h
	}
	return h
}

// dropIfEmptyLocked forgets a hub with no connections and no memberships.
func (s *Service) dropIfEmptyLocked(h *hub) {
	if len(h.conns) == 0 && len(h.userGroups) == 0 {
		delete(s.hubs, hubKey(h.name))
	}
}

// register makes a connection that finished its handshake reachable by
// sends, and puts it in its user's groups. It queues the handshake answer
// under the same lock, so the answer is always first in the queue and a
// send the client makes as soon as it has the answer finds the connection
// indexed. A version 2 handshake on a WebSocket turns stateful reconnect
// on when negotiate offered it. It reports false when the service is
// closing or the connection is already closing.
func (s *Service) register(c *conn, answer []byte, version int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || c.closing() || c.finished {
		return false
	}
	// sf first: the writer that takes the answer then numbers everything
	// after it.
	if version >= 2 && c.statefulOffered && c.transport == transportWS {
		sf := newStateful(s.opts.StatefulReconnectBufferSize, s.opts.AckInterval)
		sf.setConn(c)
		c.sf.Store(sf)
	}
	if !c.out.push(answer) { // the queue is empty before the handshake
		return false
	}
	c.handshaken.Store(true)
	h := s.hubLocked(c.hubName, true)
	h.conns[c.id] = c
	c.registered = true
	c.connectedAt = s.opts.Now()
	if c.user != "" {
		set := h.users[c.user]
		if set == nil {
			set = map[*conn]struct{}{}
			h.users[c.user] = set
		}
		set[c] = struct{}{}
		now := s.opts.Now()
		for g, m := range h.userGroups[c.user] {
			if now.Before(m.expires) {
				addToGroupLocked(h, c, g)
			}
		}
	}
	s.log.Info("client connected", "hub", c.hubName, "connectionId", c.id, "user", textsafe.Clip(c.user, 200), "transport", c.transport,
		"statefulReconnect", c.sf.Load() != nil)
	// Under the lock: the event comes before any delivery to the connection.
	s.traceConn(protocol.TraceConnected, c, c.transport, "")
	return true
}

// unregister removes a closing connection from every index, so that no
// send reaches it any more and existence checks stop finding it.
func (s *Service) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.registered {
		return
	}
	c.registered = false
	h := s.hubLocked(c.hubName, false)
	if h == nil {
		return
	}
	delete(h.conns, c.id)
	if set := h.users[c.user]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.users, c.user)
		}
	}
	for g := range c.groups {
		removeFromGroupLocked(h, c, g)
	}
	s.dropIfEmptyLocked(h)
}

func addToGroupLocked(h *hub, c *conn, g string) {
	set := h.groups[g]
	if set == nil {
		set = map[*conn]struct{}{}
		h.groups[g] = set
	}
	set[c] = struct{}{}
	c.groups[g] = struct{}{}
}

func removeFromGroupLocked(h *hub, c *conn, g string) {
	delete(c.groups, g)
	if set := h.groups[g]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.groups, g)
		}
	}
}

// addUserToGroup implements PUT users/{u}/groups/{g}: ttl < 0 means none
// (kept a year, at most 100 such groups per user), ttl == 0 adds only the
// user's current connections, ttl > 0 keeps the membership that long.
func (s *Service) addUserToGroup(hubName, user, group string, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, true)
	for c := range h.users[user] {
		addToGroupLocked(h, c, group)
	}
	if ttl == 0 {
		s.dropIfEmptyLocked(h)
		return
	}
	now := s.opts.Now()
	expires := now.Add(ttl)
	if ttl < 0 {
		expires = now.Add(noTTLLifetime)
	}
	ug := h.userGroups[user]
	if ug == nil {
		ug = map[string]*membership{}
		h.userGroups[user] = ug
	}
	m := ug[group]
	if m == nil {
		m = &membership{hub: h, user: user, group: group, expires: expires}
		ug[group] = m
		s.expiries.add(m)
	} else {
		m.expires = expires
		s.expiries.moved(m)
	}
	m.updated, m.noTTL = now, ttl < 0
	if m.noTTL {
		s.trimNoTTLLocked(h, user)
	}
}

// trimNoTTLLocked keeps only the most recently updated no-TTL groups.
func (s *Service) trimNoTTLLocked(h *hub, user string) {
	ug := h.userGroups[user]
	var names []string
	for g, m := range ug {
		if m.noTTL {
			names = append(names, g)
		}
	}
	if len(names) <= maxNoTTLGroups {
		return
	}
	sort.Slice(names, func(i, j int) bool { return ug[names[i]].updated.After(ug[names[j]].updated) })
	for _, g := range names[maxNoTTLGroups:] {
		s.removeUserFromGroupLocked(h, user, g)
	}
}

// removeUserFromGroupLocked drops the membership and takes the user's
// connections out of the group.
func (s *Service) removeUserFromGroupLocked(h *hub, user, group string) {
	if ug := h.userGroups[user]; ug != nil {
		if m := ug[group]; m != nil {
			s.expiries.remove(m)
		}
		delete(ug, group)
		if len(ug) == 0 {
			delete(h.userGroups, user)
		}
	}
	for c := range h.users[user] {
		removeFromGroupLocked(h, c, group)
	}
}

func (s *Service) removeUserFromGroup(hubName, user, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hubLocked(hubName, false); h != nil {
		s.removeUserFromGroupLocked(h, user, group)
		s.dropIfEmptyLocked(h)
	}
}

func (s *Service) removeUserFromAllGroups(hubName, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	if h == nil {
		return
	}
	for _, m := range h.userGroups[user] {
		s.expiries.remove(m)
	}
	delete(h.userGroups, user)
	for c := range h.users[user] {
		for g := range c.groups {
			removeFromGroupLocked(h, c, g)
		}
	}
	s.dropIfEmptyLocked(h)
}

// userInGroup reports a live membership, or a connection of the user in
// the group (a ttl=0 add).
func (s *Service) userInGroup(hubName, user, group string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	if h == nil {
		return false
	}
	if m := h.userGroups[user][group]; m != nil && s.opts.Now().Before(m.expires) {
		return true
	}
	for c := range h.users[user] {
		if _, ok := c.groups[group]; ok {
			return true
		}
	}
	return false
}

// connGroup adds or removes a connection to or from a group; it reports
// false when the connection is not connected to the hub.
func (s *Service) connGroup(hubName, connID, group string, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	if h == nil {
		return false
	}
	c := h.conns[connID]
	if c == nil {
		return false
	}
	if add {
		addToGroupLocked(h, c, group)
	} else {
		removeFromGroupLocked(h, c, group)
	}
	return true
}

func (s *Service) removeConnFromAllGroups(hubName, connID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	if h == nil {
		return false
	}
	c := h.conns[connID]
	if c == nil {
		return false
	}
	for g := range c.groups {
		removeFromGroupLocked(h, c, g)
	}
	return true
}

// target selects the recipients of a send: everyone in the hub, a user's
// connections, a group's, or one connection.
type target int

const (
	toAll target = iota
	toUser
	toGroup
	toConn
)

// recipients returns the connections a send reaches, minus excluded.
func (s *Service) recipients(hubName string, t target, name string, excluded []string) []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	if h == nil {
		return nil
	}
	var out []*conn
	skip := func(c *conn) bool {
		for _, e := range excluded {
			if e == c.id {
				return true
			}
		}
		return false
	}
	switch t {
	case toAll:
		out = make([]*conn, 0, len(h.conns))
		for _, c := range h.conns {
			if !skip(c) {
				out = append(out, c)
			}
		}
	case toUser:
		for c := range h.users[name] {
			out = append(out, c)
		}
	case toGroup:
		for c := range h.groups[name] {
			if !skip(c) {
				out = append(out, c)
			}
		}
	case toConn:
		if c := h.conns[name]; c != nil {
			out = append(out, c)
		}
	}
	return out
}

// exists answers the existence checks.
func (s *Service) exists(hubName string, t target, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubLocked(hubName, false)
	if h == nil {
		return false
	}
	switch t {
	case toUser:
		return len(h.users[name]) > 0
	case toGroup:
		return len(h.groups[name]) > 0
	case toConn:
		return h.conns[name] != nil
	}
	return false
}

// sweep expires user-group memberships, unused connection tokens and
// long-polling connections that stopped polling. It holds the lock for
// what expired and the connections that are not streaming, never for
// every membership or every connection.
func (s *Service) sweep() {
	now := s.opts.Now()
	type staleConn struct {
		c      *conn
		reason string
	}
	var stale []staleConn
	s.mu.Lock()
	for m := s.expiries.popExpired(now); m != nil; m = s.expiries.popExpired(now) {
		s.traceExpired(m)
		s.removeUserFromGroupLocked(m.hub, m.user, m.group)
		s.dropIfEmptyLocked(m.hub)
	}
	for c := range s.watched {
		switch {
		case c.transport == "" && now.Sub(c.created) > s.opts.NegotiateTimeout:
			stale = append(stale, staleConn{c, "connection token unused for " + s.opts.NegotiateTimeout.String()})
		case c.transport == transportLP && !c.polling && now.Sub(c.lastPoll) > s.opts.PollDisconnectTimeout:
			stale = append(stale, staleConn{c, "no poll for " + s.opts.PollDisconnectTimeout.String()})
		}
	}
	s.mu.Unlock()
	for _, st := range stale {
		st.c.close(nil, true, st.reason)
		s.finish(st.c)
	}
}
