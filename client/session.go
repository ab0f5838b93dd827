package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/sigr-dev/sigr/protocol"
)

// writeTimeout bounds one transport write. It is not the caller's context:
// a cancelled coder/websocket write closes the connection, so a caller
// giving up must not take the connection down with it.
const writeTimeout = 10 * time.Second

// session is one transport connection after negotiate: handshake, receive
// loop and keep-alive. A reconnect makes a new session.
type session struct {
	c *Conn
	// t is the transport. A stateful-reconnect resume replaces it, under
	// tmu held for writing, together with the replay that must be the
	// first thing written on the new transport; every write holds tmu for
	// reading.
	tmu sync.RWMutex
	t   transport
	// cur is t for those that must not wait for tmu (see transport).
	cur    atomic.Pointer[transport]
	connID string

	// Stateful reconnect: buf is nil unless negotiate and the handshake
	// switched it on. tname and target say what a resume dials.
	buf     *msgBuffer
	tname   string
	target  dialTarget
	sctx    context.Context // cancelled when the session ends; bounds a resume
	scancel context.CancelFunc
	resumes resumeTracker
	hub     string    // the hub= of the endpoint URL, when it names one
	epoch   time.Time // monotonic base for lastRecv and lastSend

	lastSend atomic.Int64 // ns since epoch
	// quietUntil holds the keep-alive's pings and the acker's Acks back
	// after a suspension (see wokeLate); ns since epoch.
	quietUntil atomic.Int64

	hsDone chan error // the handshake outcome, buffered
	hsRaw  []byte     // the handshake response, set before hsDone gets nil
	hsTime time.Time
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

	// What the reader and the dispatcher write for every message lies on
	// cache lines of its own: a field one of them writes beside one the
	// other reads makes the line travel between their cores each time.
	_ cacheLinePad

	q recQueue // records from the reader to the dispatcher
	_ cacheLinePad

	// The reader's.
	lastRecv atomic.Int64 // ns since epoch
	framer   framer       // keeps a record split across payloads
	recs     [][]byte     // scratch for the records of one payload
	ring     readRing     // where the reader reads WebSocket messages
	slab     []byte       // the reader copies records here; see ownCopy
	_        cacheLinePad

	// The dispatcher's.
	ringDone atomic.Uint64 // ring.done
	dslab    []byte        // it copies the records it takes out of ring here
	// replies are answers to client-result invocations that wait for room
	// in the stateful buffer (see reply).
	replies [][]byte
	// mp decodes MessagePack records.
	mp protocol.MessagePackDecoder
	_  cacheLinePad
}

// cacheLinePad keeps the fields around it on different cache lines (two
// lines: a core may fetch lines in pairs).
type cacheLinePad struct{ _ [128]byte }

// release lets the reader deliver messages.
func (s *session) release() { s.readyOnce.Do(func() { close(s.ready) }) }

// elapsed is the session's age on the Conn's clock, in ns: what lastRecv
// and lastSend hold.
func (s *session) elapsed() int64 { return int64(s.c.clk.since(s.epoch)) }

// transport returns the transport in use without taking tmu: a resume
// holds tmu for writing while it replays, a write in progress delays
// that, and a waiting writer holds up every new reader, so Close, end and
// the Conn's accessors would wait up to writeTimeout behind them.
func (s *session) transport() transport { return *s.cur.Load() }

// setTransport makes t the transport in use. The caller holds tmu for
// writing, or is connect, before any other goroutine runs.
func (s *session) setTransport(t transport) {
	s.t = t
	s.cur.Store(&t)
}

// end records why the session ends (first caller wins) and closes the
// transport, which unblocks the reader.
func (s *session) end(err error, reconnect bool) {
	s.markEnd(err, reconnect)
	s.transport().Close()
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
	if s.scancel != nil {
		s.scancel()
	}
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

// tryWrite writes an untracked record unless the transport is being
// replaced: a resume holds the transport lock while it replays, for up to
// writeTimeout, and a best-effort Close message on Close must not wait
// that long. It reports whether the record was written.
func (s *session) tryWrite(ctx context.Context, p []byte) bool {
	if !s.tmu.TryRLock() {
		return false
	}
	defer s.tmu.RUnlock()
	return s.t.Write(ctx, p) == nil
}

// write sends p, bounded by writeTimeout rather than ctx (see writeTimeout).
//
// On a stateful connection a trackable record (types 1 to 5) is first kept
// until the server acknowledges it, waiting while the buffer is full. A
// failed write of such a record is then not an error: the transport
// dropped, and the resume replays the record.
func (s *session) write(ctx context.Context, p []byte) error {
	return s.writeRecord(ctx, p, true)
}

// writeRecord is write; with wait false, a trackable record that finds
// the stateful buffer full is not sent, and it returns errBufferFull
// rather than wait for an Ack.
func (s *session) writeRecord(ctx context.Context, p []byte, wait bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tracked := s.buf != nil && s.c.wp.trackable(p)
	if tracked {
		if err := s.lockAndKeep(ctx, p, wait); err != nil {
			return err
		}
	} else {
		s.tmu.RLock()
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	err := s.t.Write(wctx, p)
	s.tmu.RUnlock()
	if err != nil {
		if tracked && !s.isEnded() {
			s.c.log.Debug("send failed on a dropped transport; it is replayed on resume", "err", err)
			return nil
		}
		return err
	}
	s.lastSend.Store(s.elapsed())
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
		tname:   n.transport,
		target:  n.target,
		connID:  n.resp.ConnectionID,
		hub:     n.hub,
		epoch:   time.Now(),
		hsDone:  make(chan error, 1),
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s.setTransport(t)
	s.framer = newFramer(c.wp, s.maxRecord())
	s.q.init()
	s.ring.done = &s.ringDone
	s.sctx, s.scancel = context.WithCancel(c.ctx)
	// Version 1, as the official clients send: version 2 asks for
	// stateful reconnect, which older servers reject.
	hs := c.wp.handshake(1)
	if n.resp.UseStatefulReconnect && n.transport == protocol.TransportWebSockets {
		// The official clients use stateful reconnect on WebSockets only.
		s.buf = newMsgBuffer(c.opts.StatefulBufferSize)
		s.buf.setWire(c.wp)
		hs = c.wp.handshake(2)
	}
	if !s.goSession(s.readLoop) {
		s.scancel()
		t.Close()
		return nil, ErrClosed
	}
	fail := func(err error) (*session, error) {
		s.end(err, false)
		s.release()
		s.wait()
		return nil, err
	}
	if err := s.write(ctx, hs); err != nil {
		return fail(&Error{Op: "handshake", Msg: "sending the handshake failed", Err: err})
	}
	timer := time.NewTimer(c.opts.HandshakeTimeout)
	defer timer.Stop()
	select {
	case err := <-s.hsDone:
		if err != nil {
			return fail(err)
		}
		c.emit(Event{Kind: EventHandshake, Time: s.hsTime, Raw: s.hsRaw, Hub: s.hub})
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
		if err := s.write(ctx, c.wp.ping); err != nil {
			c.log.Debug("first ping not sent", "err", err)
		}
	}
	if !s.goSession(s.dispatch) || (keepAlive && !s.goSession(s.keepAlive)) {
		return fail(ErrClosed)
	}
	if s.buf != nil && !s.goSession(s.acker) {
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
	t := s.transport()
	rr, ring := t.(ringReader)
	for {
		var p []byte
		var err error
		// Where the payload's records are: 0 in memory of their own, else
		// the ring block the dispatcher copies them out of.
		var block uint64
		if ring {
			var in bool
			if p, in, err = rr.readInto(s.ring.dst()); in {
				block = s.ring.commit(len(p))
			}
		} else {
			p, err = t.Read()
		}
		if err != nil {
			nt, rerr := s.resume(err)
			if nt != nil {
				t = nt
				rr, ring = t.(ringReader)
				continue
			}
			endErr = rerr
			return
		}
		// The wall time is the session's start plus the elapsed monotonic
		// time, which costs half of time.Now and cannot jump with the
		// system clock mid-session; a WebSocket reads it once per read
		// from the socket rather than once per message.
		var d time.Duration
		if ring {
			d = rr.received(s.epoch)
		} else {
			d = s.c.clk.since(s.epoch)
		}
		s.lastRecv.Store(int64(d))
		if endErr = s.feed(p, s.epoch.Add(d), !ring, block); endErr != nil {
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
		var block uint64
		for i := range batch {
			if ev := batch[i].state; ev != nil {
				s.c.setState(*ev)
			} else if batch[i].settled != nil {
				close(batch[i].settled)
			} else {
				rec := batch[i].rec
				if batch[i].block != 0 {
					block = batch[i].block
					rec = ownCopy(&s.dslab, rec)
				}
				if !s.record(rec, batch[i].t) {
					return
				}
			}
			batch[i] = queued{}
		}
		if block != 0 {
			s.ringDone.Store(block)
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
		p, err := s.transport().Read()
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
		s.lastRecv.Store(s.elapsed())
		var ferr error
		s.recs, ferr = s.framer.splitHandshake(s.recs[:0], p)
		if ferr != nil {
			err := &Error{Op: "handshake", Msg: "the handshake response exceeds the read limit", Err: ferr}
			s.end(err, false)
			s.hsDone <- err
			return false
		}
		if len(s.recs) == 0 {
			continue
		}
		raw := bytes.Clone(s.recs[0])
		resp, perr := protocol.ParseHandshakeResponse(raw)
		if perr != nil {
			err := &Error{Op: "handshake", Msg: "Error parsing handshake response", Permanent: true, Err: perr}
			s.end(err, false)
			s.hsDone <- err
			return false
		}
		if resp.HasError {
			err := &Error{Op: "handshake", Msg: "Server returned handshake error: " + textsafe.Line(resp.Error), Permanent: true}
			s.end(err, false)
			s.hsDone <- err
			return false
		}
		// The reader never waits on the consumer before the handshake is
		// settled; connect emits the handshake event.
		s.hsRaw, s.hsTime = raw, now
		s.hsDone <- nil
		return s.queue(s.recs[1:], now, true, 0) == nil
	}
}

func (s *session) maxRecord() int {
	if s.c.opts.ReadLimit < 0 {
		return int(^uint(0) >> 1)
	}
	return int(s.c.opts.ReadLimit)
}

// feed splits a payload into records and queues them (see queue). A
// record split across payloads is kept by the framer until its separator
// arrives. A non-nil result ends reading.
func (s *session) feed(p []byte, now time.Time, reused bool, block uint64) error {
	var ferr error
	s.recs, ferr = s.framer.SplitOwned(s.recs[:0], p)
	if err := s.queue(s.recs, now, reused, block); err != nil {
		return err
	}
	if ferr != nil {
		if s.c.wp.binary {
			var tl *protocol.RecordTooLargeError
			if errors.As(ferr, &tl) {
				return readLimitError(fmt.Sprintf("a MessagePack record of %d bytes exceeded the read limit of %d bytes", tl.Length, tl.Limit), nil)
			}
			return fmt.Errorf("the server's MessagePack framing broke: %w", ferr)
		}
		return fmt.Errorf("a record exceeded the read limit of %d bytes without its 0x1E separator", s.maxRecord())
	}
	return nil
}

// queue hands the records of a payload to the dispatcher. When reused,
// they alias a read buffer the transport's next Read overwrites, and are
// copied first; when block is not 0 they lie in that ring block, and the
// dispatcher copies them; else they are in memory of their own.
func (s *session) queue(recs [][]byte, now time.Time, reused bool, block uint64) error {
	for _, rec := range recs {
		if !s.c.opts.Pings && s.c.wp.isPing(rec) {
			continue
		}
		if reused {
			rec = ownCopy(&s.slab, rec)
		}
		if !s.q.push(queued{rec: rec, t: now, block: block}, s.stopped) {
			return errors.New("the session ended")
		}
	}
	return nil
}

// record parses and delivers one record, already copied out of the read
// buffer by the reader; the decoded Message aliases that copy.
func (s *session) record(own []byte, now time.Time) bool {
	c := s.c
	var m protocol.Message
	var err error
	if c.wp.binary {
		m, err = s.mp.Parse(own)
	} else {
		m, err = protocol.ParseMessage(own, protocol.Lenient)
	}
	if err != nil {
		c.log.Warn("unreadable record", "err", err)
		return c.emit(Event{Kind: EventError, Time: now, Raw: own, Err: err})
	}
	if s.buf != nil {
		deliver, errText := s.buf.incoming(&m)
		if errText != "" {
			s.end(errors.New("stateful reconnect: "+errText), true)
			return false
		}
		if !deliver {
			return true // before the Sequence of a resume, or a replayed duplicate
		}
		if m.Type == protocol.TypeAck {
			s.flushReplies() // the Ack may have made room for them
		}
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
			s.reply(&m)
		}
	case protocol.TypeClose:
		var err error
		if m.Error != "" {
			err = errors.New("Server returned an error on close: " + textsafe.Line(m.Error))
		} else if m.AllowReconnect {
			err = errors.New("the server closed the connection and allows reconnecting")
		}
		s.end(err, m.AllowReconnect)
		return false
	}
	return true
}
