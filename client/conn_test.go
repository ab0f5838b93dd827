package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

func TestRecordsSplitAndBatched(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		// The handshake reply shares its frame with the first message.
		if !serverHandshake(t, ctx, c, "{}\x1e{\"type\":1,\"target\":\"first\",\"arguments\":[0]}\x1e") {
			return
		}
		frames := []string{
			"{\"type\":1,\"target\":\"a\",\"arguments\":[1]}\x1e{\"type\":1,\"target\":\"b\",\"arguments\":[2]}\x1e{\"type\":1,\"target\":\"c\",\"arguments\":[3]}\x1e",
			"{\"type\":1,\"target\":\"sp",
			"lit\",\"argu",
			"ments\":[\"x\"]}\x1e{\"type\":1,\"target\":\"d\",\"arguments\":[4]}\x1e{\"type\":1,",
			"\"target\":\"e\",\"arguments\":[5]}\x1e",
		}
		for _, fr := range frames {
			if err := c.Write(ctx, websocket.MessageText, []byte(fr)); err != nil {
				return
			}
		}
		drain(ctx, c, nil)
	})
	c := startConn(t, testOptions(f.URL()))
	expectState(t, c, Connecting)
	ev := expectState(t, c, Connected)
	if ev.Transport != protocol.TransportWebSockets || ev.ConnectionID != "conn1" {
		t.Errorf("connected event = %+v", ev)
	}
	want := []struct{ target, args string }{
		{"first", "[0]"}, {"a", "[1]"}, {"b", "[2]"}, {"c", "[3]"}, {"split", `["x"]`}, {"d", "[4]"}, {"e", "[5]"},
	}
	for _, w := range want {
		ev := nextMessage(t, c)
		if ev.Kind != EventMessage || ev.Message.Type != protocol.TypeInvocation || ev.Message.Target != w.target || string(ev.Message.Arguments) != w.args {
			t.Fatalf("got %v %q %s, want %s %s", ev.Kind, ev.Message.Target, ev.Message.Arguments, w.target, w.args)
		}
		if ev.Time.IsZero() || !strings.Contains(string(ev.Raw), `"target":"`+w.target+`"`) {
			t.Errorf("event time/raw wrong: %v %q", ev.Time, ev.Raw)
		}
	}
}

func TestUnknownTypesHeadersAndErrors(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		for _, rec := range []string{
			`{"type":42,"foo":1}`,
			`{"type":1,"target":"t","arguments":[],"headers":{"route":"user:alice","x":"y"}}`,
			`{"type":6}`,
			`{}`,
			`{"type":1,"target":"after","arguments":[]}`,
		} {
			if err := c.Write(ctx, websocket.MessageText, []byte(rec+"\x1e")); err != nil {
				return
			}
		}
		drain(ctx, c, nil)
	})
	c := startConn(t, testOptions(f.URL()))
	ev := nextMessage(t, c)
	if ev.Message.Type != 42 || ev.Message.Type.Known() {
		t.Fatalf("unknown type: got %+v", ev.Message)
	}
	ev = nextMessage(t, c)
	if v, ok := ev.Message.Header("route"); !ok || v != "user:alice" {
		t.Errorf("route header = %q %v", v, ok)
	}
	// The ping is not delivered (Options.Pings is off); the malformed record is.
	ev = nextMessage(t, c)
	if ev.Kind != EventError || ev.Err == nil || string(ev.Raw) != "{}" {
		t.Fatalf("malformed record: got %+v", ev)
	}
	ev = nextMessage(t, c)
	if ev.Message.Target != "after" {
		t.Fatalf("the connection did not carry on after a bad record: %+v", ev)
	}
}

func TestPingsDeliveredWhenAsked(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e{\"type\":6}\x1e") {
			return
		}
		drain(ctx, c, nil)
	})
	o := testOptions(f.URL())
	o.Pings = true
	c := startConn(t, o)
	ev := nextMessage(t, c)
	if ev.Message.Type != protocol.TypePing {
		t.Fatalf("got %+v, want a ping", ev.Message)
	}
}

// TestRedirectChainKeepsTokensApart follows two redirects across hosts and
// checks what each hop saw: the app's headers only at the app, each token
// only at the host it was issued for, and a reconnect that starts again at
// the app without any service token.
func TestRedirectChainKeepsTokensApart(t *testing.T) {
	var drop atomic.Bool
	drop.Store(true)
	svc := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		if drop.CompareAndSwap(true, false) {
			return // drop the first connection to force a reconnect
		}
		drain(ctx, c, nil)
	})
	hop := 0
	svc.negotiate = func(w http.ResponseWriter, r *http.Request) {
		hop++
		if r.URL.Path == "/r1/negotiate" {
			fmt.Fprintf(w, `{"url":%q,"accessToken":"svc-token-2"}`, svc.srv.URL+"/r2?hub=chat")
			return
		}
		if r.URL.Query().Get("hub") != "chat" || r.URL.Query().Get("negotiateVersion") != "1" {
			t.Errorf("final negotiate query = %q", r.URL.RawQuery)
		}
		fmt.Fprintf(w, `{"connectionId":"c%d","connectionToken":%q,"negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`, hop, fakeConnToken)
	}
	var appHeaders []http.Header
	var appQueries []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appHeaders = append(appHeaders, r.Header.Clone())
		appQueries = append(appQueries, r.URL.RawQuery)
		if r.Method != http.MethodPost || r.URL.Path != "/api/negotiate" {
			t.Errorf("app got %s %s", r.Method, r.URL.Path)
		}
		fmt.Fprintf(w, `{"url":%q,"accessToken":"svc-token-1"}`, svc.srv.URL+"/r1")
	}))
	t.Cleanup(app.Close)

	o := testOptions(app.URL + "/api?code=abc==")
	o.UserID = "alice"
	o.Header = http.Header{"X-App-Secret": {"s3cret"}, "Authorization": {"Bearer app-credential"}}
	o.Reconnect = Backoff{Delays: []time.Duration{10 * time.Millisecond}}
	c := startConn(t, o)
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	expectState(t, c, Reconnecting)
	expectState(t, c, Connected)

	if len(appHeaders) != 2 {
		t.Fatalf("app negotiates = %d, want 2 (one per connect)", len(appHeaders))
	}
	for i, h := range appHeaders {
		if h.Get("Authorization") != "Bearer app-credential" || h.Get("X-App-Secret") != "s3cret" {
			t.Errorf("app hop %d: headers %v", i, h)
		}
		if h.Get("X-Ms-Client-Principal-Id") != "alice" || h.Get("X-Ms-Client-Principal-Name") != "alice" {
			t.Errorf("app hop %d: principal headers missing: %v", i, h)
		}
		if appQueries[i] != "code=abc==&negotiateVersion=1" {
			t.Errorf("app hop %d query = %q", i, appQueries[i])
		}
	}
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.negHeaders) != 4 {
		t.Fatalf("service negotiates = %d, want 4", len(svc.negHeaders))
	}
	for i, h := range svc.negHeaders {
		want := []string{"Bearer svc-token-1", "Bearer svc-token-2"}[i%2]
		if got := h.Get("Authorization"); got != want {
			t.Errorf("service hop %d: Authorization %q, want %q", i, got, want)
		}
		if h.Get("X-App-Secret") != "" || h.Get("X-Ms-Client-Principal-Id") != "" {
			t.Errorf("service hop %d received the app's headers: %v", i, h)
		}
	}
	for i, r := range svc.wsRequests {
		if got := r.Header.Get("Authorization"); got != "Bearer svc-token-2" {
			t.Errorf("ws %d: Authorization %q", i, got)
		}
		if got := r.URL.Query().Get("id"); got != fakeConnToken {
			t.Errorf("ws %d: id = %q (raw query %q), want %q", i, got, r.URL.RawQuery, fakeConnToken)
		}
		if r.URL.Query().Get("access_token") != "" {
			t.Errorf("ws %d: token leaked into the query", i)
		}
	}
}

func TestRedirectLimit(t *testing.T) {
	var srv *httptest.Server
	hits := 0
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		fmt.Fprintf(w, `{"url":%q,"accessToken":"t%d"}`, srv.URL+"/again", hits)
	}))
	defer srv.Close()
	c, _ := New(testOptions(srv.URL + "/api"))
	defer c.Close()
	err := c.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Negotiate redirection limit exceeded.") {
		t.Fatalf("err = %v", err)
	}
	if hits != maxRedirects {
		t.Errorf("hits = %d, want %d", hits, maxRedirects)
	}
}

func TestNegotiateFailures(t *testing.T) {
	cases := []struct {
		name    string
		path    string
		handler func(w http.ResponseWriter, r *http.Request)
		want    []string
	}{
		{"401", "/api", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no key", http.StatusUnauthorized)
		}, []string{"/api/negotiate", "401", "credentials", "function key", "no key"}},
		{"401-after-redirect", "/api", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "" {
				io.WriteString(w, `{"url":"http://`+r.Host+`/client/?hub=chat","accessToken":"service-token"}`)
				return
			}
			http.Error(w, "The signature is invalid", http.StatusUnauthorized)
		}, []string{"/client/negotiate", "401", "refused the access token", "AccessKey", "The signature is invalid"}},
		{"html", "/api", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!DOCTYPE html><html><body>Your Functions app is up and running</body></html>")
		}, []string{"/api/negotiate", "200", "text/html", "HTML page"}},
		{"doubled", "/api/negotiate", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, []string{"/api/negotiate/negotiate", "404", "already ends in /negotiate"}},
		{"error-field", "/api", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"error":"This connection is not allowed."}`)
		}, []string{"This connection is not allowed."}},
		{"aspnet", "/api", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"Url":"/signalr","ConnectionToken":"x","ProtocolVersion":"1.5"}`)
		}, []string{"Detected a connection attempt to an ASP.NET SignalR Server."}},
		{"no-transports", "/api", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"connectionId":"a","connectionToken":"b","negotiateVersion":1,"availableTransports":[{"transport":"LongPolling","transferFormats":["Binary"]}]}`)
		}, []string{"None of the transports supported by the client are supported by the server.", "LongPolling"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				tc.handler(w, r)
			}))
			defer srv.Close()
			o := testOptions(srv.URL + tc.path + "?code=secret-key")
			o.RetryFirstConnect = true
			o.Reconnect = Backoff{Delays: []time.Duration{time.Millisecond}, Forever: true}
			c, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Start(context.Background())
			if err == nil {
				t.Fatal("Start succeeded")
			}
			containsAll(t, err.Error(), tc.want...)
			if strings.Contains(err.Error(), "secret-key") {
				t.Errorf("the function key leaked into the error: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if want := int32(strings.Count(tc.name, "redirect") + 1); hits.Load() != want {
				t.Errorf("a permanent error was retried: %d requests, want %d", hits.Load(), want)
			}
			last := waitClosed(t, c)
			if last.State != Disconnected || last.Err == nil {
				t.Errorf("last event = %+v", last)
			}
		})
	}
}

func TestRetryFirstConnect(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if serverHandshake(t, ctx, c, "{}\x1e") {
			drain(ctx, c, nil)
		}
	})
	var n atomic.Int32
	f.negotiate = func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
	}
	o := testOptions(f.URL())
	o.RetryFirstConnect = true
	o.Reconnect = Backoff{Delays: []time.Duration{time.Millisecond, 2 * time.Millisecond}}
	c := startConn(t, o)
	for i, want := range []int{1, 2, 3} {
		ev := expectState(t, c, Connecting)
		if ev.Attempt != want {
			t.Errorf("connecting %d: attempt %d", i, ev.Attempt)
		}
		if want > 1 && (ev.Err == nil || !strings.Contains(ev.Err.Error(), "503")) {
			t.Errorf("connecting %d: err %v", i, ev.Err)
		}
	}
	expectState(t, c, Connected)
}

func TestNegotiateV0UsesConnectionID(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if r.URL.Query().Get("id") != "v0-id" {
			t.Errorf("id = %q", r.URL.Query().Get("id"))
		}
		if serverHandshake(t, ctx, c, "{}\x1e") {
			drain(ctx, c, nil)
		}
	})
	f.negotiate = func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"connectionId":"v0-id","availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
	}
	c := startConn(t, testOptions(f.URL()))
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
}

func TestHandshakeError(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		serverHandshake(t, ctx, c, "{\"error\":\"SignalR Service is now in 'Default' service mode.\"}\x1e")
		drain(ctx, c, nil)
	})
	c, _ := New(testOptions(f.URL()))
	defer c.Close()
	err := c.Start(context.Background())
	if err == nil {
		t.Fatal("Start succeeded")
	}
	containsAll(t, err.Error(), "Server returned handshake error: SignalR Service is now in 'Default' service mode.")
}

func TestHandshakeTimeout(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		drain(ctx, c, nil) // never answers the handshake
	})
	o := testOptions(f.URL())
	o.HandshakeTimeout = 100 * time.Millisecond
	c, _ := New(o)
	defer c.Close()
	err := c.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no handshake response within 100ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	got := make(chan string, 64)
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if serverHandshake(t, ctx, c, "{}\x1e") {
			drain(ctx, c, got)
		}
	})
	o := testOptions(f.URL())
	o.KeepAlive = 50 * time.Millisecond
	o.ServerTimeout = 300 * time.Millisecond
	c := startConn(t, o)
	last := waitClosed(t, c)
	if last.State != Disconnected || last.Err == nil || !strings.Contains(last.Err.Error(), "Server timeout (300ms) elapsed without receiving a message from the server.") {
		t.Fatalf("last = %+v", last)
	}
	pings := 0
	for len(got) > 0 {
		if <-got == `{"type":6}` {
			pings++
		}
	}
	// One ping right after the handshake, then keep-alives every 50 ms.
	if pings < 3 {
		t.Errorf("server saw %d pings, want at least 3", pings)
	}
}

func TestCloseMessage(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowReconnect=%v", allow), func(t *testing.T) {
			f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
				if !serverHandshake(t, ctx, c, "{}\x1e") {
					return
				}
				msg := `{"type":7,"error":"Connection closed with an error."}`
				if allow {
					msg = `{"type":7,"error":"Connection closed with an error.","allowReconnect":true}`
				}
				c.Write(ctx, websocket.MessageText, []byte(msg+"\x1e"))
				drain(ctx, c, nil)
			})
			o := testOptions(f.URL())
			o.Reconnect = Backoff{Delays: []time.Duration{time.Millisecond}}
			c := startConn(t, o)
			expectState(t, c, Connecting)
			expectState(t, c, Connected)
			ev := nextMessage(t, c)
			if ev.Message.Type != protocol.TypeClose || ev.Message.Error != "Connection closed with an error." {
				t.Fatalf("close message = %+v", ev.Message)
			}
			const want = "Server returned an error on close: Connection closed with an error."
			if !allow {
				ev := expectState(t, c, Disconnected)
				if ev.Err == nil || ev.Err.Error() != want {
					t.Errorf("err = %v", ev.Err)
				}
				waitClosed(t, c)
				if n := f.negotiates.Load(); n != 1 {
					t.Errorf("negotiates = %d, want 1 (no reconnect)", n)
				}
				return
			}
			ev = expectState(t, c, Reconnecting)
			if ev.Err == nil || ev.Err.Error() != want || ev.Attempt != 1 {
				t.Errorf("reconnecting = %+v", ev)
			}
			ev = expectState(t, c, Connected)
			if ev.ConnectionID != "conn2" {
				t.Errorf("reconnected with connection id %q, want a new one", ev.ConnectionID)
			}
		})
	}
}

func TestDroppedConnectionReconnects(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if f := r.URL.Query().Get("id"); f == "" {
			t.Error("no id")
		}
		serverHandshake(t, ctx, c, "{}\x1e")
		// Return at once: the deferred CloseNow drops TCP with no close frame.
	})
	o := testOptions(f.URL())
	o.Reconnect = Backoff{Delays: []time.Duration{time.Millisecond, 5 * time.Millisecond}}
	c := startConn(t, o)
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	// Each drop starts a new cycle at attempt 1: a successful reconnect
	// resets the policy, as in the official clients.
	for range 3 {
		ev := expectState(t, c, Reconnecting)
		if ev.Attempt != 1 || ev.Err == nil || !strings.Contains(ev.Err.Error(), "dropped the connection") {
			t.Fatalf("reconnecting = %+v", ev)
		}
		expectState(t, c, Connected)
	}
	_ = c.Close()
}

func TestReconnectExhausted(t *testing.T) {
	var first atomic.Bool
	first.Store(true)
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		serverHandshake(t, ctx, c, "{}\x1e")
	})
	f.negotiate = func(w http.ResponseWriter, r *http.Request) {
		if !first.CompareAndSwap(true, false) {
			http.Error(w, "gone", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
	}
	o := testOptions(f.URL())
	o.Reconnect = Backoff{Delays: []time.Duration{time.Millisecond, time.Millisecond}}
	c := startConn(t, o)
	last := waitClosed(t, c)
	if last.State != Disconnected || last.Err == nil {
		t.Fatalf("last = %+v", last)
	}
	containsAll(t, last.Err.Error(), "reconnect retries have been exhausted after 2 failed attempts", "503")
}

func TestCloseSendsCloseMessageAndWaits(t *testing.T) {
	got := make(chan string, 16)
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if serverHandshake(t, ctx, c, "{}\x1e") {
			drain(ctx, c, got)
		}
	})
	c := startConn(t, testOptions(f.URL()))
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	last := waitClosed(t, c)
	if last.Kind != EventState || last.State != Disconnected || last.Err != nil {
		t.Errorf("last = %+v", last)
	}
	var recs []string
	timeout := time.After(5 * time.Second)
	for len(recs) == 0 || recs[len(recs)-1] != `{"type":7}` {
		select {
		case r := <-got:
			recs = append(recs, r)
		case <-timeout:
			t.Fatalf("server never saw {\"type\":7}; saw %q", recs)
		}
	}
	if recs[0] != `{"type":6}` {
		t.Errorf("first record after the handshake = %q, want a ping", recs[0])
	}
	if err := c.Send(context.Background(), "x", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v", err)
	}
	_ = c.Close() // idempotent
}

func TestCloseDuringReconnectDelay(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		serverHandshake(t, ctx, c, "{}\x1e")
	})
	o := testOptions(f.URL())
	o.Reconnect = Backoff{Delays: []time.Duration{time.Hour}}
	c := startConn(t, o)
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	expectState(t, c, Reconnecting)
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not cancel the reconnect delay")
	}
}

func TestInvokeStreamAndClientResults(t *testing.T) {
	got := make(chan string, 64)
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		w := func(s string) { c.Write(ctx, websocket.MessageText, []byte(s+"\x1e")) }
		w(`{"type":1,"invocationId":"srv1","target":"getValue","arguments":[]}`)
		for {
			_, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			for rec := range strings.SplitSeq(strings.TrimSuffix(string(p), "\x1e"), "\x1e") {
				got <- rec
				m, err := protocol.ParseMessage([]byte(rec), protocol.Lenient)
				if err != nil {
					t.Errorf("server: %v", err)
					continue
				}
				switch {
				case m.Type == protocol.TypeInvocation && m.Target == "Add":
					w(`{"type":3,"invocationId":"` + m.InvocationID + `","result":3}`)
				case m.Type == protocol.TypeInvocation && m.Target == "Fail":
					w(`{"type":3,"invocationId":"` + m.InvocationID + `","error":"boom"}`)
				case m.Type == protocol.TypeStreamInvocation && m.Target == "Count":
					w(`{"type":2,"invocationId":"` + m.InvocationID + `","item":1}`)
					w(`{"type":2,"invocationId":"` + m.InvocationID + `","item":2}`)
					w(`{"type":3,"invocationId":"` + m.InvocationID + `"}`)
				case m.Type == protocol.TypeStreamInvocation && m.Target == "Forever":
					w(`{"type":2,"invocationId":"` + m.InvocationID + `","item":"tick"}`)
				}
			}
		}
	})
	c := startConn(t, testOptions(f.URL()))
	ctx := context.Background()
	waitRecord := func(pred func(string) bool) string {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case r := <-got:
				if pred(r) {
					return r
				}
			case <-timeout:
				t.Fatal("record not seen by the server")
				return ""
			}
		}
	}
	r := waitRecord(func(s string) bool { return strings.Contains(s, `"type":3`) })
	m, _ := protocol.ParseMessage([]byte(r), protocol.Lenient)
	if m.InvocationID != "srv1" || m.Error != "Client didn't provide a result." {
		t.Errorf("client result reply = %s", r)
	}

	res, err := c.Invoke(ctx, "Add", []byte("[1,2]"))
	if err != nil || string(res) != "3" {
		t.Fatalf("Invoke = %s, %v", res, err)
	}
	_, err = c.Invoke(ctx, "Fail", nil)
	var he *HubError
	if !errors.As(err, &he) || he.Message != "boom" {
		t.Fatalf("Invoke Fail = %v", err)
	}

	st, err := c.Stream(ctx, "Count", []byte("[2]"))
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	for {
		it, err := st.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, string(it))
	}
	if strings.Join(items, ",") != "1,2" {
		t.Errorf("items = %v", items)
	}

	sctx, cancel := context.WithCancel(ctx)
	st, err = c.Stream(sctx, "Forever", nil)
	if err != nil {
		t.Fatal(err)
	}
	if it, err := st.Next(ctx); err != nil || string(it) != `"tick"` {
		t.Fatalf("first item = %s, %v", it, err)
	}
	cancel()
	r = waitRecord(func(s string) bool { return strings.Contains(s, `"type":5`) })
	m, _ = protocol.ParseMessage([]byte(r), protocol.Lenient)
	if m.Type != protocol.TypeCancelInvocation || m.InvocationID != st.id {
		t.Errorf("cancel = %s", r)
	}
	if _, err := st.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next after cancel = %v", err)
	}
	if err := c.Send(ctx, "Notify", []byte(`["x"]`)); err != nil {
		t.Fatal(err)
	}
	r = waitRecord(func(s string) bool { return strings.Contains(s, `"Notify"`) })
	if strings.Contains(r, "invocationId") {
		t.Errorf("Send wrote a blocking invocation: %s", r)
	}
}

func TestOnHandler(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if serverHandshake(t, ctx, c, "{}\x1e{\"type\":1,\"target\":\"newmessage\",\"arguments\":[1]}\x1e") {
			drain(ctx, c, nil)
		}
	})
	c, _ := New(testOptions(f.URL()))
	defer c.Close()
	called := make(chan Event, 1)
	c.On("newMessage", func(ev Event) { called <- ev })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-called:
		if string(ev.Message.Arguments) != "[1]" {
			t.Errorf("handler got %s", ev.Message.Arguments)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler not called")
	}
}

func TestReadLimit(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		big := `{"type":1,"target":"big","arguments":["` + strings.Repeat("x", 64<<10) + `"]}` + "\x1e"
		c.Write(ctx, websocket.MessageText, []byte(big))
		drain(ctx, c, nil)
	})
	// The default (2 MiB) takes a 64 KiB message that coder/websocket's own
	// default (32 KiB) would refuse.
	c := startConn(t, testOptions(f.URL()))
	if ev := nextMessage(t, c); ev.Message.Target != "big" {
		t.Fatalf("got %+v", ev)
	}
	c.Close()

	o := testOptions(f.URL())
	o.ReadLimit = 1024
	c = startConn(t, o)
	last := waitClosed(t, c)
	if last.Err == nil || !strings.Contains(last.Err.Error(), "exceeded the read limit") {
		t.Fatalf("last = %+v", last)
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New with nothing succeeded")
	}
	if _, err := New(Options{URL: "ftp://x/api"}); err == nil {
		t.Error("New with ftp URL succeeded")
	}
	// Nothing listens on this port once the listener is closed.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, _ := New(testOptions(url + "/api"))
	defer c.Close()
	err := c.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "request failed") {
		t.Fatalf("err = %v", err)
	}
}

// TestCloseWithConsumerNotReading fills the event buffer and the record
// queue, then closes: Close must still return with every goroutine gone.
func TestCloseWithConsumerNotReading(t *testing.T) {
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		for i := range 5000 {
			if c.Write(ctx, websocket.MessageText, []byte(`{"type":1,"target":"n","arguments":[`+itoa(i)+`]}`+"\x1e")) != nil {
				return
			}
		}
		drain(ctx, c, nil)
	})
	o := testOptions(f.URL())
	o.EventBuffer = 1
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	// With nobody reading, Start itself waits to deliver its state events.
	started := make(chan error, 1)
	go func() { started <- c.Start(context.Background()) }()
	time.Sleep(300 * time.Millisecond) // let the queue fill
	done := make(chan struct{})
	go func() { c.Close(); <-started; close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung with a consumer that does not read")
	}
	// Whatever was buffered is still readable, then the channel closes.
	n := 0
	for ev := range c.Events() {
		if ev.Kind == EventMessage && ev.Message.Target == "n" && string(ev.Message.Arguments) != "["+itoa(n)+"]" {
			t.Fatalf("out of order: %s after %d", ev.Message.Arguments, n)
		}
		if ev.Kind == EventMessage {
			n++
		}
	}
}

// TestTransportFallbackInServerOrder: WebSockets fails, so the client
// negotiates again (a connection token is good for one try) and takes the
// next transport the server listed.
func TestTransportFallbackInServerOrder(t *testing.T) {
	var negotiates atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/negotiate"):
			n := negotiates.Add(1)
			fmt.Fprintf(w, `{"connectionId":"c%d","connectionToken":"t%d","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]},{"transport":"ServerSentEvents","transferFormats":["Text"]}]}`, n, n)
		case r.Header.Get("Upgrade") != "":
			http.Error(w, "no WebSockets here", http.StatusInternalServerError)
		case r.Method == http.MethodGet:
			if got := r.URL.Query().Get("id"); got != "t2" {
				t.Errorf("SSE used token %q, want the second negotiate's", got)
			}
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, ":\r\n\r\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case r.Method == http.MethodPost:
			// The handshake arrives by POST. This server never answers it:
			// reaching the SSE stream with the second token is the point.
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	o := testOptions(srv.URL + "/hub")
	o.HandshakeTimeout = 200 * time.Millisecond
	c, _ := New(o)
	defer c.Close()
	err := c.Start(context.Background())
	// The SSE stream opened (so the fallback happened) and then the
	// handshake timed out, because this server never answers it.
	if err == nil || !strings.Contains(err.Error(), "no handshake response") {
		t.Fatalf("err = %v", err)
	}
	if n := negotiates.Load(); n != 2 {
		t.Errorf("negotiates = %d, want 2 (one per transport tried)", n)
	}
}
