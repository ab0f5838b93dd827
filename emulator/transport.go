package emulator

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// handleClient serves /client/?hub=H&id=T: the WebSocket upgrade, the SSE
// stream, long polls, sends (POST) and the long-polling DELETE, with the
// status codes of ASP.NET Core's connection dispatcher.
func (s *Service) handleClient(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/client" && r.URL.Path != "/client/" {
		http.NotFound(w, r)
		return
	}
	hub, ok := hubParam(w, r)
	if !ok {
		return
	}
	tok := r.URL.Query().Get("id")
	if tok == "" {
		http.Error(w, "Connection ID required", http.StatusBadRequest)
		return
	}
	id, aerr := s.authenticate(r, s.clientAud(r, hub))
	if aerr != nil {
		s.log.Info("client request refused", "hub", hub, "method", r.Method, "status", http.StatusUnauthorized, "reason", aerr.desc)
		aerr.write(w)
		return
	}
	s.mu.Lock()
	c := s.tokens[tok]
	expired := c != nil && c.transport == "" && s.opts.Now().Sub(c.created) > s.opts.NegotiateTimeout
	if c == nil || c.finished || expired || c.hubKey != hubKey(hub) {
		s.mu.Unlock()
		if expired {
			c.close(nil, true, "connection token unused for "+s.opts.NegotiateTimeout.String())
			s.finish(c)
		}
		http.Error(w, "No Connection with that ID", http.StatusNotFound)
		return
	}
	if reason := boundTo(c, r, id); reason != "" {
		s.mu.Unlock()
		s.log.Info("client request refused", "hub", hub, "connectionId", c.id, "method", r.Method, "status", http.StatusForbidden, "reason", reason)
		http.Error(w, reason, http.StatusForbidden)
		return
	}
	if r.Method == http.MethodGet && c.transport == "" {
		c.query = clientQuery(r.URL.RawQuery) // the connect request's, for the upstream
	}
	switch {
	case r.Method == http.MethodGet && isWebSocket(r):
		s.serveWebSocket(w, r, c) // unlocks
	case r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/event-stream"):
		s.serveSSE(w, r, c) // unlocks
	case r.Method == http.MethodGet:
		s.servePoll(w, r, c) // unlocks
	case r.Method == http.MethodPost:
		transport := c.transport
		s.mu.Unlock()
		s.serveSend(w, r, c, transport)
	case r.Method == http.MethodDelete:
		transport := c.transport
		s.mu.Unlock()
		if transport != transportLP {
			http.Error(w, "Cannot terminate this connection using the DELETE endpoint.", http.StatusBadRequest)
			return
		}
		c.pollMu.Lock()
		c.delivered = true
		c.pollMu.Unlock()
		c.close(nil, false, "client stopped")
		s.finish(c)
		w.WriteHeader(http.StatusAccepted)
	default:
		s.mu.Unlock()
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}

// attachLocked claims the connection for transport t. Called with s.mu
// held; it unlocks in every case and reports whether the caller may serve.
func (s *Service) attachLocked(w http.ResponseWriter, c *conn, t string) bool {
	switch {
	case c.transport == t:
		s.mu.Unlock()
		http.Error(w, "Another "+t+" request is already active for this connection.", http.StatusConflict)
		return false
	case c.transport != "":
		s.mu.Unlock()
		http.Error(w, "Cannot change transports mid-connection", http.StatusBadRequest)
		return false
	case s.closed:
		s.mu.Unlock()
		http.Error(w, "The service is shutting down.", http.StatusServiceUnavailable)
		return false
	}
	c.transport = t
	if t != transportLP {
		delete(s.watched, c)
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	return true
}

// serveWebSocket serves a WebSocket: the first one of a connection, or,
// for a stateful connection, a resume on the same id= that takes over from
// the socket before it (which may not even know it is dead yet: a
// half-open TCP connection).
func (s *Service) serveWebSocket(w http.ResponseWriter, r *http.Request, c *conn) {
	resume := c.transport == transportWS && c.sf.Load() != nil && c.handshaken.Load()
	if resume {
		if c.closing() || s.closed {
			s.mu.Unlock()
			http.Error(w, "No Connection with that ID", http.StatusNotFound)
			return
		}
		s.handlers.Add(1)
	} else if !s.attachLocked(w, c, transportWS) {
		return
	} else {
		s.mu.Lock()
	}
	a := &attachment{done: make(chan struct{})}
	a.ctx, a.cancel = context.WithCancelCause(c.ctx)
	// end releases what serving the socket holds; it runs once the socket
	// is done with, in the goroutine that serves it past the upgrade.
	end := func() {
		a.cancel(nil)
		close(a.done)
		s.handlers.Done()
	}
	prev := c.att
	c.att, c.detached = a, false
	if resume {
		c.resumes++
	}
	s.mu.Unlock()
	if prev != nil {
		prev.cancel(nil)
		<-prev.done
	}
	if resume {
		c.timerMu.Lock()
		if c.graceTimer != nil {
			c.graceTimer.Stop()
		}
		c.timerMu.Unlock()
		// The old socket may have left half a record behind, and the client
		// sends Sequence before anything else.
		c.inMu.Lock()
		c.framer = protocol.Framer{MaxRecordSize: s.opts.MaxMessageSize}
		c.inMu.Unlock()
		c.sf.Load().resumed()
	}

	acc := &wsAccept{ResponseWriter: w}
	ws, err := websocket.Accept(acc, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		defer end()
		if resume {
			s.detach(c, a, "WebSocket upgrade failed: "+err.Error())
			return
		}
		c.close(nil, true, "WebSocket upgrade failed: "+err.Error())
		s.finish(c)
		return
	}
	ws.SetReadLimit(-1) // records are bounded by the Framer, which can say so
	if resume {
		n, size := c.sf.Load().pending()
		s.log.Info("client resumed", "hub", c.hubName, "connectionId", c.id, "user", textsafe.Clip(c.user, 200), "replayed", n, "replayedBytes", size)
		c.touch()
	} else {
		c.startHandshakeTimer()
	}
	// The handler returns now (the socket is hijacked): the HTTP server's
	// goroutine, with the deep stack a request leaves, and the request
	// itself are not kept for the life of the connection. Serving a
	// socket from a goroutine of its own took about 10 KB off every idle
	// connection.
	go func() {
		defer end()
		s.runWebSocket(ws, acc.wire, c, a, resume)
	}()
}

// runWebSocket serves an upgraded socket until it ends: its writer in a
// goroutine, its reader here.
func (s *Service) runWebSocket(ws *websocket.Conn, wire *wsWire, c *conn, a *attachment, resume bool) {
	// Writes carry no deadline (see writeLoop), so ending the attachment
	// (a hard close, a newer socket taking over, a stateful socket that
	// failed) closes the socket, which aborts a write in progress.
	stopAbort := context.AfterFunc(a.ctx, func() { _ = ws.CloseNow() })
	defer stopAbort()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		if wire.fd >= 0 { // else no direct writes (not a plain socket, or not Unix)
			c.wire.Store(wire)
		}
		err := c.writeLoop(wsSink{w: wire, c: c}, a.ctx, a, resume)
		c.wire.CompareAndSwap(wire, nil) // no direct write after the Close
		if err != nil || c.hard.Load() || a.ctx.Err() != nil {
			_ = ws.CloseNow()
			return
		}
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}()

	readErr := s.readWebSocket(ws, c)
	if readErr != nil && c.sf.Load() != nil && !c.closing() && websocket.CloseStatus(readErr) != websocket.StatusNormalClosure {
		// A stateful connection survives its socket: keep it, with what it
		// has not had acknowledged, for a resume.
		a.cancel(nil)
		<-writerDone
		s.detach(c, a, dropReason(a, readErr))
		return
	}
	if readErr != nil {
		reason := "client closed the connection"
		if websocket.CloseStatus(readErr) == -1 {
			reason = "read failed: " + readErr.Error()
		}
		c.close(nil, true, reason)
	}
	<-writerDone
	s.finish(c)
}

func dropReason(a *attachment, err error) string {
	if cause := context.Cause(a.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause.Error() // the writer's
	}
	if code := websocket.CloseStatus(err); code != -1 {
		return "WebSocket closed with status " + strconv.Itoa(int(code))
	}
	if errors.Is(err, context.Canceled) || a.ctx.Err() != nil {
		return "a newer socket took over"
	}
	return "read failed: " + err.Error()
}

// detach leaves a stateful connection without a socket for up to
// StatefulReconnectGrace. It is a no-op when a newer socket already took
// over; a connection that started closing meanwhile is finished.
func (s *Service) detach(c *conn, a *attachment, reason string) {
	s.mu.Lock()
	if c.att != a {
		s.mu.Unlock()
		return
	}
	c.att, c.detached = nil, true
	s.mu.Unlock()
	if c.closing() {
		s.finish(c)
		return
	}
	c.pauseIdle()
	grace := s.opts.StatefulReconnectGrace
	s.log.Info("client socket dropped, keeping the connection for a resume", "hub", c.hubName, "connectionId", c.id,
		"user", textsafe.Clip(c.user, 200), "reason", reason, "grace", grace.String())
	c.timerMu.Lock()
	if c.graceTimer != nil {
		c.graceTimer.Stop()
	}
	c.graceTimer = time.AfterFunc(grace, func() {
		c.s.mu.Lock()
		still := c.detached
		c.s.mu.Unlock()
		if still {
			c.close(nil, true, "not resumed within "+grace.String()+" ("+reason+")")
		}
	})
	c.timerMu.Unlock()
}

// readBufs lends read buffers (for a WebSocket message, or the body of a
// POST of client data) only while one is being read. An idle connection,
// the common case when thousands are held for a fan-out, then keeps none:
// this cut the heap per idle connection by about a third at 10 000
// connections.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readWebSocket feeds every message into the connection until the socket
// ends (the error) or the connection starts closing (nil). Its reads
// carry no context that can end, as coder/websocket arms an AfterFunc
// per message for one that can: the end of the attachment closes the
// socket (runWebSocket), which ends a read.
func (s *Service) readWebSocket(ws *websocket.Conn, c *conn) error {
	for {
		_, rd, err := ws.Reader(context.Background())
		if err != nil {
			return err
		}
		bp := readBufs.Get().(*[]byte)
		done, err := readMessage(rd, c, *bp)
		readBufs.Put(bp)
		if done || err != nil {
			return err
		}
	}
}

// readMessage feeds one WebSocket message to the connection; receive
// copies what it keeps, so buf can go back to the pool. done means the
// connection refused more input.
func readMessage(rd io.Reader, c *conn, buf []byte) (done bool, err error) {
	for {
		n, err := rd.Read(buf)
		if n > 0 {
			c.inMu.Lock()
			ok := c.receive(buf[:n])
			c.inMu.Unlock()
			if !ok {
				return true, nil
			}
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

func (s *Service) serveSSE(w http.ResponseWriter, r *http.Request, c *conn) {
	if !s.attachLocked(w, c, transportSSE) {
		return
	}
	defer s.handlers.Done()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache,no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Encoding", "identity")
	w.WriteHeader(http.StatusOK)
	// The comment line first, as ASP.NET Core writes it (a Firefox fix).
	_, err := io.WriteString(w, ":\r\n")
	if err == nil {
		err = rc.Flush()
	}
	if err != nil {
		c.close(nil, true, "SSE write failed: "+err.Error())
		s.finish(c)
		return
	}
	c.startHandshakeTimer()
	// A hard close aborts a write in progress.
	disarm := abortWritesOn(c.ctx, rc)
	_ = c.writeLoop(&sseSink{w: w, rc: rc}, r.Context(), nil, false)
	disarm()
	s.finish(c)
}

// abortWritesOn makes the end of ctx abort a write in progress on rc,
// through the write deadline. The deadline stays on the TCP connection
// after the handler returns, and the server keeps that connection for the
// client's next request, so the handler calls disarm before returning: it
// stops the abort, waits out one that is firing, and clears the deadline.
// Otherwise the next request on the connection (a negotiate, a long poll)
// fails to write its answer and the client sees EOF. disarm may be called
// more than once.
func abortWritesOn(ctx context.Context, rc *http.ResponseController) (disarm func()) {
	var mu sync.Mutex
	armed := true
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if armed {
			_ = rc.SetWriteDeadline(time.Now())
		}
	})
	return func() {
		stop()
		mu.Lock()
		armed = false
		mu.Unlock()
		_ = rc.SetWriteDeadline(time.Time{})
	}
}

type sseSink struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
}

func (k *sseSink) owes() bool { return false }

// writeBatch writes the batch as one event, one `data:` line per line.
func (k *sseSink) writeBatch(batch [][]byte) error {
	b := k.buf[:0]
	for _, rec := range batch {
		for len(rec) > 0 {
			line := rec
			i := bytes.IndexByte(rec, '\n')
			if i >= 0 {
				line, rec = rec[:i], rec[i+1:]
			} else {
				rec = nil
			}
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			b = append(b, "data: "...)
			b = append(b, line...)
			b = append(b, '\r', '\n')
		}
	}
	b = append(b, '\r', '\n')
	k.buf = b
	if _, err := k.w.Write(b); err != nil {
		return err
	}
	return k.rc.Flush()
}

// serveSend takes a POST of client data (SSE and long polling).
func (s *Service) serveSend(w http.ResponseWriter, r *http.Request, c *conn, transport string) {
	if transport == transportWS {
		http.Error(w, "POST requests are not allowed for WebSocket connections.", http.StatusMethodNotAllowed)
		return
	}
	if c.closing() {
		http.Error(w, "No Connection with that ID", http.StatusNotFound)
		return
	}
	if !c.inMu.TryLock() {
		http.Error(w, "Another send is already in progress for this connection.", http.StatusConflict)
		return
	}
	defer c.inMu.Unlock()
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for {
		n, err := r.Body.Read(buf)
		if n > 0 && !c.receive(buf[:n]) {
			break
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			http.Error(w, "reading the request body failed", http.StatusBadRequest)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// servePoll serves one long poll. The first poll only finishes setting up
// the connection; later ones wait for data up to PollTimeout. A newer poll
// ends the one in progress with 204.
func (s *Service) servePoll(w http.ResponseWriter, r *http.Request, c *conn) {
	if c.transport == "" {
		if !s.attachLocked(w, c, transportLP) {
			return
		}
		s.mu.Lock()
		c.lastPoll = s.opts.Now()
		s.mu.Unlock()
		s.handlers.Done()
		c.startHandshakeTimer()
		w.WriteHeader(http.StatusOK)
		return
	}
	if c.transport != transportLP {
		s.mu.Unlock()
		http.Error(w, "Cannot change transports mid-connection", http.StatusBadRequest)
		return
	}
	if s.closed {
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.polling = true
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	mine, myDone := make(chan struct{}), make(chan struct{})
	c.pollMu.Lock()
	prevCancel, prevDone := c.pollCancel, c.pollDone
	c.pollCancel, c.pollDone = mine, myDone
	c.pollMu.Unlock()
	if prevCancel != nil {
		close(prevCancel)
		<-prevDone
	}
	defer func() {
		c.pollMu.Lock()
		last := c.pollCancel == mine
		if last {
			c.pollCancel, c.pollDone = nil, nil
		}
		c.pollMu.Unlock()
		close(myDone)
		s.mu.Lock()
		if last {
			c.polling = false
		}
		c.lastPoll = s.opts.Now()
		s.mu.Unlock()
	}()

	timeout := time.NewTimer(s.opts.PollTimeout)
	defer timeout.Stop()
	ping := time.NewTimer(s.opts.PingInterval)
	defer ping.Stop()
	var batch [][]byte
	select {
	case <-c.out.ready:
		batch = c.drain(nil, 256, nil)
	case <-c.done:
		c.pollMu.Lock()
		final := !c.hard.Load() && !c.delivered
		if final {
			// What does not fit this answer goes in the next poll's; the
			// Close message goes with the last.
			batch = c.drain(nil, 256, nil)
			if !c.out.pending() {
				if c.closeFrame != nil {
					batch = append(batch, c.closeFrame)
				}
				c.delivered = true
			}
		} else {
			c.delivered = true
		}
		c.pollMu.Unlock()
		if len(batch) == 0 {
			w.WriteHeader(http.StatusNoContent)
			s.finish(c)
			return
		}
	case <-ping.C:
		if c.handshaken.Load() {
			batch = [][]byte{c.ping()}
		}
	case <-timeout.C:
	case <-mine:
		w.WriteHeader(http.StatusNoContent)
		return
	case <-r.Context().Done():
		return
	}
	n := 0
	for _, b := range batch {
		n += len(b)
	}
	body := make([]byte, 0, n)
	for _, b := range batch {
		body = append(body, b...)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
