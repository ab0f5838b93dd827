package testhub

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// maxMessage bounds a record, as ASP.NET Core's MaximumReceiveMessageSize
// does (there 32 KB; here 1 MiB, the client's default read limit).
const maxMessage = 1 << 20

// conn is one negotiated connection: its transport, its handshake, the
// records queued for it, and its running streams.
type conn struct {
	s         *Server
	id, token string

	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	out    chan []byte // records to write, each ending in 0x1E

	mu        sync.Mutex
	transport string
	streams   map[string]context.CancelFunc // running streams by invocation id
	why       string                        // why flushThenEnd ends it

	inMu   sync.Mutex // one reader at a time, as ASP.NET Core allows one send
	framer protocol.Framer
	shook  atomic.Bool
	ended  atomic.Bool
}

func newConn(s *Server, id, token string) *conn {
	c := &conn{s: s, id: id, token: token, out: make(chan []byte, 256), streams: map[string]context.CancelFunc{}}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.framer.MaxRecordSize = maxMessage
	return c
}

func (c *conn) handshaken() bool { return c.shook.Load() }

// send queues rec for the transport; it waits while the queue is full and
// gives up when the connection ends.
func (c *conn) send(rec []byte) {
	select {
	case c.out <- rec:
	case <-c.ctx.Done():
	}
}

func (c *conn) sendMessage(m *protocol.Message) { c.send(protocol.AppendMessage(nil, m)) }

// end stops the connection once: its streams, its transport, its methods.
func (c *conn) end(reason string) {
	if c.ended.Swap(true) {
		return
	}
	c.s.log.Info("connection ended", "connectionId", c.id, "reason", reason)
	c.cancel()
	c.s.remove(c)
}

// attach claims the connection for transport t, with ASP.NET Core's
// answers to a second or a different transport.
func (c *conn) attach(w http.ResponseWriter, t string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.transport == t:
		http.Error(w, "Another "+t+" request is already active for this connection.", http.StatusConflict)
		return false
	case c.transport != "":
		http.Error(w, "Cannot change transports mid-connection", http.StatusBadRequest)
		return false
	}
	c.transport = t
	c.s.log.Info("connected", "connectionId", c.id, "transport", t)
	return true
}

func (c *conn) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !c.attach(w, protocol.TransportWebSockets) {
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		c.end("WebSocket upgrade failed: " + err.Error())
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(maxMessage)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop(func(b []byte) error { return ws.Write(c.ctx, websocket.MessageText, b) }, nil)
	}()
	for {
		_, p, err := ws.Read(c.ctx)
		if err != nil {
			c.end("read: " + err.Error())
			break
		}
		c.receive(p)
	}
	<-writerDone
}

func (c *conn) serveSSE(w http.ResponseWriter, r *http.Request) {
	if !c.attach(w, protocol.TransportServerSentEvents) {
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	// The comment line first, as ASP.NET Core writes it.
	if _, err := io.WriteString(w, ":\r\n"); err != nil || rc.Flush() != nil {
		c.end("event stream write failed")
		return
	}
	c.writeLoop(func(rec []byte) error {
		if _, err := io.WriteString(w, "data: "+string(rec)+"\r\n\r\n"); err != nil {
			return err
		}
		return rc.Flush()
	}, r.Context().Done())
	c.end("event stream closed")
}

// writeLoop writes queued records and a ping whenever the connection has
// been quiet for KeepAlive, until the connection or gone ends.
func (c *conn) writeLoop(write func([]byte) error, gone <-chan struct{}) {
	ping := protocol.AppendMessage(nil, &protocol.Message{Type: protocol.TypePing})
	t := time.NewTimer(c.s.opts.KeepAlive)
	defer t.Stop()
	for {
		var rec []byte
		select {
		case rec = <-c.out:
		case <-t.C:
			rec = ping
		case <-gone:
			return
		case <-c.ctx.Done():
			return
		}
		if rec == nil {
			c.mu.Lock()
			why := c.why
			c.mu.Unlock()
			c.end(why)
			return
		}
		if err := write(rec); err != nil {
			c.end("write: " + err.Error())
			return
		}
		t.Reset(c.s.opts.KeepAlive)
	}
}

// serveSend takes a POST of records for a Server-Sent Events connection.
func (c *conn) serveSend(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	t := c.transport
	c.mu.Unlock()
	if t == protocol.TransportWebSockets {
		http.Error(w, "POST requests are not allowed for WebSocket connections.", http.StatusMethodNotAllowed)
		return
	}
	if c.ended.Load() {
		http.Error(w, "No Connection with that ID", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxMessage+1))
	if err != nil {
		http.Error(w, "reading the request body failed", http.StatusBadRequest)
		return
	}
	c.receive(body)
	w.WriteHeader(http.StatusOK)
}

// receive frames p into records and handles each: the handshake first,
// then hub messages.
func (c *conn) receive(p []byte) {
	c.inMu.Lock()
	defer c.inMu.Unlock()
	c.framer.Feed(p)
	for !c.ended.Load() {
		rec, ok, err := c.framer.Next()
		if err != nil {
			c.closeWithError("Connection closed with an error.", "record too large")
			return
		}
		if !ok {
			return
		}
		// Methods run after this returns; the message must own its bytes.
		c.handle(append([]byte(nil), rec...))
	}
}

func (c *conn) handle(rec []byte) {
	if !c.shook.Load() {
		hs, err := protocol.ParseHandshakeRequest(rec)
		switch {
		case err != nil:
			c.handshakeFailed("An unexpected error occurred during connection handshake.", err.Error())
		case hs.Protocol != "json":
			c.handshakeFailed("The protocol '"+hs.Protocol+"' is not supported.", "protocol "+hs.Protocol)
		case hs.Version > 2:
			c.handshakeFailed("The server does not support version "+itoa(hs.Version)+" of the 'json' protocol.", "version")
		default:
			c.shook.Store(true)
			c.send(protocol.AppendHandshakeResponse(nil, ""))
		}
		return
	}
	m, err := protocol.ParseMessage(rec, protocol.Strict)
	if err != nil {
		c.closeWithError("Connection closed with an error.", err.Error())
		return
	}
	switch m.Type {
	case protocol.TypeInvocation, protocol.TypeStreamInvocation:
		c.s.record(c, &m)
		c.invoke(m)
	case protocol.TypeCancelInvocation:
		c.s.record(c, &m)
		c.mu.Lock()
		cancel := c.streams[m.InvocationID]
		c.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	case protocol.TypeClose:
		c.end("the client closed it")
	}
	// Pings need no answer; completions and stream items from a client
	// would answer client results and upload streams, which no method
	// here uses.
}

func (c *conn) handshakeFailed(text, why string) {
	c.send(protocol.AppendHandshakeResponse(nil, text))
	c.s.log.Info("handshake refused", "connectionId", c.id, "why", why)
	c.flushThenEnd("handshake refused")
}

// closeWithError sends a Close message, as ASP.NET Core does when a
// client breaks the protocol, and ends the connection.
func (c *conn) closeWithError(text, why string) {
	c.sendMessage(&protocol.Message{Type: protocol.TypeClose, Fields: protocol.FieldError, Error: text})
	c.s.log.Info("closing with an error", "connectionId", c.id, "why", why)
	c.flushThenEnd(why)
}

// flushThenEnd ends the connection once the transport has written what
// is queued before it: a nil record in the queue stands for the end.
func (c *conn) flushThenEnd(why string) {
	c.mu.Lock()
	c.why = why
	c.mu.Unlock()
	c.send(nil)
}
