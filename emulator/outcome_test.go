package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// restHeaders sends one REST call and returns the answer's status and
// headers.
func restHeaders(t *testing.T, st *Stack, method, path, body string) (int, http.Header) {
	t.Helper()
	u := st.ServiceURL + path
	tok, err := manage.MintRESTToken(DefaultAccessKey, u, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := doReq(t, method, u, tok, []byte(body), map[string]string{"Content-Type": "application/json"})
	return resp.StatusCode, resp.Header
}

const sendBody = `{"target":"t","arguments":[]}`

// checkHeaderSafe fails when a header value is not one line of printable
// ASCII.
func checkHeaderSafe(t *testing.T, v string) {
	t.Helper()
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			t.Fatalf("header value %q has byte %#x at %d", v, v[i], i)
		}
	}
}

// TestUndeliveredReasons checks every reason a send to nobody is given,
// through both REST API versions.
func TestUndeliveredReasons(t *testing.T) {
	st := startStack(t, nil)
	alice := connectWS(t, st, "chat", "alice")
	bob := connectWS(t, st, "chat", "bob")
	carol := connectWS(t, st, "news", "carol")
	connectWS(t, st, "anon", "")
	rc := restClient(t, st)
	ctx := ctxT(t)
	if err := rc.AddConnectionToGroup(ctx, "chat", "devs", alice.id); err != nil {
		t.Fatal(err)
	}
	if err := rc.AddUserToGroup(ctx, "chat", "ops", "dave", time.Hour); err != nil {
		t.Fatal(err)
	}
	flip := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			switch {
			case c >= 'a' && c <= 'z':
				b[i] = c - 32
			case c >= 'A' && c <= 'Z':
				b[i] = c + 32
			}
		}
		return string(b)
	}
	esc := url.PathEscape
	cases := []struct {
		path, want string
	}{
		{"/hubs/chat/users/Bob/:send", "no connection for user 'Bob'; user ids are case-sensitive; connected users: alice, bob"},
		{"/hubs/chat/users/" + esc(" bob") + "/:send", "no connection for user ' bob'; user ids are compared exactly, white space included; connected users: alice, bob"},
		{"/hubs/chat/users/carol/:send", "no connection for user 'carol'; connected users: alice, bob; user 'carol' is connected to hub news"},
		{"/hubs/empty/users/x/:send", "no connection for user 'x'; hub 'empty' has no connections"},
		{"/hubs/anon/users/x/:send", "no connection for user 'x'; no connection of hub 'anon' has a user id (1 anonymous connection)"},
		{"/hubs/chat/users/" + esc(alice.id) + "/:send", "no connection for user '" + alice.id + "'; '" + alice.id + "' is a connection id, not a user id; connected users: alice, bob"},
		{"/hubs/chat/users/" + esc("é\x1b\"x") + "/:send", `no connection for user '\u00e9\x1b\"x'; connected users: alice, bob`},
		{"/hubs/chat/users/" + strings.Repeat("u", 100) + "/:send", "no connection for user '" + strings.Repeat("u", 64) + "...'; connected users: alice, bob"},
		{"/hubs/chat/groups/nobody/:send", "group 'nobody' has no members; groups with members: devs"},
		{"/hubs/chat/groups/Devs/:send", "group 'Devs' has no members; group names are case-sensitive; groups with members: devs"},
		{"/hubs/chat/groups/ops/:send", "group 'ops' has no members; groups with members: devs; users in it with no connection now: dave"},
		{"/hubs/empty/groups/ops/:send", "group 'ops' has no members; hub 'empty' has no connections"},
		{"/hubs/chat/groups/devs/:send?excluded=" + esc(alice.id), "every connection in group 'devs' is excluded (1 connection)"},
		{"/hubs/empty/:send", "hub 'empty' has no connections; hubs with connections: anon, chat, news"},
		{"/hubs/news/:send?excluded=" + esc(carol.id), "every connection of hub 'news' is excluded (1 connection, 1 excluded)"},
		{"/hubs/chat/connections/bob/:send", "no connection 'bob'; 'bob' is a user id, not a connection id: send to the user"},
		{"/hubs/chat/connections/Bob/:send", "no connection 'Bob'; 'Bob' is not a connection id, and user 'bob' is connected"},
		{"/hubs/chat/connections/" + esc(flip(bob.id)) + "/:send", "no connection '" + flip(bob.id) + "'; connection ids are case-sensitive: '" + bob.id + "' is connected"},
		{"/hubs/chat/connections/" + esc(carol.id) + "/:send", "no connection '" + carol.id + "'; it is connected to hub 'news'"},
		{"/hubs/empty/connections/zz/:send", "no connection 'zz'; hub 'empty' has no connections"},
	}
	for _, c := range cases {
		for _, prefix := range []string{"/api", "/api/v1"} {
			status, h := restHeaders(t, st, "POST", prefix+c.path, sendBody)
			if status != 202 || h.Get(protocol.HeaderDelivered) != "0" || h.Get(protocol.HeaderUndelivered) != c.want {
				t.Errorf("POST %s%s: %d delivered %q\n got: %s\nwant: %s", prefix, c.path, status, h.Get(protocol.HeaderDelivered), h.Get(protocol.HeaderUndelivered), c.want)
			}
			checkHeaderSafe(t, h.Get(protocol.HeaderUndelivered))
		}
	}
	// Nothing above reached anybody.
	alice.expectNothing()
	bob.expectNothing()
	carol.expectNothing()

	// Delivered sends say how many, and nothing more.
	for path, n := range map[string]string{"/api/hubs/chat/:send": "2", "/api/v1/hubs/chat/users/bob": "1", "/api/hubs/chat/groups/devs/:send": "1", "/api/hubs/chat/connections/" + esc(bob.id) + "/:send": "1"} {
		_, h := restHeaders(t, st, "POST", path, sendBody)
		if h.Get(protocol.HeaderDelivered) != n || h.Values(protocol.HeaderUndelivered) != nil {
			t.Errorf("POST %s: delivered %q, undelivered %q; want %s and none", path, h.Get(protocol.HeaderDelivered), h.Get(protocol.HeaderUndelivered), n)
		}
	}
}

// TestUndeliveredListIsCapped checks that a reason lists at most ten
// users, the first in order, and counts the rest.
func TestUndeliveredListIsCapped(t *testing.T) {
	st := startStack(t, nil)
	for i := 11; i >= 0; i-- {
		connectWS(t, st, "chat", fmt.Sprintf("u%02d", i))
	}
	_, h := restHeaders(t, st, "POST", "/api/hubs/chat/users/U00/:send", sendBody)
	want := "no connection for user 'U00'; user ids are case-sensitive; connected users: u00, u01, u02, u03, u04, u05, u06, u07, u08, u09 and 2 more"
	if got := h.Get(protocol.HeaderUndelivered); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestUndeliveredToClosing checks the reason for a send whose recipients
// were all closing between lookup and delivery.
func TestUndeliveredToClosing(t *testing.T) {
	s := NewService(ServiceOptions{Logger: quietLogger()})
	defer s.Close()
	for n, want := range map[int]string{1: "the connection it was addressed to was closing", 3: "the 3 connections it was addressed to were closing"} {
		if got := s.whyUndelivered("chat", toAll, "", nil, n); got != want {
			t.Errorf("%d closing: %q, want %q", n, got, want)
		}
	}
	if got := clipReason(strings.Repeat("x", 2000)); len(got) != maxReason || !strings.HasSuffix(got, "...") {
		t.Errorf("clipReason kept %d bytes", len(got))
	}
}

// TestGroupActionOutcome checks the applied count and the reasons of
// group actions.
func TestGroupActionOutcome(t *testing.T) {
	st := startStack(t, nil)
	connectWS(t, st, "chat", "alice")
	bob := connectWS(t, st, "chat", "bob")
	esc := url.PathEscape
	cases := []struct {
		method, path string
		status       int
		applied      string
		why          string
	}{
		{"PUT", "/api/hubs/chat/users/bob/groups/ops", 200, "1", ""},
		{"PUT", "/api/hubs/chat/users/Bob/groups/ops", 200, "0", "no connection for user 'Bob'; user ids are case-sensitive; connected users: alice, bob; the membership in 'ops' applies when the user connects"},
		{"PUT", "/api/hubs/chat/users/Bob/groups/ops?ttl=0", 200, "0", "no connection for user 'Bob'; user ids are case-sensitive; connected users: alice, bob; ttl=0 adds only the connections the user has now, so nothing changed"},
		{"DELETE", "/api/hubs/chat/users/Bob/groups/ops", 204, "0", "no connection for user 'Bob'; user ids are case-sensitive; connected users: alice, bob"},
		{"DELETE", "/api/hubs/chat/users/bob/groups", 204, "1", ""},
		{"PUT", "/api/v1/hubs/chat/groups/ops/users/dave", 202, "0", "no connection for user 'dave'; connected users: alice, bob; the membership in 'ops' applies when the user connects"},
		{"PUT", "/api/hubs/chat/groups/ops/connections/" + esc(bob.id), 200, "1", ""},
		{"PUT", "/api/hubs/chat/groups/ops/connections/bob", 404, "0", "no connection 'bob'; 'bob' is a user id, not a connection id: send to the user"},
		{"DELETE", "/api/hubs/chat/connections/alice/groups", 200, "0", "no connection 'alice'; 'alice' is a user id, not a connection id: send to the user"},
		{"DELETE", "/api/hubs/chat/connections/" + esc(bob.id) + "/groups", 200, "1", ""},
	}
	for _, c := range cases {
		status, h := restHeaders(t, st, c.method, c.path, "")
		if status != c.status || h.Get(protocol.HeaderApplied) != c.applied || h.Get(protocol.HeaderUnapplied) != c.why {
			t.Errorf("%s %s: %d applied %q\n got: %s\nwant: %s", c.method, c.path, status, h.Get(protocol.HeaderApplied), h.Get(protocol.HeaderUnapplied), c.why)
		}
	}
}

// TestFunctionAppCopiesOutcome checks that the function app's messages
// and groups answers carry the service's outcome and status.
func TestFunctionAppCopiesOutcome(t *testing.T) {
	st := startStack(t, nil)
	connectWS(t, st, "chat", "bob")
	post := func(fn, body string) http.Header {
		t.Helper()
		resp, data := doReq(t, "POST", st.FunctionsURL+"/"+fn, "", []byte(body), nil)
		if resp.StatusCode/100 != 2 && resp.StatusCode != 404 {
			t.Fatalf("POST %s: %d %s", fn, resp.StatusCode, data)
		}
		return resp.Header
	}
	h := post("messages", `{"sender":"alice","text":"hi","recipient":"Bob"}`)
	if h.Get(protocol.HeaderDelivered) != "0" || h.Get(protocol.HeaderUndelivered) != "no connection for user 'Bob'; user ids are case-sensitive; connected users: bob" || h.Get(protocol.HeaderServiceStatus) != "202" {
		t.Errorf("messages to Bob: %v", h)
	}
	h = post("messages", `{"target":"t","arguments":[1],"userId":"bob"}`)
	if h.Get(protocol.HeaderDelivered) != "1" || h.Get(protocol.HeaderUndelivered) != "" {
		t.Errorf("messages to bob: %v", h)
	}
	h = post("groups", `{"action":"add","groupName":"ops","userId":"Bob"}`)
	if h.Get(protocol.HeaderApplied) != "0" || !strings.HasPrefix(h.Get(protocol.HeaderUnapplied), "no connection for user 'Bob'") || h.Get(protocol.HeaderServiceStatus) != "200" {
		t.Errorf("groups add Bob: %v", h)
	}
	h = post("groups", `{"action":"add","groupName":"ops","connectionId":"bob"}`)
	if h.Get(protocol.HeaderApplied) != "0" || h.Get(protocol.HeaderUnapplied) != "no connection 'bob'; 'bob' is a user id, not a connection id: send to the user" || h.Get(protocol.HeaderServiceStatus) != "404" {
		t.Errorf("groups add connection bob: %v", h)
	}
}

func TestListed(t *testing.T) {
	names := func(ss ...string) func(func(string) bool) {
		return func(yield func(string) bool) {
			for _, s := range ss {
				if !yield(s) {
					return
				}
			}
		}
	}
	if got := listed(names()); got != "" {
		t.Errorf("empty: %q", got)
	}
	var many []string
	for i := 30; i > 0; i-- {
		many = append(many, fmt.Sprintf("n%02d", i))
	}
	if got := listed(names(many...)); got != "n01, n02, n03, n04, n05, n06, n07, n08, n09, n10 and 20 more" {
		t.Errorf("many: %q", got)
	}
	if got := listed(names("b", "a\n")); got != `a\n, b` {
		t.Errorf("escaped: %q", got)
	}
	if got := esc(strings.Repeat("é", 40)); got != strings.Repeat(`\u00e9`, 32)+"..." {
		t.Errorf("esc of a long non-ASCII name: %q", got)
	}
}

// BenchmarkWhyUndelivered is the cost of the reason for a send to a user
// who is not connected, in a hub of 10 000 users: it runs under the
// service's lock, on the undelivered path only.
func BenchmarkWhyUndelivered(b *testing.B) {
	s := NewService(ServiceOptions{Logger: quietLogger()})
	defer s.Close()
	s.mu.Lock()
	h := s.hubLocked("chat", true)
	for i := range 10_000 {
		c := &conn{id: fmt.Sprintf("c%05d", i), user: fmt.Sprintf("user%05d", i), groups: map[string]struct{}{}}
		h.conns[c.id] = c
		h.users[c.user] = map[*conn]struct{}{c: {}}
	}
	s.mu.Unlock()
	b.ReportAllocs()
	for b.Loop() {
		if r := s.whyUndelivered("chat", toUser, "User00042", nil, 0); !strings.Contains(r, "case-sensitive") {
			b.Fatal(r)
		}
	}
}
