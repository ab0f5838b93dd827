package emulator

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

func TestPingsHandshakeTimeoutAndPollReplacement(t *testing.T) {
	st := startStack(t, func(o *StackOptions) {
		o.Service.PingInterval = 50 * time.Millisecond
		o.Service.HandshakeTimeout = 150 * time.Millisecond
	})

	// An idle connection gets pings.
	ws, _ := dialWS(t, st, "chat", "alice")
	if err := ws.Write(ctxT(t), websocket.MessageText, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 2})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var seen strings.Builder
	for !strings.Contains(seen.String(), `{"type":6}`) {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("no ping: %v (read %q)", err, seen.String())
		}
		seen.Write(data)
	}
	if !strings.HasPrefix(seen.String(), "{}\x1e") {
		t.Fatalf("first bytes %q: want the handshake answer", seen.String())
	}

	// A socket that never sends its handshake is closed.
	quiet, _ := dialWS(t, st, "chat", "bob")
	if _, err := readRecords(t, quiet); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("silent socket ended with %v, want a normal close", err)
	}

	// A newer long poll ends the one in progress with 204.
	st = startStack(t, nil)
	u, tok, n := connectLP(t, st, "carol")
	if r, _ := doReq(t, "POST", u, tok, []byte(`{"type":6}`+"\x1e"), nil); r.StatusCode != 200 {
		t.Fatalf("ping POST %d", r.StatusCode)
	}
	first := make(chan int, 1)
	go func() {
		r, _ := doReq(t, "GET", u, tok, nil, nil)
		first <- r.StatusCode
	}()
	waitFor(t, func() bool {
		st.Service.mu.Lock()
		defer st.Service.mu.Unlock()
		c := st.Service.tokens[n.ConnectionToken]
		return c != nil && c.polling
	})
	second := make(chan int, 1)
	go func() {
		r, b := doReq(t, "GET", u, tok, nil, nil)
		if r.StatusCode == 200 && !strings.Contains(string(b), `"target":"x"`) {
			t.Errorf("second poll body %q", b)
		}
		second <- r.StatusCode
	}()
	if s := <-first; s != 204 {
		t.Fatalf("replaced poll: %d, want 204", s)
	}
	if err := restClient(t, st).Broadcast(ctxT(t), "chat", "x", nil); err != nil {
		t.Fatal(err)
	}
	if s := <-second; s != 200 {
		t.Fatalf("second poll: %d, want 200", s)
	}
}

// TestConcurrentUse runs connects, disconnects, group changes and sends
// at once; -race checks the registry, the counts check nothing is lost.
// The churning goroutines report their errors to the test's goroutine,
// which alone may end the test.
func TestConcurrentUse(t *testing.T) {
	st := startStack(t, nil)
	rc := restClient(t, st)
	steady := connectWS(t, st, "chat", "steady")
	if err := rc.AddUserToGroup(ctxT(t), "chat", "all", "steady", -1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	churn := func(user, token string) error {
		for i := 0; i < 5; i++ {
			c, err := tryConnectWS(ctx, st, "chat", token)
			if err != nil {
				return err
			}
			g := "g" + strconv.Itoa(i)
			for _, step := range []func() error{
				func() error { return rc.AddUserToGroup(ctx, "chat", "all", user, -1) },
				func() error { return rc.AddConnectionToGroup(ctx, "chat", g, c.id) },
				func() error { return rc.SendToGroup(ctx, "chat", g, "noise", nil) },
				func() error { return rc.RemoveUserFromGroup(ctx, "chat", "all", user) },
			} {
				if err := step(); err != nil {
					c.closeNow()
					return fmt.Errorf("%s, round %d: %w", user, i, err)
				}
			}
			err = c.ws.Close(websocket.StatusNormalClosure, "")
			<-c.done
			if err != nil {
				return fmt.Errorf("%s, round %d: closing: %w", user, i, err)
			}
		}
		return nil
	}
	const workers = 4
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		user := "u" + strconv.Itoa(w)
		token := clientToken(t, st, "chat", user)
		go func() { errs <- churn(user, token) }()
	}
	const sends = 50
	for i := 0; i < sends; i++ {
		if err := rc.SendToGroup(ctx, "chat", "all", "count", nil); err != nil {
			t.Errorf("send %d: %v", i, err)
			break
		}
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	for i := 0; i < sends; i++ {
		steady.expectInvocation("count", "group:all")
	}
}

// TestNoPingWhileWriting: the ping timer is not reset on every write but
// looks at the last write when it fires, so a connection that gets a
// message more often than PingInterval gets no Ping, and one that goes
// quiet gets one again.
func TestNoPingWhileWriting(t *testing.T) {
	st := startStack(t, func(o *StackOptions) { o.Service.PingInterval = 200 * time.Millisecond })
	ws, n := dialWS(t, st, "chat", "alice")
	if err := ws.Write(ctxT(t), websocket.MessageText, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return st.Service.exists("chat", toConn, n.ConnectionID) })
	recs := make(chan string, 1024)
	go func() {
		defer close(recs)
		var f protocol.Framer
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			f.Feed(data)
			for {
				r, ok, _ := f.Next()
				if !ok {
					break
				}
				recs <- string(r)
			}
		}
	}()
	defer func() {
		_ = ws.CloseNow()
		for range recs {
		}
	}()
	next := func() string {
		select {
		case r, ok := <-recs:
			if !ok {
				t.Fatal("the socket ended")
			}
			return r
		case <-time.After(5 * time.Second):
			t.Fatal("nothing within 5 s")
		}
		return ""
	}
	// 50 messages 20 ms apart: a tenth of the interval.
	for i := range 50 {
		st.Service.deliver(st.Service.recipients("chat", toAll, "", nil), "m", []byte("["+strconv.Itoa(i)+"]"), "broadcast")
		time.Sleep(20 * time.Millisecond)
	}
	pings := 0
	for msgs := 0; msgs < 50; {
		switch r := next(); {
		case r == `{"type":6}`:
			pings++
		case strings.Contains(r, `"target":"m"`):
			msgs++
		}
	}
	// One Ping is allowed: the machine may stall this test for an interval.
	if pings > 1 {
		t.Fatalf("%d pings while a message went out every 20 ms (interval 200 ms)", pings)
	}
	for next() != `{"type":6}` {
	}
}
