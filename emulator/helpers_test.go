package emulator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/manage"
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
	ca, err := manage.MintClientAccess(connString(t, st), hub, user, time.Hour)
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
	n, err := tryNegotiate(ctxT(t), st, hub, clientToken(t, st, hub, user))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tryNegotiate is negotiate with the client token given, returning its
// error, for goroutines other than the test's (which must not end it).
func tryNegotiate(ctx context.Context, st *Stack, hub, token string) (protocol.NegotiateResponse, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", st.ServiceURL+"/client/negotiate?hub="+url.QueryEscape(hub)+"&negotiateVersion=1", nil)
	if err != nil {
		return protocol.NegotiateResponse{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return protocol.NegotiateResponse{}, fmt.Errorf("negotiate: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return protocol.NegotiateResponse{}, fmt.Errorf("negotiate: %d %s (%v)", resp.StatusCode, body, err)
	}
	return protocol.ParseNegotiateResponse(body)
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
	t     testing.TB
	st    *Stack
	ws    *websocket.Conn
	id    string
	msgs  chan protocol.Message
	errs  chan error
	ready chan struct{} // closed on the handshake answer
	done  chan struct{}
	hub   string
}

func (s *Stack) wsURL(hub, tok string) string {
	return "ws" + strings.TrimPrefix(s.ServiceURL, "http") + "/client/?hub=" + url.QueryEscape(hub) + "&id=" + url.QueryEscape(tok)
}

// dialWS negotiates and opens a WebSocket without a handshake.
func dialWS(t testing.TB, st *Stack, hub, user string) (*websocket.Conn, protocol.NegotiateResponse) {
	t.Helper()
	ws, n, err := tryDialWS(ctxT(t), st, hub, clientToken(t, st, hub, user))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws, n
}

// tryDialWS is dialWS with the client token given, returning its error.
func tryDialWS(ctx context.Context, st *Stack, hub, token string) (*websocket.Conn, protocol.NegotiateResponse, error) {
	n, err := tryNegotiate(ctx, st, hub, token)
	if err != nil {
		return nil, n, err
	}
	ws, resp, err := websocket.Dial(ctx, st.wsURL(hub, n.ConnectionToken), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}},
	})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, n, fmt.Errorf("dial: %v (status %d)", err, status)
	}
	ws.SetReadLimit(-1)
	return ws, n, nil
}

// connectWS negotiates, dials, handshakes and starts reading messages.
func connectWS(t testing.TB, st *Stack, hub, user string) *wsClient {
	t.Helper()
	c, err := tryConnectWS(ctxT(t), st, hub, clientToken(t, st, hub, user))
	if err != nil {
		t.Fatal(err)
	}
	c.t = t
	t.Cleanup(c.closeNow)
	return c
}

// tryConnectWS is connectWS with the client token given, returning its
// error; the caller closes the client with closeNow.
func tryConnectWS(ctx context.Context, st *Stack, hub, token string) (*wsClient, error) {
	ws, n, err := tryDialWS(ctx, st, hub, token)
	if err != nil {
		return nil, err
	}
	c := &wsClient{st: st, ws: ws, id: n.ConnectionID, msgs: make(chan protocol.Message, 1024), errs: make(chan error, 1),
		ready: make(chan struct{}), done: make(chan struct{}), hub: hub}
	if err := ws.Write(ctx, websocket.MessageText, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})); err != nil {
		_ = ws.CloseNow()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	go c.readLoop()
	// The service registers a connection before it answers the handshake.
	select {
	case <-c.ready:
		return c, nil
	case err := <-c.errs:
		c.closeNow()
		return nil, fmt.Errorf("connection %s before the handshake answer: %v", c.id, err)
	case <-ctx.Done():
		c.closeNow()
		return nil, fmt.Errorf("connection %s: no handshake answer: %w", c.id, ctx.Err())
	}
}

// closeNow drops the socket and waits for the read loop to end.
func (c *wsClient) closeNow() {
	_ = c.ws.CloseNow()
	<-c.done
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
					c.errs <- fmt.Errorf("handshake answer %q: %v", rec, err)
					return
				}
				close(c.ready)
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

// expectNothing checks that nothing was sent to the connection: a marker
// sent to it now must be the next message. The REST API answers a send
// once it has queued the message, so anything sent to the connection
// before is ahead of the marker.
func (c *wsClient) expectNothing() {
	c.t.Helper()
	if err := restClient(c.t, c.st).SendToConnection(ctxT(c.t), c.hub, c.id, "nothing-before-this", nil); err != nil {
		c.t.Fatalf("connection %s: sending the marker: %v", c.id, err)
	}
	m, ok := c.next(5 * time.Second)
	if !ok {
		c.t.Fatalf("connection %s: no marker within 5 s", c.id)
	}
	if m.Type != protocol.TypeInvocation || m.Target != "nothing-before-this" {
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

func restClient(t testing.TB, st *Stack) *manage.RESTClient {
	t.Helper()
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func newBufferLogger(b *syncbuf.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, nil))
}
