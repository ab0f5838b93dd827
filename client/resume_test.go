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
