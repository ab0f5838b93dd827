package emulator

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/protocol"
)

func TestNegotiateAnswers(t *testing.T) {
	st := startStack(t, nil)
	tok := clientToken(t, st, "chat", "alice")
	cases := []struct {
		name, query string
		method      string
		status      int
		body        string
	}{
		{"invalid hub", "hub=li-hub", "POST", 400, "Invalid value of 'hub'."},
		{"two hubs", "hub=chat&hub=chat", "POST", 400, "Invalid value of 'hub'."},
		{"no hub", "", "POST", 400, "Invalid value of 'hub'."},
		{"GET", "hub=chat", "GET", 405, ""},
		{"non-integer version", "hub=chat&negotiateVersion=x", "POST", 200, `{"error":"The client requested a non-integer protocol version."}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, tc.method, st.ServiceURL+"/client/negotiate?"+tc.query, tok, nil, nil)
			if resp.StatusCode != tc.status || (tc.body != "" && strings.TrimSpace(string(body)) != tc.body) {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}
	// v1 has a connectionToken distinct from the id; v0 has none and the
	// id is used to connect.
	v1 := negotiate(t, st, "chat", "alice")
	if v1.NegotiateVersion != 1 || v1.ConnectionToken == "" || v1.ConnectionToken == v1.ConnectionID || len(v1.AvailableTransports) != 3 {
		t.Fatalf("v1 answer %+v", v1)
	}
	resp, body := doReq(t, "POST", st.ServiceURL+"/client/negotiate?hub=chat", tok, nil, nil)
	if resp.StatusCode != 200 || bytes.Contains(body, []byte("connectionToken")) || !bytes.Contains(body, []byte(`"negotiateVersion":0`)) {
		t.Fatalf("v0 answer %d %s", resp.StatusCode, body)
	}
	v0, _ := protocol.ParseNegotiateResponse(body)
	r, _ := doReq(t, "GET", st.ServiceURL+"/client/?hub=chat&id="+v0.ConnectionID, tok, nil, nil)
	if r.StatusCode != 200 {
		t.Fatalf("first long poll with a v0 connection id: %d", r.StatusCode)
	}
}

func TestTransportStatusCodes(t *testing.T) {
	var offset atomic.Int64 // the service's clock runs this far ahead
	st := startStack(t, func(o *StackOptions) {
		o.Service.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		o.Service.SweepInterval = time.Hour
	})
	tok := clientToken(t, st, "chat", "alice")
	base := st.ServiceURL + "/client/?hub=chat&id="
	sse := map[string]string{"Accept": "text/event-stream"}

	if r, b := doReq(t, "GET", st.ServiceURL+"/client/?hub=chat", tok, nil, nil); r.StatusCode != 400 || !strings.Contains(string(b), "Connection ID required") {
		t.Fatalf("no id: %d %s", r.StatusCode, b)
	}
	if r, b := doReq(t, "GET", base+"nope", tok, nil, nil); r.StatusCode != 404 || !strings.Contains(string(b), "No Connection with that ID") {
		t.Fatalf("unknown id: %d %s", r.StatusCode, b)
	}

	// An unused connection token expires.
	stale := negotiate(t, st, "chat", "alice")
	offset.Add(int64(st.Service.opts.NegotiateTimeout + time.Second))
	if r, _ := doReq(t, "GET", base+stale.ConnectionToken, tok, nil, nil); r.StatusCode != 404 {
		t.Fatalf("expired connection token: %d, want 404", r.StatusCode)
	}

	// WebSockets: a second socket is 409, POST is 405, DELETE is 400.
	ws, n := dialWS(t, st, "chat", "alice")
	_ = ws
	_, resp, err := websocket.Dial(ctxT(t), st.wsURL("chat", n.ConnectionToken), &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err == nil || resp == nil || resp.StatusCode != 409 {
		t.Fatalf("second WebSocket: %v %v, want 409", err, resp)
	}
	if r, b := doReq(t, "POST", base+n.ConnectionToken, tok, []byte("{}\x1e"), nil); r.StatusCode != 405 || !strings.Contains(string(b), "POST requests are not allowed for WebSocket connections.") {
		t.Fatalf("POST on a WebSocket connection: %d %s", r.StatusCode, b)
	}
	if r, b := doReq(t, "DELETE", base+n.ConnectionToken, tok, nil, nil); r.StatusCode != 400 || !strings.Contains(string(b), "Cannot terminate this connection using the DELETE endpoint.") {
		t.Fatalf("DELETE on a WebSocket connection: %d %s", r.StatusCode, b)
	}

	// Long polling: first poll 200 and empty, handshake by POST, the answer
	// on the next poll, a change of transport 400, DELETE 202, then gone.
	lp := negotiate(t, st, "chat", "alice")
	u := base + lp.ConnectionToken
	if r, b := doReq(t, "GET", u, tok, nil, nil); r.StatusCode != 200 || len(b) != 0 {
		t.Fatalf("first poll: %d %q", r.StatusCode, b)
	}
	if r, _ := doReq(t, "POST", u, tok, protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1}), nil); r.StatusCode != 200 {
		t.Fatalf("handshake POST: %d", r.StatusCode)
	}
	if r, b := doReq(t, "GET", u, tok, nil, nil); r.StatusCode != 200 || string(b) != "{}\x1e" {
		t.Fatalf("poll for the handshake answer: %d %q", r.StatusCode, b)
	}
	if r, b := doReq(t, "GET", u, tok, nil, sse); r.StatusCode != 400 || !strings.Contains(string(b), "Cannot change transports mid-connection") {
		t.Fatalf("SSE on a long-polling connection: %d %s", r.StatusCode, b)
	}
	if r, _ := doReq(t, "DELETE", u, tok, nil, nil); r.StatusCode != 202 {
		t.Fatalf("DELETE: %d, want 202", r.StatusCode)
	}
	if r, _ := doReq(t, "GET", u, tok, nil, nil); r.StatusCode != 404 {
		t.Fatalf("poll after DELETE: %d, want 404", r.StatusCode)
	}

	// SSE: the stream starts with the comment line; a second stream is 409.
	sn := negotiate(t, st, "chat", "alice")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+sn.ConnectionToken, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	first := make([]byte, 3)
	if _, err := sresp.Body.Read(first); err != nil || string(first) != ":\r\n" || sresp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("SSE start %q %v %q", first, err, sresp.Header.Get("Content-Type"))
	}
	if r, _ := doReq(t, "GET", base+sn.ConnectionToken, tok, nil, sse); r.StatusCode != 409 {
		t.Fatalf("second SSE stream: %d, want 409", r.StatusCode)
	}
	cancel()
}

// readRecords reads from a raw socket until it closes and returns every
// record that arrived and the close error.
func readRecords(t *testing.T, ws *websocket.Conn) ([]string, error) {
	t.Helper()
	var f protocol.Framer
	var out []string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return out, err
		}
		f.Feed(data)
		for {
			rec, ok, _ := f.Next()
			if !ok {
				break
			}
			out = append(out, string(rec))
		}
	}
}

func TestBadInputClosesOnlyTheOffender(t *testing.T) {
	var logs syncbuf.Buffer
	st := startStack(t, func(o *StackOptions) {
		o.Service.MaxMessageSize = 4096
		o.Logger = newBufferLogger(&logs)
		o.ServiceOnly = true // no upstream: invocations are dropped
	})
	healthy := connectWS(t, st, "chat", "bob")
	hs := string(protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1}))
	cases := []struct {
		name  string
		send  []string
		want  string // substring of the last record
		close bool   // the last record is a Close message
	}{
		{"malformed handshake", []string{"{\"protocol\":\x1e"}, `{"error":"`, false},
		{"handshake not an object", []string{"[]\x1e"}, `{"error":"`, false},
		{"handshake without version", []string{`{"protocol":"json"}` + "\x1e"}, `Missing required property 'version'.`, false},
		{"unknown protocol", []string{`{"protocol":"xml","version":1}` + "\x1e"}, `{"error":"The protocol 'xml' is not supported."}`, false},
		{"unsupported version", []string{`{"protocol":"json","version":3}` + "\x1e"}, `{"error":"The server does not support version 3 of the 'json' protocol."}`, false},
		{"oversized message", []string{hs, strings.Repeat("x", 5000)}, `maximum message size of 4096 bytes`, true},
		{"oversized record in pieces", []string{hs, strings.Repeat("y", 3000), strings.Repeat("y", 3000) + "\x1e"}, `maximum message size of 4096 bytes`, true},
		{"garbage frame", []string{hs, "hello\x1e"}, `Invalid message`, true},
		{"message without type", []string{hs, `{"target":"x"}` + "\x1e"}, `Invalid message`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, _ := dialWS(t, st, "chat", "alice")
			for _, s := range tc.send {
				if err := ws.Write(ctxT(t), websocket.MessageText, []byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			recs, err := readRecords(t, ws)
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("socket ended with %v, want a normal close", err)
			}
			if len(recs) == 0 || !strings.Contains(recs[len(recs)-1], tc.want) {
				t.Fatalf("records %q: want the last to contain %q", recs, tc.want)
			}
			if tc.close {
				m, err := protocol.ParseMessage([]byte(recs[len(recs)-1]), protocol.Strict)
				if err != nil || m.Type != protocol.TypeClose || m.AllowReconnect {
					t.Fatalf("last record %q: want a Close without allowReconnect", recs[len(recs)-1])
				}
			}
			// Everyone else is still served.
			if err := restClient(t, st).Broadcast(ctxT(t), "chat", "still", nil); err != nil {
				t.Fatal(err)
			}
			healthy.expectInvocation("still", "broadcast")
		})
	}

	// Without upstream, client invocations are dropped with one warning
	// per connection. The
	// client's Close comes after them on the same socket, so once the
	// socket has ended every one of them has been handled.
	ws, _ := dialWS(t, st, "chat", "carol")
	inv := `{"type":1,"target":"echo","arguments":[1]}` + "\x1e"
	for _, s := range []string{hs, inv, inv, inv, `{"type":6}` + "\x1e", `{"type":7}` + "\x1e"} {
		if err := ws.Write(ctxT(t), websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := readRecords(t, ws); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("socket ended with %v after the client's Close, want a normal close", err)
	}
	if err := restClient(t, st).Broadcast(ctxT(t), "chat", "after", nil); err != nil {
		t.Fatal(err)
	}
	healthy.expectInvocation("after", "broadcast")
	if n := strings.Count(logs.String(), "dropping client invocations"); n != 1 {
		t.Fatalf("%d warnings about dropped invocations, want 1", n)
	}
	if strings.Contains(logs.String(), "access_token") || strings.Contains(logs.String(), "eyJ") {
		t.Fatal("a token or query string reached the log")
	}
}

func TestShutdownClosesClientsWithAllowReconnect(t *testing.T) {
	st := startStack(t, nil)
	c := connectWS(t, st, "chat", "alice")
	done := make(chan struct{})
	go func() { _ = st.Service.Close(); close(done) }()
	m, ok := c.next(5 * time.Second)
	if !ok || m.Type != protocol.TypeClose || !m.AllowReconnect {
		t.Fatalf("got %+v (ok %v), want a Close with allowReconnect", m, ok)
	}
	<-done
	resp, err := http.Post(st.ServiceURL+"/client/negotiate?hub=chat", "text/plain", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("negotiate after Close answered %d; want the listener closed", resp.StatusCode)
	}
}

// TestUpgradeWithDataBehind sends the handshake in the same packet as the
// upgrade request, before the 101: the bytes the HTTP server already read
// must reach the socket's reader.
func TestUpgradeWithDataBehind(t *testing.T) {
	st := startStack(t, nil)
	n := negotiate(t, st, "chat", "eager")
	u, err := url.Parse(st.ServiceURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	payload := protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})
	mask := [4]byte{1, 2, 3, 4}
	frame := append([]byte{0x81, 0x80 | byte(len(payload))}, mask[:]...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	req := "GET /client/?hub=chat&id=" + n.ConnectionToken + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nAuthorization: Bearer " + clientToken(t, st, "chat", "eager") +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || hdr[1] >= 126 {
		t.Fatalf("frame header %v: %v", hdr, err)
	}
	got := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "{}\x1e" {
		t.Fatalf("first frame %q: %v, want the handshake answer", got, err)
	}
}
