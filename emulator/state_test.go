package emulator

import (
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

func inspectOf(st *Stack) manage.Inspect {
	return manage.Inspect{Endpoint: st.ServiceURL, AccessKey: DefaultAccessKey}
}

func hubState(t *testing.T, st *Stack, hub string) protocol.HubState {
	t.Helper()
	s, err := manage.HubState(ctxT(t), inspectOf(st), hub)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// shape is a hub state without times, for comparing.
type shape struct {
	conns  map[string][]string // id -> groups
	users  map[string][]string // id -> connections, then "m:" memberships
	groups map[string][]string // name -> connections, then "u:" users
}

func shapeOf(s protocol.HubState) shape {
	sh := shape{conns: map[string][]string{}, users: map[string][]string{}, groups: map[string][]string{}}
	for _, c := range s.Connections {
		sh.conns[c.ID] = c.Groups
	}
	for _, u := range s.Users {
		v := slices.Clone(u.Connections)
		for _, m := range u.Memberships {
			v = append(v, "m:"+m.Group)
		}
		sh.users[u.ID] = v
	}
	for _, g := range s.Groups {
		v := slices.Clone(g.Connections)
		for _, u := range g.Users {
			v = append(v, "u:"+u)
		}
		sh.groups[g.Name] = v
	}
	return sh
}

func sorted(ss ...string) []string { slices.Sort(ss); return ss }

func checkShape(t *testing.T, got protocol.HubState, want shape) {
	t.Helper()
	g := shapeOf(got)
	eq := func(a, b map[string][]string) bool {
		return len(a) == len(b) && func() bool {
			for k, v := range a {
				if w, ok := b[k]; !ok || !slices.Equal(v, w) {
					return false
				}
			}
			return true
		}()
	}
	if !eq(g.conns, want.conns) || !eq(g.users, want.users) || !eq(g.groups, want.groups) {
		t.Fatalf("state\n got: %+v\nwant: %+v", g, want)
	}
}

// TestHubState follows a hub's state through adds, removes, a TTL that
// runs out and disconnects.
func TestHubState(t *testing.T) {
	var offset atomic.Int64
	st := startStack(t, func(o *StackOptions) {
		o.Service.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		o.Service.SweepInterval = time.Hour // the test sweeps by hand
	})
	rc := restClient(t, st)
	ctx := ctxT(t)

	if s := hubState(t, st, "chat"); s.Hub != "chat" || s.Connections == nil || s.Users == nil || s.Groups == nil || len(s.Connections)+len(s.Users)+len(s.Groups) != 0 {
		t.Fatalf("empty hub: %+v", s)
	}
	before := time.Now()
	alice := connectWS(t, st, "Chat", "alice")
	bob := connectWS(t, st, "chat", "bob")
	anon := connectWS(t, st, "chat", "")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rc.AddConnectionToGroup(ctx, "chat", "g1", alice.id))
	must(rc.AddConnectionToGroup(ctx, "chat", "g1", anon.id))
	must(rc.AddUserToGroup(ctx, "chat", "g2", "bob", time.Minute))
	must(rc.AddUserToGroup(ctx, "chat", "g3", "dave", -1))

	s := hubState(t, st, "CHAT")
	checkShape(t, s, shape{
		conns:  map[string][]string{alice.id: {"g1"}, bob.id: {"g2"}, anon.id: {"g1"}},
		users:  map[string][]string{"alice": {alice.id}, "bob": {bob.id, "m:g2"}, "dave": {"m:g3"}},
		groups: map[string][]string{"g1": sorted(alice.id, anon.id), "g2": {bob.id, "u:bob"}, "g3": {"u:dave"}},
	})
	if s.Hub != "chat" || len(s.Connections) != 3 || s.Connections[0].ID != alice.id || s.Connections[2].ID != anon.id {
		t.Fatalf("connections not in connect order: %+v", s.Connections)
	}
	for _, c := range s.Connections {
		if c.Transport != "WebSockets" || c.Protocol != "json" || c.ConnectedSince.Before(before.Add(-time.Second)) || c.ConnectedSince.After(time.Now()) {
			t.Errorf("connection %+v", c)
		}
	}
	for _, u := range s.Users {
		switch u.ID {
		case "bob":
			if e := u.Memberships[0].Expires; e == nil || e.Sub(time.Now().Add(time.Minute)).Abs() > 5*time.Second {
				t.Errorf("bob's membership expires %v, want in a minute", e)
			}
		case "dave":
			if u.Memberships[0].Expires != nil {
				t.Errorf("dave's membership without TTL expires %v", u.Memberships[0].Expires)
			}
		}
	}

	// Removes.
	must(rc.RemoveConnectionFromGroup(ctx, "chat", "g1", anon.id))
	must(rc.RemoveUserFromGroup(ctx, "chat", "g3", "dave"))
	checkShape(t, hubState(t, st, "chat"), shape{
		conns:  map[string][]string{alice.id: {"g1"}, bob.id: {"g2"}, anon.id: {}},
		users:  map[string][]string{"alice": {alice.id}, "bob": {bob.id, "m:g2"}},
		groups: map[string][]string{"g1": {alice.id}, "g2": {bob.id, "u:bob"}},
	})

	// bob's TTL runs out: the state drops it at once, the sweep for good.
	offset.Store(int64(61 * time.Second))
	want := shape{
		conns:  map[string][]string{alice.id: {"g1"}, bob.id: {"g2"}, anon.id: {}},
		users:  map[string][]string{"alice": {alice.id}, "bob": {bob.id}},
		groups: map[string][]string{"g1": {alice.id}, "g2": {bob.id}},
	}
	checkShape(t, hubState(t, st, "chat"), want) // the connection is still in g2 until the sweep
	st.Service.sweep()
	want.conns[bob.id] = []string{}
	delete(want.groups, "g2")
	checkShape(t, hubState(t, st, "chat"), want)

	// Disconnects.
	alice.closeNow()
	anon.closeNow()
	waitFor(t, func() bool { return len(hubState(t, st, "chat").Connections) == 1 })
	checkShape(t, hubState(t, st, "chat"), shape{
		conns: map[string][]string{bob.id: {}}, users: map[string][]string{"bob": {bob.id}}, groups: map[string][]string{},
	})

	// The hub list.
	connectWS(t, st, "news", "carol")
	hubs, err := manage.Hubs(ctx, inspectOf(st))
	if err != nil || len(hubs) != 2 || hubs[0] != (protocol.HubSummary{Name: "chat", Connections: 1, Users: 1}) || hubs[1] != (protocol.HubSummary{Name: "news", Connections: 1, Users: 1}) {
		t.Fatalf("hubs: %+v %v", hubs, err)
	}
}

// TestExtensionAuth checks that the emulator's endpoints take only REST
// tokens for their own URL, signed with the access key, and answer 401
// before anything else.
func TestExtensionAuth(t *testing.T) {
	st := startStack(t, nil)
	u := st.ServiceURL + protocol.PathHubs + "/chat"
	good, err := manage.MintRESTToken(DefaultAccessKey, u+"?x=1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := manage.MintRESTToken(DefaultAccessKey, st.ServiceURL+"/api/hubs/chat", time.Minute)
	wrongKey, _ := manage.MintRESTToken("another key entirely, not the service's", u, time.Minute)
	client := clientToken(t, st, "chat", "alice")
	expired := signClaims(t, jwt.SigningMethodHS256, []byte(DefaultAccessKey), jwt.MapClaims{"aud": u, "exp": time.Now().Add(-time.Hour).Unix()})
	for name, tok := range map[string]string{"no token": "", "another path's token": other, "wrong key": wrongKey, "client token": client, "expired": expired} {
		for _, path := range []string{protocol.PathHubs + "/chat", protocol.PathHubs, protocol.PathTrace, "/_sigr/v1/nope"} {
			resp, _ := doReq(t, "GET", st.ServiceURL+path, tok, nil, nil)
			if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s on %s: %d", name, path, resp.StatusCode)
			}
		}
	}
	resp, body := doReq(t, "GET", u+"?x=1", good, nil, nil)
	var s protocol.HubState
	if resp.StatusCode != 200 || json.Unmarshal(body, &s) != nil || s.Hub != "chat" {
		t.Fatalf("good token: %d %s", resp.StatusCode, body)
	}
	// Past the token: bad names and paths.
	for path, status := range map[string]int{protocol.PathHubs + "/bad%20hub": 400, "/_sigr/v1/nope": 404, protocol.PathTrace + "?hub=bad%20hub": 400} {
		tok, _ := manage.MintRESTToken(DefaultAccessKey, st.ServiceURL+path, time.Minute)
		if resp, body := doReq(t, "GET", st.ServiceURL+path, tok, nil, nil); resp.StatusCode != status {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, body, status)
		}
	}
	tok, _ := manage.MintRESTToken(DefaultAccessKey, u, time.Minute)
	if resp, _ := doReq(t, "POST", u, tok, nil, nil); resp.StatusCode != 405 {
		t.Errorf("POST %s: %d, want 405", u, resp.StatusCode)
	}
	// The client gives a typed error.
	_, err = manage.HubState(ctxT(t), manage.Inspect{Endpoint: st.ServiceURL, AccessKey: "wrong"}, "chat")
	var ee *manage.ExtensionError
	if !errors.As(err, &ee) || ee.Status != 401 {
		t.Fatalf("HubState with a wrong key: %v", err)
	}
}
