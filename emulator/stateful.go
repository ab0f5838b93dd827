package emulator

import (
	"sync"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// stateful is the service side of stateful reconnect (HubProtocol.md,
// "Stateful Reconnect") for one connection: it numbers the trackable
// messages the service sends (types 1 to 5), keeps them until the client
// acknowledges them so that a resumed socket can replay them, and numbers
// what the client sends so that the client's replay after a resume is not
// processed twice.
//
// Ids start at 1, count each direction separately and survive resumes.
type stateful struct {
	limit       int           // bytes of unacknowledged messages before the writer waits
	ackInterval time.Duration // delay before acknowledging what arrived
	conn        *conn         // whose protocol Sequence and Ack are written in; nil is JSON

	mu sync.Mutex
	// Outgoing.
	sent     int64       // trackable messages numbered so far
	buf      []sentFrame // unacknowledged, oldest first
	bufBytes int
	// Incoming.
	recv     protocol.SequenceReceiver
	ackTimer *time.Timer
	stopped  bool

	// acked wakes a writer that waits for room in buf; ackDue asks the
	// writer to send an Ack. Both hold at most one signal, so a signal
	// given while no writer runs (the socket dropped) waits for the next.
	acked  chan struct{}
	ackDue chan struct{}
}

type sentFrame struct {
	id int64
	b  []byte
}

func newStateful(limit int, ackInterval time.Duration) *stateful {
	return &stateful{
		limit:       limit,
		ackInterval: ackInterval,
		recv:        protocol.NewSequenceReceiver(),
		acked:       make(chan struct{}, 1),
		ackDue:      make(chan struct{}, 1),
	}
}

// full reports whether the unacknowledged messages fill the buffer; the
// writer then stops taking from the queue until an Ack frees room.
func (sf *stateful) full() bool {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	return sf.bufBytes >= sf.limit
}

// number gives each trackable frame of batch its id and buffers it until
// it is acknowledged. It runs before the batch is written, so a write that
// fails loses nothing.
func (sf *stateful) number(batch [][]byte) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	for _, f := range batch {
		if !sf.trackable(f) {
			continue
		}
		sf.sent++
		sf.buf = append(sf.buf, sentFrame{id: sf.sent, b: f})
		sf.bufBytes += len(f)
	}
}

// ack drops what the client acknowledged (every id up to n) and wakes a
// writer that waits for room.
func (sf *stateful) ack(n int64) {
	sf.mu.Lock()
	i := 0
	for i < len(sf.buf) && sf.buf[i].id <= n {
		sf.bufBytes -= len(sf.buf[i].b)
		i++
	}
	if i > 0 {
		clear(sf.buf[:i])
		sf.buf = sf.buf[i:]
	}
	sf.mu.Unlock()
	if i > 0 {
		select {
		case sf.acked <- struct{}{}:
		default:
		}
	}
}

// replay returns the Sequence record that starts a resumed socket, then
// every unacknowledged message in order. The Sequence carries the id of
// the first message replayed, or the next new one when none is pending.
func (sf *stateful) replay() [][]byte {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	next := sf.sent + 1
	if len(sf.buf) > 0 {
		next = sf.buf[0].id
	}
	seq := protocol.NewSequence(next)
	out := make([][]byte, 0, len(sf.buf)+1)
	out = append(out, sf.encode(&seq))
	for _, f := range sf.buf {
		out = append(out, f.b)
	}
	return out
}

// resumed prepares the incoming side for a new socket: everything the
// client sends is dropped until its Sequence arrives.
func (sf *stateful) resumed() {
	sf.mu.Lock()
	sf.recv.Resume()
	sf.mu.Unlock()
}

// incoming decides whether the service processes a message from the
// client, as the official MessageBuffer does: after a resume everything
// before the Sequence is dropped; a trackable message whose id is at or
// below the latest processed one is a duplicate from the client's replay.
// It handles Sequence and Ack itself. errText is set when the client broke
// the protocol and must be closed.
func (sf *stateful) incoming(m *protocol.Message) (process bool, errText string) {
	sf.mu.Lock()
	process, replayedLatest, errText := sf.recv.Receive(m)
	if replayedLatest || process && m.Type.Trackable() {
		// A new message, or the latest one replayed because the client
		// missed its Ack: an Ack is due.
		sf.armAckLocked()
	}
	sf.mu.Unlock()
	switch m.Type {
	case protocol.TypeAck:
		if process {
			sf.ack(m.SequenceID)
		}
		return false, errText
	case protocol.TypeSequence:
		return false, errText
	}
	return process, errText
}

// armAckLocked schedules an Ack of the latest processed message after
// ackInterval, one timer at a time, as the official clients do.
func (sf *stateful) armAckLocked() {
	if sf.ackTimer != nil || sf.stopped {
		return
	}
	sf.ackTimer = time.AfterFunc(sf.ackInterval, func() {
		sf.mu.Lock()
		sf.ackTimer = nil
		sf.mu.Unlock()
		select {
		case sf.ackDue <- struct{}{}:
		default:
		}
	})
}

// ackRecord returns the Ack to send now.
func (sf *stateful) ackRecord() []byte {
	sf.mu.Lock()
	n := sf.recv.Latest()
	sf.mu.Unlock()
	m := protocol.NewAck(n)
	return sf.encode(&m)
}

// stop cancels the Ack timer for good.
func (sf *stateful) stop() {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.stopped = true
	if sf.ackTimer != nil {
		sf.ackTimer.Stop()
		sf.ackTimer = nil
	}
}

// pending returns how many messages and bytes wait for an Ack.
func (sf *stateful) pending() (int, int) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	return len(sf.buf), sf.bufBytes
}

// trackable reports whether a frame of the connection gets a sequence id.
func (sf *stateful) trackable(f []byte) bool {
	if sf.conn == nil {
		return protocol.IsTrackable(f)
	}
	return sf.conn.trackable(f)
}

// encode writes Sequence and Ack in the connection's protocol.
func (sf *stateful) encode(m *protocol.Message) []byte {
	if sf.conn == nil {
		return protocol.AppendMessage(nil, m)
	}
	return sf.conn.encode(m)
}
