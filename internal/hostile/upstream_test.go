package hostile

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// upstreamRows attack the serverless upstream from both ends: a forger
// calling the function app's trigger endpoint, a function app that
// answers badly, and a token that must not travel on to a function.
func upstreamRows() []row {
	return []row{
		{area: "upstream", input: "a forged call to the built-in function app's `/runtime/webhooks/signalr` (broadcast) signed with another key, for another connection, or not at all",
			outcome: "401 `The request is unauthorized, please check the Signature.`; nothing is sent to anyone",
			check:   checkForgedWebhook},
		{area: "upstream", input: "a function app that answers an invocation with 20 MB, with a body that is not framed, with 500 and escape sequences in its error, or never",
			outcome: "the client's invocation fails with `response too large.`, a message naming the missing 0x1E, `status code 500`, `response cancelled.` (after the upstream timeout); the log shows the error's first line escaped; the connection keeps working",
			check:   checkHostileUpstream},
		{area: "upstream", input: "a browser-style client that puts its access token in the connect query (`access_token=`)",
			outcome: "the function never sees it: `X-ASRS-Client-Query` is the connect query without `access_token`, and no other header carries the token",
			check:   checkTokenStaysWithService},
	}
}

func signature(key, connectionID string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(connectionID))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// nextMessage reads the next hub message other than a ping.
func nextMessage(t *testing.T, ws *websocket.Conn, pending *[]protocol.Message) protocol.Message {
	t.Helper()
	ctx := ctxFor(t, 10*time.Second)
	for len(*pending) == 0 {
		_, p, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		recs, err := protocol.SplitRecords(p)
		if err != nil {
			t.Fatalf("frame %q: %v", p, err)
		}
		for _, r := range recs {
			m, err := protocol.ParseMessage(append([]byte(nil), r...), protocol.Lenient)
			if err != nil {
				t.Fatalf("record %q: %v", r, err)
			}
			if m.Type != protocol.TypePing {
				*pending = append(*pending, m)
			}
		}
	}
	m := (*pending)[0]
	*pending = (*pending)[1:]
	return m
}

func checkForgedWebhook(t *testing.T, e *env) {
	st := e.stack()
	ws := rawConn(t, st, "alice", false)
	hook := strings.TrimSuffix(st.FunctionsURL, "/api") + emulator.WebhookPath
	for name, sig := range map[string]string{
		"another key":        signature("not the service's key", "c1"),
		"another connection": signature(emulator.DefaultAccessKey, "c2"),
		"none":               "",
	} {
		req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(`{"type":1,"target":"broadcast","arguments":["forged"]}`))
		for k, v := range map[string]string{"Content-Type": "application/json", "X-ASRS-Hub": "chat", "X-ASRS-Category": "messages",
			"X-ASRS-Event": "broadcast", "X-ASRS-Connection-Id": "c1", "X-ASRS-Signature": sig} {
			req.Header.Set(k, v)
		}
		status, _, body := do(t, req)
		if status != http.StatusUnauthorized || !strings.Contains(body, "The request is unauthorized, please check the Signature.") {
			t.Fatalf("signature %s: %d %q", name, status, body)
		}
	}
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Broadcast(ctxFor(t, 5*time.Second), "chat", "marker", nil); err != nil {
		t.Fatal(err)
	}
	var pending []protocol.Message
	if m := nextMessage(t, ws, &pending); m.Target != "marker" {
		t.Fatalf("alice got %q before the marker: a forged call got through", m.Target)
	}
}

func checkHostileUpstream(t *testing.T, _ *env) {
	huge := strings.Repeat("x", 20<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.Header.Get("X-ASRS-Event") {
		case "huge":
			_, _ = io.WriteString(w, huge)
		case "unframed":
			_, _ = io.WriteString(w, `{"type":3,"invocationId":"2","result":"no separator"}`)
		case "escape":
			http.Error(w, "\x1b]0;pwned\x07\x1b[2J oops\nsecond line", http.StatusInternalServerError)
		case "hang":
			<-r.Context().Done()
		case "echo":
			_, _ = io.WriteString(w, "{\"type\":3,\"invocationId\":\"5\",\"result\":\"fine\"}\x1e")
		}
	}))
	t.Cleanup(srv.Close) // after the services, which close their calls first
	var logs syncbuf.Buffer
	// Two services: reading 20 MB under the race detector on a busy
	// machine must not run into the timeout that the hanging answer needs.
	stackFor := func(timeout time.Duration) *emulator.Stack {
		st := stackWith(t, func(o *emulator.StackOptions) {
			o.ServiceOnly = true
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			o.Service.Upstream = []emulator.UpstreamTemplate{{URLTemplate: srv.URL + "/{event}", CategoryPattern: "messages"}}
			o.Service.UpstreamTimeout = timeout
		})
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	st, quick := stackFor(30*time.Second), stackFor(300*time.Millisecond)
	ws, wsQuick := rawConn(t, st, "alice", false), rawConn(t, quick, "alice", false)
	var pending, pendingQuick []protocol.Message
	if err := wsQuick.Write(ctxFor(t, 5*time.Second), websocket.MessageText, []byte(`{"type":1,"invocationId":"h","target":"hang","arguments":[]}`+"\x1e")); err != nil {
		t.Fatal(err)
	}
	if m := nextMessage(t, wsQuick, &pendingQuick); m.InvocationID != "h" || m.Error != "Invocation failed, response cancelled." {
		t.Fatalf("hang: %+v, want a completion with response cancelled", m)
	}
	for i, c := range []struct{ target, want string }{
		{"huge", "Invocation failed, response too large."},
		{"unframed", "does not end with the record separator 0x1E"},
		{"escape", "Invocation failed, status code 500"},
	} {
		id := string(rune('1' + i))
		if err := ws.Write(ctxFor(t, 5*time.Second), websocket.MessageText, []byte(`{"type":1,"invocationId":"`+id+`","target":"`+c.target+`","arguments":[]}`+"\x1e")); err != nil {
			t.Fatal(err)
		}
		m := nextMessage(t, ws, &pending)
		if m.Type != protocol.TypeCompletion || m.InvocationID != id || !strings.Contains(m.Error, c.want) {
			t.Fatalf("%s: %+v, want a completion with %q", c.target, m, c.want)
		}
	}
	if err := ws.Write(ctxFor(t, 5*time.Second), websocket.MessageText, []byte(`{"type":1,"invocationId":"5","target":"echo","arguments":[]}`+"\x1e")); err != nil {
		t.Fatal(err)
	}
	if m := nextMessage(t, ws, &pending); string(m.Result) != `"fine"` {
		t.Fatalf("after the hostile answers: %+v", m)
	}
	out := logs.String()
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `body="\\x1b]0;pwned\\x07\\x1b[2J oops"`) {
		t.Fatalf("the log does not show the error's first line escaped:\n%s", out)
	}
}

func checkTokenStaysWithService(t *testing.T, _ *env) {
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
	}))
	defer srv.Close()
	st := stackWith(t, func(o *emulator.StackOptions) {
		o.ServiceOnly = true
		o.Service.Upstream = []emulator.UpstreamTemplate{{URLTemplate: srv.URL}}
	})
	defer st.Close()
	ca, err := manage.MintClientAccess(connString(t, st), "chat", "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := negotiateWith(t, st, "chat", ca.AccessToken)
	nr, err := protocol.ParseNegotiateResponse([]byte(body))
	if status != http.StatusOK || err != nil {
		t.Fatalf("negotiate: %d %s", status, body)
	}
	u := "ws" + strings.TrimPrefix(st.ServiceURL, "http") + "/client/?hub=chat&id=" + url.QueryEscape(nr.ConnectionToken) + "&access_token=" + url.QueryEscape(ca.AccessToken)
	ws, _, err := websocket.Dial(ctxFor(t, 5*time.Second), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctxFor(t, 5*time.Second), websocket.MessageText, []byte("{\"protocol\":\"json\",\"version\":1}\x1e{\"type\":1,\"target\":\"x\",\"arguments\":[]}\x1e")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= 2 { // connected, then the invocation
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upstream got %d calls, want 2", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, h := range seen {
		if q := h.Get("X-ASRS-Client-Query"); q != "?hub=chat&id="+url.QueryEscape(nr.ConnectionToken) {
			t.Fatalf("X-ASRS-Client-Query %q", q)
		}
		for k, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, ca.AccessToken) || strings.Contains(v, ca.AccessToken[:40]) {
					t.Fatalf("header %s carries the client's token", k)
				}
			}
		}
	}
}
