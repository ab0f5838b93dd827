package manage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// connectAs opens a hub connection for user straight to the service.
func connectAs(t *testing.T, cs, user string) *client.Conn {
	t.Helper()
	access, err := manage.ConnectionStringAccess(cs)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Options{Access: access, UserID: user, Reconnect: client.NoReconnect})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestChecks checks what the existence checks tell about sends and
// group actions, as sigr uses them against a service that reports no
// deliveries.
func TestChecks(t *testing.T) {
	st := startEmulator(t)
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bob := connectAs(t, st.ConnectionString, "bob")
	if err := rc.AddUserToGroup(ctx, "chat", "ops", "bob", -1); err != nil {
		t.Fatal(err)
	}
	to := func(m protocol.SignalRMessage) manage.Message {
		m.Target, m.Arguments = "t", json.RawMessage("[]")
		return manage.SignalR(m)
	}
	sends := []struct {
		m    manage.Message
		want string
	}{
		{to(protocol.SignalRMessage{UserID: "bob"}), "user 'bob' has a connection to hub 'chat' (existence check)"},
		{to(protocol.SignalRMessage{UserID: "Bob"}), "user 'Bob' has no connection to hub 'chat' (existence check), so the message reached nobody; user ids are case-sensitive, and user 'bob' is connected"},
		{to(protocol.SignalRMessage{UserID: "Carol"}), "user 'Carol' has no connection to hub 'chat' (existence check), so the message reached nobody; user ids are case-sensitive"},
		{to(protocol.SignalRMessage{UserID: "carol"}), "user 'carol' has no connection to hub 'chat' (existence check), so the message reached nobody"},
		{manage.Chat(protocol.ChatMessage{Sender: "a", Text: "hi", Recipient: "Bob"}), "user 'Bob' has no connection to hub 'chat' (existence check), so the message reached nobody; user ids are case-sensitive, and user 'bob' is connected"},
		{to(protocol.SignalRMessage{GroupName: "ops"}), "group 'ops' has connections in hub 'chat' (existence check)"},
		{to(protocol.SignalRMessage{GroupName: "OPS"}), "group 'OPS' has no connections in hub 'chat' (existence check), so the message reached nobody; group names are case-sensitive, and group 'ops' has connections"},
		{to(protocol.SignalRMessage{GroupName: "devs"}), "group 'devs' has no connections in hub 'chat' (existence check), so the message reached nobody"},
		{to(protocol.SignalRMessage{ConnectionID: bob.ConnectionID()}), "connection '" + bob.ConnectionID() + "' is connected to hub 'chat' (existence check)"},
		{to(protocol.SignalRMessage{ConnectionID: "bob"}), "connection 'bob' is not connected to hub 'chat' (existence check), so the message reached nobody; 'bob' is a user id, not a connection id"},
		{to(protocol.SignalRMessage{ConnectionID: "x\x1b"}), `connection 'x\x1b' is not connected to hub 'chat' (existence check), so the message reached nobody`},
		{to(protocol.SignalRMessage{}), "no existence check tells whether hub 'chat' has connections"},
	}
	for _, c := range sends {
		got, err := rc.CheckSend(ctx, "Chat", c.m)
		if err != nil || got != c.want {
			t.Errorf("CheckSend %+v:\n got: %s (%v)\nwant: %s", c.m, got, err, c.want)
		}
	}
	groups := []struct {
		a    protocol.SignalRGroupAction
		want string
	}{
		{protocol.SignalRGroupAction{Action: "add", GroupName: "g", UserID: "bob"}, "user 'bob' has a connection to hub 'chat' (existence check)"},
		{protocol.SignalRGroupAction{Action: "add", GroupName: "g", UserID: "Bob"}, "user 'Bob' has no connection to hub 'chat' (existence check); the membership applies when one connects; user ids are case-sensitive, and user 'bob' is connected"},
		{protocol.SignalRGroupAction{Action: "remove", GroupName: "g", UserID: "dave"}, "user 'dave' has no connection to hub 'chat' (existence check)"},
		{protocol.SignalRGroupAction{Action: "add", GroupName: "g", ConnectionID: "x"}, ""},
	}
	for _, c := range groups {
		got, err := rc.CheckGroup(ctx, "chat", c.a)
		if err != nil || got != c.want {
			t.Errorf("CheckGroup %+v:\n got: %s (%v)\nwant: %s", c.a, got, err, c.want)
		}
	}
	// A service that cannot be reached: the error, not a guess.
	st.Close()
	if got, err := rc.CheckSend(ctx, "chat", to(protocol.SignalRMessage{UserID: "bob"})); err == nil {
		t.Errorf("CheckSend with the service gone: %q", got)
	}
}
