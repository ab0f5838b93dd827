package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/protocol"
)

// TestWatchdogFiresOncePastTheLimit drives the checks with chosen times:
// only a write in progress for the whole limit is aborted, and once.
func TestWatchdogFiresOncePastTheLimit(t *testing.T) {
	d := newWatchdog(time.Second)
	aborts := make(chan struct{}, 4)
	w := d.watch(func() { aborts <- struct{}{} })
	idle := d.watch(func() { t.Error("a writer with no write in progress was aborted") })
	defer d.unwatch(idle)

	start := w.begin()
	d.check(start + int64(time.Second) - 1)
	d.check(start + int64(time.Second))
	d.check(start + int64(time.Hour))
	d.aborts.Wait()
	if n := len(aborts); n != 1 {
		t.Fatalf("%d aborts, want 1", n)
	}
	w.end(nil)
	if w.since.Load() != 0 {
		t.Fatal("the write is still marked in progress")
	}

	// A write that ended in time is never aborted.
	w2 := d.watch(func() { t.Error("a write that ended was aborted") })
	s := w2.begin()
	if err := w2.end(errors.New("x")); err.Error() != "x" {
		t.Fatalf("error %v", err)
	}
	d.check(s + int64(time.Hour))
	d.unwatch(w)
	d.unwatch(w2)
	d.aborts.Wait()
	if len(d.writers) != 1 {
		t.Fatalf("%d writers left, want 1", len(d.writers))
	}
}

// stall fills the connection of a client that stopped reading with
// 64 KiB messages until the service drops it. The queue is far larger
// than what fits in the socket buffers, so only a stalled write can end
// the connection.
func stall(t *testing.T, st *Stack, gone func() bool) {
	t.Helper()
	payload := []byte(`["` + strings.Repeat("x", 64<<10) + `"]`)
	for i := 0; i < 1000 && !gone(); i++ {
		st.Service.deliver(st.Service.recipients("chat", toAll, "", nil), "big", payload, "broadcast")
		if i%50 == 49 {
			time.Sleep(10 * time.Millisecond) // let the writer reach the stall
		}
	}
	waitFor(t, gone)
}

// TestStalledWriteIsClosed: a WebSocket client that stops reading is
// closed once a write makes no progress for WriteTimeout, with a reason
// that says so, well before its queue fills.
func TestStalledWriteIsClosed(t *testing.T) {
	var logs syncbuf.Buffer
	st := startStack(t, func(o *StackOptions) {
		o.Service.QueueSize = 1 << 20
		o.Service.WriteTimeout = 200 * time.Millisecond
		o.Logger = newBufferLogger(&logs)
	})
	ws, n := dialWS(t, st, "chat", "sleepy")
	if err := ws.Write(ctxT(t), websocket.MessageText, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.Service.exists("chat", toConn, n.ConnectionID) })
	stall(t, st, func() bool { return !st.Service.exists("chat", toConn, n.ConnectionID) })
	waitFor(t, func() bool { return strings.Contains(logs.String(), "client disconnected") })
	out := logs.String()
	if !strings.Contains(out, "write failed: the client took no data for 200ms") || strings.Contains(out, "outgoing queue is full") {
		t.Fatalf("logs:\n%s", out)
	}
}

// TestStalledSSEWriteIsClosed: the same for a Server-Sent Events stream.
func TestStalledSSEWriteIsClosed(t *testing.T) {
	var logs syncbuf.Buffer
	st := startStack(t, func(o *StackOptions) {
		o.Service.QueueSize = 1 << 20
		o.Service.WriteTimeout = 200 * time.Millisecond
		o.Logger = newBufferLogger(&logs)
	})
	n := negotiate(t, st, "chat", "drowsy")
	u := st.ServiceURL + "/client/?hub=chat&id=" + n.ConnectionToken
	tok := clientToken(t, st, "chat", "drowsy")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if r, _ := doReq(t, "POST", u, tok, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1}), nil); r.StatusCode != 200 {
		t.Fatalf("handshake POST: %d", r.StatusCode)
	}
	waitFor(t, func() bool { return st.Service.exists("chat", toConn, n.ConnectionID) })
	stall(t, st, func() bool { return !st.Service.exists("chat", toConn, n.ConnectionID) })
	waitFor(t, func() bool { return strings.Contains(logs.String(), "client disconnected") })
	if out := logs.String(); !strings.Contains(out, "write failed: the client took no data for 200ms") || strings.Contains(out, "outgoing queue is full") {
		t.Fatalf("logs:\n%s", out)
	}
}

// TestStalledStatefulWriteKeepsTheConnection: on a stateful connection a
// stalled write ends only the socket; the connection waits for a resume.
func TestStalledStatefulWriteKeepsTheConnection(t *testing.T) {
	var logs syncbuf.Buffer
	st := startStack(t, func(o *StackOptions) {
		o.Service.QueueSize = 1 << 20
		o.Service.StatefulReconnectBufferSize = 1 << 30
		o.Service.WriteTimeout = 200 * time.Millisecond
		o.Logger = newBufferLogger(&logs)
	})
	n, _ := negotiateStateful(t, st, "chat", "dozy", true)
	ws, _, err := websocket.Dial(ctxT(t), st.wsURL("chat", n.ConnectionToken), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + clientToken(t, st, "chat", "dozy")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctxT(t), websocket.MessageText, []byte(hs(2))); err != nil {
		t.Fatal(err)
	}
	if _, data, err := ws.Read(ctxT(t)); err != nil || string(data) != "{}\x1e" {
		t.Fatalf("handshake answer %q, %v", data, err)
	}
	detached := func() bool {
		st.Service.mu.Lock()
		defer st.Service.mu.Unlock()
		c := st.Service.tokens[n.ConnectionToken]
		return c != nil && c.detached
	}
	stall(t, st, detached)
	if !st.Service.exists("chat", toConn, n.ConnectionID) {
		t.Fatalf("the connection is gone; logs:\n%s", logs.String())
	}
	if out := logs.String(); !strings.Contains(out, "keeping the connection for a resume") || !strings.Contains(out, `reason="write failed: the client took no data for 200ms"`) {
		t.Fatalf("logs:\n%s", logs.String())
	}
}
