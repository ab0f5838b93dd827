package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/protocol"
)

// upReq is one request a fake upstream received.
type upReq struct {
	path   string
	query  url.Values
	header http.Header
	body   string
}

// fakeUpstream is an HTTP server standing in for a function app: it
// records every request and answers with the handler registered for the
// request's X-ASRS-Event, else 200 and, for an invocation with an id, a
// framed Completion whose result is the arguments.
type fakeUpstream struct {
	srv      *httptest.Server
	reqs     chan upReq
	release  chan struct{} // closed at cleanup: frees hanging handlers
	mu       sync.Mutex
	handlers map[string]func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	t.Helper()
	f := &fakeUpstream{reqs: make(chan upReq, 256), release: make(chan struct{}), handlers: map[string]func(http.ResponseWriter, *http.Request, []byte){}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.reqs <- upReq{path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone(), body: string(body)}
		f.mu.Lock()
		h := f.handlers[r.Header.Get("X-ASRS-Event")]
		f.mu.Unlock()
		if h != nil {
			h(w, r, body)
			return
		}
		var m serverlessMessage
		_ = json.Unmarshal(body, &m)
		if m.InvocationID == "" {
			return
		}
		args, _ := json.Marshal(m.Arguments)
		c := protocol.NewCompletion(m.InvocationID, args, "")
		_, _ = w.Write(protocol.AppendMessage(nil, &c))
	}))
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

// hold keeps a handler until gate (nil: never) or the test's end, or
// until the caller gives up on the request.
func (f *fakeUpstream) hold(r *http.Request, gate <-chan struct{}) {
	select {
	case <-gate:
	case <-f.release:
	case <-r.Context().Done():
	}
}

func (f *fakeUpstream) on(event string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[event] = h
}

// next returns the next request, failing the test after 5 s.
func (f *fakeUpstream) next(t *testing.T) upReq {
	t.Helper()
	select {
	case r := <-f.reqs:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream received nothing within 5 s")
		return upReq{}
	}
}

// nextEvent skips requests until one for event arrives.
func (f *fakeUpstream) nextEvent(t *testing.T, event string) upReq {
	t.Helper()
	for {
		if r := f.next(t); r.header.Get("X-ASRS-Event") == event {
			return r
		}
	}
}

// calls collects OnUpstreamCall reports.
type calls struct{ ch chan UpstreamCall }

func newCalls() *calls { return &calls{ch: make(chan UpstreamCall, 256)} }

func (c *calls) hook(u UpstreamCall) { c.ch <- u }

func (c *calls) next(t *testing.T, event string) UpstreamCall {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case u := <-c.ch:
			if u.Event == event {
				return u
			}
		case <-deadline:
			t.Fatalf("no upstream call for %s reported within 5 s", event)
		}
	}
}

// upstreamStack starts the service alone with the given templates.
func upstreamStack(t *testing.T, logs *syncbuf.Buffer, cs *calls, tune func(*ServiceOptions), templates ...UpstreamTemplate) *Stack {
	t.Helper()
	return startStack(t, func(o *StackOptions) {
		o.ServiceOnly = true
		o.Service.Upstream = templates
		if logs != nil {
			o.Logger = newBufferLogger(logs)
		}
		if cs != nil {
			o.Service.OnUpstreamCall = cs.hook
		}
		if tune != nil {
			tune(&o.Service)
		}
	})
}

// invoke writes one invocation record to the client's socket.
func (c *wsClient) invoke(id, target, args string) {
	c.t.Helper()
	m := protocol.NewInvocation(target, json.RawMessage(args))
	if id != "" {
		m.InvocationID = id
		m.Fields |= protocol.FieldInvocationID
	}
	c.write(string(protocol.AppendMessage(nil, &m)))
}

func (c *wsClient) write(rec string) {
	c.t.Helper()
	if err := c.ws.Write(ctxT(c.t), websocket.MessageText, []byte(rec)); err != nil {
		c.t.Fatalf("connection %s: write: %v", c.id, err)
	}
}

// completion waits for the Completion of invocation id, skipping
// invocations.
func (c *wsClient) completion(id string) protocol.Message {
	c.t.Helper()
	for {
		m, ok := c.next(10 * time.Second)
		if !ok {
			c.t.Fatalf("connection %s: no completion for invocation %s", c.id, id)
		}
		if m.Type == protocol.TypeCompletion {
			if m.InvocationID != id {
				c.t.Fatalf("connection %s: completion of %q, want %q", c.id, m.InvocationID, id)
			}
			return m
		}
	}
}

func TestUpstreamSignatureVectors(t *testing.T) {
	const conn = "0f9c97a2f0bf4706afe87a14e0797b11"
	vectors := map[string]string{
		"7aab239577fd4f24bc919802fb629f5f": "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561",
		"a5f2815d0d0c4b00bd27e832432f91ab": "sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760",
		DefaultAccessKey:                   "sha256=8805d739a12d46f22bcb15382a8c1c2bf38ae8f04566017bd613d5ef47cafe2c",
	}
	for key, want := range vectors {
		if got := connectionSignature(key, conn); got != want {
			t.Errorf("signature with key %s: %s, want %s", key, got, want)
		}
	}
	primary, secondary := vectors["7aab239577fd4f24bc919802fb629f5f"], vectors["a5f2815d0d0c4b00bd27e832432f91ab"]
	for _, h := range []string{primary, strings.ToUpper(primary), secondary + "," + primary, secondary + ", " + primary + " "} {
		if !validSignature(h, "7aab239577fd4f24bc919802fb629f5f", conn) {
			t.Errorf("header %q refused", h)
		}
	}
	for _, h := range []string{"", secondary, "sha256=", primary[:len(primary)-1], "7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561"} {
		if validSignature(h, "7aab239577fd4f24bc919802fb629f5f", conn) {
			t.Errorf("header %q accepted", h)
		}
	}
	if validSignature(primary, "7aab239577fd4f24bc919802fb629f5f", "another") {
		t.Error("a signature for another connection was accepted")
	}
}

func TestUpstreamTemplates(t *testing.T) {
	pats := []struct {
		pattern, name string
		want          bool
	}{
		{"", "chat", true}, {"*", "chat", true}, {" * ", "x", true},
		{"chat", "chat", true}, {"chat", "CHAT", true}, {"chat", "chat2", false},
		{"connected, disconnected", "disconnected", true}, {"connected,disconnected", "Connected", true},
		{"connected, disconnected", "broadcast", false}, {"a, *", "z", true}, {"a,,b", "", false},
	}
	for _, p := range pats {
		if got := patternMatches(p.pattern, p.name); got != p.want {
			t.Errorf("pattern %q on %q: %v, want %v", p.pattern, p.name, got, p.want)
		}
	}
	tpl := UpstreamTemplate{URLTemplate: "http://host.com/{hub}/api/{category}/{event}?code=k&h={HUB}"}
	for _, c := range []struct{ hub, cat, ev, want string }{
		{"chat", "connections", "connected", "http://host.com/chat/api/connections/connected?code=k&h=chat"},
		{"chat", "messages", "broadcast", "http://host.com/chat/api/messages/broadcast?code=k&h=chat"},
		{"a b", "messages", "x/y?z&w=1#f", "http://host.com/a%20b/api/messages/x%2Fy%3Fz%26w%3D1%23f?code=k&h=a%20b"},
		{"Hub_1.x", "messages", "ümlaut~-", "http://host.com/Hub_1.x/api/messages/%C3%BCmlaut~-?code=k&h=Hub_1.x"},
	} {
		if got := tpl.Expand(c.hub, c.cat, c.ev); got != c.want {
			t.Errorf("expand %s/%s/%s: %s, want %s", c.hub, c.cat, c.ev, got, c.want)
		}
	}
	for _, bad := range []string{"", "  ", "localhost:7071/x", "ftp://h/x", "/runtime/webhooks/signalr", "http:///x"} {
		if err := (UpstreamTemplate{URLTemplate: bad}).Validate(); err == nil {
			t.Errorf("template %q validated", bad)
		}
	}
	err := UpstreamTemplate{URLTemplate: "ftp://h/x?code=topsecret"}.Validate()
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("error %v: want one without the key", err)
	}
	if s := tpl.String(); s != "http://host.com/{hub}/api/{category}/{event}?code=…&h={hub} (every hub, category and event)" {
		t.Errorf("String() = %q", s)
	}

	// First match wins: the configured templates, then the file's.
	u := &upstream{static: []UpstreamTemplate{
		{URLTemplate: "http://a/{event}", HubPattern: "game", EventPattern: "move, jump"},
		{URLTemplate: "http://b/{hub}", CategoryPattern: "connections"},
	}}
	file := []UpstreamTemplate{{URLTemplate: "http://c/{category}"}}
	u.file.Store(&file)
	for _, c := range []struct{ hub, cat, ev, want string }{
		{"Game", "messages", "Jump", "http://a/Jump"},
		{"game", "connections", "connected", "http://b/game"},
		{"chat", "messages", "move", "http://c/messages"},
	} {
		if got, ok := u.match(c.hub, c.cat, c.ev); !ok || got != c.want {
			t.Errorf("match %s/%s/%s: %q %v, want %q", c.hub, c.cat, c.ev, got, ok, c.want)
		}
	}
	u.file.Store(&[]UpstreamTemplate{})
	if got, ok := u.match("chat", "messages", "move"); ok {
		t.Errorf("matched %q with no template for it", got)
	}
}

func TestUpstreamHeadersAndBodies(t *testing.T) {
	up := newFakeUpstream(t)
	var logs syncbuf.Buffer
	cs := newCalls()
	st := upstreamStack(t, &logs, cs, nil, UpstreamTemplate{URLTemplate: up.srv.URL + "/{hub}/{category}/{event}?code=topsecret"})

	// A token with claims of its own, sent in the query as browsers do.
	tok := signClaims(t, jwt.SigningMethodHS256, []byte(DefaultAccessKey), jwt.MapClaims{
		"aud": st.ServiceURL + "/client/?hub=chat", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		"asrs.s.uid": "alice", "role": []any{"admin", "dev"}, "level": 3,
	})
	n, err := tryNegotiate(ctxT(t), st, "chat", tok)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.Dial(ctxT(t), st.wsURL("chat", n.ConnectionToken)+"&access_token="+tok+"&room=blue", nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := &wsClient{t: t, st: st, ws: ws, id: n.ConnectionID, msgs: make(chan protocol.Message, 64), errs: make(chan error, 1),
		ready: make(chan struct{}), done: make(chan struct{}), hub: "chat"}
	t.Cleanup(alice.closeNow)
	go alice.readLoop()
	alice.write(string(protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})))
	<-alice.ready

	checkHeaders := func(r upReq, category, event string) {
		t.Helper()
		h := r.header
		want := map[string]string{
			"Content-Type":         "application/json",
			"X-Asrs-Connection-Id": alice.id,
			"X-Asrs-Hub":           "chat",
			"X-Asrs-Category":      category,
			"X-Asrs-Event":         event,
			"X-Asrs-User-Id":       "alice",
			"X-Asrs-User-Claims":   "asrs.s.uid: alice, level: 3, role: admin, role: dev",
			"X-Asrs-Client-Query":  "?hub=chat&id=" + url.QueryEscape(n.ConnectionToken) + "&room=blue",
			"X-Asrs-Signature":     connectionSignature(DefaultAccessKey, alice.id),
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s %s: header %s = %q, want %q", category, event, k, got, v)
			}
		}
		if r.path != "/chat/"+category+"/"+event || r.query.Get("code") != "topsecret" {
			t.Errorf("%s %s: URL %s?%s", category, event, r.path, r.query.Encode())
		}
		for k, vs := range h {
			if strings.Contains(strings.Join(vs, ","), tok) {
				t.Errorf("header %s carries the client's access token", k)
			}
		}
	}

	r := up.next(t)
	checkHeaders(r, "connections", "connected")
	if r.body != `{"type":10}` {
		t.Errorf("connected body %s", r.body)
	}

	alice.invoke("7", "add", `[1,{"a":"b"}]`)
	r = up.next(t)
	checkHeaders(r, "messages", "add")
	if r.body != `{"type":1,"invocationId":"7","target":"add","arguments":[1,{"a":"b"}]}` {
		t.Errorf("invocation body %s", r.body)
	}
	if m := alice.completion("7"); string(m.Result) != `[1,{"a":"b"}]` {
		t.Errorf("completion result %s", m.Result)
	}

	alice.invoke("", "notify", `["x"]`)
	r = up.next(t)
	checkHeaders(r, "messages", "notify")
	if r.body != `{"type":1,"target":"notify","arguments":["x"]}` {
		t.Errorf("send body %s", r.body)
	}
	if c := cs.next(t, "notify"); c.Status != 200 || c.Failure != "" || c.InvocationID != "" {
		t.Errorf("send reported %+v", c)
	}

	// A clean close: disconnected without Error.
	alice.write("{\"type\":7}\x1e")
	r = up.next(t)
	checkHeaders(r, "connections", "disconnected")
	if r.body != `{"Type":11}` {
		t.Errorf("disconnected body %s", r.body)
	}

	// An anonymous connection has no user id header; a connection the
	// service closes with an error reports it.
	anon := connectWS(t, st, "chat", "")
	r = up.nextEvent(t, "connected")
	if _, ok := r.header["X-Asrs-User-Id"]; ok {
		t.Errorf("anonymous connection sent X-ASRS-User-Id %q", r.header.Get("X-Asrs-User-Id"))
	}
	if r.header.Get("X-Asrs-Connection-Id") != anon.id {
		t.Errorf("connection id %q, want %q", r.header.Get("X-Asrs-Connection-Id"), anon.id)
	}
	anon.write("not json\x1e")
	r = up.nextEvent(t, "disconnected")
	var ev struct {
		Type  int
		Error string
	}
	if err := json.Unmarshal([]byte(r.body), &ev); err != nil || ev.Type != 11 || ev.Error != "invalid message" {
		t.Errorf("disconnected body %s, want Type 11 with the reason", r.body)
	}

	// The log names every call with its URL, key elided.
	waitFor(t, func() bool { return strings.Count(logs.String(), "upstream call") >= 6 })
	out := logs.String()
	if strings.Contains(out, "topsecret") || strings.Contains(out, tok) {
		t.Fatalf("a secret reached the log:\n%s", out)
	}
	for _, want := range []string{"category=connections event=connected", "category=messages event=add", "status=200", "latency=", "code=…", "invocationId=7"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestUpstreamResponses(t *testing.T) {
	up := newFakeUpstream(t)
	huge := bytes.Repeat([]byte("x"), maxUpstreamAnswer+1)
	up.on("verbatim", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		_, _ = io.WriteString(w, "{\"type\":3,\"invocationId\":\"1\",\"result\":\"from upstream\"}\x1e")
	})
	up.on("nocontent", func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(204) })
	up.on("empty", func(w http.ResponseWriter, _ *http.Request, _ []byte) {})
	up.on("created", func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(201) })
	up.on("boom", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		http.Error(w, "\n  NullReferenceException: \x1b[31mboom\n   at Function.Run()", 500)
	})
	up.on("missing", func(w http.ResponseWriter, _ *http.Request, _ []byte) { http.NotFound(w, nil) })
	up.on("huge", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Length", strconv.Itoa(len(huge)))
		_, _ = w.Write(huge)
	})
	up.on("hugechunked", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.(http.Flusher).Flush() // no Content-Length: the limit applies while reading
		for i := 0; i < len(huge); i += 1 << 20 {
			_, _ = w.Write(huge[i:min(i+1<<20, len(huge))])
		}
	})
	up.on("unframed", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		_, _ = io.WriteString(w, `{"type":3,"invocationId":"1","result":1}`)
	})
	up.on("hang", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		up.hold(r, nil)
	})
	// A closed listener's address: nothing answers there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/x"
	_ = ln.Close()

	var logs syncbuf.Buffer
	cs := newCalls()
	templates := []UpstreamTemplate{{URLTemplate: down, EventPattern: "down"}, {URLTemplate: up.srv.URL + "/{event}"}}
	// A generous timeout, so that reading 16 MB on a busy machine under
	// the race detector never runs into it; the hanging call has a
	// service of its own with a short one.
	st := upstreamStack(t, &logs, cs, func(o *ServiceOptions) { o.UpstreamTimeout = 30 * time.Second }, templates...)
	quick := upstreamStack(t, &logs, cs, func(o *ServiceOptions) { o.UpstreamTimeout = 500 * time.Millisecond }, templates...)
	c, cq := connectWS(t, st, "chat", "alice"), connectWS(t, quick, "chat", "alice")
	cases := []struct {
		target string
		result string // raw result, or "" for none
		err    string
		body   string // first line of the answer in the log
	}{
		{"verbatim", `"from upstream"`, "", ""},
		{"nocontent", "", "", ""},
		{"empty", "", "", ""},
		{"created", "", "Invocation failed, status code 201", ""},
		{"boom", "", "Invocation failed, status code 500", `NullReferenceException: \x1b[31mboom`},
		{"missing", "", "Invocation failed, status code 404", "404 page not found"},
		{"huge", "", "Invocation failed, response too large.", ""},
		{"hugechunked", "", "Invocation failed, response too large.", ""},
		{"unframed", "", "Invocation failed, error: the upstream answered 200 with a body that does not end with the record separator 0x1E", `{"type":3,"invocationId":"1","result":1}`},
		{"hang", "", "Invocation failed, response cancelled.", ""},
		{"down", "", "Invocation failed, error: dial tcp " + strings.TrimPrefix(strings.TrimSuffix(down, "/x"), "http://") + ": connect: connection refused.", ""},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			c := c
			if tc.target == "hang" {
				c = cq
			}
			c.t = t
			c.invoke("1", tc.target, "[]")
			m := c.completion("1")
			switch {
			case tc.err != "":
				if !strings.HasPrefix(m.Error, tc.err) || m.Has(protocol.FieldResult) {
					t.Fatalf("completion %+v, want error %q", m, tc.err)
				}
			case tc.result != "":
				if string(m.Result) != tc.result || m.Has(protocol.FieldError) {
					t.Fatalf("completion %+v, want result %s", m, tc.result)
				}
			default:
				if m.Has(protocol.FieldResult) || m.Has(protocol.FieldError) {
					t.Fatalf("completion %+v, want an empty one", m)
				}
			}
			call := cs.next(t, tc.target)
			if (call.Failure == "") != (tc.err == "") || tc.err != "" && "Invocation failed, "+call.Failure != m.Error {
				t.Fatalf("reported failure %q, completion error %q", call.Failure, m.Error)
			}
			if call.Body != tc.body {
				t.Fatalf("reported body %q, want %q", call.Body, tc.body)
			}
			if tc.target == "hang" && (call.Latency < 500*time.Millisecond || call.Latency > 5*time.Second) {
				t.Fatalf("a hanging upstream was given up after %s, want the 500 ms timeout", call.Latency)
			}
		})
	}
	c.t, cq.t = t, t
	// The connection survived every failure and still calls its upstream.
	c.invoke("2", "again", `[42]`)
	if m := c.completion("2"); string(m.Result) != "[42]" {
		t.Fatalf("completion after the failures: %+v", m)
	}
	out := logs.String()
	for _, want := range []string{"upstream call failed", `failure="status code 500"`, `body="NullReferenceException: \\x1b[31mboom"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestUpstreamKeepsOrderAndDoesNotBlockOthers(t *testing.T) {
	up := newFakeUpstream(t)
	gate := make(chan struct{})
	up.on("slow", func(w http.ResponseWriter, r *http.Request, body []byte) {
		up.hold(r, gate)
		_, _ = io.WriteString(w, "{\"type\":3,\"invocationId\":\"slow\",\"result\":\"late\"}\x1e")
	})
	st := upstreamStack(t, nil, nil, nil, UpstreamTemplate{URLTemplate: up.srv.URL + "/{event}", CategoryPattern: "messages"})
	a := connectWS(t, st, "chat", "alice")
	b := connectWS(t, st, "chat", "bob")

	a.invoke("slow", "slow", "[]")
	if r := up.next(t); r.header.Get("X-Asrs-Event") != "slow" {
		t.Fatalf("first call %s", r.path)
	}
	// alice's later invocations wait behind the slow one, in order...
	for i := 0; i < 5; i++ {
		a.invoke(fmt.Sprint(i), "n", fmt.Sprintf("[%d]", i))
	}
	// ...while her socket still reads (a REST send and a ping reach her)
	// and bob's calls go through.
	a.write("{\"type\":6}\x1e")
	if err := restClient(t, st).SendToConnection(ctxT(t), "chat", a.id, "still", nil); err != nil {
		t.Fatal(err)
	}
	a.expectInvocation("still", "connection:"+a.id)
	b.invoke("b", "n", `["bob"]`)
	if m := b.completion("b"); string(m.Result) != `["bob"]` {
		t.Fatalf("bob's completion %+v", m)
	}
	if r := up.next(t); r.header.Get("X-Asrs-Connection-Id") != b.id {
		t.Fatalf("call from %s while alice's waits, want bob's", r.header.Get("X-Asrs-Connection-Id"))
	}
	close(gate)
	if m := a.completion("slow"); string(m.Result) != `"late"` {
		t.Fatalf("slow completion %+v", m)
	}
	for i := 0; i < 5; i++ {
		r := up.next(t)
		if want := fmt.Sprintf(`{"type":1,"invocationId":"%d","target":"n","arguments":[%d]}`, i, i); r.body != want {
			t.Fatalf("call %d: %s, want %s", i, r.body, want)
		}
		if m := a.completion(fmt.Sprint(i)); string(m.Result) != fmt.Sprintf("[%d]", i) {
			t.Fatalf("completion %d: %+v", i, m)
		}
	}
}

func TestUpstreamBackpressureIsBounded(t *testing.T) {
	up := newFakeUpstream(t)
	gate := make(chan struct{})
	up.on("slow", func(w http.ResponseWriter, r *http.Request, body []byte) {
		up.hold(r, gate)
	})
	st := upstreamStack(t, nil, nil, nil, UpstreamTemplate{URLTemplate: up.srv.URL + "/{event}", CategoryPattern: "messages"})
	a := connectWS(t, st, "chat", "alice")
	st.Service.mu.Lock()
	cn := st.Service.hubs["chat"].conns[a.id]
	st.Service.mu.Unlock()
	// One call in flight, a full queue, and one more that the reader
	// holds: it waits for room instead of queueing without bound.
	for i := 0; i < upstreamQueueLimit+2; i++ {
		a.invoke("", "slow", "[]")
	}
	a.write("{\"type\":4,\"invocationId\":\"probe\",\"target\":\"s\",\"arguments\":[]}\x1e")
	up.next(t)
	waitFor(t, func() bool {
		cn.up.mu.Lock()
		defer cn.up.mu.Unlock()
		return cn.up.room != nil
	})
	cn.up.mu.Lock()
	queued := len(cn.up.jobs)
	cn.up.mu.Unlock()
	if queued != upstreamQueueLimit {
		t.Fatalf("%d calls queued while the reader waits, want %d", queued, upstreamQueueLimit)
	}
	// The socket's writer is not held up meanwhile.
	if err := restClient(t, st).SendToConnection(ctxT(t), "chat", a.id, "still", nil); err != nil {
		t.Fatal(err)
	}
	a.expectInvocation("still", "connection:"+a.id)
	close(gate)
	for i := 0; i < upstreamQueueLimit+1; i++ {
		up.next(t)
	}
	if m := a.completion("probe"); !strings.Contains(m.Error, "not supported") {
		t.Fatalf("probe answered %+v", m)
	}
	a.invoke("end", "n", "[1]")
	if m := a.completion("end"); string(m.Result) != "[1]" {
		t.Fatalf("completion after the backlog: %+v", m)
	}
}

func TestUpstreamNoMatchDropsWithOneWarning(t *testing.T) {
	up := newFakeUpstream(t)
	var logs syncbuf.Buffer
	st := upstreamStack(t, &logs, nil, nil, UpstreamTemplate{URLTemplate: up.srv.URL + "/{event}", HubPattern: "game", CategoryPattern: "messages"})
	c := connectWS(t, st, "chat", "alice")
	for i := 0; i < 3; i++ {
		c.invoke(fmt.Sprint(i), "echo", "[1]")
	}
	// A stream invocation is answered by the reader itself: once its
	// error arrives, the invocations before it were handled, and none was
	// answered.
	c.write("{\"type\":4,\"invocationId\":\"barrier\",\"target\":\"s\",\"arguments\":[]}\x1e")
	c.completion("barrier")
	select {
	case r := <-up.reqs:
		t.Fatalf("the upstream was called for another hub: %s", r.path)
	default:
	}
	out := logs.String()
	if n := strings.Count(out, "no upstream template matches"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, out)
	}
	for _, want := range []string{"hub=chat", "category=messages", "event=echo", "--upstream"} {
		if !strings.Contains(out, want) {
			t.Errorf("warning lacks %q:\n%s", want, out)
		}
	}
}

func TestUpstreamRefusesStreaming(t *testing.T) {
	up := newFakeUpstream(t)
	st := upstreamStack(t, nil, nil, nil, UpstreamTemplate{URLTemplate: up.srv.URL + "/{event}"})
	c := connectWS(t, st, "chat", "alice")
	up.nextEvent(t, "connected")
	c.write("{\"type\":4,\"invocationId\":\"s\",\"target\":\"counter\",\"arguments\":[3]}\x1e")
	if m := c.completion("s"); !strings.Contains(m.Error, "Stream invocations are not supported in serverless mode") {
		t.Fatalf("stream invocation answered %+v", m)
	}
	c.write("{\"type\":1,\"invocationId\":\"u\",\"target\":\"upload\",\"arguments\":[],\"streamIds\":[\"1\"]}\x1e")
	if m := c.completion("u"); !strings.Contains(m.Error, "Client-to-server streams are not supported") {
		t.Fatalf("client stream answered %+v", m)
	}
	c.invoke("e", "echo", `["ok"]`)
	c.completion("e")
	if r := up.next(t); r.header.Get("X-Asrs-Event") != "echo" {
		t.Fatalf("the upstream got %s; streaming invocations must not reach it", r.header.Get("X-Asrs-Event"))
	}
}

func TestUpstreamSettingsFile(t *testing.T) {
	one, two := newFakeUpstream(t), newFakeUpstream(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	write := func(s string) {
		t.Helper()
		// Through a rename, as editors save, so the watcher never reads a
		// half-written file.
		tmp := filepath.Join(dir, "tmp")
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	settings := func(u string) string {
		return `{"UpstreamSettings":{"Templates":[{"UrlTemplate":"` + u + `/{event}","EventPattern":"*","HubPattern":"*","CategoryPattern":"messages"}]}}`
	}
	write("\xef\xbb\xbf" + settings(one.srv.URL))
	var logs syncbuf.Buffer
	st := upstreamStack(t, &logs, nil, func(o *ServiceOptions) {
		o.UpstreamSettingsFile = path
		o.UpstreamSettingsPoll = 10 * time.Millisecond
	})
	c := connectWS(t, st, "chat", "alice")
	c.invoke("1", "echo", "[1]")
	c.completion("1")
	if r := one.next(t); r.path != "/echo" {
		t.Fatalf("first upstream got %s", r.path)
	}

	// A broken file keeps the templates in force.
	write(`{"UpstreamSettings":{"Templates":[{"UrlTemplate":`)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "upstream settings not reloaded") })
	c.invoke("2", "echo", "[2]")
	c.completion("2")
	one.next(t)

	write(settings(two.srv.URL))
	waitFor(t, func() bool {
		tpls := st.Service.UpstreamTemplates()
		return len(tpls) == 1 && strings.HasPrefix(tpls[0].URLTemplate, two.srv.URL)
	})
	c.invoke("3", "echo", "[3]")
	c.completion("3")
	if r := two.next(t); r.path != "/echo" {
		t.Fatalf("second upstream got %s", r.path)
	}
	if !strings.Contains(logs.String(), "upstream settings reloaded") {
		t.Errorf("no reload line in the log:\n%s", logs.String())
	}
}

func TestLoadUpstreamSettings(t *testing.T) {
	dir := t.TempDir()
	file := func(s string) string {
		p := filepath.Join(dir, fmt.Sprintf("s%d.json", len(s)))
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The official emulator's default file.
	tpls, warns, err := LoadUpstreamSettings(file(`{"UpstreamSettings":{"Templates":[{"UrlTemplate":"http://localhost:7071/runtime/webhooks/signalr","EventPattern":"*","HubPattern":"*","CategoryPattern":"*"}]}}`))
	if err != nil || len(warns) != 0 || len(tpls) != 1 || tpls[0] != (UpstreamTemplate{URLTemplate: "http://localhost:7071/runtime/webhooks/signalr", EventPattern: "*", HubPattern: "*", CategoryPattern: "*"}) {
		t.Fatalf("default settings: %+v %v %v", tpls, warns, err)
	}
	// Names in any case, several templates, an Auth that sigr cannot honour.
	tpls, warns, err = LoadUpstreamSettings(file(`{"upstreamSettings":{"templates":[{"urlTemplate":"http://a/{event}","hubPattern":"chat"},{"UrlTemplate":"https://b/x","Auth":{"Type":"ManagedIdentity"}}]}}`))
	if err != nil || len(tpls) != 2 || tpls[0].HubPattern != "chat" || len(warns) != 1 || !strings.Contains(warns[0], "ManagedIdentity") {
		t.Fatalf("settings: %+v %v %v", tpls, warns, err)
	}
	if tpls, _, err := LoadUpstreamSettings(file(`{"UpstreamSettings":{"Templates":[]}}`)); err != nil || len(tpls) != 0 {
		t.Fatalf("no templates: %v %v", tpls, err)
	}
	for _, bad := range []struct{ body, want string }{
		{`{`, "is not a settings.json"},
		{`{"Values":{}}`, "has no UpstreamSettings section"},
		{`{"UpstreamSettings":{"Templates":[{"UrlTemplate":"localhost:7071"}]}}`, "template 1"},
	} {
		if _, _, err := LoadUpstreamSettings(file(bad.body)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want an error with %q", bad.body, err, bad.want)
		}
	}
	if _, _, err := LoadUpstreamSettings(filepath.Join(dir, "none.json")); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestUpstreamShutdown(t *testing.T) {
	up := newFakeUpstream(t)
	up.on("hang", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		up.hold(r, nil)
	})
	cs := newCalls()
	st := upstreamStack(t, nil, cs, func(o *ServiceOptions) { o.ShutdownTimeout = 300 * time.Millisecond },
		UpstreamTemplate{URLTemplate: up.srv.URL + "/{event}"})
	c := connectWS(t, st, "chat", "alice")
	up.nextEvent(t, "connected")
	c.invoke("1", "hang", "[]")
	up.nextEvent(t, "hang")
	start := time.Now()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %s with a hanging upstream call", d)
	}
	if call := cs.next(t, "hang"); call.Failure != "response cancelled." {
		t.Fatalf("the hanging call ended with %+v, want it cancelled", call)
	}

	// Without hanging calls, Close waits for the disconnected events.
	up2 := newFakeUpstream(t)
	cs2 := newCalls()
	st2 := upstreamStack(t, nil, cs2, nil, UpstreamTemplate{URLTemplate: up2.srv.URL + "/{event}"})
	connectWS(t, st2, "chat", "bob")
	up2.nextEvent(t, "connected")
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}
	delivered := false
	for len(cs2.ch) > 0 {
		if call := <-cs2.ch; call.Event == "disconnected" {
			delivered = call.Status == 200
		}
	}
	if !delivered {
		t.Fatal("Close returned before the disconnected event was delivered")
	}
	r := up2.nextEvent(t, "disconnected")
	if !strings.Contains(r.body, `"Error":"service shutting down"`) {
		t.Fatalf("disconnected body at shutdown: %s", r.body)
	}
}
