package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
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
	if id.user != c.user {
		s.mu.Unlock()
		http.Error(w, "The access token names another user than the one that negotiated this connection.", http.StatusForbidden)
		return
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
	s.handlers.Add(1)
	s.mu.Unlock()
	return true
}

func (s *Service) serveWebSocket(w http.ResponseWriter, r *http.Request, c *conn) {
	if !s.attachLocked(w, c, transportWS) {
		return
	}
	defer s.handlers.Done()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		c.close(nil, true, "WebSocket upgrade failed: "+err.Error())
		s.finish(c)
		return
	}
	ws.SetReadLimit(-1) // records are bounded by the Framer, which can say so
	c.startHandshakeTimer()

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		err := c.writeLoop(wsSink{ws}, nil)
		if err != nil || c.hard.Load() {
			_ = ws.CloseNow()
			return
		}
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}()

	buf := make([]byte, 32<<10)
	readErr := s.readWebSocket(ws, c, buf)
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

// readWebSocket feeds every message into the connection until the socket
// ends (the error) or the connection starts closing (nil).
func (s *Service) readWebSocket(ws *websocket.Conn, c *conn, buf []byte) error {
	for {
		_, rd, err := ws.Reader(c.ctx)
		if err != nil {
			return err
		}
		for {
			n, err := rd.Read(buf)
			if n > 0 {
				c.inMu.Lock()
				ok := c.receive(buf[:n])
				c.inMu.Unlock()
				if !ok {
					return nil
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
		}
	}
}

type wsSink struct{ ws *websocket.Conn }

// writeBatch writes the batch as one text message; the receiver splits
// the records at their separators.
func (k wsSink) writeBatch(ctx context.Context, batch [][]byte) error {
	if len(batch) == 1 {
		return k.ws.Write(ctx, websocket.MessageText, batch[0])
	}
	wr, err := k.ws.Writer(ctx, websocket.MessageText)
	if err != nil {
		return err
	}
	for _, b := range batch {
		if _, err := wr.Write(b); err != nil {
			_ = wr.Close()
			return err
		}
	}
	return wr.Close()
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
	stop := context.AfterFunc(c.ctx, func() { _ = rc.SetWriteDeadline(time.Now()) })
	defer stop()
	_ = c.writeLoop(&sseSink{w: w, rc: rc}, r.Context().Done())
	s.finish(c)
}

type sseSink struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
}

// writeBatch writes the batch as one event, one `data:` line per line.
func (k *sseSink) writeBatch(ctx context.Context, batch [][]byte) error {
	if d, ok := ctx.Deadline(); ok {
		_ = k.rc.SetWriteDeadline(d)
	}
	b := k.buf[:0]
	for _, rec := range batch {
		for len(rec) > 0 {
			line := rec
			i := indexByte(rec, '\n')
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

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
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
	buf := make([]byte, 32<<10)
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
	case f := <-c.out:
		batch = c.drain([][]byte{f}, 256)
	case <-c.done:
		c.pollMu.Lock()
		final := !c.hard.Load() && !c.delivered
		c.delivered = true
		c.pollMu.Unlock()
		if final {
			batch = c.drain(nil, cap(c.out))
			if c.closeFrame != nil {
				batch = append(batch, c.closeFrame)
			}
		}
		if len(batch) == 0 {
			w.WriteHeader(http.StatusNoContent)
			s.finish(c)
			return
		}
	case <-ping.C:
		if c.handshaken.Load() {
			batch = [][]byte{pingRecord}
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
	w.Header().Set("Content-Length", itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
