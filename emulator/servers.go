package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// HTTPLimits bound the plain HTTP connections of one listener, so that a
// client that leaks keep-alive connections, or trickles a body, cannot
// use up the process's file descriptors and leave every listener silent.
// Hub connections (WebSockets, SSE streams, long polls in flight) are not
// plain HTTP connections: they are bounded by the hub's own timeouts.
// Zero values take the defaults named on each field.
type HTTPLimits struct {
	// ReadTimeout bounds reading one request, headers and body. It ends
	// with the body (net/http lifts the deadline there), so it never cuts
	// a WebSocket, an SSE stream, a long poll or a slow handler. Default 30 s.
	ReadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that has waited this long
	// for its next request. Default 2 min.
	IdleTimeout time.Duration
	// MaxIdleConns is how many idle keep-alive connections (answered,
	// waiting for their next request) one listener holds. A connection
	// accepted past it is answered 503 with the reason and closed, unless
	// its request opens a hub connection. New connections are not counted,
	// so a burst of clients is not refused: ReadHeaderTimeout (10 s) bounds
	// those. Default 1024: with both listeners full, 10 000 WebSockets
	// still fit in a limit of 20 000 open files.
	MaxIdleConns int
}

func (l *HTTPLimits) setDefaults() {
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = 30 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 2 * time.Minute
	}
	if l.MaxIdleConns <= 0 {
		l.MaxIdleConns = 1024
	}
}

// servers runs one handler on any number of listeners and stops them all;
// the service and the function app each own one.
type servers struct {
	mu      sync.Mutex
	list    []*http.Server
	serving sync.WaitGroup
}

// start serves h on ln in the background until shutdown. name labels the
// log lines and the 503 answer; stream, when not nil, tells the requests
// that open hub connections, which the idle cap lets through.
func (v *servers) start(ln net.Listener, h http.Handler, log *slog.Logger, name string, limits HTTPLimits, stream func(*http.Request) bool) {
	limits.setDefaults()
	g := &gate{name: name, limits: limits, stream: stream, log: log, next: h, idle: map[net.Conn]struct{}{}}
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       limits.ReadTimeout,
		IdleTimeout:       limits.IdleTimeout,
		ConnState:         g.connState,
		ConnContext:       g.connContext,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	v.mu.Lock()
	v.list = append(v.list, srv)
	v.mu.Unlock()
	v.serving.Add(1)
	go func() {
		defer v.serving.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(name+" stopped serving", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// shutdown lets requests in flight finish for up to grace, closes what is
// left, and waits until every server has returned.
func (v *servers) shutdown(grace time.Duration) {
	v.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	for _, srv := range v.list {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
	v.list = nil
	cancel()
	v.mu.Unlock()
	v.serving.Wait()
}

// gate applies MaxIdleConns to one listener: it counts the idle
// connections (through the server's ConnState hook) and refuses the
// connections accepted past the limit.
type gate struct {
	name   string
	limits HTTPLimits
	stream func(*http.Request) bool
	log    *slog.Logger
	next   http.Handler

	mu       sync.Mutex
	idle     map[net.Conn]struct{}
	refused  int       // since the last log line
	lastWarn time.Time // rate-limits the log line about refusals
}

// overCap marks, in a connection's context, that it was accepted while
// the listener held MaxIdleConns idle connections.
type overCap struct{}

// connContext runs as a connection is accepted.
func (g *gate) connContext(ctx context.Context, _ net.Conn) context.Context {
	g.mu.Lock()
	over := len(g.idle) >= g.limits.MaxIdleConns
	g.mu.Unlock()
	if !over {
		return ctx
	}
	return context.WithValue(ctx, overCap{}, true)
}

func (g *gate) connState(c net.Conn, st http.ConnState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st == http.StateIdle {
		g.idle[c] = struct{}{}
	} else {
		delete(g.idle, c)
	}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if over, _ := r.Context().Value(overCap{}).(bool); over {
		if g.stream == nil || !g.stream(r) {
			g.refuse(w)
			return
		}
		if !isWebSocket(r) {
			// Served, but not kept once it is over.
			w.Header().Set("Connection", "close")
		}
	}
	g.next.ServeHTTP(w, r)
}

// refuse answers 503 with the reason, closes the connection and logs the
// refusals at most every 10 s.
func (g *gate) refuse(w http.ResponseWriter) {
	g.mu.Lock()
	g.refused++
	var refused int
	if now := time.Now(); now.Sub(g.lastWarn) >= 10*time.Second {
		refused, g.refused, g.lastWarn = g.refused, 0, now
	}
	g.mu.Unlock()
	if refused > 0 {
		g.log.Warn(g.name+" refused connections past its idle connection limit: a client may be opening a connection per request without reusing or closing it",
			"limit", g.limits.MaxIdleConns, "refused", refused, "idleTimeout", g.limits.IdleTimeout.String())
	}
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Retry-After", strconv.Itoa(int(g.limits.IdleTimeout.Seconds())))
	http.Error(w, fmt.Sprintf("The %s holds %d idle HTTP connections, its limit (MaxIdleConns): a client may be opening a connection per request without reusing or closing it. Idle connections close after %s; retry then, or reuse connections.",
		g.name, g.limits.MaxIdleConns, g.limits.IdleTimeout), http.StatusServiceUnavailable)
}
