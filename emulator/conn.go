package emulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
// queue is full it is closed instead.
type conn struct {
	s       *Service
	id      string // public connection id
	token   string // connection token for id=
	hubKey  string // lower-cased hub name
	hubName string // as the client asked for it
	user    string
	created time.Time

	// Guarded by s.mu.
	transport  string
	registered bool
	groups     map[string]struct{}
	polling    bool
	lastPoll   time.Time
	finished   bool

	out  chan []byte   // encoded records, shared between connections
	done chan struct{} // closed when closing starts

	closeOnce   sync.Once
	closeFrame  []byte // Close message to write last, or nil
	closeReason string
	hard        atomic.Bool // drop queued data and abort writes

	ctx    context.Context // cancelled on a hard close: aborts transport I/O
	cancel context.CancelFunc

	handshaken atomic.Bool
	lastRecv   atomic.Int64 // unix nanos of the last inbound record
	pinged     atomic.Bool  // the client has sent something after the handshake

	inMu   sync.Mutex // serialises inbound data (one POST at a time)
	framer protocol.Framer
	warned bool // logged the dropped-invocation warning

	// Long polling: the poll in progress, which a newer poll replaces.
	pollMu     sync.Mutex
	pollCancel chan struct{}
	pollDone   chan struct{}
	delivered  bool // the final data and Close went out on a poll

	timerMu   sync.Mutex
	hsTimer   *time.Timer
	idleTimer *time.Timer
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
		out:     make(chan []byte, s.opts.QueueSize),
		done:    make(chan struct{}),
	}
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
func (c *conn) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// enqueue queues one encoded record without blocking. A full queue closes
// the connection: a client that does not read must not hold up others.
func (c *conn) enqueue(frame []byte) bool {
	if c.closing() {
		return false
	}
	select {
	case c.out <- frame:
		return true
	default:
		c.s.log.Warn("closing a connection whose outgoing queue is full",
			"hub", c.hubName, "connectionId", c.id, "queue", cap(c.out))
		m := protocol.NewClose("Connection closed with an error. The client is not reading: its outgoing queue of "+itoa(cap(c.out))+" messages is full.", false)
		c.close(&m, true, "outgoing queue full")
		return false
	}
}

// close starts closing the connection once. msg, when not nil and the
// handshake is done, is written after the queued data; hard drops the
// queued data and aborts any write in progress. It never blocks and must
// not be called with s.mu held.
func (c *conn) close(msg *protocol.Message, hard bool, reason string) {
	c.closeOnce.Do(func() {
		if msg != nil && c.handshaken.Load() {
			c.closeFrame = protocol.AppendMessage(nil, msg)
		}
		c.closeReason = reason
		if hard {
			c.hard.Store(true)
			c.cancel()
		}
		close(c.done)
		c.stopTimers()
		c.s.unregister(c)
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
}

// drain takes what is queued now, without waiting, appending to batch.
func (c *conn) drain(batch [][]byte, max int) [][]byte {
	for len(batch) < max {
		select {
		case f := <-c.out:
			batch = append(batch, f)
		default:
			return batch
		}
	}
	return batch
}

// sink writes a batch of records to a transport.
type sink interface {
	writeBatch(ctx context.Context, batch [][]byte) error
}

// writeLoop is the one writer of a streaming connection (WebSockets,
// SSE): it drains the queue in batches, pings when idle, and on close
// flushes the queue and the Close message unless the close is hard. gone
// fires when the client went away. It returns nil after a clean close.
func (c *conn) writeLoop(w sink, gone <-chan struct{}) error {
	ping := time.NewTimer(c.s.opts.PingInterval)
	defer ping.Stop()
	batch := make([][]byte, 0, 64)
	write := func(b [][]byte) error {
		ctx, cancel := context.WithTimeout(c.ctx, c.s.opts.WriteTimeout)
		defer cancel()
		return w.writeBatch(ctx, b)
	}
	for {
		select {
		case f := <-c.out:
			batch = c.drain(append(batch[:0], f), 64)
			if err := write(batch); err != nil {
				c.close(nil, true, "write failed: "+err.Error())
				return err
			}
			ping.Reset(c.s.opts.PingInterval)
		case <-ping.C:
			if c.handshaken.Load() {
				if err := write([][]byte{pingRecord}); err != nil {
					c.close(nil, true, "write failed: "+err.Error())
					return err
				}
			}
			ping.Reset(c.s.opts.PingInterval)
		case <-gone:
			c.close(nil, true, "client went away")
			return nil
		case <-c.done:
			if c.hard.Load() {
				return nil
			}
			batch = c.drain(batch[:0], cap(c.out))
			if c.closeFrame != nil {
				batch = append(batch, c.closeFrame)
			}
			if len(batch) > 0 {
				if err := write(batch); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// pingRecord is an encoded Ping, shared by every connection.
var pingRecord = []byte("{\"type\":6}\x1e")
