package client

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// statefulFake is a fakeHub that offers stateful reconnect and hands each
// WebSocket, numbered from 1, to script.
func statefulFake(t *testing.T, script func(ctx context.Context, n int, c *websocket.Conn)) *fakeHub {
	var mu sync.Mutex
	n := 0
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		script(ctx, i, c)
	})
	f.negotiate = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"connectionId":"c` + itoa(int(f.negotiates.Load())) + `","connectionToken":"t","negotiateVersion":1,"useStatefulReconnect":true,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`))
	}
	return f
}

// statefulHandshake answers a version 2 handshake, then writes more.
func statefulHandshake(t *testing.T, ctx context.Context, c *websocket.Conn, more string) bool {
	_, p, err := c.Read(ctx)
	if err != nil {
		return false
	}
	if string(p) != "{\"protocol\":\"json\",\"version\":2}\x1e" {
		t.Errorf("server: handshake = %q, want version 2", p)
		return false
	}
	return c.Write(ctx, websocket.MessageText, []byte("{}\x1e"+more)) == nil
}

// TestResumeAcksAtOnce: on a resume the client's first message is its
// Sequence and, right after it, an Ack of everything it delivered before
// the drop, rather than waiting for its next Ack tick (1 s by default).
func TestResumeAcksAtOnce(t *testing.T) {
	first := make(chan string, 1)
	f := statefulFake(t, func(ctx context.Context, n int, c *websocket.Conn) {
		switch n {
		case 1:
			inv := `{"type":1,"target":"t","arguments":[]}` + "\x1e"
			// Three messages, then the network drops (no close frame).
			statefulHandshake(t, ctx, c, inv+inv+`{"type":6}`+"\x1e"+inv)
		case 2:
			_, p, err := c.Read(ctx)
			if err == nil {
				first <- string(p)
			}
			drain(ctx, c, nil)
		}
	})
	o := testOptions(f.URL())
	o.StatefulReconnect = true
	c := startConn(t, o)
	for range 3 {
		nextMessage(t, c)
	}
	if ev := expectState(t, c, Connected); !ev.Resumed {
		t.Fatalf("state %+v, want a resume", ev)
	}
	select {
	case got := <-first:
		if want := `{"type":9,"sequenceId":1}` + "\x1e" + `{"type":8,"sequenceId":3}` + "\x1e"; got != want {
			t.Fatalf("first message on the resumed socket %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the resumed socket got nothing")
	}
}

// TestIdleResumesGiveUp: a server that drops every resumed socket before
// sending anything gets resumes that wait longer each time, and after
// maxIdleResumes of them a full reconnect whose state event says why.
func TestIdleResumesGiveUp(t *testing.T) {
	var mu sync.Mutex
	var resumedAt []time.Time
	f := statefulFake(t, func(ctx context.Context, n int, c *websocket.Conn) {
		switch {
		case n == 1:
			statefulHandshake(t, ctx, c, "") // then drop at once
		case n <= 1+maxIdleResumes:
			mu.Lock()
			resumedAt = append(resumedAt, time.Now())
			mu.Unlock()
			_, p, err := c.Read(ctx)
			if err == nil && !strings.HasPrefix(string(p), `{"type":9,`) {
				t.Errorf("resume %d began with %q, want a Sequence", n-1, p)
			}
		default:
			if statefulHandshake(t, ctx, c, "") {
				drain(ctx, c, nil)
			}
		}
	})
	o := testOptions(f.URL())
	o.StatefulReconnect = true
	o.Reconnect = Backoff{Delays: []time.Duration{0}}
	c := startConn(t, o)
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	var ev Event
	for ev = nextState(t, c); ev.State == Connected && ev.Resumed; ev = nextState(t, c) {
	}
	if ev.State != Reconnecting || ev.Err == nil || !strings.Contains(ev.Err.Error(), "gave up after 5 resumes in a row that brought nothing new") {
		t.Fatalf("state %s (%v), want Reconnecting saying the resumes brought nothing", ev.State, ev.Err)
	}
	if ev := expectState(t, c, Connected); ev.Resumed || ev.ConnectionID != "c2" {
		t.Fatalf("after giving up: %+v, want a new connection", ev)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(resumedAt) != maxIdleResumes || f.negotiates.Load() != 2 {
		t.Fatalf("%d resumes and %d negotiates, want %d and 2", len(resumedAt), f.negotiates.Load(), maxIdleResumes)
	}
	for i := 1; i < len(resumedAt); i++ {
		if gap, least := resumedAt[i].Sub(resumedAt[i-1]), idleResumeDelay<<(i-1); gap < least {
			t.Fatalf("resume %d came %s after the one before, want at least %s", i+1, gap, least)
		}
	}
}

// TestReadLimitNotResumed: a message over the read limit on a stateful
// connection is not resumed (the server would replay the same message):
// the client reconnects at once, saying why.
func TestReadLimitNotResumed(t *testing.T) {
	f := statefulFake(t, func(ctx context.Context, n int, c *websocket.Conn) {
		more := ""
		if n == 1 {
			more = `{"type":1,"target":"big","arguments":["` + strings.Repeat("x", 8<<10) + `"]}` + "\x1e"
		}
		if statefulHandshake(t, ctx, c, "") && more != "" {
			_ = c.Write(ctx, websocket.MessageText, []byte(more))
		}
		drain(ctx, c, nil)
	})
	o := testOptions(f.URL())
	o.StatefulReconnect = true
	o.ReadLimit = 4 << 10
	o.Reconnect = Backoff{Delays: []time.Duration{0}}
	c := startConn(t, o)
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	ev := nextState(t, c)
	if ev.State != Reconnecting || ev.Err == nil || !strings.Contains(ev.Err.Error(), "not resuming") || !strings.Contains(ev.Err.Error(), "read limit") {
		t.Fatalf("state %s (%v), want Reconnecting saying a message exceeded the read limit", ev.State, ev.Err)
	}
	if ev := expectState(t, c, Connected); ev.Resumed || ev.ConnectionID != "c2" {
		t.Fatalf("after the read limit: %+v, want a new connection", ev)
	}
	if n := f.connects.Load(); n != 2 {
		t.Fatalf("%d WebSockets, want 2 (no resume)", n)
	}
}

// TestReadRecordsSurviveAFailedResume: records the reader has already
// read when the server closes the socket are delivered, even though the
// dispatcher is behind and the resume that follows fails (the server has
// forgotten the connection: 404). The resume must not start dropping what
// arrives before the server's Sequence while those records still wait,
// since no replay will bring them back.
func TestReadRecordsSurviveAFailedResume(t *testing.T) {
	const n = 200
	dispatching := make(chan struct{}) // the dispatcher holds the first record
	f := statefulFake(t, func(ctx context.Context, i int, c *websocket.Conn) {
		if i != 1 || !statefulHandshake(t, ctx, c, "") {
			return
		}
		var b strings.Builder
		for k := range n {
			b.WriteString(`{"type":1,"target":"t","arguments":[` + itoa(k) + `]}` + "\x1e")
		}
		if c.Write(ctx, websocket.MessageText, []byte(b.String())) != nil {
			return
		}
		select {
		case <-dispatching:
		case <-ctx.Done():
			return
		}
		// A server that gives up on the client, as the service does after
		// its client timeout.
		_ = c.Close(websocket.StatusNormalClosure, "")
	})
	f.refuse = func(n int32) int {
		if n > 1 {
			return http.StatusNotFound
		}
		return 0
	}
	o := testOptions(f.URL())
	o.StatefulReconnect = true
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// The dispatcher stays on the first record until the reader has met
	// the close, which comes only then, and is resuming: either it waits
	// for the dispatcher (its settle marker is queued), or it has already
	// dialled again.
	resuming := func() bool {
		if f.connects.Load() > 1 {
			return true
		}
		c.mu.Lock()
		s := c.sess
		c.mu.Unlock()
		if s == nil {
			return false
		}
		s.q.mu.Lock()
		defer s.q.mu.Unlock()
		for _, r := range s.q.recs {
			if r.settled != nil {
				return true
			}
		}
		return false
	}
	var once sync.Once
	c.On("t", func(Event) {
		once.Do(func() {
			close(dispatching)
			deadline := time.Now().Add(10 * time.Second)
			for !resuming() {
				if time.Now().After(deadline) {
					t.Error("the reader never started resuming")
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		ev := next(t, c)
		if ev.Kind == EventMessage && ev.Message.Target == "t" {
			got++
			continue
		}
		if ev.Kind == EventState && ev.State == Disconnected {
			break
		}
	}
	if got != n {
		t.Fatalf("%d of the %d messages read before the close were delivered", got, n)
	}
	if f.connects.Load() < 2 {
		t.Fatal("the client did not try to resume")
	}
}

// TestReplyWaitsWithoutStallingDelivery: on a stateful connection whose
// send buffer is full, the answer to a server invocation that expects a
// result cannot go until the server acknowledges something, and only the
// dispatcher processes that Ack. Messages behind the invocation are still
// delivered, and the answer goes once the Ack has made room.
func TestReplyWaitsWithoutStallingDelivery(t *testing.T) {
	ackNow := make(chan struct{})
	completion := make(chan string, 1)
	f := statefulFake(t, func(ctx context.Context, n int, c *websocket.Conn) {
		if n != 1 || !statefulHandshake(t, ctx, c, "") {
			return
		}
		read := func(want string) (found string) {
			eachRecord(ctx, c, func(rec string) bool {
				if strings.Contains(rec, want) {
					found = rec
				}
				return found == ""
			})
			return found
		}
		if read(`"fill"`) == "" {
			return
		}
		// The client's buffer is full now, and stays so: no Ack yet.
		msgs := `{"type":1,"invocationId":"7","target":"q","arguments":[]}` + "\x1e" + `{"type":1,"target":"after","arguments":[]}` + "\x1e"
		if c.Write(ctx, websocket.MessageText, []byte(msgs)) != nil {
			return
		}
		select {
		case <-ackNow:
		case <-ctx.Done():
			return
		}
		if c.Write(ctx, websocket.MessageText, []byte(`{"type":8,"sequenceId":1}`+"\x1e")) != nil {
			return
		}
		completion <- read(`"type":3`)
		drain(ctx, c, nil)
	})
	var acking sync.Once
	sendAck := func() { acking.Do(func() { close(ackNow) }) }
	t.Cleanup(sendAck) // before the fake hub waits for its handlers
	o := testOptions(f.URL())
	o.StatefulReconnect = true
	o.StatefulBufferSize = 100
	c := startConn(t, o)
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Send(ctx, "fill", []byte(`["`+strings.Repeat("x", 200)+`"]`)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"q", "after"} {
		if ev := nextMessage(t, c); ev.Message.Target != want {
			t.Fatalf("got %+v, want %s", ev, want)
		}
	}
	sendAck()
	select {
	case rec := <-completion:
		if !strings.Contains(rec, `"invocationId":"7"`) || !strings.Contains(rec, "Client didn't provide a result.") {
			t.Fatalf("answer %q", rec)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the answer did not go after the Ack made room")
	}
}
