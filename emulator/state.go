package emulator

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/sigr-dev/sigr/protocol"
)

// sigrAPI serves the emulator's own endpoints under /_sigr/v1: the hubs,
// one hub's live state, the live trace, and the process's counters. Every request needs a REST
// token (aud the request URL without its query), checked before anything
// else, so a caller without the key learns nothing, not even which paths
// exist.
func (s *Service) sigrAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+protocol.PathHubs, s.serveHubs)
	mux.HandleFunc("GET "+protocol.PathHubs+"/{hub}", s.serveHubState)
	mux.HandleFunc("GET "+protocol.PathTrace, s.serveTrace)
	mux.HandleFunc("GET "+protocol.PathProcess, s.serveProcess)
	mux.HandleFunc("/_sigr/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			restError(w, http.StatusMethodNotAllowed, "", "The emulator's endpoints take GET.")
			return
		}
		restError(w, http.StatusNotFound, "", "No such endpoint; the emulator serves GET "+protocol.PathHubs+", "+protocol.PathHubs+"/{hub}, "+protocol.PathTrace+" and "+protocol.PathProcess+".")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, aerr := s.authenticate(r, s.restAud(r)); aerr != nil {
			aerr.write(w)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// serveHubs answers GET /_sigr/v1/hubs: every hub with connections or
// memberships, and how many of each it has.
func (s *Service) serveHubs(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := protocol.HubList{Time: s.opts.Now(), Hubs: make([]protocol.HubSummary, 0, len(s.hubs))}
	for k, h := range s.hubs {
		groups := map[string]bool{}
		for g := range h.groups {
			groups[g] = true
		}
		users := len(h.users)
		for u, ug := range h.userGroups {
			if h.users[u] == nil {
				users++
			}
			for g := range ug {
				groups[g] = true
			}
		}
		out.Hubs = append(out.Hubs, protocol.HubSummary{Name: k, Connections: len(h.conns), Users: users, Groups: len(groups)})
	}
	s.mu.Unlock()
	sort.Slice(out.Hubs, func(i, j int) bool { return out.Hubs[i].Name < out.Hubs[j].Name })
	writeJSON(w, http.StatusOK, out)
}

// serveHubState answers GET /_sigr/v1/hubs/{hub} with the hub's state; a
// hub the service does not hold is empty, not missing, as hubs come and
// go with their connections.
func (s *Service) serveHubState(w http.ResponseWriter, r *http.Request) {
	hub := r.PathValue("hub")
	if !protocol.ValidHubName(hub) {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", invalidHubName)
		return
	}
	writeJSON(w, http.StatusOK, s.hubState(hub))
}

// hubState copies a hub's state under the lock and sorts it outside.
// Memberships past their expiry that the sweep has not popped yet are
// left out, as sends already ignore them.
func (s *Service) hubState(name string) protocol.HubState {
	st := protocol.HubState{Hub: hubKey(name), Connections: []protocol.ConnectionState{}, Users: []protocol.UserState{}, Groups: []protocol.GroupState{}}
	s.mu.Lock()
	now := s.opts.Now()
	st.Time = now
	h := s.hubLocked(name, false)
	if h == nil {
		s.mu.Unlock()
		return st
	}
	users := map[string]*protocol.UserState{}
	user := func(id string) *protocol.UserState {
		u := users[id]
		if u == nil {
			u = &protocol.UserState{ID: id, Connections: []string{}, Memberships: []protocol.Membership{}}
			users[id] = u
		}
		return u
	}
	groups := map[string]*protocol.GroupState{}
	group := func(name string) *protocol.GroupState {
		g := groups[name]
		if g == nil {
			g = &protocol.GroupState{Name: name, Connections: []string{}, Users: []string{}}
			groups[name] = g
		}
		return g
	}
	for id, c := range h.conns {
		cs := protocol.ConnectionState{ID: id, User: c.user, Transport: c.transport, Protocol: c.proto,
			Groups: make([]string, 0, len(c.groups)), ConnectedSince: c.connectedAt, StatefulReconnect: c.sf.Load() != nil}
		for g := range c.groups {
			cs.Groups = append(cs.Groups, g)
			group(g).Connections = append(group(g).Connections, id)
		}
		st.Connections = append(st.Connections, cs)
		if c.user != "" {
			user(c.user).Connections = append(user(c.user).Connections, id)
		}
	}
	for u, ug := range h.userGroups {
		for g, m := range ug {
			if !now.Before(m.expires) {
				continue
			}
			ms := protocol.Membership{Group: g}
			if !m.noTTL {
				exp := m.expires
				ms.Expires = &exp
			}
			user(u).Memberships = append(user(u).Memberships, ms)
			group(g).Users = append(group(g).Users, u)
		}
	}
	s.mu.Unlock()

	sort.Slice(st.Connections, func(i, j int) bool {
		a, b := st.Connections[i], st.Connections[j]
		if !a.ConnectedSince.Equal(b.ConnectedSince) {
			return a.ConnectedSince.Before(b.ConnectedSince)
		}
		return a.ID < b.ID
	})
	for i := range st.Connections {
		slices.Sort(st.Connections[i].Groups)
	}
	for _, u := range users {
		slices.Sort(u.Connections)
		slices.SortFunc(u.Memberships, func(a, b protocol.Membership) int { return strings.Compare(a.Group, b.Group) })
		st.Users = append(st.Users, *u)
	}
	slices.SortFunc(st.Users, func(a, b protocol.UserState) int { return strings.Compare(a.ID, b.ID) })
	for _, g := range groups {
		slices.Sort(g.Connections)
		slices.Sort(g.Users)
		st.Groups = append(st.Groups, *g)
	}
	slices.SortFunc(st.Groups, func(a, b protocol.GroupState) int { return strings.Compare(a.Name, b.Name) })
	return st
}
