package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// writeTimeout bounds one transport write. It is not the caller's context:
// a cancelled coder/websocket write closes the connection, so a caller
// giving up must not take the connection down with it.
const writeTimeout = 10 * time.Second

// handshakeRequest is the JSON protocol's handshake, version 1: version 2
// is for stateful reconnect, which older servers reject.
var handshakeRequest = protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: 1})

var pingRecord = []byte("{\"type\":6}\x1e")

// pingExact is the usual wire form of a received Ping; matching it first
// lets the receive path skip pings without parsing or allocating.
var pingExact = []byte(`{"type":6}`)

// session is one transport connection after negotiate: handshake, receive
// loop and keep-alive. A reconnect makes a new session.
type session struct {
	c      *Conn
	t      transport
	connID string
	hub    string    // the hub= of the endpoint URL, when it names one
	epoch  time.Time // monotonic base for lastRecv and lastSend

	lastRecv atomic.Int64 // ns since epoch
	lastSend atomic.Int64

	hsDone chan error // the handshake outcome, buffered
	hsRaw  []byte     // the handshake response, set before hsDone gets nil
	hsTime time.Time
	q      recQueue // records from the reader to the dispatcher
	// stopped is closed when the session ends, so that a reader waiting
	// for room in the queue gives up.
	stopped chan struct{}
	// ready is closed once the Connected state has been emitted (or the
	// connect failed), so that no message overtakes the state change.
	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{} // closed when the dispatcher has exited
	wg        sync.WaitGroup

	endMu     sync.Mutex
	ended     bool
	endErr    error
	reconnect bool

	carry []byte // a record split across payloads
	slab  []byte // records are copied here; see ownCopy
}

// slabSize is the chunk records are copied into. One allocation serves
// dozens of typical records, which halves the receive path's allocations;
// a consumer that keeps one event keeps at most this much alive.
const slabSize = 8 << 10

// ownCopy copies rec into memory that nothing will write again, so an
// Event can carry it without the consumer copying. Small records share a
// slab; each copy is capped so that appending to it cannot touch a
// neighbour.
func (s *session) ownCopy(rec []byte) []byte {
	n := len(rec)
	if n > slabSize/4 {
		return bytes.Clone(rec)
	}
	if cap(s.slab)-len(s.slab) < n {
		s.slab = make([]byte, 0, slabSize)
	}
	start := len(s.slab)
	s.slab = append(s.slab, rec...)
	return s.slab[start : start+n : start+n]
}

// release lets the reader deliver messages.
func (s *session) release() { s.readyOnce.Do(func() { close(s.ready) }) }

func (s *session) since(t time.Time) int64 { return int64(t.Sub(s.epoch)) }

// end records why the session ends (first caller wins) and closes the
// transport, which unblocks the reader.
func (s *session) end(err error, reconnect bool) {
	s.markEnd(err, reconnect)
	s.t.Close()
}

// markEnd records why the session ends (first caller wins) without
// closing the transport, for a Close that still has something to send.
func (s *session) markEnd(err error, reconnect bool) {
	s.endMu.Lock()
	defer s.endMu.Unlock()
	if s.ended {
		return
	}
	s.ended, s.endErr, s.reconnect = true, err, reconnect
	close(s.stopped)
}

func (s *session) result() (error, bool) {
	s.endMu.Lock()
	defer s.endMu.Unlock()
	return s.endErr, s.reconnect
}

func (s *session) isEnded() bool {
	s.endMu.Lock()
	defer s.endMu.Unlock()
	return s.ended
}

// wait returns once the session's goroutines have ended.
func (s *session) wait() { s.wg.Wait() }

// goSession runs fn as a session goroutine, tracked by both the session
// and the Conn.
func (s *session) goSession(fn func()) bool {
	if !s.c.track() {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.c.wg.Done()
		defer s.wg.Done()
		fn()
	}()
	return true
}

// write sends p, bounded by writeTimeout rather than ctx (see writeTimeout).
func (s *session) write(ctx context.Context, p []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := s.t.Write(wctx, p); err != nil {
		return err
	}
	s.lastSend.Store(s.since(time.Now()))
	return nil
}

// connect negotiates, opens a transport and completes the handshake.
func (c *Conn) connect(ctx context.Context) (*session, error) {
	t, n, err := c.openTransport(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{
		c:       c,
		t:       t,
		connID:  n.resp.ConnectionID,
		hub:     hubOf(n.base),
		epoch:   time.Now(),
		hsDone:  make(chan error, 1),
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s.q.init()
	if !s.goSession(s.readLoop) {
		t.Close()
		return nil, ErrClosed
	}
	fail := func(err error) (*session, error) {
		s.end(err, false)
		s.release()
		s.wait()
		return nil, err
	}
	if err := s.write(ctx, handshakeRequest); err != nil {
		return fail(&Error{Op: "handshake", Msg: "sending the handshake failed", Err: err})
	}
	timer := time.NewTimer(c.opts.HandshakeTimeout)
	defer timer.Stop()
	select {
	case err := <-s.hsDone:
		if err != nil {
			return fail(err)
		}
		c.emit(Event{Kind: EventHandshake, Time: s.hsTime, Raw: s.hsRaw})
	case <-timer.C:
		return fail(&Error{Op: "handshake", Msg: fmt.Sprintf("no handshake response within %s (Options.HandshakeTimeout); the server may not speak SignalR on this URL", c.opts.HandshakeTimeout)})
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	// The official clients ping right after the handshake to tell the
	// server they intend to keep the connection alive, unless the transport
	// keeps it alive by itself. A failure here means the transport is
	// already gone; the reader has the real cause and the session reports
	// it once it is installed.
	keepAlive := !inherentKeepAlive(t)
	if keepAlive {
		if err := s.write(ctx, pingRecord); err != nil {
			c.log.Debug("first ping not sent", "err", err)
		}
	}
	if !s.goSession(s.dispatch) || (keepAlive && !s.goSession(s.keepAlive)) {
		return fail(ErrClosed)
	}
	return s, nil
}

// readLoop is the session's only reader: the handshake response first,
// then payloads until the transport ends. It never sets a deadline on
// Read (a cancelled coder/websocket Read closes the connection); the
// keep-alive goroutine enforces the server timeout by closing the
// transport instead.
//
// It splits payloads into records and copies each out of the read buffer
// into the queue; parsing and delivery happen on the dispatcher, so that
// on a busy connection reading and decoding run in parallel.
func (s *session) readLoop() {
	var endErr error
	defer func() { s.q.close(endErr) }()
	if !s.readHandshake() {
		endErr = errHandshakeFailed
		return
	}
	for {
		p, err := s.t.Read()
		if err != nil {
			endErr = err
			return
		}
		// One monotonic clock read per payload: the wall time is the
		// session's start plus the elapsed monotonic time, which costs half
		// of time.Now and cannot jump with the system clock mid-session.
		d := time.Since(s.epoch)
		s.lastRecv.Store(int64(d))
		if endErr = s.feed(p, s.epoch.Add(d)); endErr != nil {
			return
		}
	}
}

var errHandshakeFailed = errors.New("handshake failed")

// dispatch parses and delivers queued records, in order, once the
// Connected state has been emitted. When the reader has stopped and the
// queue is drained it ends the session with the reader's error, so a
// Close message that arrived just before the socket closed is what the
// session reports.
func (s *session) dispatch() {
	defer close(s.done)
	select {
	case <-s.ready:
	case <-s.c.closing:
		return
	}
	var batch []queued
	for {
		var closed bool
		var readErr error
		batch, closed, readErr = s.q.swap(batch)
		for i := range batch {
			if !s.record(batch[i].rec, batch[i].t) {
				return
			}
			batch[i] = queued{}
		}
		if len(batch) > 0 {
			continue
		}
		if closed {
			s.end(readErr, true)
			return
		}
		select {
		case <-s.q.notEmpty:
		case <-s.c.closing:
			return
		}
	}
}

// readHandshake reads until the handshake response record is complete and
// reports the outcome on hsDone. Records after it in the same payload go
// to the message path.
func (s *session) readHandshake() bool {
	for {
		p, err := s.t.Read()
		if err != nil {
			if s.isEnded() {
				s.hsDone <- err
				return false
			}
			err = &Error{Op: "handshake", Msg: "The server disconnected before sending a handshake response", Err: err}
			s.end(err, false)
			s.hsDone <- err
			return false
		}
		now := time.Now()
		s.lastRecv.Store(s.since(now))
		i := bytes.IndexByte(p, protocol.RecordSeparator)
		if i < 0 {
			if len(s.carry)+len(p) > s.maxRecord() {
				err := &Error{Op: "handshake", Msg: "the handshake response exceeds the read limit"}
				s.end(err, false)
				s.hsDone <- err
				return false
			}
			s.carry = append(s.carry, p...)
			continue
		}
		rec := append(s.carry, p[:i]...)
		raw := bytes.Clone(rec)
		s.carry = s.carry[:0]
		resp, perr := protocol.ParseHandshakeResponse(raw)
		if perr != nil {
			err := &Error{Op: "handshake", Msg: "Error parsing handshake response", Permanent: true, Err: perr}
			s.end(err, false)
			s.hsDone <- err
			return false
		}
		if resp.HasError {
			err := &Error{Op: "handshake", Msg: "Server returned handshake error: " + sanitizeLine(resp.Error), Permanent: true}
			s.end(err, false)
			s.hsDone <- err
			return false
		}
		// The reader never waits on the consumer before the handshake is
		// settled; connect emits the handshake event.
		s.hsRaw, s.hsTime = raw, now
		s.hsDone <- nil
		if rest := p[i+1:]; len(rest) > 0 {
			return s.feed(rest, now) == nil
		}
		return true
	}
}

func (s *session) maxRecord() int {
	if s.c.opts.ReadLimit < 0 {
		return int(^uint(0) >> 1)
	}
	return int(s.c.opts.ReadLimit)
}

// feed splits a payload into records and queues a copy of each. A record
// split across payloads is kept in carry until its separator arrives. A
// non-nil result ends reading.
func (s *session) feed(p []byte, now time.Time) error {
	for len(p) > 0 {
		i := bytes.IndexByte(p, protocol.RecordSeparator)
		if i < 0 {
			if len(s.carry)+len(p) > s.maxRecord() {
				return fmt.Errorf("a record exceeded the read limit of %d bytes without its 0x1E separator", s.maxRecord())
			}
			s.carry = append(s.carry, p...)
			return nil
		}
		rec := p[:i]
		if len(s.carry) > 0 {
			s.carry = append(s.carry, rec...)
			rec = s.carry
		}
		if s.c.opts.Pings || !bytes.Equal(rec, pingExact) {
			if !s.q.push(queued{rec: s.ownCopy(rec), t: now}, s.stopped) {
				return errors.New("the session ended")
			}
		}
		s.carry = s.carry[:0]
		p = p[i+1:]
	}
	return nil
}

// record parses and delivers one record, already copied out of the read
// buffer by the reader; the decoded Message aliases that copy.
func (s *session) record(own []byte, now time.Time) bool {
	c := s.c
	m, err := protocol.ParseMessage(own, protocol.Lenient)
	if err != nil {
		c.log.Warn("unreadable record", "err", err)
		return c.emit(Event{Kind: EventError, Time: now, Raw: own, Err: err})
	}
	switch m.Type {
	case protocol.TypePing:
		if !c.opts.Pings {
			return true
		}
	case protocol.TypeCompletion, protocol.TypeStreamItem:
		if m.InvocationID != "" && !c.inv.deliver(&m, c.closing) {
			return false
		}
	}
	ev := Event{Kind: EventMessage, Time: now, Message: m, Raw: own}
	if m.Type == protocol.TypeInvocation {
		c.callHandlers(&ev)
	}
	if !c.emit(ev) {
		return false
	}
	switch m.Type {
	case protocol.TypeInvocation:
		if m.InvocationID != "" {
			// Nothing in a monitor answers server-to-client invocations; the
			// official clients reply with this error so the caller is not
			// left waiting.
			reply := protocol.NewCompletion(m.InvocationID, nil, "Client didn't provide a result.")
			if err := s.write(c.ctx, protocol.AppendMessage(nil, &reply)); err != nil {
				c.log.Warn("could not answer a client-result invocation", "target", m.Target, "err", err)
			}
		}
	case protocol.TypeClose:
		var err error
		if m.Error != "" {
			err = errors.New("Server returned an error on close: " + sanitizeLine(m.Error))
		} else if m.AllowReconnect {
			err = errors.New("the server closed the connection and allows reconnecting")
		}
		s.end(err, m.AllowReconnect)
		return false
	}
	return true
}

// keepAlive sends a Ping whenever nothing was sent for KeepAlive, and ends
// the session when nothing was received for ServerTimeout. It sleeps until
// the nearer of the two deadlines, so an idle connection costs no wakeups
// in between.
func (s *session) keepAlive() {
	o := &s.c.opts
	now := s.since(time.Now())
	s.lastRecv.Store(now)
	s.lastSend.Store(now)
	timer := time.NewTimer(o.KeepAlive)
	defer timer.Stop()
	for {
		now := s.since(time.Now())
		deadline := s.lastRecv.Load() + int64(o.ServerTimeout)
		if now >= deadline {
			s.c.log.Info("server timeout", "timeout", o.ServerTimeout)
			s.end(fmt.Errorf("Server timeout (%s) elapsed without receiving a message from the server.", o.ServerTimeout), true)
			return
		}
		nextPing := s.lastSend.Load() + int64(o.KeepAlive)
		if now >= nextPing {
			if err := s.write(s.c.ctx, pingRecord); err != nil {
				s.end(fmt.Errorf("sending a keep-alive ping failed: %w", err), true)
				return
			}
			continue
		}
		wake := min(deadline, nextPing) - now
		timer.Reset(time.Duration(wake))
		select {
		case <-timer.C:
		case <-s.done:
			return
		}
	}
}
