package hostile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// listenerRows attack the emulator's listeners: connections left idle or
// trickled, a connection used by someone who did not negotiate it, CORS
// from foreign origins, and memberships that pile up.
func listenerRows() []row {
	return []row{
		{area: "emulator HTTP", input: "keep-alive connections left idle past MaxIdleConns (40 here) on both listeners (before: 20 000, the open-file limit, left both listeners silent)",
			outcome: "each connection past the cap is answered 503 `The service holds 40 idle HTTP connections, its limit (MaxIdleConns): a client may be opening a connection per request...` with `Connection: close`; a WebSocket still connects (hub connections are not idle HTTP connections); once the idle connections go, requests are served again",
			check:   checkIdleCap},
		{area: "emulator HTTP", input: "a request body trickled one byte every 200 ms, and a keep-alive connection left idle (ReadTimeout and IdleTimeout 1 s here)",
			outcome: "the trickled request is cut at ReadTimeout and the idle connection closed at IdleTimeout, on both listeners; a WebSocket, an SSE stream and a long poll held past both still deliver",
			check:   checkReadIdleTimeouts},
		{area: "negotiate v0", input: "a connection negotiated without negotiateVersion (its public id is its token) used by another anonymous client with its own valid token: WebSocket, SSE, poll, send, DELETE; and stateful reconnect asked on v0",
			outcome: "403 `The access token is not the one that negotiated this connection...` for each; the owner keeps its connection and its messages; v0 is never offered useStatefulReconnect (v1 is)",
			check:   checkV0Binding},
		{area: "function app", input: "cross-origin requests: `--cors '*'` (credentials on), a named origin, and a preflight from an origin outside a named list",
			outcome: "`*` answers `Access-Control-Allow-Origin: *` without `Access-Control-Allow-Credentials`; a named origin is echoed with credentials; the refused preflight gets no CORS headers and a log line naming the origin and the allowed list",
			check:   checkCORS},
		{area: "emulator groups", input: "user-group memberships with TTLs (600 here) re-added with a longer TTL, removed, and left to expire",
			outcome: "each ends when its TTL says, never before, and a removed one never comes back; the sweep pops only what expired from a heap: with 3 M memberships it holds the lock under 1 µs when nothing expires and about 1 ms for 1 000 expiring, where walking them all held it 0.65 to 2 s (`BenchmarkSweep` in ./emulator)",
			check:   checkMembershipExpiry},
	}
}

// stackWith starts an emulator whose options tune adjusts.
func stackWith(t *testing.T, tune func(*emulator.StackOptions)) *emulator.Stack {
	t.Helper()
	opts := emulator.StackOptions{ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0", Logger: quiet()}
	opts.Service.ShutdownTimeout = time.Second
	if tune != nil {
		tune(&opts)
	}
	st, err := emulator.StartStack(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// keepAlive opens a connection, sends one GET on it and reads the answer,
// leaving the connection open and idle unless the server closes it.
func keepAlive(t *testing.T, base, path string) (net.Conn, *http.Response, string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, u.Host); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = c.SetDeadline(time.Time{})
	return c, resp, string(body)
}

// serverCloses waits up to within for the server to close c, and fails
// when it does not.
func serverCloses(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %s", within)
	}
}

func checkIdleCap(t *testing.T, _ *env) {
	const limit = 40
	st := stackWith(t, func(o *emulator.StackOptions) {
		o.HTTP = emulator.HTTPLimits{MaxIdleConns: limit, IdleTimeout: time.Minute}
	})
	defer st.Close()
	// Negotiate before the listeners fill up; the WebSocket comes later.
	tr := &http.Transport{}
	ca, err := manage.MintClientAccess(connString(t, st), "chat", "ws-user", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, st.ServiceURL+"/client/negotiate?hub=chat&negotiateVersion=1", nil)
	req.Header.Set("Authorization", "Bearer "+ca.AccessToken)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tr.CloseIdleConnections()
	nr, err := protocol.ParseNegotiateResponse(body)
	if err != nil {
		t.Fatal(err)
	}

	var kept []net.Conn
	for _, l := range []struct{ name, base, path string }{
		{"function app", strings.TrimSuffix(st.FunctionsURL, "/api"), "/api/negotiate?hub=chat"},
		{"service", st.ServiceURL, "/client/negotiate?hub=chat"}, // 405, on a kept connection
	} {
		n := 0
		for {
			c, resp, body := keepAlive(t, l.base, l.path)
			if resp.StatusCode != http.StatusServiceUnavailable {
				kept = append(kept, c)
				n++
				if n > limit+8 {
					t.Fatalf("%s: %d idle connections kept, the limit is %d", l.name, n, limit)
				}
				continue
			}
			want := fmt.Sprintf("The %s holds %d idle HTTP connections, its limit (MaxIdleConns)", l.name, limit)
			if !strings.Contains(body, want) || !resp.Close || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("%s: 503 %q close=%t Retry-After=%q, want %q, Connection: close and Retry-After", l.name, body, resp.Close, resp.Header.Get("Retry-After"), want)
			}
			serverCloses(t, c, 10*time.Second)
			break
		}
		// A connection turns idle just after its answer is written, so the
		// next one may be accepted a moment before it counts.
		if n < limit {
			t.Fatalf("%s: refused after %d idle connections, the limit is %d", l.name, n, limit)
		}
	}

	// A WebSocket is not an idle HTTP connection: it connects.
	ctx := ctxFor(t, 10*time.Second)
	u := "ws" + strings.TrimPrefix(st.ServiceURL, "http") + "/client/?hub=chat&id=" + url.QueryEscape(nr.ConnectionToken)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + ca.AccessToken}}})
	if err != nil {
		t.Fatalf("WebSocket with both listeners full: %v", err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("{\"protocol\":\"json\",\"version\":1}\x1e")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := ws.Read(ctx); err != nil || string(p) != "{}\x1e" {
		t.Fatalf("handshake answer %q, %v", p, err)
	}

	// Once the idle connections go, new ones are served again.
	for _, c := range kept {
		_ = c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, resp, _ := keepAlive(t, strings.TrimSuffix(st.FunctionsURL, "/api"), "/api/negotiate?hub=chat")
		_ = c.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 10 s after the idle connections closed", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkReadIdleTimeouts(t *testing.T, _ *env) {
	const timeout = time.Second
	st := stackWith(t, func(o *emulator.StackOptions) {
		o.HTTP = emulator.HTTPLimits{ReadTimeout: timeout, IdleTimeout: timeout}
	})
	defer st.Close()
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{HTTPClient: httpc(t)})
	if err != nil {
		t.Fatal(err)
	}
	access, err := manage.ConnectionStringAccess(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}

	// Hub connections on every transport, held past both timeouts.
	type held struct {
		transport string
		got       chan struct{}
	}
	var hubs []held
	for _, tp := range []string{protocol.TransportWebSockets, protocol.TransportServerSentEvents, protocol.TransportLongPolling} {
		c, err := client.New(client.Options{Access: access, UserID: "held-" + tp, Transports: []string{tp},
			Reconnect: client.NoReconnect, HTTPClient: httpc(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Start(ctxFor(t, 10*time.Second)); err != nil {
			t.Fatalf("%s: %v", tp, err)
		}
		h := held{tp, make(chan struct{})}
		go func() {
			defer close(h.got)
			for ev := range c.Events() {
				if ev.Kind == client.EventMessage && ev.Message.Target == "still-here" {
					return
				}
			}
		}()
		hubs = append(hubs, h)
	}
	heldSince := time.Now()
	// Meanwhile: a body trickled to each listener (to the REST API with a
	// valid token, so that the handler reads it), and an idle connection.
	restTok, err := manage.MintRESTToken(emulator.DefaultAccessKey, st.ServiceURL+"/api/hubs/chat/:send", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ base, path, auth string }{
		{strings.TrimSuffix(st.FunctionsURL, "/api"), "/api/messages", ""},
		{st.ServiceURL, "/api/hubs/chat/:send", "Authorization: Bearer " + restTok + "\r\n"},
	} {
		trickle(t, l.base, l.path, l.auth)
		c, _, _ := keepAlive(t, l.base, "/api/nothing-here")
		serverCloses(t, c, 15*timeout)
	}
	// Hold the streams well past both timeouts before checking them.
	time.Sleep(3*timeout - time.Since(heldSince))
	if err := rc.Broadcast(ctxFor(t, 10*time.Second), "chat", "still-here", []byte(`[1]`)); err != nil {
		t.Fatal(err)
	}
	for _, h := range hubs {
		select {
		case <-h.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("the %s connection lost its stream: no message 10 s after the broadcast", h.transport)
		}
	}
}

// trickle sends the headers of a POST (with the extra header lines hdr)
// and then its body one byte every 200 ms, and fails unless the server
// ends the request before the body is done; it would take a minute.
func trickle(t *testing.T, base, path, hdr string) {
	t.Helper()
	u, _ := url.Parse(base)
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size = 300
	start := time.Now()
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, u.Host, hdr, size); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	var sent atomic.Int64
	go func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for sent.Load() < size {
			select {
			case <-ended:
				return
			case <-tick.C:
			}
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.Copy(io.Discard, c) // an answer (400), then the close
	close(ended)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || sent.Load() >= size {
		t.Fatalf("POST %s: the server waited for the trickled body (%d of %d bytes after %s)", path, sent.Load(), size, time.Since(start))
	}
}

func checkV0Binding(t *testing.T, e *env) {
	st := e.stack()
	anon := func(lifetime time.Duration) string {
		ca, err := manage.MintClientAccess(connString(t, st), "chat", "", lifetime)
		if err != nil {
			t.Fatal(err)
		}
		return ca.AccessToken
	}
	// Two valid anonymous tokens, different (minted in the same second
	// with the same lifetime they would be the same token).
	owner, intruder := anon(time.Hour), anon(2*time.Hour)
	if owner == intruder {
		t.Fatal("the two tokens are the same")
	}
	call := func(method, query, tok string, body string, hdr ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, st.ServiceURL+query, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		status, _, b := do(t, req)
		return status, b
	}
	negotiate := func(query string) (protocol.NegotiateResponse, string) {
		status, body := call(http.MethodPost, "/client/negotiate?hub=chat&useStatefulReconnect=true"+query, owner, "")
		nr, err := protocol.ParseNegotiateResponse([]byte(body))
		if status != http.StatusOK || err != nil {
			t.Fatalf("negotiate%s: %d %q %v", query, status, body, err)
		}
		return nr, body
	}
	if nr, _ := negotiate("&negotiateVersion=1"); !nr.UseStatefulReconnect {
		t.Fatal("v1 with useStatefulReconnect=true: not offered (the control case)")
	}
	nr, body := negotiate("")
	if nr.UseStatefulReconnect || strings.Contains(body, "connectionToken") || nr.NegotiateVersion != 0 {
		t.Fatalf("v0 answer %s: want version 0, no connectionToken, no useStatefulReconnect", body)
	}
	conn := "/client/?hub=chat&id=" + url.QueryEscape(nr.ConnectionID)
	refused := func(what string, status int, body string) {
		t.Helper()
		if status != http.StatusForbidden || !strings.Contains(body, "The access token is not the one that negotiated this connection") {
			t.Fatalf("%s by another anonymous client: %d %q, want 403", what, status, body)
		}
	}
	// Before the owner connects: the intruder cannot claim it.
	ctx := ctxFor(t, 10*time.Second)
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(st.ServiceURL, "http")+conn,
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + intruder}}})
	if err == nil || resp == nil {
		t.Fatalf("WebSocket by another anonymous client: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("WebSocket by another anonymous client: %d, want 403", resp.StatusCode)
	}
	// The owner connects with long polling and hands in its handshake.
	if status, body := call(http.MethodGet, conn, owner, ""); status != http.StatusOK {
		t.Fatalf("owner's first poll: %d %q", status, body)
	}
	if status, body := call(http.MethodPost, conn, owner, "{\"protocol\":\"json\",\"version\":1}\x1e"); status != http.StatusOK {
		t.Fatalf("owner's handshake: %d %q", status, body)
	}
	if status, body := call(http.MethodGet, conn, owner, ""); status != http.StatusOK || !strings.HasPrefix(body, "{}\x1e") {
		t.Fatalf("owner's handshake answer: %d %q", status, body)
	}
	// The intruder tries every request on it.
	status, body := call(http.MethodGet, conn, intruder, "")
	refused("a poll", status, body)
	status, body = call(http.MethodGet, conn, intruder, "", "Accept", "text/event-stream")
	refused("an SSE stream", status, body)
	status, body = call(http.MethodPost, conn, intruder, "{\"type\":7}\x1e")
	refused("a send (a Close message)", status, body)
	status, body = call(http.MethodDelete, conn, intruder, "")
	refused("a DELETE", status, body)
	// The owner still has its connection, and gets what is sent to it.
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{HTTPClient: httpc(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.SendToConnection(ctx, "chat", nr.ConnectionID, "mine", []byte(`["only for the owner"]`)); err != nil {
		t.Fatal(err)
	}
	if status, body := call(http.MethodGet, conn, owner, ""); status != http.StatusOK || !strings.Contains(body, "only for the owner") {
		t.Fatalf("owner's poll after the attempts: %d %q", status, body)
	}
	if status, _ := call(http.MethodDelete, conn, owner, ""); status != http.StatusAccepted {
		t.Fatalf("owner's DELETE: %d", status)
	}
}

func checkCORS(t *testing.T, e *env) {
	var logs syncbuf.Buffer
	app := func(origins []string) *httptest.Server {
		fa, err := emulator.NewFunctionApp(emulator.FunctionAppOptions{
			ConnectionString: e.stack().ConnectionString, CORSOrigins: origins, CORSCredentials: true,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(fa.Handler())
		t.Cleanup(srv.Close)
		return srv
	}
	ask := func(srv *httptest.Server, method, origin string) http.Header {
		req, _ := http.NewRequest(method, srv.URL+"/api/negotiate", nil)
		req.Header.Set("Origin", origin)
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		status, h, body := do(t, req)
		if status != http.StatusOK && status != http.StatusNoContent {
			t.Fatalf("%s from %s: %d %q", method, origin, status, body)
		}
		return h
	}
	wildcard := app([]string{"*"}) // as `sigr emulator --cors '*'` starts it
	for _, m := range []string{http.MethodPost, http.MethodOptions} {
		h := ask(wildcard, m, "http://evil.test")
		if h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("%s with --cors '*': Allow-Origin %q Allow-Credentials %q, want * and none", m, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
		}
	}
	named := app([]string{"http://app.test"})
	h := ask(named, http.MethodPost, "http://app.test")
	if h.Get("Access-Control-Allow-Origin") != "http://app.test" || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("named origin: Allow-Origin %q Allow-Credentials %q", h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
	}
	h = ask(named, http.MethodOptions, "http://evil.test")
	if h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("refused preflight carries CORS headers: %v", h)
	}
	if l := logs.String(); !strings.Contains(l, "CORS preflight refused") || !strings.Contains(l, "origin=http://evil.test") || !strings.Contains(l, "allowed=http://app.test") {
		t.Fatalf("no log line naming the origin and the allowed list: %q", l)
	}
}

func checkMembershipExpiry(t *testing.T, _ *env) {
	var offset atomic.Int64
	st := stackWith(t, func(o *emulator.StackOptions) {
		o.Service.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		o.Service.SweepInterval = 10 * time.Millisecond
	})
	defer st.Close()
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{HTTPClient: httpc(t), TokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 60*time.Second)
	add := func(user, group string, ttl time.Duration) {
		t.Helper()
		if err := rc.AddUserToGroup(ctx, "chat", group, user, ttl); err != nil {
			t.Fatal(err)
		}
	}
	// A crowd of memberships for users who are not connected, expiring
	// all along, so the index holds more than the ones checked.
	for i := range 600 {
		add(fmt.Sprint("crowd", i%50), fmt.Sprint("c", i/50), time.Duration(1+i%90)*time.Second)
	}
	ws := rawConn(t, st, "u", false)
	_ = ws
	add("u", "t10", 10*time.Second)
	add("u", "t20", 20*time.Second)
	add("u", "readd", 10*time.Second)
	add("u", "readd", 40*time.Second) // extended
	add("u", "removed", 30*time.Second)
	if err := rc.RemoveUserFromGroup(ctx, "chat", "removed", "u"); err != nil {
		t.Fatal(err)
	}
	add("u", "kept", -1)

	// Whether u's connection is in a group is the sweep's doing: it takes
	// the connection out when the membership expires.
	in := func(g string) bool {
		ok, err := rc.GroupExists(ctx, "chat", g)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	expect := func(at time.Duration, gone, there []string) {
		t.Helper()
		offset.Store(int64(at))
		deadline := time.Now().Add(10 * time.Second)
		for _, g := range gone {
			for in(g) {
				if time.Now().After(deadline) {
					t.Fatalf("at %s: group %s still holds u's connection", at, g)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		// The sweep that removed the expired ones has seen this time.
		for _, g := range there {
			if !in(g) {
				t.Fatalf("at %s: u's connection left group %s early", at, g)
			}
		}
	}
	expect(15*time.Second, []string{"t10", "removed"}, []string{"t20", "readd", "kept"})
	expect(25*time.Second, []string{"t20"}, []string{"readd", "kept"})
	expect(45*time.Second, []string{"readd"}, []string{"kept"})
	for _, g := range []string{"t10", "t20", "readd", "removed"} {
		if ok, err := rc.UserInGroup(ctx, "chat", g, "u"); err != nil || ok {
			t.Fatalf("u still in %s after its end: %v %v", g, ok, err)
		}
	}
	// A new connection of u joins only what is left.
	ws2 := rawConn(t, st, "u", false)
	_ = ws2
	if err := rc.SendToGroup(ctx, "chat", "readd", "late", []byte(`[1]`)); err != nil {
		t.Fatal(err)
	}
	if err := rc.SendToGroup(ctx, "chat", "kept", "kept", []byte(`[1]`)); err != nil {
		t.Fatal(err)
	}
	rctx := ctxFor(t, 10*time.Second)
	for {
		_, p, err := ws2.Read(rctx)
		if err != nil {
			t.Fatalf("the new connection got nothing from group kept: %v", err)
		}
		if strings.Contains(string(p), `"target":"late"`) {
			t.Fatal("the new connection joined a group whose membership expired")
		}
		if strings.Contains(string(p), `"target":"kept"`) {
			return
		}
	}
}
