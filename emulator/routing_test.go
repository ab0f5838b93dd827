package emulator

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRoutingWithRouteHeaders(t *testing.T) {
	st := startStack(t, nil)
	rc := restClient(t, st)
	ctx := ctxT(t)
	alice := connectWS(t, st, "chat", "alice")
	bob := connectWS(t, st, "chat", "bob")
	anon := connectWS(t, st, "Chat", "")
	other := connectWS(t, st, "other", "alice")

	args := json.RawMessage(`["hi",{"n":1}]`)
	if err := rc.Broadcast(ctx, "chat", "t1", args); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClient{alice, bob, anon} {
		m := c.expectInvocation("t1", "broadcast")
		if string(m.Arguments) != `["hi",{"n":1}]` {
			t.Fatalf("arguments %s", m.Arguments)
		}
	}
	other.expectNothing()

	if err := rc.Broadcast(ctx, "chat", "t2", nil, alice.id, bob.id); err != nil {
		t.Fatal(err)
	}
	anon.expectInvocation("t2", "broadcast")
	alice.expectNothing()
	bob.expectNothing()

	if err := rc.SendToUser(ctx, "chat", "alice", "t3", nil); err != nil {
		t.Fatal(err)
	}
	alice.expectInvocation("t3", "user:alice")
	bob.expectNothing()
	other.expectNothing()

	if err := rc.AddConnectionToGroup(ctx, "chat", "g 1/x", bob.id); err != nil {
		t.Fatal(err)
	}
	if err := rc.SendToGroup(ctx, "chat", "g 1/x", "t4", nil); err != nil {
		t.Fatal(err)
	}
	bob.expectInvocation("t4", "group:g 1/x")
	alice.expectNothing()

	if err := rc.SendToConnection(ctx, "chat", anon.id, "t5", nil); err != nil {
		t.Fatal(err)
	}
	anon.expectInvocation("t5", "connection:"+anon.id)
	bob.expectNothing()
	_ = time.Second
}
