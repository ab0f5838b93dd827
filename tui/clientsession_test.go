package tui

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
)

// TestClientSessionWithEmulator runs the real adapters against the
// emulator: two identities connect, a chat message to alice and a group
// message through the function app reach exactly the right connections,
// and Close leaves no goroutine behind.
func TestClientSessionWithEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	st, err := emulator.StartStack(ctx, emulator.StackOptions{ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	sess := NewClientSession(client.Options{URL: st.FunctionsURL, Logger: quiet})
	defer sess.Close()
	f := NewFeed(sess.Conns(), time.Millisecond, 0)
	defer f.Stop()
	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	viaApp, viaREST := &ClientSender{Via: fa}, &ClientSender{Via: rest}

	for _, u := range []string{"alice", "bob"} {
		if err := sess.Open(ctx, ConnSpec{Hub: "chat", User: u}); err != nil {
			t.Fatal(err)
		}
	}
	// next returns the next event, failing the test on a timeout.
	var got []Event
	next := func() Event {
		t.Helper()
		for len(got) == 0 {
			done := make(chan tea.Msg, 1)
			go func() { done <- f.Next()() }()
			select {
			case msg := <-done:
				b, ok := msg.(batchMsg)
				if !ok {
					t.Fatalf("the feed ended (%T) while an event was awaited", msg)
				}
				got = b.Events
			case <-ctx.Done():
				t.Fatal("timed out waiting for an event")
			}
		}
		ev := got[0]
		got = got[1:]
		return ev
	}
	connected, tokens := map[string]string{}, map[string]string{}
	for len(connected) < 2 || len(tokens) < 2 {
		ev := next()
		switch {
		case ev.Kind == client.EventState && ev.State == client.Connected:
			connected[ev.Conn.Label()] = ev.ConnectionID
			tokens[ev.Conn.Label()] = ev.AccessToken
		case ev.Kind == client.EventState && ev.Err != nil:
			t.Fatalf("%s: %v", ev.Conn.Label(), ev.Err)
		}
	}
	for conn, tok := range tokens {
		if want := strings.TrimSuffix(conn, "@chat"); decodeUser(tok) != want {
			t.Fatalf("%s token is for %q", conn, decodeUser(tok))
		}
	}

	if _, err := viaApp.Send(ctx, Outgoing{Hub: "chat", Target: "newMessage", To: ToUser, Name: "alice", Chat: true, Sender: "bob", Text: "hi alice"}); err != nil {
		t.Fatal(err)
	}
	ev := next()
	if ev.Kind != client.EventMessage || ev.Conn.Label() != "alice@chat" || ev.Message.Target != "newMessage" || !strings.Contains(string(ev.Message.Arguments), `"hi alice"`) {
		t.Fatalf("got %+v, want hi alice on alice's connection", ev)
	}
	if r, _ := ev.Message.Header("route"); r != "user:alice" {
		t.Fatalf("route header %q", r)
	}

	if _, err := viaApp.Group(ctx, GroupAction{Hub: "chat", Add: true, Group: "devs", ConnectionID: connected["bob@chat"]}); err != nil {
		t.Fatal(err)
	}
	if ok, err := viaREST.GroupExists(ctx, "chat", "devs"); err != nil || !ok {
		t.Fatalf("GroupExists = %v, %v", ok, err)
	}
	if _, err := viaApp.GroupExists(ctx, "chat", "devs"); err == nil {
		t.Fatal("GroupExists without a connection string should say it needs one")
	}
	if _, err := viaREST.Send(ctx, Outgoing{Hub: "chat", Target: "ping2", Args: []byte(`[1]`), To: ToGroup, Name: "devs"}); err != nil {
		t.Fatal(err)
	}
	ev = next()
	if ev.Kind != client.EventMessage || ev.Conn.Label() != "bob@chat" || ev.Message.Target != "ping2" {
		t.Fatalf("got %+v, want ping2 on bob's connection", ev)
	}

	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	// Every connection has sent its last event: the feed ends.
	for {
		ev := f.Next()()
		if _, ok := ev.(feedClosedMsg); ok {
			break
		}
		if _, ok := ev.(batchMsg); !ok {
			t.Fatalf("after Close the feed gave %T, want its last batches and then its end", ev)
		}
	}
	if err := sess.Open(ctx, ConnSpec{Hub: "chat", User: "late"}); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Open after Close = %v, want client.ErrClosed", err)
	}
}

func decodeUser(tok string) string {
	c := decodeClaims(tok)
	if c == nil {
		return ""
	}
	s, _ := c["asrs.s.uid"].(string)
	return s
}
