package emulator

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// tracer fans the service's events out to the subscribers of the live
// trace. It must never slow what it watches: when nobody subscribes a
// publisher pays one atomic load (on), and publish never blocks. Each
// subscriber has a bounded buffer; an event that does not fit is dropped
// and counted, and the subscriber gets a `dropped` event with the count
// where the gap is.
type tracer struct {
	n atomic.Int32 // subscribers

	mu   sync.RWMutex
	subs map[*traceSub]struct{}

	ctx    context.Context // cancelled by close: every stream ends
	cancel context.CancelFunc
}

// traceSub is one subscriber: what it wants and what it has not taken.
type traceSub struct {
	hub string // hub key to keep, "" for every hub
	ch  chan *protocol.TraceEvent

	mu      sync.Mutex // orders offers, so the dropped marker sits at the gap
	dropped int
}

func newTracer() *tracer {
	t := &tracer{subs: map[*traceSub]struct{}{}}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	return t
}

// on reports whether anyone subscribes: a publisher checks it before it
// builds an event.
func (t *tracer) on() bool { return t.n.Load() > 0 }

// subscribe adds a subscriber for hub ("" for all) with a buffer of size
// events; false once the tracer is closed.
func (t *tracer) subscribe(hub string, size int) (*traceSub, bool) {
	sub := &traceSub{hub: hub, ch: make(chan *protocol.TraceEvent, size)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		return nil, false
	}
	t.subs[sub] = struct{}{}
	t.n.Add(1)
	return sub, true
}

func (t *tracer) unsubscribe(sub *traceSub) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.subs[sub]; ok {
		delete(t.subs, sub)
		t.n.Add(-1)
	}
}

// close ends every stream and refuses new subscribers.
func (t *tracer) close() { t.cancel() }

// publish offers e to every subscriber of its hub without blocking. e is
// shared and must not change after.
func (t *tracer) publish(e *protocol.TraceEvent) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for sub := range t.subs {
		if sub.hub == "" || sub.hub == e.Hub {
			sub.offer(e)
		}
	}
}

// offer queues e, or drops and counts it when the buffer is full. After a
// drop the next event that fits comes after a `dropped` marker with the
// count, so the reader sees where the gap is.
func (sub *traceSub) offer(e *protocol.TraceEvent) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.dropped > 0 {
		if cap(sub.ch)-len(sub.ch) < 2 {
			sub.dropped++
			return
		}
		sub.ch <- &protocol.TraceEvent{Time: e.Time, Kind: protocol.TraceDropped, Count: sub.dropped}
		sub.dropped = 0
	}
	select {
	case sub.ch <- e:
	default:
		sub.dropped++
	}
}

// takeDropped returns the drop count once the reader has taken everything
// before the gap (the buffer is empty), and resets it; 0 otherwise.
func (sub *traceSub) takeDropped() int {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if len(sub.ch) > 0 || sub.dropped == 0 {
		return 0
	}
	n := sub.dropped
	sub.dropped = 0
	return n
}

func intp(n int) *int { return &n }

// traceConn publishes a connection's connect or disconnect.
func (s *Service) traceConn(kind string, c *conn, transport, reason string) {
	if !s.trace.on() {
		return
	}
	s.trace.publish(&protocol.TraceEvent{
		Time: s.opts.Now(), Kind: kind, Hub: c.hubKey, ConnectionID: c.id, User: c.user,
		Transport: transport, Protocol: c.proto, Reason: reason,
	})
}

// traceDelivered publishes one delivery: n connections got target by
// route, or none for reason. Every path that delivers a message calls it.
func (s *Service) traceDelivered(hubName, target, route string, n int, reason string) {
	if !s.trace.on() {
		return
	}
	s.trace.publish(&protocol.TraceEvent{
		Time: s.opts.Now(), Kind: protocol.TraceDelivered, Hub: hubKey(hubName),
		Target: target, Route: route, Recipients: intp(n), Reason: reason,
	})
}

// traceREST publishes a REST call as its answer starts, so that the event
// comes before anything the caller does once it has the answer.
func (s *Service) traceREST(r *http.Request, status int, h http.Header) {
	if !s.trace.on() {
		return
	}
	e := &protocol.TraceEvent{
		Time: s.opts.Now(), Kind: protocol.TraceREST, Hub: hubKey(restHubOf(r)),
		Method: r.Method, Path: textsafe.Clip(r.URL.Path, 1024), Status: status,
	}
	o := manage.Outcome{Header: h}
	if n, ok := o.Delivered(); ok {
		e.Delivered = intp(n)
	}
	if n, ok := o.Applied(); ok {
		e.Applied, e.Reason = intp(n), h.Get(protocol.HeaderUnapplied)
	}
	s.trace.publish(e)
}

// restHubOf is the hub a REST path names, with its application prefix,
// or "" for a path that names none.
func restHubOf(r *http.Request) string {
	p := strings.TrimPrefix(r.URL.Path, "/api")
	p = strings.TrimPrefix(p, "/v1")
	p, ok := strings.CutPrefix(p, "/hubs/")
	if !ok {
		return ""
	}
	hub, _, _ := strings.Cut(p, "/")
	if app := r.URL.Query().Get("application"); app != "" {
		hub = app + "_" + hub
	}
	return hub
}

// traceUpstream publishes an upstream call, after its answer or its
// failure: the upstream reports every call through it.
func (s *Service) traceUpstream(u UpstreamCall) {
	if !s.trace.on() {
		return
	}
	ms := float64(u.Latency.Microseconds()) / 1000
	s.trace.publish(&protocol.TraceEvent{
		Time: s.opts.Now(), Kind: protocol.TraceUpstream, Hub: hubKey(u.Hub), ConnectionID: u.ConnectionID,
		URL: textsafe.RedactURL(u.URL), UpstreamEvent: u.Event, Category: u.Category,
		Status: u.Status, LatencyMs: &ms, Error: u.Failure,
	})
}

// traceExpired publishes a user-group membership that ran out.
func (s *Service) traceExpired(m *membership) {
	if !s.trace.on() {
		return
	}
	s.trace.publish(&protocol.TraceEvent{
		Time: s.opts.Now(), Kind: protocol.TraceExpired, Hub: hubKey(m.hub.name), User: m.user, Group: m.group,
	})
}

// serveTrace streams the live trace as Server-Sent Events: one event line
// per `data:` field, a comment every PingInterval so that proxies and the
// reader know the stream is alive. A reader that stops reading for
// WriteTimeout is cut off; one that reads slowly gets `dropped` events.
func (s *Service) serveTrace(w http.ResponseWriter, r *http.Request) {
	hub := r.URL.Query().Get("hub")
	if hub != "" && !protocol.ValidHubName(hub) {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid hub name in ?hub=.")
		return
	}
	sub, ok := s.trace.subscribe(hubKey(hub), s.opts.TraceBuffer)
	if !ok {
		restError(w, http.StatusServiceUnavailable, "", "The service is shutting down.")
		return
	}
	defer s.trace.unsubscribe(sub)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	// Service.Close ends the stream, even a write in progress.
	disarm := abortWritesOn(s.trace.ctx, rc)
	defer disarm()
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(": sigr live trace\n\n")) {
		return
	}
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	var buf []byte
	// batch takes what is buffered, up to 64 KiB, after first.
	batch := func(first *protocol.TraceEvent) []byte {
		buf = appendSSE(buf[:0], first)
		for len(buf) < 64<<10 {
			select {
			case e := <-sub.ch:
				buf = appendSSE(buf, e)
			default:
				if n := sub.takeDropped(); n > 0 {
					buf = appendSSE(buf, &protocol.TraceEvent{Time: s.opts.Now(), Kind: protocol.TraceDropped, Count: n})
				}
				return buf
			}
		}
		return buf
	}
	for {
		select {
		case e := <-sub.ch:
			if !write(batch(e)) {
				return
			}
		case <-ping.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.trace.ctx.Done():
			// The service is closing: what it said before goes out first,
			// within write's own deadline, with the abort disarmed.
			disarm()
			select {
			case e := <-sub.ch:
				write(batch(e))
			default:
			}
			return
		}
	}
}

// appendSSE appends e as one SSE event. An event line holds no line
// break (its strings are JSON-escaped), so one `data:` field carries it.
func appendSSE(dst []byte, e *protocol.TraceEvent) []byte {
	dst = append(dst, "data: "...)
	dst = protocol.AppendTraceEvent(dst, e) // ends in \n
	return append(dst, '\n')
}
