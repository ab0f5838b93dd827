package client_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// recordingProxy sits between the client and the emulator's service (the
// emulator's ClientEndpoint makes negotiate hand out its address) and
// records every request: method, status, whether the token came in the
// header, and the query names (never their values).
type recordingProxy struct {
	srv    *httptest.Server
	target atomic.Pointer[url.URL]
	// blockWS makes the proxy refuse WebSocket upgrades, as some
	// corporate proxies do.
	blockWS atomic.Bool

	mu      sync.Mutex
	reqs    []proxiedRequest
	changed chan struct{} // closed and replaced on each new record
}

type proxiedRequest struct {
	method, accept string
	auth           bool
	query          url.Values
	status         int
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	p := &recordingProxy{changed: make(chan struct{})}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.target.Load())
			r.Out.Host = r.In.Host // the token's audience names the proxy
		},
		ModifyResponse: func(resp *http.Response) error {
			r := resp.Request
			if !strings.HasPrefix(r.URL.Path, "/client") || strings.HasSuffix(r.URL.Path, "/negotiate") {
				return nil
			}
			p.mu.Lock()
			p.reqs = append(p.reqs, proxiedRequest{
				method: r.Method, accept: r.Header.Get("Accept"),
				auth:  strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "),
				query: r.URL.Query(), status: resp.StatusCode,
			})
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
			return nil
		},
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.blockWS.Load() && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "WebSockets are not allowed through this proxy", http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// requestsWhen waits until settled accepts the requests recorded so far,
// then returns them. After 10 s it returns what there is, for the
// caller's checks to say what is missing.
func (p *recordingProxy) requestsWhen(t *testing.T, settled func([]proxiedRequest) bool) []proxiedRequest {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		p.mu.Lock()
		reqs, changed := append([]proxiedRequest(nil), p.reqs...), p.changed
		p.mu.Unlock()
		if settled(reqs) {
			return reqs
		}
		select {
		case <-changed:
		case <-timeout:
			t.Logf("the proxy's requests did not settle within 10 s")
			return reqs
		}
	}
}

// count is the number of requests with method.
func count(reqs []proxiedRequest, method string) int {
	n := 0
	for _, r := range reqs {
		if r.method == method {
			n++
		}
	}
	return n
}

// startProxiedStack starts the emulator behind a recording proxy.
func startProxiedStack(t *testing.T) (*emulator.Stack, *recordingProxy) {
	t.Helper()
	p := newRecordingProxy(t)
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:    "127.0.0.1:0",
		FunctionsAddr:  "127.0.0.1:0",
		ClientEndpoint: p.srv.URL,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, _ := url.Parse(st.ServiceURL)
	p.target.Store(u)
	return st, p
}

// records reads payloads from tr, split into records, until keep accepts
// one, and returns it.
func readRecord(t *testing.T, tr client.TestTransport, keep func(rec []byte) bool) []byte {
	t.Helper()
	type result struct {
		rec []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		var f protocol.Framer
		for {
			p, err := tr.Read()
			if err != nil {
				got <- result{err: err}
				return
			}
			f.Feed(p)
			for {
				rec, ok, err := f.Next()
				if err != nil {
					got <- result{err: err}
					return
				}
				if !ok {
					break
				}
				if keep(rec) {
					got <- result{rec: bytes.Clone(rec)}
					return
				}
			}
		}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("read: %v", r.err)
		}
		return r.rec
	case <-time.After(5 * time.Second):
		tr.Close()
		<-got
		t.Fatal("no matching record within 5 s")
	}
	return nil
}

// exerciseTransport runs one connection over the named transport against
// the emulator: handshake, a multi-line invocation, concurrent sends,
// Close. It returns what the proxy saw once settled accepts it.
func exerciseTransport(t *testing.T, name string, settled func([]proxiedRequest) bool) []proxiedRequest {
	st, proxy := startProxiedStack(t)
	c, err := client.New(client.Options{URL: st.FunctionsURL, UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, id, err := client.DialTransportForTest(ctx, c, name)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	defer tr.Close()
	if tr.Name() != name {
		t.Fatalf("Name() = %q", tr.Name())
	}
	if err := tr.Write(ctx, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})); err != nil {
		t.Fatal(err)
	}
	if hs := readRecord(t, tr, func([]byte) bool { return true }); string(hs) != "{}" {
		t.Fatalf("handshake answer %q", hs)
	}
	waitRegistered(t, st, "chat", id)

	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The REST path compacts the arguments; line breaks inside an SSE
	// event are covered by TestSSEStreamParsing.
	if err := rc.SendToConnection(ctx, "chat", id, "nums", []byte(`[1, 2, {"a": "b"}]`)); err != nil {
		t.Fatal(err)
	}
	rec := readRecord(t, tr, func(rec []byte) bool { return bytes.Contains(rec, []byte(`"nums"`)) })
	m, err := protocol.ParseMessage(rec, protocol.Strict)
	if err != nil {
		t.Fatalf("record %q: %v", rec, err)
	}
	if string(m.Arguments) != `[1,2,{"a":"b"}]` {
		t.Fatalf("arguments %s", m.Arguments)
	}

	// Concurrent sends: the transport keeps one POST in flight, so none is
	// refused with 409.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- tr.Write(ctx, []byte("{\"type\":6}\x1e"))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent send: %v", err)
		}
	}
	if err := tr.Write(ctx, []byte("{\"type\":7}\x1e")); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if _, err := tr.Read(); err == nil {
		t.Fatal("Read after Close succeeded")
	}
	if err := tr.Write(ctx, []byte("{\"type\":6}\x1e")); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	// The proxy records a request once its answer starts, which for the
	// last requests can come after Close returns.
	reqs := proxy.requestsWhen(t, settled)
	for _, r := range reqs {
		if !r.auth || r.query.Has("access_token") {
			t.Fatalf("%s request: token in header %v, access_token in query %v; want header only", r.method, r.auth, r.query.Has("access_token"))
		}
		if r.query.Get("id") == "" {
			t.Fatalf("%s request without id=", r.method)
		}
	}
	return reqs
}

func TestSSETransportAgainstEmulator(t *testing.T) {
	reqs := exerciseTransport(t, protocol.TransportServerSentEvents, func(reqs []proxiedRequest) bool {
		return count(reqs, http.MethodGet) == 1 && count(reqs, http.MethodPost) == 18
	})
	var gets, posts int
	for _, r := range reqs {
		switch r.method {
		case http.MethodGet:
			gets++
			if r.accept != "text/event-stream" || r.status != 200 {
				t.Errorf("stream request: Accept %q status %d", r.accept, r.status)
			}
		case http.MethodPost:
			posts++
			if r.status != 200 {
				t.Errorf("send answered %d", r.status)
			}
		default:
			t.Errorf("unexpected %s: SSE ends by closing the stream", r.method)
		}
	}
	if gets != 1 || posts != 18 {
		t.Fatalf("%d streams and %d sends, want 1 and 18", gets, posts)
	}
}

func TestLongPollingTransportAgainstEmulator(t *testing.T) {
	reqs := exerciseTransport(t, protocol.TransportLongPolling, func(reqs []proxiedRequest) bool {
		return count(reqs, http.MethodGet) >= 3 && count(reqs, http.MethodPost) == 18 && count(reqs, http.MethodDelete) == 1
	})
	var polls, posts, deletes int
	for _, r := range reqs {
		switch r.method {
		case http.MethodGet:
			polls++
			if !r.query.Has("_") {
				t.Errorf("poll without the cache-busting _ parameter")
			}
		case http.MethodPost:
			posts++
			if r.status != 200 {
				t.Errorf("send answered %d", r.status)
			}
		case http.MethodDelete:
			deletes++
			if r.status != http.StatusAccepted {
				t.Errorf("DELETE answered %d, want 202", r.status)
			}
		}
	}
	if polls < 3 || posts != 18 || deletes != 1 {
		t.Fatalf("%d polls, %d sends, %d deletes; want at least 3, 18, 1", polls, posts, deletes)
	}
}

// TestFallbackWhenAProxyBlocksWebSockets: the proxy in front of the
// service refuses WebSocket upgrades; the client negotiates again and
// falls back to the next transport the service offers, Server-Sent
// Events, and works there.
func TestFallbackWhenAProxyBlocksWebSockets(t *testing.T) {
	st, proxy := startProxiedStack(t)
	proxy.blockWS.Store(true)
	c := dial(t, client.Options{URL: st.FunctionsURL, UserID: "behind-proxy"})
	ev := await(t, c, "connected", isState(client.Connected))
	if ev.Transport != protocol.TransportServerSentEvents {
		t.Fatalf("connected over %q, want the fallback to ServerSentEvents", ev.Transport)
	}
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.SendToUser(context.Background(), "chat", "behind-proxy", "hello", []byte(`[1]`)); err != nil {
		t.Fatal(err)
	}
	await(t, c, "hello", isTarget("hello"))
}
