package emulator

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/syncbuf"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startStack starts the emulator on free loopback ports; tune adjusts the
// service options.
func startStack(t testing.TB, tune func(*StackOptions)) *Stack {
	t.Helper()
	opts := StackOptions{ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0", Logger: quietLogger()}
	opts.Service.ShutdownTimeout = time.Second
	if tune != nil {
		tune(&opts)
	}
	st, err := StartStack(context.Background(), opts)
	if err != nil {
		t.Fatalf("StartStack: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connString(t testing.TB, st *Stack) protocol.ConnectionString {
	t.Helper()
	cs, err := protocol.ParseConnectionString(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// clientToken mints a client token for hub and user from the stack's key.
func clientToken(t testing.TB, st *Stack, hub, user string) string {
	t.Helper()
	ca, err := client.MintClientAccess(connString(t, st), hub, user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca.AccessToken
}

// signClaims signs arbitrary claims with method and key.
func signClaims(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func doReq(t testing.TB, method, u, token string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// negotiate calls the service negotiate for hub as user.
func negotiate(t testing.TB, st *Stack, hub, user string) protocol.NegotiateResponse {
	t.Helper()
	resp, body := doReq(t, "POST", st.ServiceURL+"/client/negotiate?hub="+url.QueryEscape(hub)+"&negotiateVersion=1", clientToken(t, st, hub, user), nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("negotiate: %d %s", resp.StatusCode, body)
	}
	n, err := protocol.ParseNegotiateResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// connectLP opens a long-polling connection on hub "chat" as user and
// completes its handshake: the first poll, the handshake POST and the
// poll that brings the answer. It returns the connection URL, the access
// token and the negotiate answer.
func connectLP(t testing.TB, st *Stack, user string) (u, tok string, n protocol.NegotiateResponse) {
	t.Helper()
	tok = clientToken(t, st, "chat", user)
	n = negotiate(t, st, "chat", user)
	u = st.ServiceURL + "/client/?hub=chat&id=" + n.ConnectionToken
	if r, _ := doReq(t, "GET", u, tok, nil, nil); r.StatusCode != 200 {
		t.Fatalf("first poll %d", r.StatusCode)
	}
	if r, _ := doReq(t, "POST", u, tok, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1}), nil); r.StatusCode != 200 {
		t.Fatalf("handshake %d", r.StatusCode)
	}
	if r, b := doReq(t, "GET", u, tok, nil, nil); r.StatusCode != 200 || string(b) != "{}\x1e" {
		t.Fatalf("handshake poll %d %q", r.StatusCode, b)
	}
	return u, tok, n
}

// wsClient is a raw WebSocket hub client for tests.
type wsClient struct {
	t    testing.TB
	ws   *websocket.Conn
	id   string
	msgs chan protocol.Message
	errs chan error
	done chan struct{}
	hub  string
}

func (st *Stack) wsURL(hub, tok string) string {
	return "ws" + strings.TrimPrefix(st.ServiceURL, "http") + "/client/?hub=" + url.QueryEscape(hub) + "&id=" + url.QueryEscape(tok)
}

// dialWS negotiates and opens a WebSocket without a handshake.
func dialWS(t testing.TB, st *Stack, hub, user string) (*websocket.Conn, protocol.NegotiateResponse) {
	t.Helper()
	n := negotiate(t, st, hub, user)
	ws, resp, err := websocket.Dial(ctxT(t), st.wsURL(hub, n.ConnectionToken), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + clientToken(t, st, hub, user)}},
	})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	ws.SetReadLimit(-1)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws, n
}

// connectWS negotiates, dials, handshakes and starts reading messages.
func connectWS(t testing.TB, st *Stack, hub, user string) *wsClient {
	t.Helper()
	ws, n := dialWS(t, st, hub, user)
	c := &wsClient{t: t, ws: ws, id: n.ConnectionID, msgs: make(chan protocol.Message, 1024), errs: make(chan error, 1), done: make(chan struct{}), hub: hub}
	if err := ws.Write(ctxT(t), websocket.MessageText, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})); err != nil {
		t.Fatal(err)
	}
	go c.readLoop()
	t.Cleanup(func() { _ = ws.CloseNow(); <-c.done })
	// Wait until the service registered the connection.
	waitFor(t, func() bool { return st.Service.exists(hub, toConn, c.id) })
	return c
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	var f protocol.Framer
	handshaken := false
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.errs <- err
			return
		}
		f.Feed(data)
		for {
			rec, ok, err := f.Next()
			if err != nil {
				c.errs <- err
				return
			}
			if !ok {
				break
			}
			if !handshaken {
				handshaken = true
				hr, err := protocol.ParseHandshakeResponse(rec)
				if err != nil || hr.HasError {
					c.errs <- err
					return
				}
				continue
			}
			m, err := protocol.ParseMessage(bytes.Clone(rec), protocol.Strict)
			if err != nil {
				c.errs <- err
				return
			}
			if m.Type == protocol.TypePing {
				continue
			}
			c.msgs <- m
		}
	}
}

// next waits for the next non-ping message.
func (c *wsClient) next(d time.Duration) (protocol.Message, bool) {
	select {
	case m := <-c.msgs:
		return m, true
	case <-time.After(d):
		return protocol.Message{}, false
	}
}

// expectInvocation waits for an invocation of target with route.
func (c *wsClient) expectInvocation(target, route string) protocol.Message {
	c.t.Helper()
	m, ok := c.next(5 * time.Second)
	if !ok {
		c.t.Fatalf("connection %s: no message, want %s via %s", c.id, target, route)
	}
	if m.Type != protocol.TypeInvocation || m.Target != target {
		c.t.Fatalf("connection %s: got type %d target %q, want invocation %q", c.id, m.Type, m.Target, target)
	}
	if r, _ := m.Header("route"); r != route {
		c.t.Fatalf("connection %s: route %q, want %q", c.id, r, route)
	}
	return m
}

// expectNothing checks that no message arrives for a short while.
func (c *wsClient) expectNothing() {
	c.t.Helper()
	if m, ok := c.next(150 * time.Millisecond); ok {
		c.t.Fatalf("connection %s: unexpected message type %d target %q", c.id, m.Type, m.Target)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func restClient(t testing.TB, st *Stack) *client.RESTClient {
	t.Helper()
	rc, err := client.NewRESTClient(st.ConnectionString, client.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func newBufferLogger(b *syncbuf.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, nil))
}
