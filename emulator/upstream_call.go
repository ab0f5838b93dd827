package emulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// upstreamQueueLimit bounds the client invocations waiting for a
// connection's upstream worker. A client that invokes faster than its
// functions answer is slowed down: its reader waits for room, as an
// ASP.NET Core hub waits for MaximumParallelInvocationsPerClient.
const upstreamQueueLimit = 32

// upstream forwards client events and invocations to the function app,
// as Azure SignalR Service does in serverless mode with upstream
// settings. Each connection has a worker that makes its calls one at a
// time, in order (connected, the invocations, disconnected), so a slow
// function holds up only its own connection, and only once
// upstreamQueueLimit invocations wait.
type upstream struct {
	log          *slog.Logger
	key          string
	static       []UpstreamTemplate
	file         atomic.Pointer[[]UpstreamTemplate]
	settingsPath string
	client       *http.Client
	transport    *http.Transport // ours, closed on close; nil with a caller's client
	timeout      time.Duration
	onCall       func(UpstreamCall)

	ctx    context.Context // cancelled when Close stops waiting
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool           // no new worker may start
	workers sync.WaitGroup // connection workers

	stop chan struct{}
	bg   sync.WaitGroup // settings watcher
}

// upstreamQueue is one connection's calls in waiting. Guarded by mu.
type upstreamQueue struct {
	mu      sync.Mutex
	jobs    []upstreamJob
	running bool
	room    chan struct{} // a waiting reader is told when a job leaves
}

// upstreamJob is one call to make for a connection.
type upstreamJob struct {
	url          string
	category     string
	event        string
	body         []byte
	contentType  string // of body; application/json when empty
	invocationID string // answered with a Completion when set
	lifecycle    bool   // connected or disconnected: never waits for room
}

func newUpstream(o *ServiceOptions) *upstream {
	u := &upstream{
		log:          o.Logger,
		key:          o.AccessKey,
		static:       o.Upstream,
		settingsPath: o.UpstreamSettingsFile,
		client:       o.UpstreamClient,
		timeout:      o.UpstreamTimeout,
		onCall:       o.OnUpstreamCall,
		stop:         make(chan struct{}),
	}
	if u.client == nil {
		// Bounded per host so that a burst of connects cannot open
		// thousands of sockets to a local function app.
		u.transport = &http.Transport{
			Proxy:               nil, // loopback function apps must not go through a proxy
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			MaxConnsPerHost:     128,
			IdleConnTimeout:     90 * time.Second,
		}
		u.client = &http.Client{Transport: u.transport}
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	if u.settingsPath != "" {
		last := stampOf(u.settingsPath)
		u.loadSettings(true)
		u.bg.Add(1)
		go u.watchSettings(last, o.UpstreamSettingsPoll, u.stop)
	}
	return u
}

// templates returns the templates in force: the configured ones, then the
// settings file's.
func (u *upstream) templates() []UpstreamTemplate {
	out := append([]UpstreamTemplate(nil), u.static...)
	if f := u.file.Load(); f != nil {
		out = append(out, *f...)
	}
	return out
}

// match returns the URL of the first template that matches.
func (u *upstream) match(hub, category, event string) (string, bool) {
	for _, t := range u.static {
		if t.Matches(hub, category, event) {
			return t.Expand(hub, category, event), true
		}
	}
	if f := u.file.Load(); f != nil {
		for _, t := range *f {
			if t.Matches(hub, category, event) {
				return t.Expand(hub, category, event), true
			}
		}
	}
	return "", false
}

// close stops the settings watcher, waits up to grace for the calls in
// flight and queued (the disconnected events of a shutdown among them),
// then cancels the rest and waits for the workers to return.
func (u *upstream) close(grace time.Duration) {
	close(u.stop)
	u.bg.Wait()
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	waited := make(chan struct{})
	go func() { u.workers.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(grace):
		u.log.Warn("cancelling upstream calls still running at shutdown", "waited", grace.String())
		u.cancel()
		<-waited
	}
	u.cancel()
	if u.transport != nil {
		u.transport.CloseIdleConnections()
	}
}

// push queues a job on c's worker, starting the worker if it is idle. An
// invocation waits while the queue is full, until there is room or the
// connection closes. It reports whether the job was queued.
func (u *upstream) push(c *conn, j upstreamJob) bool {
	q := &c.up
	q.mu.Lock()
	for !j.lifecycle && len(q.jobs) >= upstreamQueueLimit {
		if q.room == nil {
			q.room = make(chan struct{}, 1)
		}
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-c.done:
			return false
		}
		q.mu.Lock()
	}
	if !q.running {
		// The flag and Add share a lock with close, so no worker starts
		// once close waits for them.
		u.mu.Lock()
		if u.closed {
			u.mu.Unlock()
			q.mu.Unlock()
			u.log.Debug("upstream call not made: the service is shut down", "connectionId", c.id, "event", textsafe.Clip(j.event, 200))
			return false
		}
		u.workers.Add(1)
		u.mu.Unlock()
		q.running = true
		go u.work(c)
	}
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	return true
}

// work makes c's calls in order until its queue is empty.
func (u *upstream) work(c *conn) {
	defer u.workers.Done()
	q := &c.up
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 {
			q.jobs, q.running = nil, false
			q.mu.Unlock()
			return
		}
		j := q.jobs[0]
		q.jobs[0] = upstreamJob{}
		q.jobs = q.jobs[1:]
		room := q.room
		q.mu.Unlock()
		if room != nil {
			select {
			case room <- struct{}{}:
			default:
			}
		}
		if u.ctx.Err() != nil {
			continue // shut down: what is left is dropped, as the client is gone
		}
		u.call(c, j)
	}
}

// connected queues the connected event of a connection that finished its
// handshake.
func (u *upstream) connected(c *conn) {
	if url, ok := u.match(c.hubName, CategoryConnections, EventConnected); ok {
		u.push(c, upstreamJob{url: url, category: CategoryConnections, event: EventConnected,
			body: []byte(`{"type":10}`), lifecycle: true})
	}
}

// disconnected queues the disconnected event, after every call the
// connection queued before. reason is why the connection ended; a close
// the client asked for carries no Error, as in ASP.NET Core.
func (u *upstream) disconnected(c *conn, reason string) {
	url, ok := u.match(c.hubName, CategoryConnections, EventDisconnected)
	if !ok {
		return
	}
	ev := struct {
		Type  int    `json:"Type"`
		Error string `json:"Error,omitempty"`
	}{Type: 11}
	if !cleanClose[reason] {
		ev.Error = reason
	}
	body, _ := json.Marshal(ev) // a struct of an int and a string cannot fail
	u.push(c, upstreamJob{url: url, category: CategoryConnections, event: EventDisconnected, body: body, lifecycle: true})
}

// cleanClose lists the close reasons of a connection the client ended
// itself: a Close message, a WebSocket close, a long-polling DELETE, an
// event stream the client dropped.
var cleanClose = map[string]bool{
	"closed":                       true,
	"client sent Close":            true,
	"client closed the connection": true,
	"client stopped":               true,
	"client went away":             true,
}

// invocation forwards a client's hub invocation to the upstream whose
// template matches, or drops it when none does, as the service does. It
// may wait for room in the connection's queue (see upstreamQueueLimit).
// rec is the record the message was parsed from.
func (u *upstream) invocation(c *conn, m *protocol.Message, rec []byte) {
	if m.Type == protocol.TypeStreamInvocation || len(m.StreamIDs) > 0 {
		what := "Stream invocations are"
		if m.Type == protocol.TypeInvocation {
			what = "Client-to-server streams are"
		}
		u.log.Info("refusing a streaming invocation: the upstream takes only plain invocations", "hub", c.hubName,
			"connectionId", c.id, "target", textsafe.Clip(m.Target, 200))
		if m.InvocationID != "" {
			c.enqueue(c.completionFrame(m.InvocationID, what+" not supported in serverless mode: the service forwards only"+
				" plain invocations to the upstream. Call the method with invoke or send instead."))
		}
		return
	}
	url, ok := u.match(c.hubName, CategoryMessages, m.Target)
	if !ok {
		if !c.warned {
			c.warned = true
			u.log.Warn("dropping client invocations: no upstream template matches", "hub", c.hubName,
				"category", CategoryMessages, "event", textsafe.Clip(m.Target, 200), "connectionId", c.id,
				"fix", "sigr emulator --upstream URL, or --upstream-settings settings.json")
		}
		return
	}
	j := upstreamJob{url: url, category: CategoryMessages, event: m.Target, invocationID: m.InvocationID}
	if c.msgpack.Load() {
		// The service forwards a MessagePack client's invocation as it
		// came, length prefix and all, for the extension's
		// MessagePackHubProtocol.
		j.body = append(protocol.AppendVarint(nil, uint32(len(rec))), rec...)
		j.contentType = msgpackContentType
	} else {
		j.body = bytes.Clone(rec)
	}
	u.push(c, j)
}

// msgpackContentType is the upstream body type of a MessagePack client.
const msgpackContentType = "application/x-msgpack"

// completionFrame encodes a Completion with an error in c's protocol.
func (c *conn) completionFrame(invocationID, errText string) []byte {
	m := protocol.NewCompletion(invocationID, nil, errText)
	return c.encode(&m)
}

// call makes one upstream call, answers the invocation it carries, and
// reports the outcome.
func (u *upstream) call(c *conn, j upstreamJob) {
	rec := UpstreamCall{Time: time.Now(), Hub: c.hubName, ConnectionID: c.id, Category: j.category,
		Event: j.event, InvocationID: j.invocationID, URL: textsafe.RedactURL(j.url)}
	answer := u.post(c, j, &rec)
	rec.Latency = time.Since(rec.Time)
	if j.invocationID != "" {
		u.complete(c, j.invocationID, answer, &rec)
	}
	u.report(rec)
}

// post sends the request and reads the answer: the body of a 200 to an
// invocation, nil otherwise. A failure is written to rec.
func (u *upstream) post(c *conn, j upstreamJob, rec *UpstreamCall) []byte {
	ctx, cancel := context.WithTimeout(u.ctx, u.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(j.body))
	if err != nil {
		rec.Failure = "error: the upstream URL is not valid."
		return nil
	}
	u.setHeaders(req.Header, c, j)
	resp, err := u.client.Do(req)
	if err != nil {
		rec.Failure = transportFailure(ctx, err)
		return nil
	}
	defer resp.Body.Close()
	rec.Status = resp.StatusCode
	ok := resp.StatusCode/100 == 2
	if j.invocationID != "" {
		// Only these two mean an answer the service can relay.
		ok = resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent
	}
	if !ok {
		rec.Failure = "status code " + strconv.Itoa(resp.StatusCode)
		rec.Body = firstLine(resp.Body)
		return nil
	}
	if j.invocationID == "" || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the socket be reused
		return nil
	}
	if resp.ContentLength > maxUpstreamAnswer {
		rec.Failure = "response too large."
		return nil
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamAnswer+1))
	if err != nil {
		rec.Failure = transportFailure(ctx, err)
		return nil
	}
	if len(answer) > maxUpstreamAnswer {
		rec.Failure = "response too large."
		return nil
	}
	return answer
}

// transportFailure words a failed request as the service's Completion
// does; the URL (which may hold a key) is left out of the error.
func transportFailure(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "response cancelled."
	}
	return "error: " + textsafe.Clip(textsafe.WithoutURL(err).Error(), 300) + "."
}

// firstLine returns the first non-empty line of an error answer, safe to
// print and short.
func firstLine(r io.Reader) string {
	sc := bufio.NewScanner(io.LimitReader(r, 8<<10))
	sc.Buffer(make([]byte, 0, 1024), 8<<10)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			return textsafe.Clip(l, 200)
		}
	}
	return ""
}

// complete answers the client's invocation: the upstream's framed answer
// verbatim, an empty Completion for 204 or an empty 200, or a Completion
// with the error. An answer that is not framed hub protocol would break
// the client's connection; it is refused with an error that says so.
func (u *upstream) complete(c *conn, id string, answer []byte, rec *UpstreamCall) {
	switch {
	case rec.Failure != "":
		c.enqueue(c.completionFrame(id, "Invocation failed, "+rec.Failure))
		return
	case len(answer) == 0:
		m := protocol.NewCompletion(id, nil, "")
		c.enqueue(c.encode(&m))
		return
	case c.msgpack.Load():
		u.completeMsgpack(c, id, answer, rec)
		return
	case answer[len(answer)-1] != protocol.RecordSeparator:
		rec.Failure = "error: the upstream answered 200 with a body that does not end with the record separator 0x1E; a SignalRTrigger function answers with a framed Completion."
		rec.Body = firstLine(bytes.NewReader(answer))
		c.enqueue(c.completionFrame(id, "Invocation failed, "+rec.Failure))
		return
	}
	first := true
	for len(answer) > 0 {
		i := bytes.IndexByte(answer, protocol.RecordSeparator)
		frame := answer[:i+1]
		answer = answer[i+1:]
		if i == 0 {
			continue
		}
		if first {
			first = false
			if m, err := protocol.ParseMessage(frame[:i], protocol.Lenient); err != nil || m.Type != protocol.TypeCompletion || m.InvocationID != id {
				u.log.Warn("the upstream's answer is not a Completion of the invocation; relayed as it is", "hub", c.hubName,
					"connectionId", c.id, "invocationId", textsafe.Clip(id, 100), "body", firstLine(bytes.NewReader(frame[:i])))
			}
		}
		c.enqueue(frame)
	}
}

// report logs the call and hands it to OnUpstreamCall.
func (u *upstream) report(rec UpstreamCall) {
	attrs := []any{"hub", rec.Hub, "connectionId", rec.ConnectionID, "category", rec.Category,
		"event", textsafe.Clip(rec.Event, 200), "url", rec.URL, "status", rec.Status,
		"latency", rec.Latency.Round(time.Microsecond).String()}
	if rec.InvocationID != "" {
		attrs = append(attrs, "invocationId", textsafe.Clip(rec.InvocationID, 100))
	}
	if rec.Failure == "" {
		u.log.Info("upstream call", attrs...)
	} else {
		attrs = append(attrs, "failure", rec.Failure)
		if rec.Body != "" {
			attrs = append(attrs, "body", rec.Body)
		}
		u.log.Warn("upstream call failed", attrs...)
	}
	if u.onCall != nil {
		u.onCall(rec)
	}
}

// setHeaders writes the X-ASRS-* headers of Azure SignalR Service.
func (u *upstream) setHeaders(h http.Header, c *conn, j upstreamJob) {
	if j.contentType != "" {
		h.Set("Content-Type", j.contentType)
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("X-ASRS-Connection-Id", c.id)
	h.Set("X-ASRS-Hub", headerValue(c.hubName))
	h.Set("X-ASRS-Category", j.category)
	h.Set("X-ASRS-Event", headerValue(j.event))
	if c.user != "" {
		h.Set("X-ASRS-User-Id", headerValue(c.user))
	}
	if v := userClaims(c.claims); v != "" {
		h.Set("X-ASRS-User-Claims", headerValue(v))
	}
	c.s.mu.Lock()
	q := c.query
	c.s.mu.Unlock()
	if q != "" {
		h.Set("X-ASRS-Client-Query", headerValue(q))
	}
	h.Set("X-ASRS-Signature", connectionSignature(u.key, c.id))
}

// headerValue replaces the control characters an HTTP header cannot
// carry, which a user id or a target may contain, with spaces.
func headerValue(s string) string {
	if strings.IndexFunc(s, isCtl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isCtl(r) {
			return ' '
		}
		return r
	}, s)
}

func isCtl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// tokenClaims are the claims about the token rather than its bearer; they
// do not reach the upstream.
var tokenClaims = map[string]bool{"aud": true, "exp": true, "iat": true, "nbf": true}

// userClaims formats a connection's token claims as X-ASRS-User-Claims:
// `type: value` items joined by ", ", sorted by type, one item per value
// of a multi-valued claim, as .NET's Claim.ToString gives them.
func userClaims(claims map[string]any) string {
	keys := make([]string, 0, len(claims))
	for k := range claims {
		if !tokenClaims[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var items []string
	for _, k := range keys {
		vals, ok := claims[k].([]any)
		if !ok {
			vals = []any{claims[k]}
		}
		for _, v := range vals {
			items = append(items, k+": "+claimValue(v))
		}
	}
	return strings.Join(items, ", ")
}

func claimValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// clientQuery is X-ASRS-Client-Query: the query the client connected
// with, "?" included as ASP.NET Core's QueryString gives it, without
// access_token: the service's token is for the service, never for a
// function.
func clientQuery(raw string) string {
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); p == "" || strings.EqualFold(k, "access_token") || err == nil && strings.EqualFold(name, "access_token") {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return ""
	}
	return "?" + strings.Join(kept, "&")
}
