package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeHub is a scripted SignalR server for the cases the emulator will not
// produce: it answers negotiate with a WebSocket-only connection and runs
// script on every WebSocket connection.
type fakeHub struct {
	t      *testing.T
	srv    *httptest.Server
	wg     sync.WaitGroup
	script func(ctx context.Context, c *websocket.Conn, r *http.Request)
	// negotiate, when set, replaces the standard negotiate answer.
	negotiate func(w http.ResponseWriter, r *http.Request)
	// refuse, when set, answers the WebSocket request numbered n (from 1)
	// with the status it returns, unless that is 0.
	refuse func(n int32) int

	negotiates atomic.Int32
	connects   atomic.Int32
	mu         sync.Mutex
	negHeaders []http.Header
	wsRequests []*http.Request
}

const fakeConnToken = "tok+/=&x"

func newFakeHub(t *testing.T, script func(ctx context.Context, c *websocket.Conn, r *http.Request)) *fakeHub {
	t.Helper()
	f := &fakeHub{t: t, script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.srv.Close()
		f.wg.Wait()
	})
	return f
}

// URL is the hub base URL a client is given.
func (f *fakeHub) URL() string { return f.srv.URL + "/hub" }

func (f *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	f.wg.Add(1)
	defer f.wg.Done()
	if strings.HasSuffix(r.URL.Path, "/negotiate") {
		f.negotiates.Add(1)
		f.mu.Lock()
		f.negHeaders = append(f.negHeaders, r.Header.Clone())
		f.mu.Unlock()
		if f.negotiate != nil {
			f.negotiate(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		n := f.negotiates.Load()
		_, _ = w.Write([]byte(`{"connectionId":"conn` + itoa(int(n)) + `","connectionToken":"` + fakeConnToken + `","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]}`))
		return
	}
	n := f.connects.Add(1)
	if f.refuse != nil {
		if code := f.refuse(n); code != 0 {
			http.Error(w, "refused by the test", code)
			return
		}
	}
	f.mu.Lock()
	f.wsRequests = append(f.wsRequests, r.Clone(context.Background()))
	f.mu.Unlock()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	f.script(r.Context(), c, r)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// serverHandshake reads the client's handshake and answers it with reply
// (the whole first frame, so tests can append messages to it).
func serverHandshake(t *testing.T, ctx context.Context, c *websocket.Conn, reply string) bool {
	_, p, err := c.Read(ctx)
	if err != nil {
		t.Errorf("server: reading handshake: %v", err)
		return false
	}
	if string(p) != "{\"protocol\":\"json\",\"version\":1}\x1e" {
		t.Errorf("server: handshake = %q", p)
		return false
	}
	return c.Write(ctx, websocket.MessageText, []byte(reply)) == nil
}

// drain reads until the client goes away, collecting what it sent.
func drain(ctx context.Context, c *websocket.Conn, got chan<- string) {
	eachRecord(ctx, c, func(rec string) bool {
		if got != nil {
			select {
			case got <- rec:
			default:
			}
		}
		return true
	})
}

// eachRecord hands fn each record the client sends until the connection
// ends or fn returns false.
func eachRecord(ctx context.Context, c *websocket.Conn, fn func(rec string) bool) {
	for {
		_, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		for rec := range strings.SplitSeq(strings.TrimSuffix(string(p), "\x1e"), "\x1e") {
			if !fn(rec) {
				return
			}
		}
	}
}

// testOptions are short timeouts so that failure cases finish fast.
func testOptions(url string) Options {
	return Options{
		URL:              url,
		HandshakeTimeout: 2 * time.Second,
		KeepAlive:        time.Second,
		ServerTimeout:    5 * time.Second,
		HTTPTimeout:      5 * time.Second,
		Reconnect:        NoReconnect,
	}
}

func startConn(t *testing.T, o Options) *Conn {
	t.Helper()
	c, err := New(o)
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

// next returns the next event that is not a handshake, failing after 5 s.
func next(t *testing.T, c *Conn) Event {
	t.Helper()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatal("events channel closed")
			}
			if ev.Kind == EventHandshake {
				continue
			}
			return ev
		case <-timer.C:
			t.Fatal("no event within 5 s")
		}
	}
}

func nextState(t *testing.T, c *Conn) Event {
	t.Helper()
	for {
		ev := next(t, c)
		if ev.Kind == EventState {
			return ev
		}
	}
}

func nextMessage(t *testing.T, c *Conn) Event {
	t.Helper()
	for {
		ev := next(t, c)
		if ev.Kind == EventMessage || ev.Kind == EventError {
			return ev
		}
	}
}

func expectState(t *testing.T, c *Conn, want State) Event {
	t.Helper()
	ev := nextState(t, c)
	if ev.State != want {
		t.Fatalf("state = %s (err %v), want %s", ev.State, ev.Err, want)
	}
	return ev
}

// waitClosed reads events until the channel closes and returns the last
// one.
func waitClosed(t *testing.T, c *Conn) Event {
	t.Helper()
	var last Event
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return last
			}
			last = ev
		case <-timer.C:
			t.Fatal("events channel not closed within 10 s")
		}
	}
}

func containsAll(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%q does not contain %q", s, p)
		}
	}
}

var _ = bytes.Equal
