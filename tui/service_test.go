package tui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// fakeInspector serves a hub state the test changes and a trace the test
// feeds; each Trace call ends when the test closes its stream.
type fakeInspector struct {
	mu     sync.Mutex
	state  protocol.HubState
	reads  int
	events chan protocol.TraceEvent
	traces int
}

func (f *fakeInspector) Hubs(context.Context) ([]protocol.HubSummary, error) {
	return []protocol.HubSummary{{Name: "chat"}}, nil
}

func (f *fakeInspector) HubState(context.Context, string) (protocol.HubState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.state, nil
}

func (f *fakeInspector) Trace(ctx context.Context, fn func(protocol.TraceEvent) error) error {
	f.mu.Lock()
	f.traces++
	ch := f.events
	f.mu.Unlock()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return manage.ErrTraceEnded
			}
			if err := fn(e); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *fakeInspector) setUsers(users ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = protocol.HubState{Hub: "chat"}
	for _, u := range users {
		f.state.Connections = append(f.state.Connections, protocol.ConnectionState{ID: "id-" + u, User: u, Transport: "WebSockets"})
	}
}

// nextBatch runs v's Next until a batch satisfies ok.
func nextBatch(t *testing.T, v *ServiceView, ok func(serviceBatch) bool) serviceBatch {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		got := make(chan tea.Msg, 1)
		go func() { got <- v.Next()() }()
		select {
		case msg := <-got:
			b, isBatch := msg.(serviceMsg)
			if !isBatch {
				t.Fatalf("Next gave %T", msg)
			}
			if ok(serviceBatch(b)) {
				return serviceBatch(b)
			}
		case <-deadline:
			t.Fatal("timed out waiting for the service view")
		}
	}
}

// TestServiceView: the view finds the inspector, reads the state, streams
// the trace, reads the state at once after a membership change (its
// regular reading is an hour away here), starts the trace again when the
// stream ends, and Stop ends it all.
func TestServiceView(t *testing.T) {
	ins := &fakeInspector{events: make(chan protocol.TraceEvent, 16)}
	ins.setUsers("alice")
	v := NewServiceView(context.Background(), func(context.Context) (ServiceFound, error) {
		return ServiceFound{Inspector: ins, From: "test key"}, nil
	}, time.Hour)
	b := nextBatch(t, v, func(b serviceBatch) bool { return b.hasState })
	if !b.found && b.from != "" {
		t.Fatalf("batch %+v", b)
	}
	if len(b.states) != 1 || len(b.states[0].Connections) != 1 {
		t.Fatalf("state %+v", b.states)
	}
	ins.setUsers("alice", "bob")
	ins.events <- protocol.TraceEvent{Kind: protocol.TraceConnected, ConnectionID: "id-bob", User: "bob"}
	b = nextBatch(t, v, func(b serviceBatch) bool { return b.hasState && len(b.states[0].Connections) == 2 })
	// The event may come in this batch or the one before.
	ins.mu.Lock()
	old := ins.events
	ins.events = make(chan protocol.TraceEvent, 16)
	ins.mu.Unlock()
	close(old) // the stream ends: the view says so and starts it again
	nextBatch(t, v, func(b serviceBatch) bool { return strings.Contains(b.traceErr, "ended") })
	ins.events <- protocol.TraceEvent{Kind: protocol.TraceDelivered, Target: "x"}
	nextBatch(t, v, func(b serviceBatch) bool { return len(b.events) > 0 && b.events[len(b.events)-1].Target == "x" })
	v.Stop()
	if msg := v.Next()(); msg != nil {
		t.Fatalf("Next after Stop gave %T", msg)
	}
	ins.mu.Lock()
	defer ins.mu.Unlock()
	if ins.traces < 2 {
		t.Fatalf("the trace was started %d times, want again after it ended", ins.traces)
	}
}

// TestServiceViewNotFound: without a view, the batch says why, and the
// screen keeps its own bookkeeping and says so.
func TestServiceViewNotFound(t *testing.T) {
	v := NewServiceView(context.Background(), func(context.Context) (ServiceFound, error) {
		return ServiceFound{}, errors.New("no access key for http://127.0.0.1:8888")
	}, 0)
	defer v.Stop()
	b := nextBatch(t, v, func(b serviceBatch) bool { return b.found })
	m := newLiveModel(100, 30, Config{})
	m.Update(serviceMsg(b))
	out := ansi.Strip(m.View().Content)
	if !strings.Contains(out, "GROUPS as joined here") || !strings.Contains(out, "no live view from the service") {
		t.Fatalf("without a view:\n%s", out)
	}
	m.Update(press("e"))
	if out := ansi.Strip(m.View().Content); !strings.Contains(out, "no view from the service: no access key for http://127.0.0.1:8888") {
		t.Fatalf("trace pane without a view:\n%s", out)
	}
}

// liveBatch is the service's view of the live session: our three
// connections, dave's, carol's membership of devs waiting for a
// connection, and Bob's of ops (no one by that name is connected).
func liveBatch() serviceBatch {
	conn := func(id, user string, groups ...string) protocol.ConnectionState {
		return protocol.ConnectionState{ID: id, User: user, Transport: "WebSockets", Protocol: "json", Groups: append([]string{}, groups...), ConnectedSince: t0}
	}
	n0, n2, n3 := 0, 2, 3
	lat := 12.5
	return serviceBatch{found: true, from: "http://127.0.0.1:8888, the demo's key", hasState: true, states: []protocol.HubState{{
		Hub: "chat", Time: t0,
		Connections: []protocol.ConnectionState{conn("id-alice", "alice"), conn("id-bob", "bob", "devs"), conn("id-alice-2", "alice"),
			conn("id-dave", "dave", "devs"), conn("id-x", "")},
		Groups: []protocol.GroupState{{Name: "devs", Connections: []string{"id-bob", "id-dave"}, Users: []string{"bob", "carol"}},
			{Name: "ops", Connections: []string{}, Users: []string{"Bob"}}},
	}}, events: []protocol.TraceEvent{
		{Time: t0.Add(time.Second), Kind: protocol.TraceConnected, Hub: "chat", ConnectionID: "id-bob", User: "bob", Transport: "WebSockets", Protocol: "json"},
		{Time: t0.Add(2 * time.Second), Kind: protocol.TraceUpstream, Hub: "chat", URL: "http://127.0.0.1:7071/runtime/webhooks/signalr?code=secret", UpstreamEvent: "broadcast", Category: "messages", Status: 200, LatencyMs: &lat},
		{Time: t0.Add(3 * time.Second), Kind: protocol.TraceDelivered, Hub: "chat", Target: "newMessage", Route: "broadcast", Recipients: &n3},
		{Time: t0.Add(4 * time.Second), Kind: protocol.TraceDelivered, Hub: "chat", Target: "newMessage", Route: "user:Bob", Recipients: &n0, Reason: bobReason},
		{Time: t0.Add(4 * time.Second), Kind: protocol.TraceREST, Hub: "chat", Method: "POST", Path: "/api/hubs/chat/users/Bob/:send", Status: 202, Delivered: &n0},
		{Time: t0.Add(5 * time.Second), Kind: protocol.TraceREST, Hub: "chat", Method: "PUT", Path: "/api/hubs/chat/groups/devs/connections/id-bob", Status: 200, Applied: &n2},
		{Time: t0.Add(6 * time.Second), Kind: protocol.TraceDisconnected, Hub: "chat", ConnectionID: "id-y", User: "erin", Transport: "LongPolling", Reason: "the client closed the connection"},
		{Time: t0.Add(7 * time.Second), Kind: protocol.TraceExpired, Hub: "chat", User: "carol", Group: "ops"},
	}}
}

// TestViewLive goldens the sidebar built from the service's view and the
// trace pane at 80×24 and 200×60.
func TestViewLive(t *testing.T) {
	for _, st := range []struct {
		name string
		keys []string
	}{{"sidebar", nil}, {"trace", []string{"e"}}, {"token", []string{"tab", "down", "t"}}} {
		for _, sz := range []struct{ w, h int }{{80, 24}, {200, 60}} {
			t.Run(fmt.Sprintf("%s/%dx%d", st.name, sz.w, sz.h), func(t *testing.T) {
				m := newLiveModel(sz.w, sz.h, Config{})
				m.Update(serviceMsg(liveBatch()))
				for _, k := range st.keys {
					m.Update(press(k))
				}
				out := m.View().Content
				checkFrame(t, out, sz.w, sz.h)
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestLiveState: with the service's view, the sidebar marks our
// connections and lists the others, each group says how many connections
// a send reaches and who waits for one, the token inspector's groups are
// the service's, and routes are inferred from the service's groups.
func TestLiveState(t *testing.T) {
	m := newLiveModel(120, 40, Config{})
	m.Update(serviceMsg(liveBatch()))
	side := strings.Join(m.sidebar(32, 30), "\n")
	side = ansi.Strip(side)
	for _, want := range []string{"CONNECTIONS live", "● bob devs", "◦ dave devs", "◦ anon id-x", "devs (2) bob,dave carol", "ops (0) Bob"} {
		if !strings.Contains(side, want) {
			t.Fatalf("sidebar lacks %q:\n%s", want, side)
		}
	}
	if g, from := m.groupsOf(m.roster.conns[1]); strings.Join(g, ",") != "devs" || from != "from the service" {
		t.Fatalf("bob's groups %v %s", g, from)
	}
	// Only bob received it, without a route header: devs has bob and
	// dave, so it is not devs but bob's own.
	feed(m, []Event{msgEv(40*time.Second, "bob@chat", "ping", `[1]`, "")})
	e := m.stream.selected()
	if rt, inferred := m.routing.routeOf(e); rt != "user:bob" || !inferred {
		t.Fatalf("route %q inferred %v", rt, inferred)
	}
}

// TestFlowEmulatorSendToBob runs the screen on the real emulator, as
// alice and bob, with the service's live view: a send to user Bob (wrong
// case) shows as an undelivered row of the routing matrix with the
// emulator's reason, the sidebar is the service's view, and the trace
// pane shows the delivery to 0 connections.
func TestFlowEmulatorSendToBob(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	st, err := emulator.StartStack(ctx, emulator.StackOptions{ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cs, err := protocol.ParseConnectionString(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sess := NewClientSession(client.Options{URL: st.FunctionsURL, Logger: quiet})
	f := NewFeed(sess.Conns(), 0, 0)
	view := NewServiceView(ctx, func(context.Context) (ServiceFound, error) {
		ins := &ClientInspector{Inspect: manage.Inspect{Endpoint: st.ServiceURL, AccessKey: cs.AccessKey}}
		return ServiceFound{Inspector: ins, From: "test", AccessKey: cs.AccessKey}, nil
	}, 100*time.Millisecond)
	t.Cleanup(func() {
		_ = sess.Close()
		f.Stop()
		view.Stop()
	})
	for _, u := range []string{"alice", "bob"} {
		if err := sess.Open(ctx, ConnSpec{Hub: "chat", User: u}); err != nil {
			t.Fatal(err)
		}
	}
	// No AccessKey: the one the service accepted checks the tokens.
	m := New(Config{Context: ctx, Session: sess, Sender: &ClientSender{Via: fa}, Feed: f, Service: view, URL: st.FunctionsURL,
		Hub: "chat", Location: time.UTC, As: "alice"})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(200, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	fl := &flow{t: t, tm: tm}
	fl.waitText("bob WS")

	fl.sendToBob()
	fl.keys("e")
	fl.waitText("user:Bob 0 connections")
	got := fl.quit()
	d := got.routing.recent.newest(0)
	for k := 0; d != nil && !d.undelivered; k++ {
		d = got.routing.recent.newest(k)
	}
	if d == nil || d.route != "user:Bob" || !strings.Contains(d.reason, "no connection for user 'Bob'") || !strings.Contains(d.reason, "bob") {
		t.Fatalf("undelivered row %+v", d)
	}
	if !got.roster.live.known || len(got.roster.live.states) != 1 || len(got.roster.live.states[0].Connections) != 2 {
		t.Fatalf("live state %+v", got.roster.live)
	}
	for _, c := range got.roster.conns {
		if c.claims == nil || c.sigErr != "" || got.roster.key != cs.AccessKey {
			t.Fatalf("%s: token not checked with the service's key (%q)", c.label, c.sigErr)
		}
	}
}
