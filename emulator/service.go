package emulator

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/sigr-dev/sigr/protocol"
)

// Service is the emulated Azure SignalR Service (serverless mode): client
// negotiate and transports under /client, the data-plane REST API under
// /api. It is safe for concurrent use.
type Service struct {
	opts ServiceOptions
	log  *slog.Logger
	h    http.Handler

	mu     sync.Mutex
	hubs   map[string]*hub
	tokens map[string]*conn // connection token -> connection, until finished
	// watched are the connections the sweeper checks: not yet attached to
	// a transport, or long polling. Streams are left out, so a sweep does
	// not walk thousands of WebSockets.
	watched  map[*conn]struct{}
	expiries expiries // every user-group membership, soonest expiry first
	closed   bool

	trace    *tracer   // the live trace's subscribers
	watchdog *watchdog // ends stalled writes
	// delivering counts the fan-outs in progress: only one alone writes
	// directly (see deliver).
	delivering atomic.Int32

	handlers sync.WaitGroup // transport handlers and writer goroutines
	stop     chan struct{}
	bg       sync.WaitGroup // sweeper, watchdog

	servers servers
	up      *upstream

	closeOnce sync.Once
}

// NewService returns a Service; its sweeper and write watchdog run until
// Close.
func NewService(opts ServiceOptions) *Service {
	opts.setDefaults()
	s := &Service{
		opts:    opts,
		log:     opts.Logger,
		hubs:    map[string]*hub{},
		tokens:  map[string]*conn{},
		watched: map[*conn]struct{}{},
		stop:    make(chan struct{}),
		trace:   newTracer(),
	}
	s.watchdog = newWatchdog(opts.WriteTimeout)
	s.up = newUpstream(&s.opts)
	onCall := s.up.onCall
	s.up.onCall = func(c UpstreamCall) {
		s.traceUpstream(c)
		if onCall != nil {
			onCall(c)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/client/negotiate", s.handleNegotiate)
	mux.HandleFunc("/client/negotiate/", s.handleNegotiate)
	mux.HandleFunc("/client", s.handleClient)
	mux.HandleFunc("/client/", s.handleClient)
	mux.Handle("/api/", s.restAPI())
	mux.Handle("/_sigr/", s.sigrAPI())
	s.h = serviceCORS(mux)
	s.bg.Add(2)
	go s.sweeper()
	go func() {
		defer s.bg.Done()
		s.watchdog.run(s.stop)
	}()
	return s
}

// Handler returns the HTTP handler of the service, for callers that run
// their own server. Close still closes every client connection.
func (s *Service) Handler() http.Handler { return s.h }

// Start serves on ln in the background until Close, with the limits of
// ServiceOptions.HTTP.
func (s *Service) Start(ln net.Listener) {
	s.servers.start(ln, s.h, s.log, "service", s.opts.HTTP, isHubStream)
}

// isHubStream tells the requests that open or carry a hub connection for
// as long as it lives (a WebSocket, an SSE stream, a long poll) and the
// live trace's stream.
func isHubStream(r *http.Request) bool {
	return r.Method == http.MethodGet && (r.URL.Path == "/client" || r.URL.Path == "/client/" || r.URL.Path == protocol.PathTrace)
}

// UpstreamTemplates returns the upstream templates in force, in the order
// they are tried: ServiceOptions.Upstream, then the settings file's.
func (s *Service) UpstreamTemplates() []UpstreamTemplate { return s.up.templates() }

// Close tells every client the service is going away (a Close message
// with allowReconnect:true), waits up to ShutdownTimeout for them to take
// it, drops the rest, stops the servers and waits for every goroutine the
// service started.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		all := make([]*conn, 0, len(s.tokens))
		for _, c := range s.tokens {
			all = append(all, c)
		}
		s.mu.Unlock()
		bye := protocol.NewClose("The service is shutting down.", true)
		for _, c := range all {
			c.close(&bye, false, "service shutting down")
			if !c.isStreaming() {
				s.finish(c)
			}
		}
		waited := make(chan struct{})
		go func() { s.handlers.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(s.opts.ShutdownTimeout):
			for _, c := range all {
				c.hard.Store(true)
				c.cancel()
			}
			<-waited
		}
		// Before the servers stop: a function that answers a disconnected
		// event may still call the REST API.
		s.up.close(s.opts.ShutdownTimeout)
		// After the clients and the upstream calls their disconnects make,
		// so the trace shows them.
		s.trace.close()
		s.servers.shutdown(s.opts.ShutdownTimeout)
		close(s.stop)
		s.bg.Wait()
	})
	return nil
}

func (s *Service) sweeper() {
	defer s.bg.Done()
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// isStreaming reports whether a handler owns the connection's lifetime
// (WebSockets or SSE), so that it, not the closer, calls finish.
func (c *conn) isStreaming() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.transport == transportWS || c.transport == transportSSE
}

// finish forgets a connection for good and logs its disconnect.
func (s *Service) finish(c *conn) {
	s.mu.Lock()
	if c.finished {
		s.mu.Unlock()
		return
	}
	c.finished = true
	if s.tokens[c.token] == c {
		delete(s.tokens, c.token)
	}
	delete(s.watched, c)
	connected := c.handshaken.Load()
	transport := c.transport
	s.mu.Unlock()
	c.cancel()
	reason := "closed"
	if c.closing() {
		reason = c.closeReason
	}
	if connected {
		s.traceConn(protocol.TraceDisconnected, c, transport, reason)
		s.log.Info("client disconnected", "hub", c.hubName, "connectionId", c.id, "user", textsafe.Clip(c.user, 200),
			"transport", transport, "reason", reason, "duration", time.Since(c.created).Round(time.Millisecond).String())
		s.up.disconnected(c, reason)
	}
}

// deliver encodes one invocation once per protocol and writes it to
// every recipient, straight to the socket where nothing is queued ahead
// (sendDirect) and through the queue otherwise, and returns to how many
// it was written or queued. The `route` header tells the
// receiver why the message reached it.
func (s *Service) deliver(recips []*conn, target string, args []byte, route string) int {
	if len(recips) == 0 {
		return 0
	}
	m := protocol.NewInvocation(target, args)
	m.Headers = protocol.EncodeHeaders(map[string]string{"route": route})
	m.Fields |= protocol.FieldHeaders
	fr := newFrames(&m)
	now := monoNow()
	// A fan-out alone writes to idle sockets itself. Several at once (a
	// high rate of sends) leave it to the writers, which then take a few
	// messages a write: a write(2) per delivery from every sender would
	// cost some 9 µs each where a batch costs about 1.3.
	direct := s.delivering.Add(1) == 1
	defer s.delivering.Add(-1)
	n := 0
	for _, c := range recips {
		if !c.handshaken.Load() {
			continue
		}
		frame := fr.of(c)
		if frame == nil {
			continue
		}
		if direct && c.sendDirect(fr, frame, now) || c.enqueue(frame) {
			n++
		}
	}
	return n
}

// serviceCORS answers like the official emulator: every origin is echoed
// with credentials allowed, and preflights are answered here.
func serviceCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
				if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
					h.Set("Access-Control-Allow-Headers", rh)
				}
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
