package hostile

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// env is what the rows share: a default emulator and a tight one (small
// limits, short timeouts) started on first use.
type env struct {
	t         *testing.T
	mu        sync.Mutex
	std, tght *emulator.Stack
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startStack(t *testing.T, tune func(*emulator.ServiceOptions)) *emulator.Stack {
	t.Helper()
	return stackWith(t, func(o *emulator.StackOptions) {
		if tune != nil {
			tune(&o.Service)
		}
	})
}

// stack is the emulator with its defaults.
func (e *env) stack() *emulator.Stack {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.std == nil {
		e.std = startStack(e.t, nil)
	}
	return e.std
}

// tight is an emulator with a 64 KiB record limit, a 300 ms handshake
// timeout and an outgoing queue of 8 messages.
func (e *env) tight() *emulator.Stack {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tght == nil {
		e.tght = startStack(e.t, func(o *emulator.ServiceOptions) {
			o.MaxMessageSize = 64 << 10
			o.HandshakeTimeout = 300 * time.Millisecond
			o.QueueSize = 8
			o.WriteTimeout = 2 * time.Second
		})
	}
	return e.tght
}

func (e *env) close() {
	if e.std != nil {
		_ = e.std.Close()
	}
	if e.tght != nil {
		_ = e.tght.Close()
	}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func connString(t *testing.T, st *emulator.Stack) protocol.ConnectionString {
	t.Helper()
	cs, err := protocol.ParseConnectionString(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// access mints the stack's client tokens, as a connection string does.
func access(t *testing.T, st *emulator.Stack) client.AccessFunc {
	t.Helper()
	f, err := manage.ConnectionStringAccess(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// httpc is a client of its own per call site, closed by the test, so no
// keep-alive goroutine outlives it.
func httpc(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// do sends a request and returns status, headers and at most 64 KiB of body.
func do(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := httpc(t).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header, string(b)
}

// negotiateWith posts the service's client negotiate with tok.
func negotiateWith(t *testing.T, st *emulator.Stack, hub, tok string) (int, http.Header, string) {
	req, _ := http.NewRequest(http.MethodPost, st.ServiceURL+"/client/negotiate?hub="+hub+"&negotiateVersion=1", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(t, req)
}

// restCall sends a REST request to the service with a token minted for
// the request's own URL.
func restCall(t *testing.T, st *emulator.Stack, method, path string, body []byte, ctype string) (int, http.Header, string) {
	t.Helper()
	u := st.ServiceURL + path
	tok, err := manage.MintRESTToken(emulator.DefaultAccessKey, u, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return restCallWith(t, method, u, tok, body, ctype)
}

func restCallWith(t *testing.T, method, u, tok string, body []byte, ctype string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return do(t, req)
}

// rawConn opens a WebSocket to the emulator by hand (negotiate, upgrade)
// and, unless skipHandshake, completes the JSON handshake. It lets a row
// send bytes no well-behaved client would.
func rawConn(t *testing.T, st *emulator.Stack, user string, skipHandshake bool) *websocket.Conn {
	t.Helper()
	ctx := ctxFor(t, 10*time.Second)
	ca, err := manage.MintClientAccess(connString(t, st), "chat", user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := negotiateWith(t, st, "chat", ca.AccessToken)
	if status != http.StatusOK {
		t.Fatalf("negotiate: %d %s", status, body)
	}
	nr, err := protocol.ParseNegotiateResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	u := "ws" + strings.TrimPrefix(st.ServiceURL, "http") + "/client/?hub=chat&id=" + url.QueryEscape(nr.ConnectionToken)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + ca.AccessToken}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	ws.SetReadLimit(-1)
	if skipHandshake {
		return ws
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte("{\"protocol\":\"json\",\"version\":1}\x1e")); err != nil {
		t.Fatal(err)
	}
	_, p, err := ws.Read(ctx)
	if err != nil || !bytes.HasPrefix(p, []byte("{}\x1e")) {
		t.Fatalf("handshake answer %q, %v", p, err)
	}
	return ws
}

// readClose reads records until a Close message or the end of the
// socket, and returns the Close message's error text and whether a Close
// message came.
func readClose(t *testing.T, ws *websocket.Conn, within time.Duration) (string, bool) {
	t.Helper()
	ctx := ctxFor(t, within)
	for {
		_, p, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("no close within %s", within)
			}
			return "", false
		}
		recs, _ := protocol.SplitRecords(p)
		for _, r := range recs {
			m, err := protocol.ParseMessage(r, protocol.Lenient)
			if err == nil && m.Type == protocol.TypeClose {
				return m.Error, true
			}
		}
	}
}

// fakeHub is a SignalR server that answers negotiate and the handshake
// like a real one and then sends whatever the row wants, to test the
// client against a hostile server.
type fakeHub struct {
	*httptest.Server
	send func(ctx context.Context, ws *websocket.Conn)
	wg   sync.WaitGroup
}

func newFakeHub(t *testing.T, send func(ctx context.Context, ws *websocket.Conn)) *fakeHub {
	f := &fakeHub{send: send}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/negotiate") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"connectionId":"c1","connectionToken":"t1","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(-1)
		ctx := r.Context()
		if _, _, err := ws.Read(ctx); err != nil {
			return
		}
		if err := ws.Write(ctx, websocket.MessageText, []byte("{}\x1e")); err != nil {
			return
		}
		// Drain what the client sends (its ping) in the background; the
		// socket is hijacked, so r.Context() never ends: the client
		// closing the socket ends the reader, and the handler with it.
		gone := make(chan struct{})
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer close(gone)
			for {
				if _, _, err := ws.Read(ctx); err != nil {
					return
				}
			}
		}()
		f.send(ctx, ws)
		<-gone
	}))
	t.Cleanup(func() { f.Server.CloseClientConnections(); f.Server.Close(); f.wg.Wait() })
	return f
}

// collect starts a client on url and gathers its events until the
// connection ends or until stop says enough.
func collect(t *testing.T, o client.Options, within time.Duration, stop func([]client.Event) bool) ([]client.Event, error) {
	t.Helper()
	o.Reconnect = client.NoReconnect
	if o.HTTPClient == nil {
		o.HTTPClient = httpc(t)
	}
	c, err := client.New(o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Start(ctxFor(t, within)); err != nil {
		return nil, err
	}
	var evs []client.Event
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return evs, nil
			}
			evs = append(evs, ev)
			if stop != nil && stop(evs) {
				return evs, nil
			}
		case <-timer.C:
			t.Fatalf("events did not settle within %s: %d so far", within, len(evs))
		}
	}
}

func lastState(evs []client.Event) client.Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == client.EventState {
			return evs[i]
		}
	}
	return client.Event{}
}
