package emulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// Transport names as negotiate lists them.
const (
	transportWS  = protocol.TransportWebSockets
	transportSSE = protocol.TransportServerSentEvents
	transportLP  = protocol.TransportLongPolling
)

// conn is one client connection, from negotiate to disconnect.
//
// Outgoing messages go through a bounded queue drained by exactly one
// writer (the WebSocket writer goroutine, the SSE stream handler, or the
// long poll in progress), so a slow client never blocks a sender: when its
// queue is full it is closed instead. A fan-out writes straight to an idle
// WebSocket instead, with a write that never waits (sendDirect).
type conn struct {
	// What a fan-out reads of every recipient comes first, on one cache
	// line: at one broadcast a second every connection is cold again by
	// the next one, and each line it touches is a miss.
	out  *outQueue              // encoded records, shared between connections
	wire atomic.Pointer[wsWire] // the WebSocket serving the connection now, for direct writes
	// sf is the stateful reconnect state, set by a version 2 handshake on
	// a WebSocket and never changed after.
	sf atomic.Pointer[stateful]
	// lastDirect is the monoNow of the latest direct write, which the
	// writer's ping timer counts as a write.
	lastDirect atomic.Int64
	backlog    atomic.Bool // something is queued or held by the writer (outQueue.backlog)
	handshaken atomic.Bool
	// msgpack is set by a MessagePack handshake before the connection is
	// registered, and never changes after.
	msgpack atomic.Bool
	// closed is set as done closes, for the checks on every delivery.
	closed atomic.Bool

	s       *Service
	id      string // public connection id
	token   string // connection token for id=
	hubKey  string // lower-cased hub name
	hubName string // as the client asked for it
	user    string
	created time.Time
	// bearer is the hash of the access token that negotiated an anonymous
	// connection without negotiateVersion, whose token is its public id:
	// every later request must carry the same access token. Zero otherwise.
	bearer [32]byte

	// Set by the handshake: proto before register, connectedAt by
	// register under s.mu. Read under s.mu.
	proto       string
	connectedAt time.Time

	// Guarded by s.mu.
	transport  string
	registered bool
	groups     map[string]struct{}
	polling    bool
	lastPoll   time.Time
	finished   bool

	done chan struct{} // closed when closing starts
	// streaming is set once a stream writer waits on out.ready, which
	// close then signals (a long poll waits on done instead).
	streaming atomic.Bool

	closeOnce   sync.Once
	closeFrame  []byte // Close message to write last, or nil
	closeReason string
	hard        atomic.Bool // drop queued data and abort writes

	ctx    context.Context // cancelled on a hard close: aborts transport I/O
	cancel context.CancelFunc

	lastRecv atomic.Int64 // unix nanos of the last inbound record

	inMu    sync.Mutex // serialises inbound data (one POST at a time)
	framer  protocol.Framer
	bframer *protocol.BinaryFramer      // MessagePack records after the handshake; nil for JSON
	mpdec   protocol.MessagePackDecoder // under inMu
	warned  bool                        // logged the dropped-invocation warning

	// For the upstream: the token's claims (set before the connection is
	// shared, never changed), the connect query without access_token
	// (guarded by s.mu), and the calls waiting for the upstream.
	claims map[string]any
	query  string
	up     upstreamQueue

	// Long polling: the poll in progress, which a newer poll replaces.
	pollMu     sync.Mutex
	pollCancel chan struct{}
	pollDone   chan struct{}
	delivered  bool // the final data and Close went out on a poll

	timerMu    sync.Mutex
	hsTimer    *time.Timer
	idleTimer  *time.Timer
	graceTimer *time.Timer // a dropped stateful socket's wait for a resume

	// statefulOffered is set by negotiate before any handler sees the
	// connection.
	statefulOffered bool

	// Guarded by s.mu: the WebSocket handler serving the connection now
	// (nil while a stateful connection waits for a resume), and whether it
	// waits.
	att      *attachment
	detached bool
	resumes  int
}

// attachment is one WebSocket serving a connection. A stateful connection
// outlives its sockets: a newer socket cancels the older one's ctx and
// waits on done before it takes over.
type attachment struct {
	ctx context.Context // derived from conn.ctx; cancelled to give way
	// cancel's cause, when not nil, says why the socket is dropped (a
	// failed write) for the log line of the drop.
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the handler no longer touches the conn
}

func newConn(s *Service, hubName, user string, v0 bool) *conn {
	c := &conn{
		s:       s,
		id:      randomID(),
		hubKey:  hubKey(hubName),
		hubName: hubName,
		user:    user,
		created: s.opts.Now(),
		groups:  map[string]struct{}{},
		out:     newOutQueue(s.opts.QueueSize),
		done:    make(chan struct{}),
	}
	c.out.backlog = &c.backlog
	c.token = c.id
	if !v0 {
		c.token = randomID()
	}
	c.framer.MaxRecordSize = s.opts.MaxMessageSize
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// closing reports whether close has started.
func (c *conn) closing() bool { return c.closed.Load() }

// enqueue queues one encoded record without blocking. A full queue closes
// the connection: a client that does not read must not hold up others.
func (c *conn) enqueue(frame []byte) bool {
	if c.closing() {
		return false
	}
	if c.out.push(frame) {
		return true
	}
	c.s.log.Warn("closing a connection whose outgoing queue is full",
		"hub", c.hubName, "connectionId", c.id, "queue", c.out.limit)
	if sf := c.sf.Load(); sf != nil {
		// The writer is waiting for an Ack, not stuck in a write, so the
		// Close message can still go out after what is queued.
		m := protocol.NewClose("Connection closed with an error. The client has not acknowledged "+strconv.Itoa(sf.limit)+
			" bytes of messages (the stateful reconnect buffer) and its outgoing queue of "+strconv.Itoa(c.out.limit)+" messages is full.", false)
		c.close(&m, false, "stateful buffer and outgoing queue full")
		return false
	}
	m := protocol.NewClose("Connection closed with an error. The client is not reading: its outgoing queue of "+strconv.Itoa(c.out.limit)+" messages is full.", false)
	c.close(&m, true, "outgoing queue full")
	return false
}

// close starts closing the connection once. msg, when not nil and the
// handshake is done, is written after the queued data; hard drops the
// queued data and aborts any write in progress. It never blocks and must
// not be called with s.mu held.
func (c *conn) close(msg *protocol.Message, hard bool, reason string) {
	c.closeOnce.Do(func() {
		if msg != nil && c.handshaken.Load() {
			c.closeFrame = c.encode(msg)
		}
		c.closeReason = reason
		if hard {
			c.hard.Store(true)
			c.cancel()
		}
		c.closed.Store(true)
		close(c.done)
		if c.streaming.Load() {
			c.out.signal()
		}
		c.stopTimers()
		if sf := c.sf.Load(); sf != nil {
			sf.stop()
		}
		c.s.unregister(c)
		// A stateful connection waiting for a resume has no handler to
		// finish it.
		c.s.mu.Lock()
		detached := c.detached
		c.s.mu.Unlock()
		if detached {
			c.s.finish(c)
		}
	})
}

// startHandshakeTimer closes a connection that sends no handshake in time.
func (c *conn) startHandshakeTimer() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.hsTimer != nil || c.closing() {
		return
	}
	c.hsTimer = time.AfterFunc(c.s.opts.HandshakeTimeout, func() {
		if !c.handshaken.Load() {
			c.close(nil, false, "no handshake within "+c.s.opts.HandshakeTimeout.String())
		}
	})
}

// touch records inbound activity and (re)arms the client timeout, which
// starts only once the client has sent something after the handshake, as
// ASP.NET Core does.
func (c *conn) touch() {
	c.lastRecv.Store(time.Now().UnixNano())
	if !c.handshaken.Load() {
		return
	}
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.closing() {
		return
	}
	if c.idleTimer == nil {
		c.idleTimer = time.AfterFunc(c.s.opts.ClientTimeout, func() {
			m := protocol.NewClose("Connection closed with an error. The client sent nothing for "+c.s.opts.ClientTimeout.String()+".", true)
			c.close(&m, false, "client timeout")
		})
		return
	}
	c.idleTimer.Reset(c.s.opts.ClientTimeout)
}

func (c *conn) stopTimers() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.hsTimer != nil {
		c.hsTimer.Stop()
	}
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	if c.graceTimer != nil {
		c.graceTimer.Stop()
	}
}

// pauseIdle stops the client timeout while a stateful connection waits
// for a resume; the grace timer bounds that wait instead, and the first
// record on the new socket re-arms the timeout.
func (c *conn) pauseIdle() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
}

// batchBytes bounds the records drained into one payload (a WebSocket
// message, an SSE event, a long poll's answer), so that packing never
// makes a payload larger than a client can read: 32 KiB is the smallest
// read limit in common use (coder/websocket's default). A record larger
// than that goes alone; the client must accept it anyway.
const batchBytes = 32 << 10

// drain takes what is queued now, without waiting, into batch, which
// arrives empty (its backing array is reused): at most max records and,
// past the first, at most batchBytes in all. With sf it stops early once
// the batch would fill the stateful buffer.
func (c *conn) drain(batch [][]byte, max int, sf *stateful) [][]byte {
	room := int(^uint(0) >> 1)
	if sf != nil {
		_, used := sf.pending()
		room = sf.limit - used
	}
	return c.out.take(batch, max, room)
}

// sink writes a batch of records to a transport. A write has no deadline
// of its own: when one stalls for WriteTimeout the service's watchdog
// ends the connection (or a stateful connection's socket), which fails
// the write.
type sink interface {
	writeBatch(batch [][]byte) error
	// owes reports whether a direct write left bytes only the writer
	// can finish (writeBatch with an empty batch writes them).
	owes() bool
}

// writeLoop is the one writer of a streaming connection (WebSockets,
// SSE): it drains the queue in batches, pings when idle, and on close
// flushes the queue and the Close message unless the close is hard. quit
// ends the writer: for a WebSocket, its attachment's context; for SSE, the
// request's, whose end means the client went away and closes the
// connection. It returns nil after a clean close.
//
// a is the WebSocket attachment (nil for SSE). On a stateful connection
// the writer numbers and keeps each trackable message before writing it,
// waits for an Ack when the buffer is full, sends the service's Acks, and
// on a resume (replay set) starts with Sequence and the unacknowledged
// messages. A failed or stalled write then only ends this socket
// (a.cancel), because the connection waits for a resume.
//
// A fan-out writes to an idle WebSocket itself (sendDirect) and wakes the
// writer only for what the socket did not take, or when something is
// queued; the writer marks what it took as written (out.release) so that
// no direct write passes it. Under load it runs once per delivery on
// every connection of a fan-out, so it keeps to what a write needs. It
// waits on the queue's ready channel alone: close, quit and the ping
// timer signal it too and the writer looks at each after every wake. No
// timer or context per write (the watchdog bounds writes), and no ping
// timer reset per write (see pingTimer).
func (c *conn) writeLoop(w sink, quit context.Context, a *attachment, replay bool) error {
	interval := c.s.opts.PingInterval
	ping := startPingTimer(interval, &c.lastDirect, c.out.signal)
	defer ping.stop()
	defer context.AfterFunc(quit, c.out.signal)()
	c.streaming.Store(true) // close signals out.ready from now on
	// A write in progress ends when the socket does: a hard close (c.ctx)
	// or the end of the attachment (a.ctx) closes it.
	stop := func(err error) {
		if a != nil && c.sf.Load() != nil {
			a.cancel(err)
			return
		}
		c.close(nil, true, err.Error())
	}
	ww := c.s.watchdog.watch(func() {
		stop(errors.New("write failed: the client took no data for " + c.s.opts.WriteTimeout.String()))
	})
	defer c.s.watchdog.unwatch(ww)
	// The batch grows with what one drain takes (one record at a time in a
	// fan-out) instead of reserving 64 slots (1.5 KiB) on every idle
	// connection.
	var batch [][]byte
	write := func(b [][]byte) error {
		ping.last.Store(ww.begin())
		return ww.end(w.writeBatch(b))
	}
	fail := func(err error) error {
		stop(fmt.Errorf("write failed: %w", err))
		return err
	}
	if replay {
		if sf := c.sf.Load(); sf != nil {
			if err := sf.replay(write, quit.Done(), c.done); err != nil {
				return fail(err)
			}
		}
	}
	ackDue := false
	for {
		if quit.Err() != nil {
			if a == nil {
				c.close(nil, true, "client went away")
			}
			return nil
		}
		if c.closing() {
			return c.flush(write, batch)
		}
		// The stateful reconnect state exists only once the handshake
		// switched it on.
		sf := c.sf.Load()
		if ackDue {
			ackDue = false
			if err := write([][]byte{sf.ackRecord()}); err != nil {
				return fail(err)
			}
		}
		if ping.due.Load() {
			ping.due.Store(false)
			if idle := ping.idle(); idle < interval {
				ping.rearm(interval - idle)
			} else {
				if c.handshaken.Load() {
					if err := write([][]byte{c.ping()}); err != nil {
						return fail(err)
					}
				}
				ping.rearm(interval)
			}
		}
		// A full stateful buffer holds the queue back until an Ack.
		if sf == nil || !sf.full() {
			batch = c.drain(batch[:0], 64, sf)
			if len(batch) > 0 || w.owes() {
				if sf != nil {
					sf.number(batch)
				}
				err := write(batch)
				if len(batch) > 0 {
					c.out.release()
				}
				if err != nil {
					return fail(err)
				}
				// No second look at the queue: what came in during the
				// write left a token, and take left one for what it left.
			}
		}
		if sf == nil {
			<-c.out.ready
			continue
		}
		select {
		case <-c.out.ready:
		case <-sf.acked:
		case <-sf.ackDue:
			ackDue = true
		}
	}
}

// flush ends a writer once close started: unless the close is hard, it
// writes what is queued, then the Close message.
func (c *conn) flush(write func([][]byte) error, batch [][]byte) error {
	if c.hard.Load() {
		return nil
	}
	for {
		batch = c.drain(batch[:0], c.out.limit, nil)
		if len(batch) == 0 {
			break
		}
		if err := write(batch); err != nil {
			return err
		}
	}
	if c.closeFrame != nil {
		return write([][]byte{c.closeFrame})
	}
	return nil
}

// pingRecord is an encoded Ping, shared by every connection.
var pingRecord = []byte("{\"type\":6}\x1e")
