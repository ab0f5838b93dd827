package tui

import (
	"testing"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// TestQuery: the filter's fields, free text over the route too, negation
// and alternatives.
func TestQuery(t *testing.T) {
	ping := &entry{time: t0, msg: protocol.Message{Type: protocol.TypeInvocation, Target: "ping", Arguments: []byte(`["hello"]`)}}
	chat := &entry{time: t0, msg: protocol.Message{Type: protocol.TypeInvocation, Target: "newMessage", Arguments: []byte(`[{"text":"hi"}]`)}}
	gapRow := &entry{time: t0.Add(time.Minute), gap: &gap{from: t0}}
	alice := &conn{label: "alice@chat", user: "alice", connectionID: "c1"}
	bob := &conn{label: "bob@chat", user: "bob", connectionID: "c2"}
	type row struct {
		e     *entry
		c     *conn
		route string
	}
	rows := map[string]row{
		"ping": {ping, alice, "broadcast"},
		"chat": {chat, bob, "group:devs"},
		"gap":  {gapRow, alice, ""},
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"route:group", []string{"chat"}},
		{"r:broad", []string{"ping"}},
		{"devs", []string{"chat"}}, // free text searches the route
		{"!target:ping", []string{"chat", "gap"}},
		{"!target:ping !gap", []string{"chat"}},
		{"target:ping | user:bob", []string{"chat", "ping"}},
		{"target:ping OR user:bob", []string{"chat", "ping"}},
		{"hello|text", []string{"chat", "ping"}},
		{"user:alice !route:broadcast", []string{"gap"}},
		{"disconnected", []string{"gap"}},
		{"!", []string{"chat", "gap", "ping"}},
		{"| |", []string{"chat", "gap", "ping"}},
	} {
		q := parseQuery(tc.q)
		var got []string
		for _, name := range []string{"chat", "gap", "ping"} {
			r := rows[name]
			target := r.e.msg.Target
			if r.e.gap != nil {
				target = r.e.gap.word()
			}
			if !q.active() || q.match(r.e, r.c, target, r.route) {
				got = append(got, name)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q matches %v, want %v", tc.q, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q matches %v, want %v", tc.q, got, tc.want)
				break
			}
		}
	}
}
