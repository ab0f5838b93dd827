package manage_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

func TestMessage(t *testing.T) {
	sm := protocol.SignalRMessage{Target: "t", Arguments: json.RawMessage(`[1]`), GroupName: "g"}
	m := manage.SignalR(sm)
	if _, ok := m.ChatMessage(); ok {
		t.Fatal("a SignalRMessage reads as a chat body")
	}
	if got, err := m.SignalRMessage(); err != nil || got.Target != "t" || string(got.Arguments) != `[1]` || got.GroupName != "g" {
		t.Fatalf("SignalRMessage = %+v, %v", got, err)
	}
	chat := protocol.ChatMessage{Sender: "bob", Text: "hi", Recipient: "alice"}
	m = manage.Chat(chat)
	if got, ok := m.ChatMessage(); !ok || got != chat {
		t.Fatalf("ChatMessage = %+v, %v", got, ok)
	}
	want, _ := chat.SignalRMessage(nil)
	if got, err := m.SignalRMessage(); err != nil || got.Target != protocol.ChatTarget || string(got.Arguments) != string(want.Arguments) || got.UserID != "alice" {
		t.Fatalf("the chat body as the service sends it = %+v, %v", got, err)
	}
}

// TestSendersDeliverAlike sends the same messages through the function app
// and the REST API to a real connection: a chat body reaches it as the chat
// sample's function sends it whichever way it went, and the outcome
// carries the status.
func TestSendersDeliverAlike(t *testing.T) {
	st := startEmulator(t)
	access, err := manage.ConnectionStringAccess(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Options{Access: access, UserID: "alice", Reconnect: client.NoReconnect})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The service registers a connection just after its handshake.
	for ok := false; !ok; time.Sleep(5 * time.Millisecond) {
		if ok, err = rc.UserExists(ctx, "chat", "alice"); err != nil {
			t.Fatalf("alice never registered: %v", err)
		}
	}
	next := func() client.Event {
		t.Helper()
		for {
			select {
			case ev := <-c.Events():
				if ev.Kind == client.EventMessage && ev.Message.Type == protocol.TypeInvocation {
					return ev
				}
			case <-ctx.Done():
				t.Fatal("no invocation arrived")
			}
		}
	}
	for name, s := range map[string]struct {
		manage.Sender
		status int
	}{"function app": {fa, 200}, "REST API": {rc, 202}} {
		chat := protocol.ChatMessage{Sender: "bob", Text: "hi via " + name, Recipient: "alice"}
		out, err := s.Send(ctx, "chat", manage.Chat(chat))
		if err != nil || out.Status != s.status {
			t.Fatalf("%s: chat send = %+v, %v", name, out, err)
		}
		ev := next()
		var got []protocol.ChatMessage
		if ev.Message.Target != protocol.ChatTarget || json.Unmarshal(ev.Message.Arguments, &got) != nil || len(got) != 1 || got[0] != chat {
			t.Fatalf("%s: alice got %s %s", name, ev.Message.Target, ev.Message.Arguments)
		}
		if r, _ := ev.Message.Header("route"); r != "user:alice" {
			t.Fatalf("%s: route %q", name, r)
		}
		if _, err := s.Send(ctx, "chat", manage.SignalR(protocol.SignalRMessage{Target: "plain", Arguments: json.RawMessage(`[true]`), ConnectionID: c.ConnectionID()})); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ev := next(); ev.Message.Target != "plain" || string(ev.Message.Arguments) != `[true]` {
			t.Fatalf("%s: alice got %s %s", name, ev.Message.Target, ev.Message.Arguments)
		}
	}
}

// TestRESTGroup runs every SignalRGroupAction through the REST API and
// checks the membership the service then reports.
func TestRESTGroup(t *testing.T) {
	st := startEmulator(t)
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := func(group string) bool {
		t.Helper()
		ok, err := rc.UserInGroup(ctx, "chat", group, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	group := func(action, g string) manage.Outcome {
		t.Helper()
		out, err := rc.Group(ctx, "chat", protocol.SignalRGroupAction{Action: action, GroupName: g, UserID: "alice"})
		if err != nil {
			t.Fatalf("%s %s: %v", action, g, err)
		}
		return out
	}
	if out := group(protocol.GroupAdd, "g1"); out.Status < 200 || out.Status > 299 || !in("g1") {
		t.Fatalf("add: %+v, in g1: %v", out, in("g1"))
	}
	group(protocol.GroupAdd, "g2")
	group(protocol.GroupRemove, "g1")
	if in("g1") || !in("g2") {
		t.Fatal("remove took the wrong group")
	}
	group("REMOVEALL", "")
	if in("g2") {
		t.Fatal("removeAll left g2")
	}
	// A connection that does not exist: the service's 404, with its path.
	_, err = rc.Group(ctx, "chat", protocol.SignalRGroupAction{Action: protocol.GroupAdd, GroupName: "g", ConnectionID: "nobody"})
	var re *manage.RESTError
	if !errors.As(err, &re) || re.Status != 404 || !strings.HasSuffix(re.Path, "/groups/g/connections/nobody") {
		t.Fatalf("add an unknown connection: %v", err)
	}
	for _, a := range []protocol.SignalRGroupAction{{Action: "join", GroupName: "g", UserID: "u"}, {Action: "add", UserID: "u"}, {Action: "remove", GroupName: "g"}} {
		if _, err := rc.Group(ctx, "chat", a); err == nil || !strings.HasPrefix(err.Error(), "group action: ") {
			t.Errorf("%+v: %v", a, err)
		}
	}
}

func TestConnectionStringAccess(t *testing.T) {
	for _, bad := range []string{"", "Endpoint=http://h;Version=1.0;", "nonsense"} {
		if _, err := manage.ConnectionStringAccess(bad); err == nil {
			t.Errorf("ConnectionStringAccess(%q) accepted", bad)
		}
	}
	access, err := manage.ConnectionStringAccess("Endpoint=http://127.0.0.1;Port=8888;AccessKey=" + emulator.DefaultAccessKey + ";Version=1.0;")
	if err != nil {
		t.Fatal(err)
	}
	u, tok, err := access(context.Background(), "Chat", "alice")
	if err != nil || u != "http://127.0.0.1:8888/client/?hub=chat" || tok == "" {
		t.Fatalf("access = %q %q %v", u, tok, err)
	}
	if _, tok2, _ := access(context.Background(), "Chat", "bob"); tok2 == tok {
		t.Fatal("two users got the same token")
	}
}
