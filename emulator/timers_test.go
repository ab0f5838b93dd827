package emulator

import (
	"context"
	"strings"
	"sync"
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
func TestConcurrentUse(t *testing.T) {
	st := startStack(t, nil)
	rc := restClient(t, st)
	steady := connectWS(t, st, "chat", "steady")
	if err := rc.AddUserToGroup(ctxT(t), "chat", "all", "steady", -1); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			user := "u" + itoa(w)
			for i := 0; i < 5; i++ {
				c := connectWS(t, st, "chat", user)
				_ = rc.AddUserToGroup(ctxT(t), "chat", "all", user, -1)
				_ = rc.AddConnectionToGroup(ctxT(t), "chat", "g"+itoa(i), c.id)
				_ = rc.SendToGroup(ctxT(t), "chat", "g"+itoa(i), "noise", nil)
				_ = rc.RemoveUserFromGroup(ctxT(t), "chat", "all", user)
				_ = c.ws.Close(websocket.StatusNormalClosure, "")
			}
		}(w)
	}
	const sends = 50
	for i := 0; i < sends; i++ {
		if err := rc.SendToGroup(ctxT(t), "chat", "all", "count", nil); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i := 0; i < sends; i++ {
		steady.expectInvocation("count", "group:all")
	}
}
