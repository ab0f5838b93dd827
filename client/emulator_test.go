package client_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// These tests run the client against the real emulator, in process, on
// loopback ports: the whole serverless path (function app negotiate,
// redirect, service negotiate, WebSocket, REST sends).

func startStack(t *testing.T) *emulator.Stack {
	t.Helper()
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:   "127.0.0.1:0",
		FunctionsAddr: "127.0.0.1:0",
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func dial(t *testing.T, o client.Options) *client.Conn {
	t.Helper()
	o.Reconnect = client.Backoff{Delays: []time.Duration{10 * time.Millisecond}}
	c, err := client.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return c
}

// await returns the next event accepted by keep, failing after 5 s.
func await(t *testing.T, c *client.Conn, what string, keep func(client.Event) bool) client.Event {
	t.Helper()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("waiting for %s: events closed", what)
			}
			if keep(ev) {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %s within 5 s", what)
		}
	}
}

// waitRegistered checks that the service lists connection id. The
// emulator indexes a connection before it answers the handshake, so once
// the client is connected a send reaches it: one check, no polling, which
// keeps that guarantee tested.
func waitRegistered(t *testing.T, st *emulator.Stack, hub, id string) {
	t.Helper()
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := rc.ConnectionExists(context.Background(), hub, id)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("connection %s is connected but not registered with the service", id)
	}
}

func isTarget(target string) func(client.Event) bool {
	return func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Type == protocol.TypeInvocation && ev.Message.Target == target
	}
}

func isState(s client.State) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Kind == client.EventState && ev.State == s }
}

func TestEmulatorFunctionAppRoundTrip(t *testing.T) {
	st := startStack(t)
	alice := dial(t, client.Options{URL: st.FunctionsURL, UserID: "alice"})
	bob := dial(t, client.Options{URL: st.FunctionsURL, UserID: "bob"})
	ev := await(t, alice, "connected", isState(client.Connected))
	if ev.Transport != protocol.TransportWebSockets || ev.ConnectionID == "" {
		t.Errorf("connected = %+v", ev)
	}
	if alice.Hub() != "chat" {
		t.Errorf("hub = %q", alice.Hub())
	}
	waitRegistered(t, st, "chat", ev.ConnectionID)
	waitRegistered(t, st, "chat", await(t, bob, "connected", isState(client.Connected)).ConnectionID)

	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := fa.Send(ctx, "", manage.SignalR(protocol.SignalRMessage{Target: "toAlice", Arguments: []byte(`["hi",1]`), UserID: "alice"})); err != nil {
		t.Fatal(err)
	}
	ev = await(t, alice, "toAlice", isTarget("toAlice"))
	if string(ev.Message.Arguments) != `["hi",1]` {
		t.Errorf("arguments = %s", ev.Message.Arguments)
	}
	if r, _ := ev.Message.Header("route"); r != "user:alice" {
		t.Errorf("route = %q", r)
	}

	// A group: bob joins, a group send reaches bob only.
	if _, err := fa.Group(ctx, "", protocol.SignalRGroupAction{Action: "add", GroupName: "room", UserID: "bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.Send(ctx, "", manage.Chat(protocol.ChatMessage{Sender: "carol", Text: "hello room", GroupName: "room"})); err != nil {
		t.Fatal(err)
	}
	ev = await(t, bob, "newMessage", isTarget("newMessage"))
	if !strings.Contains(string(ev.Message.Arguments), `"hello room"`) {
		t.Errorf("chat body = %s", ev.Message.Arguments)
	}
	// A broadcast reaches alice; nothing from the group send came first.
	if _, err := fa.Send(ctx, "", manage.SignalR(protocol.SignalRMessage{Target: "all", Arguments: []byte(`[]`)})); err != nil {
		t.Fatal(err)
	}
	ev = await(t, alice, "a message", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Type == protocol.TypeInvocation
	})
	if ev.Message.Target != "all" {
		t.Errorf("alice got %q before the broadcast", ev.Message.Target)
	}
}

func TestEmulatorConnectionStringAndREST(t *testing.T) {
	st := startStack(t)
	access, err := manage.ConnectionStringAccess(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, client.Options{Access: access, UserID: "dave"})
	ev := await(t, c, "connected", isState(client.Connected))
	waitRegistered(t, st, "chat", ev.ConnectionID)
	if c.Hub() != "chat" {
		t.Errorf("hub = %q, want the default chat", c.Hub())
	}
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := rc.SendToUser(ctx, "chat", "dave", "direct", []byte(`[true]`)); err != nil {
		t.Fatal(err)
	}
	await(t, c, "direct", isTarget("direct"))

	// The service closes the connection with allowReconnect; the client
	// reconnects with a new connection id.
	if err := rc.CloseConnection(ctx, "chat", ev.ConnectionID, "maintenance"); err != nil {
		t.Fatal(err)
	}
	cl := await(t, c, "close message", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Type == protocol.TypeClose
	})
	if !cl.Message.AllowReconnect {
		t.Errorf("close = %+v", cl.Message)
	}
	await(t, c, "reconnecting", isState(client.Reconnecting))
	again := await(t, c, "connected", isState(client.Connected))
	if again.ConnectionID == ev.ConnectionID {
		t.Errorf("reconnected with the same connection id %q", again.ConnectionID)
	}
	waitRegistered(t, st, "chat", again.ConnectionID)
	if err := rc.SendToUser(ctx, "chat", "dave", "afterReconnect", nil); err != nil {
		t.Fatal(err)
	}
	await(t, c, "afterReconnect", isTarget("afterReconnect"))
}

func TestEmulatorShutdownEndsConnection(t *testing.T) {
	st := startStack(t)
	c := dial(t, client.Options{URL: st.FunctionsURL, UserID: "erin"})
	await(t, c, "connected", isState(client.Connected))
	st.Close()
	// The emulator closes with allowReconnect; the reconnect finds nothing
	// listening and the one-delay policy gives up.
	last := client.Event{}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for done := false; !done; {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				done = true
				break
			}
			last = ev
		case <-timer.C:
			t.Fatal("events not closed within 10 s")
		}
	}
	if last.State != client.Disconnected || last.Err == nil {
		t.Fatalf("last = %+v", last)
	}
}

// TestEmulatorEachTransport runs a whole hub connection over each
// transport the emulator offers, chosen with Options.Transports, one after
// the other on the same stack.
func TestEmulatorEachTransport(t *testing.T) {
	st := startStack(t)
	for _, tr := range []string{protocol.TransportWebSockets, protocol.TransportServerSentEvents, protocol.TransportLongPolling} {
		t.Run(tr, func(t *testing.T) {
			rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
			if err != nil {
				t.Fatal(err)
			}
			user := "u-" + strings.ToLower(tr)
			c := dial(t, client.Options{URL: st.FunctionsURL, UserID: user, Transports: []string{tr}})
			ev := await(t, c, "connected", isState(client.Connected))
			if ev.Transport != tr || c.Transport() != tr {
				t.Fatalf("transport = %q / %q, want %q", ev.Transport, c.Transport(), tr)
			}
			waitRegistered(t, st, "chat", ev.ConnectionID)
			for i := range 3 {
				if err := rc.SendToUser(context.Background(), "chat", user, "n", []byte(`[`+string(rune('0'+i))+`]`)); err != nil {
					t.Fatal(err)
				}
				got := await(t, c, "n", isTarget("n"))
				if want := `[` + string(rune('0'+i)) + `]`; string(got.Message.Arguments) != want {
					t.Fatalf("arguments = %s, want %s", got.Message.Arguments, want)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
