package client

import (
	"errors"
	"sync"

	"github.com/sigr-dev/sigr/protocol"
)

// DefaultStatefulBufferSize is the official clients' bound on the bytes of
// sent messages kept until the server acknowledges them.
const DefaultStatefulBufferSize = 100_000

// msgBuffer is the client side of stateful reconnect (HubProtocol.md,
// "Stateful Reconnect"; the official MessageBuffer): the protocol's
// sender numbers the trackable messages sigr sends (types 1 to 5) and
// keeps them until the server acknowledges them, so that a resumed
// transport can replay them; the protocol's receiver numbers what the
// server sends, so that the server's replay after a resume is not
// delivered twice. What is sigr's own: a send waits while the buffer is
// full, and an Ack is due when something arrived since the last one that
// was written.
//
// It outlives the transports of one connection; a full reconnect starts a
// new one.
type msgBuffer struct {
	limit int
	wire  *wireProtocol // writes Sequence and Ack

	mu   sync.Mutex
	out  protocol.SequenceSender
	room chan struct{} // closed (and replaced) when an Ack frees room
	recv protocol.SequenceReceiver
	// ackedRecv is the latest id an Ack that was written acknowledged.
	ackedRecv int64
}

func newMsgBuffer(limit int) *msgBuffer {
	if limit <= 0 {
		limit = DefaultStatefulBufferSize
	}
	return &msgBuffer{limit: limit, wire: jsonWire, recv: protocol.NewSequenceReceiver(), room: make(chan struct{})}
}

// errBufferClosed is returned to senders waiting for room when the
// connection ends.
var errBufferClosed = errors.New("the connection closed while the send waited for the server to acknowledge earlier messages")

// add numbers a trackable record and keeps it until it is acknowledged,
// unless the buffer already holds limit bytes (backpressure, as the
// official clients do): then it keeps nothing and returns a channel that
// is closed when an Ack frees room. rec must not be modified afterwards.
func (b *msgBuffer) add(rec []byte) (room <-chan struct{}, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, used := b.out.Pending(); used >= b.limit {
		return b.room, false
	}
	b.out.Add(rec)
	return nil, true
}

// ack drops what the server acknowledged (every id up to n) and wakes the
// senders waiting for room.
func (b *msgBuffer) ack(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.out.Ack(n) == 0 {
		return
	}
	close(b.room)
	b.room = make(chan struct{})
}

// disconnected prepares for a resume: everything the server sends on the
// new transport is dropped until its Sequence arrives.
func (b *msgBuffer) disconnected() {
	b.mu.Lock()
	b.recv.Resume()
	b.mu.Unlock()
}

// resumeHead returns what starts a resumed transport (Sequence, then an
// Ack of what was delivered; see protocol.AppendResume), the id the
// replay starts from, and the id the Ack acknowledges (0 when none).
func (b *msgBuffer) resumeHead() (head []byte, from, ack int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	from, ack = b.out.Next(), b.recv.Latest()
	if b.wire.binary {
		return protocol.AppendResumeMessagePack(nil, from, ack), from, ack
	}
	return protocol.AppendResume(nil, from, ack), from, ack
}

// replay appends the next chunk of the replay from id from, at most
// budget bytes, and returns it with the id to continue from (see
// protocol.SequenceSender.Replay).
func (b *msgBuffer) replay(dst [][]byte, from int64, budget int) ([][]byte, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Replay(dst, from, budget)
}

// progress returns the latest id delivered and the oldest id sent but not
// acknowledged: a transport that moved neither brought nothing new.
func (b *msgBuffer) progress() (delivered, unacked int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.recv.Latest(), b.out.Next()
}

// incoming decides whether a message from the server is delivered, as the
// official MessageBuffer does: after a transport drop everything before
// the Sequence is dropped; a trackable message whose id is at or below
// the latest delivered one is a duplicate from the server's replay. It
// handles Ack and Sequence itself (they are delivered as events too, for
// inspectors, but change nothing else). errText is set when the server
// broke the protocol.
func (b *msgBuffer) incoming(m *protocol.Message) (deliver bool, errText string) {
	b.mu.Lock()
	deliver, replayedLatest, errText := b.recv.Receive(m)
	if replayedLatest {
		// The server replays what it thinks is unacknowledged: the Ack it
		// missed is due again.
		b.ackedRecv = min(b.ackedRecv, b.recv.Latest()-1)
	}
	b.mu.Unlock()
	if deliver && m.Type == protocol.TypeAck {
		b.ack(m.SequenceID)
	}
	return deliver, errText
}

// ackDue returns the Ack record to send and the id it acknowledges, when
// something arrived since the last Ack that was written. Until acked
// records the write, the same Ack stays due: one whose write failed is
// sent again.
func (b *msgBuffer) ackDue() ([]byte, int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	latest := b.recv.Latest()
	if latest <= b.ackedRecv {
		return nil, 0, false
	}
	m := protocol.NewAck(latest)
	return b.wire.encodeOwn(&m), latest, true
}

// acked records that an Ack of id n was written.
func (b *msgBuffer) acked(n int64) {
	b.mu.Lock()
	b.ackedRecv = max(b.ackedRecv, n)
	b.mu.Unlock()
}

// pending returns how many sent messages and bytes wait for an Ack.
func (b *msgBuffer) pending() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Pending()
}

// setWire makes the buffer write Sequence, Ack and the replay's
// placeholder in w's protocol.
func (b *msgBuffer) setWire(w *wireProtocol) {
	b.wire = w
	if w.binary {
		b.out.Placeholder = protocol.MessagePackReplayPlaceholder
	}
}
