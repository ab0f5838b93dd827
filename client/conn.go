package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by operations on a Conn after Close.
var ErrClosed = errors.New("client: connection closed")

// Conn is a hub connection that negotiates, connects, keeps itself alive
// and reconnects. Everything that happens on it arrives on Events.
//
// A Conn is used once: New, Start, read Events, Close. It is safe for
// concurrent use.
type Conn struct {
	wp   *wireProtocol // Options.Protocol
	opts Options
	log  *slog.Logger
	clk  clock

	events  chan Event
	ctx     context.Context // lives until Close; bounds negotiates and delays
	cancel  context.CancelFunc
	closing chan struct{} // closed by Close

	mu         sync.Mutex
	started    bool
	closed     bool
	terminated bool
	state      State
	sess       *session
	wg         sync.WaitGroup // every goroutine the Conn started, and Start itself

	inv invocations

	hmu       sync.RWMutex
	handlers  map[string][]func(Event)
	nhandlers atomic.Int32
}

// New returns a Conn for opts; it does not connect (see Start). It fails
// only when the options cannot work: no URL and no Access, or a hub
// protocol sigr does not speak.
func New(opts Options) (*Conn, error) {
	if opts.URL == "" && opts.Access == nil {
		return nil, errors.New("client: a URL or Options.Access is required")
	}
	wp, err := wireFor(opts.Protocol)
	if err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	if o.Access == nil {
		if _, err := o.appBaseURL(); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		wp:      wp,
		opts:    o,
		log:     o.Logger,
		clk:     realClock{},
		events:  make(chan Event, o.EventBuffer),
		ctx:     ctx,
		cancel:  cancel,
		closing: make(chan struct{}),
	}
	c.inv.pending = map[string]*pending{}
	return c, nil
}

// Events returns the channel every event of the connection arrives on, in
// order. It is closed after the connection reaches its final Disconnected
// state: after Close, after Start fails, or when reconnecting gives up.
// The consumer must keep reading: when the buffer is full, receiving waits.
func (c *Conn) Events() <-chan Event { return c.events }

// State returns the current state.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// ConnectionID returns the id of the current connection, "" when not
// connected.
func (c *Conn) ConnectionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return ""
	}
	return c.sess.connID
}

// Hub returns the hub name: the hub= of the service URL the connection
// was redirected to (Azure SignalR names it there, lower-cased), else,
// with Options.Access, Options.Hub. It is "" for a plain ASP.NET Core hub,
// which names no hub: its URL is the hub.
func (c *Conn) Hub() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil && c.sess.hub != "" {
		return c.sess.hub
	}
	if c.opts.Access != nil {
		return c.opts.Hub
	}
	return ""
}

// Transport returns the name of the transport in use, "" when not
// connected.
func (c *Conn) Transport() string {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil {
		return ""
	}
	// A resume dials the same transport again, so the name never changes.
	return s.tname
}

// track registers a goroutine (or Start) with the Conn so that Close can
// wait for it; it refuses once Close has begun.
func (c *Conn) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

// goTracked runs fn on a goroutine that Close waits for.
func (c *Conn) goTracked(fn func()) bool {
	if !c.track() {
		return false
	}
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
}

// emit delivers ev, waiting for room in the channel; it gives up (false)
// when Close has begun.
func (c *Conn) emit(ev Event) bool {
	// The common case, room in the buffer, without a two-way select.
	select {
	case c.events <- ev:
		return true
	default:
	}
	select {
	case c.events <- ev:
		return true
	case <-c.closing:
		return false
	}
}

// setState records a state change and emits it.
func (c *Conn) setState(ev Event) {
	ev.Kind = EventState
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	c.mu.Lock()
	c.state = ev.State
	c.mu.Unlock()
	c.log.Debug("state", "state", ev.State.String(), "attempt", ev.Attempt, "retryIn", ev.RetryIn, "err", ev.Err)
	c.emit(ev)
}

// terminate moves the Conn to its final Disconnected state once: it fails
// pending invocations, emits the last event and closes Events. Callers
// guarantee that no other goroutine can still emit.
func (c *Conn) terminate(err error, wait bool) {
	c.mu.Lock()
	if c.terminated {
		c.mu.Unlock()
		return
	}
	c.terminated = true
	c.state = Disconnected
	c.sess = nil
	c.mu.Unlock()
	c.inv.failAll(closedErr(err))
	ev := Event{Kind: EventState, Time: time.Now(), State: Disconnected, Err: err}
	if wait {
		c.emit(ev)
	} else {
		select {
		case c.events <- ev:
		default:
		}
	}
	close(c.events)
}

// Start connects: negotiate, transport, handshake. It returns once the
// connection is up, or with the error that stopped it. With
// Options.RetryFirstConnect it keeps trying, per the reconnect policy,
// through errors that retrying can fix. ctx bounds only this first
// connect; after it, the Conn reconnects on its own until Close.
//
// A Start that fails ends the Conn: Events is closed after a Disconnected
// event carrying the error.
func (c *Conn) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("client: Start called twice")
	}
	c.started = true
	c.mu.Unlock()
	if !c.track() {
		return ErrClosed
	}
	defer c.wg.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()

	began := time.Now()
	c.setState(Event{State: Connecting, Attempt: 1})
	for attempt := 1; ; attempt++ {
		s, err := c.connect(ctx)
		if err == nil {
			if !c.install(s) {
				s.end(nil, false)
				s.release()
				s.wait()
				return ErrClosed
			}
			c.setState(Event{State: Connected, Transport: s.tname, ConnectionID: s.connID, Hub: s.hub, AccessToken: s.target.token})
			s.release()
			c.goTracked(func() { c.supervise(s) })
			return nil
		}
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("client: connect: %w", ctx.Err())
			c.terminate(err, true)
			return err
		}
		var delay time.Duration
		ok := false
		if c.opts.RetryFirstConnect && !isPermanent(err) {
			delay, ok = c.opts.Reconnect.NextDelay(RetryContext{Attempt: attempt, Elapsed: time.Since(began), Err: err})
		}
		if !ok {
			c.terminate(err, true)
			return err
		}
		c.log.Info("connect failed, retrying", "attempt", attempt, "retryIn", delay, "err", err)
		c.setState(Event{State: Connecting, Attempt: attempt + 1, RetryIn: delay, Err: err})
		if !sleepCtx(ctx, delay) {
			if c.ctx.Err() != nil {
				return ErrClosed
			}
			err = fmt.Errorf("client: connect: %w (last error: %w)", ctx.Err(), err)
			c.terminate(err, true)
			return err
		}
	}
}

// install makes s the current session, unless Close has begun.
func (c *Conn) install(s *session) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.sess = s
	return true
}

// supervise watches the current session and reconnects when it drops,
// restarting at the function app's negotiate each time so that an expired
// service token is never reused.
func (c *Conn) supervise(s *session) {
	for {
		select {
		case <-s.done:
		case <-c.closing:
			return
		}
		s.wait()
		if c.isClosed() {
			return
		}
		err, reconnect := s.result()
		c.mu.Lock()
		c.sess = nil
		c.mu.Unlock()
		c.inv.failAll(closedErr(err))
		if !reconnect {
			c.terminate(err, true)
			return
		}
		c.log.Info("connection lost", "err", err)
		lost := time.Now()
		var next *session
		for attempt := 1; next == nil; attempt++ {
			delay, ok := c.opts.Reconnect.NextDelay(RetryContext{Attempt: attempt, Elapsed: time.Since(lost), Err: err})
			if !ok {
				if attempt > 1 {
					err = fmt.Errorf("reconnect retries have been exhausted after %d failed attempts and %s: %w", attempt-1, time.Since(lost).Round(time.Millisecond), err)
				}
				c.terminate(err, true)
				return
			}
			c.setState(Event{State: Reconnecting, Attempt: attempt, RetryIn: delay, Err: err})
			if !sleepCtx(c.ctx, delay) {
				return
			}
			ns, cerr := c.connect(c.ctx)
			if cerr != nil {
				if c.ctx.Err() != nil {
					return
				}
				err = cerr
				c.log.Info("reconnect attempt failed", "attempt", attempt, "err", cerr)
				continue
			}
			if !c.install(ns) {
				ns.end(nil, false)
				ns.release()
				ns.wait()
				return
			}
			next = ns
		}
		s = next
		c.setState(Event{State: Connected, Transport: s.tname, ConnectionID: s.connID, Hub: s.hub, AccessToken: s.target.token})
		s.release()
	}
}

// closedErr is what pending invocations fail with when the connection
// ends with err: err itself, or the official clients' text for an end
// without an error.
func closedErr(err error) error {
	if err == nil {
		return errors.New("Invocation canceled due to the underlying connection being closed.")
	}
	return err
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close stops the connection: it sends a Close message ({"type":7}) when
// connected, closes the transport (a WebSocket waits at most 250 ms for
// the server to answer its close frame), cancels any reconnect, and
// returns once every goroutine the Conn started has ended. Events is
// closed after a last Disconnected event (dropped if the consumer is not
// reading). Close is idempotent.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.wg.Wait()
		return nil
	}
	c.closed = true
	s := c.sess
	st := c.state
	c.mu.Unlock()

	if s != nil {
		if st == Connected {
			ctx, cancel := context.WithTimeout(context.Background(), closeWriteTimeout)
			_ = s.tryWrite(ctx, c.wp.close)
			cancel()
		}
		// Marking the end also releases a reader waiting for queue room.
		s.markEnd(nil, false)
		if g, ok := s.transport().(interface{ CloseGracefully() error }); ok && st == Connected {
			_ = g.CloseGracefully()
		}
	}
	c.cancel()
	close(c.closing)
	if s != nil {
		s.transport().Close()
	}
	c.wg.Wait()
	c.terminate(nil, false)
	return nil
}

// closeWriteTimeout bounds the best-effort Close message on Close.
const closeWriteTimeout = time.Second

// On registers fn for invocations of target, matched without regard to
// case as the official TS client does. fn runs on the receive goroutine,
// so it must return quickly; it gets the same Event the channel carries.
// On is a convenience: every invocation also arrives on Events.
func (c *Conn) On(target string, fn func(Event)) {
	key := strings.ToLower(target)
	c.hmu.Lock()
	if c.handlers == nil {
		c.handlers = map[string][]func(Event){}
	}
	c.handlers[key] = append(c.handlers[key], fn)
	c.hmu.Unlock()
	c.nhandlers.Add(1)
}

// callHandlers runs the On handlers for ev's target.
func (c *Conn) callHandlers(ev *Event) {
	if c.nhandlers.Load() == 0 {
		return
	}
	c.hmu.RLock()
	fns := c.handlers[strings.ToLower(ev.Message.Target)]
	c.hmu.RUnlock()
	for _, fn := range fns {
		fn(*ev)
	}
}

// sleepCtx waits d, or until ctx ends (false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
