//go:build unix

package emulator

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/protocol"
)

// TestDirectWrites: a broadcast to idle WebSocket connections is written
// from the sender's loop, JSON as text and MessagePack as binary, at
// every length encoding, and the client reads each whole and in order.
func TestDirectWrites(t *testing.T) {
	st := startStack(t, nil)
	a := connectWS(t, st, "chat", "ann")
	mp := connectMP(t, st, "chat", "bob")
	ca := connOf(t, st, a.id)
	waitFor(t, func() bool { return ca.out.idle() && !ca.wire.Load().owes() })
	for i, n := range []int{0, 100, 200, 70000} {
		args := []byte(`["` + strings.Repeat("y", n) + `",` + strconv.Itoa(i) + `]`)
		if got := st.Service.deliver(st.Service.recipients("chat", toAll, "", nil), "t", args, "broadcast"); got != 2 {
			t.Fatalf("delivered to %d, want 2", got)
		}
		m := a.expectInvocation("t", "broadcast")
		if string(m.Arguments) != string(args) {
			t.Fatalf("message %d: arguments of %d bytes, want %d", i, len(m.Arguments), len(args))
		}
		mm := mp.next(t)
		if mm.Target != "t" || !strings.Contains(string(mm.Arguments), strconv.Itoa(i)+"]") {
			t.Fatalf("MessagePack message %d: %s %.40s", i, mm.Target, mm.Arguments)
		}
	}
	if ca.lastDirect.Load() == 0 {
		t.Fatal("no delivery was written directly")
	}

	// With another fan-out under way the writers take over, which batch.
	ca.lastDirect.Store(0)
	st.Service.delivering.Add(1)
	st.Service.deliver(st.Service.recipients("chat", toAll, "", nil), "queued", []byte(`[]`), "broadcast")
	st.Service.delivering.Add(-1)
	a.expectInvocation("queued", "broadcast")
	if ca.lastDirect.Load() != 0 {
		t.Fatal("a fan-out wrote directly beside another")
	}
}

// smallBufferDialer dials with a small receive buffer, so that the server
// fills a socket with a few KB.
func smallBufferClient() *http.Client {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// dialSmall negotiates and opens a WebSocket with a small receive buffer,
// and shrinks the service's send buffer of it, then handshakes.
func dialSmall(t *testing.T, st *Stack, user string) (*websocket.Conn, *conn) {
	t.Helper()
	tok := clientToken(t, st, "chat", user)
	n, err := tryNegotiate(ctxT(t), st, "chat", tok)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.Dial(ctxT(t), st.wsURL("chat", n.ConnectionToken), &websocket.DialOptions{
		HTTPClient: smallBufferClient(),
		HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	ws.SetReadLimit(-1)
	c := connOf(t, st, n.ConnectionID)
	waitFor(t, func() bool { return c.wire.Load() != nil })
	if err := c.wire.Load().conn.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if err := ws.Write(ctxT(t), websocket.MessageText, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})); err != nil {
		t.Fatal(err)
	}
	if _, data, err := ws.Read(ctxT(t)); err != nil || string(data) != "{}\x1e" {
		t.Fatalf("handshake answer %q, %v", data, err)
	}
	waitFor(t, func() bool { return c.out.idle() })
	return ws, c
}

// TestDirectAndQueuedKeepOrder: with a client that starts reading late and
// small socket buffers, a fan-out's frames go out directly, partly (the
// writer finishes the frame) and through the queue, from two senders at
// once and with the client's pings answered in between: the client reads
// every frame whole and each sender's in order.
func TestDirectAndQueuedKeepOrder(t *testing.T) {
	st := startStack(t, func(o *StackOptions) { o.Service.QueueSize = 1 << 16 })
	ws, c := dialSmall(t, st, "slow")
	const perSender, unpaced = 2000, 100
	pad := strings.Repeat("z", 1000)
	send := func(s, i int, p string) bool {
		args := []byte(`[` + strconv.Itoa(s) + `,` + strconv.Itoa(i) + `,"` + p + `"]`)
		return st.Service.deliver(st.Service.recipients("chat", toConn, c.id, nil), "n", args, "connection") == 1
	}
	// First, alone, more than the socket buffers hold: the socket takes
	// part of it and the writer is left the rest.
	if !send(0, 0, strings.Repeat(pad, 256)) {
		t.Fatal("the first message was not delivered")
	}
	if c.lastDirect.Load() == 0 || c.wire.Load().partials.Load() != 1 {
		t.Fatal("the first message was not written directly, in part")
	}
	// Past the first messages each send waits for the client to read one,
	// so that sends keep coming while the writer drains: the socket
	// empties and fills, and direct writes meet the writer at work.
	read := make(chan struct{}, 2*perSender)
	var wg sync.WaitGroup
	for s := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perSender {
				if s == 0 && i == 0 {
					continue // sent
				}
				if i >= unpaced {
					<-read
				}
				if !send(s, i, pad) {
					t.Errorf("sender %d message %d not delivered", s, i)
					return
				}
			}
		}()
	}
	// The client does not read yet: the messages queue.
	waitFor(t, func() bool { return !c.out.idle() || c.closing() })
	pings := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pingers sync.WaitGroup
	pingers.Add(1)
	go func() {
		defer pingers.Done()
		for ctx.Err() == nil {
			if err := ws.Ping(ctx); err != nil && ctx.Err() == nil {
				pings <- err
				return
			}
		}
	}()
	next := [2]int{}
	var f protocol.Framer
	for next[0] < perSender || next[1] < perSender {
		_, data, err := ws.Read(ctxT(t))
		if err != nil {
			t.Fatalf("read after %v: %v", next, err)
		}
		f.Feed(data)
		for {
			rec, ok, err := f.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			m, err := protocol.ParseMessage(bytes.Clone(rec), protocol.Strict)
			if err != nil {
				t.Fatalf("record %.60q: %v", rec, err)
			}
			if m.Type != protocol.TypeInvocation {
				continue
			}
			var s, i int
			if _, err := fmt.Sscanf(string(m.Arguments), "[%d,%d,", &s, &i); err != nil {
				t.Fatalf("arguments %.40s: %v", m.Arguments, err)
			}
			if i != next[s] {
				t.Fatalf("sender %d: message %d, want %d", s, i, next[s])
			}
			next[s]++
			read <- struct{}{}
		}
	}
	cancel()
	pingers.Wait()
	select {
	case err := <-pings:
		t.Fatalf("ping: %v", err)
	default:
	}
	wg.Wait()
}

// TestStalledReaderDelaysNoOne: a client that stops reading never holds
// up a fan-out: with no write timeout to end it and a queue that never
// fills, the others get every message while its socket stays full.
func TestStalledReaderDelaysNoOne(t *testing.T) {
	st := startStack(t, func(o *StackOptions) {
		o.Service.QueueSize = 1 << 20
		o.Service.WriteTimeout = time.Hour
	})
	_, stalled := dialSmall(t, st, "stalled")
	a := connectWS(t, st, "chat", "ann")
	b := connectWS(t, st, "chat", "bob")
	payload := `"` + strings.Repeat("x", 16<<10) + `"`
	const n = 200
	for i := range n {
		args := []byte(`[` + strconv.Itoa(i) + `,` + payload + `]`)
		if got := st.Service.deliver(st.Service.recipients("chat", toAll, "", nil), "big", args, "broadcast"); got != 3 {
			t.Fatalf("message %d delivered to %d, want 3", i, got)
		}
		for _, c := range []*wsClient{a, b} {
			m := c.expectInvocation("big", "broadcast")
			if !strings.HasPrefix(string(m.Arguments), "["+strconv.Itoa(i)+",") {
				t.Fatalf("message %d: %.20s", i, m.Arguments)
			}
		}
	}
	if stalled.out.idle() {
		t.Fatal("the stalled client's socket took everything; nothing was queued")
	}
	if stalled.closing() {
		t.Fatal("the stalled client was closed")
	}
}

// TestStalledReaderQueueFullCloses: the queue limit still ends a client
// that does not read, and only it.
func TestStalledReaderQueueFullCloses(t *testing.T) {
	var logs syncbuf.Buffer
	st := startStack(t, func(o *StackOptions) {
		o.Service.QueueSize = 8
		o.Service.WriteTimeout = time.Hour
		o.Logger = newBufferLogger(&logs)
	})
	_, stalled := dialSmall(t, st, "stalled")
	a := connectWS(t, st, "chat", "ann")
	payload := []byte(`["` + strings.Repeat("x", 16<<10) + `"]`)
	for i := 0; !stalled.closing(); i++ {
		if i == 1000 {
			t.Fatal("the stalled client was never closed")
		}
		st.Service.deliver(st.Service.recipients("chat", toAll, "", nil), "big", payload, "broadcast")
		a.expectInvocation("big", "broadcast")
	}
	waitFor(t, func() bool { return !st.Service.exists("chat", toConn, stalled.id) })
	if !strings.Contains(logs.String(), "outgoing queue is full") {
		t.Fatalf("logs:\n%s", logs.String())
	}
	if !st.Service.exists("chat", toConn, a.id) {
		t.Fatal("the reading client was closed too")
	}
}
