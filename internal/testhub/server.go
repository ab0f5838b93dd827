package testhub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Transports are the transports negotiate offers, by protocol name.
	// Default: WebSockets, then ServerSentEvents.
	Transports []string
	// KeepAlive is how often the server pings a quiet connection.
	// Default 15 s, ASP.NET Core's KeepAliveInterval.
	KeepAlive time.Duration
	// Logger receives a line per connection and per invocation.
	// Default: none.
	Logger *slog.Logger
	// Path is the hub's path: negotiate is Path/negotiate, and any other
	// path is not found, as for an ASP.NET Core app's MapHub. Default
	// "/hub".
	Path string
}

// Server is the hub at Options.Path, and negotiate at that path plus
// /negotiate. It is safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	ctx    context.Context // ends at Close, and with it every connection
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	conns    map[string]*conn // by connection token
	received []Received
	wg       sync.WaitGroup // handlers and every connection's goroutines

	srv *http.Server // set by Listen
	url string
}

// Received is a hub message the server read from a client, for tests to
// check what reached it: invocations (blocking or not), stream
// invocations and cancellations.
type Received struct {
	ConnectionID string
	Message      protocol.Message
}

// New returns a hub server for opts.
func New(opts Options) *Server {
	if len(opts.Transports) == 0 {
		opts.Transports = []string{protocol.TransportWebSockets, protocol.TransportServerSentEvents}
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 15 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Path == "" {
		opts.Path = "/hub"
	}
	opts.Path = "/" + strings.Trim(opts.Path, "/")
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, conns: map[string]*conn{}}
}

// Listen starts a hub server on addr (e.g. 127.0.0.1:0); URL says where.
func Listen(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New(opts)
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String() + s.opts.Path
	s.wg.Go(func() { _ = s.srv.Serve(ln) })
	return s, nil
}

// URL is the hub URL of a Server started by Listen, the URL a client is
// given.
func (s *Server) URL() string { return s.url }

// Close ends every connection and waits for the goroutines they started;
// a Server from Listen also stops listening.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	var err error
	if s.srv != nil {
		err = s.srv.Close()
	}
	s.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Received returns what the server has read from clients so far, in the
// order it read them.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

func (s *Server) record(c *conn, m *protocol.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Copy the raw fields: they alias a read buffer.
	cp := *m
	cp.Arguments = append(json.RawMessage(nil), m.Arguments...)
	cp.Headers = append(json.RawMessage(nil), m.Headers...)
	cp.StreamIDs = append([]string(nil), m.StreamIDs...)
	s.received = append(s.received, Received{ConnectionID: c.id, Message: cp})
}

// ServeHTTP answers negotiate and the connection's requests: the
// WebSocket upgrade, the event stream, and the sends that go with it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.track() {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case s.opts.Path + "/negotiate":
		s.negotiate(w, r)
		return
	case s.opts.Path:
	default:
		http.NotFound(w, r)
		return
	}
	tok := r.URL.Query().Get("id")
	if tok == "" {
		http.Error(w, "Connection ID required", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	c := s.conns[tok]
	s.mu.Unlock()
	if c == nil {
		http.Error(w, "No Connection with that ID", http.StatusNotFound)
		return
	}
	switch {
	case r.Method == http.MethodGet && isWebSocket(r):
		c.serveWebSocket(w, r)
	case r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/event-stream"):
		c.serveSSE(w, r)
	case r.Method == http.MethodPost:
		c.serveSend(w, r)
	default:
		http.Error(w, "long polling is not offered by this server", http.StatusBadRequest)
	}
}

// track registers a goroutine with the server unless it is closing.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) negotiate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "negotiate takes POST", http.StatusMethodNotAllowed)
		return
	}
	c := s.newConn()
	if c == nil {
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	resp := protocol.NegotiateResponse{ConnectionID: c.id, NegotiateVersion: 1, ConnectionToken: c.token}
	if r.URL.Query().Get("negotiateVersion") == "" {
		// Version 0: the connection id is the token.
		resp.NegotiateVersion, resp.ConnectionToken = 0, ""
	}
	for _, t := range s.opts.Transports {
		formats := []string{"Text", "Binary"}
		if t == protocol.TransportServerSentEvents {
			formats = formats[:1]
		}
		resp.AvailableTransports = append(resp.AvailableTransports, protocol.AvailableTransport{Transport: t, TransferFormats: formats})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// newConn registers a negotiated connection, or returns nil once closing.
func (s *Server) newConn() *conn {
	id, tok := randomID(), randomID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	c := newConn(s, id, tok)
	s.conns[tok] = c
	// A version-0 client presents the connection id as its token.
	s.conns[id] = c
	return c
}

// remove forgets c once it has ended.
func (s *Server) remove(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c.token)
	delete(s.conns, c.id)
}

// broadcast writes rec to every connection that has completed its
// handshake.
func (s *Server) broadcast(rec []byte) {
	s.mu.Lock()
	seen := map[*conn]bool{}
	for _, c := range s.conns {
		seen[c] = true
	}
	s.mu.Unlock()
	for c := range seen {
		if c.handshaken() {
			c.send(rec)
		}
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

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
