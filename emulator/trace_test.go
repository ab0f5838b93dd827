package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// traceReader follows the live trace in the background.
type traceReader struct {
	events chan protocol.TraceEvent
	ended  chan struct{} // closed when Trace returned, with err
	err    error
}

// startTrace subscribes to st's trace (hub "" for all) and returns once
// the service counts the subscriber.
func startTrace(t *testing.T, st *Stack, hub string) *traceReader {
	t.Helper()
	before := st.Service.trace.n.Load()
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traceReader{events: make(chan protocol.TraceEvent, 1024), ended: make(chan struct{})}
	go func() {
		defer close(tr.ended)
		tr.err = manage.Trace(ctx, inspectOf(st), hub, func(e protocol.TraceEvent) error {
			tr.events <- e
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-tr.ended })
	waitFor(t, func() bool { return st.Service.trace.n.Load() > before })
	return tr
}

// next waits for the next event; events that came before the trace
// ended are still taken.
func (tr *traceReader) next(t *testing.T) protocol.TraceEvent {
	t.Helper()
	select {
	case e := <-tr.events:
		return e
	case <-tr.ended:
		select {
		case e := <-tr.events:
			return e
		default:
		}
		t.Fatalf("the trace ended: %v", tr.err)
	case <-time.After(5 * time.Second):
		t.Fatal("no trace event within 5 s")
	}
	return protocol.TraceEvent{}
}

// serviceAlone runs the service without upstream: no upstream call
// comes between the events a test expects in order.
func serviceAlone(o *StackOptions) { o.ServiceOnly = true }

func ip(p *int) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// TestTraceOrder follows one connection's life in the trace: connected,
// then a send's delivery and its REST call, then disconnected with the
// reason.
func TestTraceOrder(t *testing.T) {
	st := startStack(t, serviceAlone)
	tr := startTrace(t, st, "")
	alice := connectWS(t, st, "Chat", "alice")
	if err := restClient(t, st).SendToUser(ctxT(t), "chat", "alice", "hello", nil); err != nil {
		t.Fatal(err)
	}
	alice.expectInvocation("hello", "user:alice")
	if err := restClient(t, st).SendToUser(ctxT(t), "chat", "Alice", "hello", nil); err != nil {
		t.Fatal(err)
	}
	// A close handshake, from the client.
	_ = alice.ws.Close(websocket.StatusNormalClosure, "bye")
	<-alice.done

	e := tr.next(t)
	if e.Kind != protocol.TraceConnected || e.Hub != "chat" || e.ConnectionID != alice.id || e.User != "alice" || e.Transport != "WebSockets" || e.Protocol != "json" || e.Time.IsZero() {
		t.Fatalf("first event %+v, want connected", e)
	}
	e = tr.next(t)
	if e.Kind != protocol.TraceDelivered || e.Target != "hello" || e.Route != "user:alice" || ip(e.Recipients) != "1" || e.Reason != "" {
		t.Fatalf("second event %+v, want delivered", e)
	}
	e = tr.next(t)
	if e.Kind != protocol.TraceREST || e.Method != "POST" || e.Path != "/api/hubs/chat/users/alice/:send" || e.Status != 202 || ip(e.Delivered) != "1" || e.Hub != "chat" {
		t.Fatalf("third event %+v, want the REST call", e)
	}
	e = tr.next(t)
	if e.Kind != protocol.TraceDelivered || e.Route != "user:Alice" || ip(e.Recipients) != "0" || !strings.HasPrefix(e.Reason, "no connection for user 'Alice'; user ids are case-sensitive") {
		t.Fatalf("fourth event %+v, want delivered to 0 with the reason", e)
	}
	if e = tr.next(t); e.Kind != protocol.TraceREST || ip(e.Delivered) != "0" {
		t.Fatalf("fifth event %+v, want the REST call", e)
	}
	e = tr.next(t)
	if e.Kind != protocol.TraceDisconnected || e.ConnectionID != alice.id || e.Reason != "client closed the connection" {
		t.Fatalf("last event %+v, want disconnected", e)
	}
}

// TestTraceHubFilter checks that ?hub= keeps one hub's events, whatever
// the case of its name.
func TestTraceHubFilter(t *testing.T) {
	st := startStack(t, serviceAlone)
	tr := startTrace(t, st, "News")
	connectWS(t, st, "chat", "alice")
	rc := restClient(t, st)
	if err := rc.Broadcast(ctxT(t), "chat", "x", nil); err != nil {
		t.Fatal(err)
	}
	connectWS(t, st, "NEWS", "bob")
	if err := rc.AddUserToGroup(ctxT(t), "news", "g", "Bob", time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{protocol.TraceConnected, protocol.TraceREST} {
		if e := tr.next(t); e.Kind != want || e.Hub != "news" {
			t.Fatalf("event %+v, want %s in hub news", e, want)
		}
	}
	select {
	case e := <-tr.events:
		t.Fatalf("unexpected event %+v", e)
	default:
	}
}

// TestTraceGroupActionAndExpiry checks the REST event of a group action
// (applied, reason) and the event of a membership that runs out.
func TestTraceGroupActionAndExpiry(t *testing.T) {
	var offset atomic.Int64
	st := startStack(t, func(o *StackOptions) {
		o.Service.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		o.Service.SweepInterval = time.Hour
	})
	tr := startTrace(t, st, "")
	if err := restClient(t, st).AddUserToGroup(ctxT(t), "chat", "ops", "Bob", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	e := tr.next(t)
	if e.Kind != protocol.TraceREST || e.Method != "PUT" || e.Status != 200 || ip(e.Applied) != "0" || !strings.HasPrefix(e.Reason, "no connection for user 'Bob'") {
		t.Fatalf("event %+v, want the PUT with applied 0", e)
	}
	offset.Store(int64(11 * time.Second))
	st.Service.sweep()
	if e := tr.next(t); e.Kind != protocol.TraceExpired || e.User != "Bob" || e.Group != "ops" || e.Hub != "chat" {
		t.Fatalf("event %+v, want expired", e)
	}
}

// TestTraceUpstream checks the upstream event, its URL redacted.
func TestTraceUpstream(t *testing.T) {
	st := startStack(t, nil)
	tr := startTrace(t, st, "chat")
	st.Service.traceUpstream(UpstreamCall{Hub: "Chat", Category: "messages", Event: "broadcast",
		URL: "http://127.0.0.1:7071/runtime/webhooks/signalr?code=SECRET", Status: 200, Latency: 1500 * time.Microsecond})
	st.Service.traceUpstream(UpstreamCall{Hub: "chat", Category: "connections", Event: "connected",
		URL: "http://127.0.0.1:1/x", Failure: "error: connection refused."})
	e := tr.next(t)
	if e.Kind != protocol.TraceUpstream || e.URL != "http://127.0.0.1:7071/runtime/webhooks/signalr?code=…" || e.UpstreamEvent != "broadcast" ||
		e.Category != "messages" || e.Status != 200 || e.LatencyMs == nil || *e.LatencyMs != 1.5 {
		t.Fatalf("event %+v", e)
	}
	if e := tr.next(t); e.Status != 0 || e.Error != "error: connection refused." {
		t.Fatalf("event %+v", e)
	}
}

// TestTraceEndsOnClose checks that closing the service ends the stream,
// after the disconnects of its clients.
func TestTraceEndsOnClose(t *testing.T) {
	st := startStack(t, serviceAlone)
	tr := startTrace(t, st, "")
	connectWS(t, st, "chat", "alice")
	if e := tr.next(t); e.Kind != protocol.TraceConnected {
		t.Fatalf("event %+v", e)
	}
	_ = st.Close()
	if e := tr.next(t); e.Kind != protocol.TraceDisconnected || e.Reason != "service shutting down" {
		t.Fatalf("event %+v, want the disconnect", e)
	}
	select {
	case <-tr.ended:
		if !errors.Is(tr.err, manage.ErrTraceEnded) {
			t.Fatalf("trace ended with %v", tr.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the trace did not end with the service")
	}
}

func TestTracerDropsAndCounts(t *testing.T) {
	tr := newTracer()
	sub, ok := tr.subscribe("", 4)
	if !ok {
		t.Fatal("subscribe refused")
	}
	ev := func(i int) *protocol.TraceEvent { return &protocol.TraceEvent{Kind: "x", Target: fmt.Sprint(i)} }
	for i := 1; i <= 6; i++ { // 5 and 6 do not fit
		tr.publish(ev(i))
	}
	take := func() string {
		select {
		case e := <-sub.ch:
			if e.Kind == protocol.TraceDropped {
				return fmt.Sprintf("dropped:%d", e.Count)
			}
			return e.Target
		default:
			return ""
		}
	}
	var got []string
	got = append(got, take(), take()) // room for 2 now
	tr.publish(ev(7))                 // after the marker
	tr.publish(ev(8))                 // no room: dropped
	for s := take(); s != ""; s = take() {
		got = append(got, s)
	}
	if n := sub.takeDropped(); n != 1 {
		t.Fatalf("takeDropped = %d, want 1 (event 8)", n)
	}
	if want := "1 2 3 4 dropped:2 7"; strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if sub.takeDropped() != 0 {
		t.Fatal("the count was not reset")
	}
	tr.unsubscribe(sub)
	if tr.on() {
		t.Fatal("on with no subscriber")
	}
	tr.close()
	if _, ok := tr.subscribe("", 4); ok {
		t.Fatal("subscribed to a closed tracer")
	}
}

// gatedWriter is a ResponseWriter whose writes after the first wait for
// release, as a trace reader that stopped reading.
type gatedWriter struct {
	h       http.Header
	mu      sync.Mutex
	buf     strings.Builder
	writes  int
	blocked chan struct{} // closed when a write starts waiting
	release chan struct{}
}

func (g *gatedWriter) Header() http.Header { return g.h }
func (g *gatedWriter) WriteHeader(int)     {}
func (g *gatedWriter) Flush()              {}
func (g *gatedWriter) Write(b []byte) (int, error) {
	g.mu.Lock()
	g.writes++
	n := g.writes
	g.mu.Unlock()
	if n == 2 {
		close(g.blocked)
		<-g.release
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(b)
}

// TestTraceSlowSubscriber checks that a reader that stops reading never
// holds up publishing: its events past the buffer are dropped, and it is
// told how many, where.
func TestTraceSlowSubscriber(t *testing.T) {
	s := NewService(ServiceOptions{Logger: quietLogger(), TraceBuffer: 4})
	defer s.Close()
	g := &gatedWriter{h: http.Header{}, blocked: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, "GET", protocol.PathTrace, nil)
	served := make(chan struct{})
	go func() { defer close(served); s.serveTrace(g, r) }()
	waitFor(t, s.trace.on)

	ev := func(i int) { s.traceDelivered("chat", fmt.Sprint(i), "broadcast", i, "") }
	ev(1)
	<-g.blocked // the handler took event 1 and is stuck writing it
	const total = 1000
	start := time.Now()
	for i := 2; i <= total; i++ {
		ev(i)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing to a stuck reader took %v", d)
	}
	close(g.release)
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return strings.Contains(g.buf.String(), `"kind":"dropped"`)
	})
	cancel()
	<-served

	var got []string
	for _, line := range strings.Split(g.buf.String(), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var e protocol.TraceEvent
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if e.Kind == protocol.TraceDropped {
			got = append(got, fmt.Sprintf("dropped:%d", e.Count))
		} else {
			got = append(got, e.Target)
		}
	}
	if want := fmt.Sprintf("1 2 3 4 5 dropped:%d", total-5); strings.Join(got, " ") != want {
		t.Fatalf("got %v\nwant %s", got, want)
	}
}

// TestTraceCostsNothingUnwatched checks that, with nobody tracing, the
// delivery path's trace calls allocate nothing.
func TestTraceCostsNothingUnwatched(t *testing.T) {
	s := NewService(ServiceOptions{Logger: quietLogger()})
	defer s.Close()
	r := httptest.NewRequest("POST", "/api/hubs/chat/:send", nil)
	allocs := testing.AllocsPerRun(100, func() {
		s.traceDelivered("chat", "t", "broadcast", 1, "")
		s.traceREST(r, 202, http.Header{})
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per unwatched delivery", allocs)
	}
}

// BenchmarkTraceDelivered is the trace's cost on the delivery path:
// unwatched (one atomic load), and watched by a reader that keeps up.
func BenchmarkTraceDelivered(b *testing.B) {
	s := NewService(ServiceOptions{Logger: quietLogger()})
	defer s.Close()
	b.Run("unwatched", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.traceDelivered("chat", "t", "broadcast", 1, "")
		}
	})
	b.Run("watched", func(b *testing.B) {
		sub, _ := s.trace.subscribe("", 1024)
		defer s.trace.unsubscribe(sub)
		stop := make(chan struct{})
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for {
				select {
				case <-sub.ch:
				case <-stop:
					return
				}
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			s.traceDelivered("chat", "t", "broadcast", 1, "")
		}
		close(stop)
		<-drained
	})
}

// TestTraceUpstreamCalls checks that the upstream's calls, to the stack's
// own function app, are in the trace with their event, status and
// latency.
func TestTraceUpstreamCalls(t *testing.T) {
	st := startStack(t, nil)
	tr := startTrace(t, st, "chat")
	c := connectWS(t, st, "chat", "alice")
	c.invoke("1", "echo", `["hi"]`)
	if m := c.completion("1"); string(m.Result) != `"hi"` {
		t.Fatalf("echo answered %+v", m)
	}
	seen := map[string]protocol.TraceEvent{}
	for len(seen) < 2 {
		if e := tr.next(t); e.Kind == protocol.TraceUpstream {
			seen[e.UpstreamEvent] = e
		}
	}
	for ev, cat := range map[string]string{"connected": "connections", "echo": "messages"} {
		e := seen[ev]
		if e.Category != cat || e.Status != 200 || e.ConnectionID != c.id || e.LatencyMs == nil || *e.LatencyMs <= 0 ||
			!strings.HasSuffix(e.URL, "/runtime/webhooks/signalr") || e.Error != "" {
			t.Errorf("upstream %s: %+v", ev, e)
		}
	}
}
