package client

import (
	"context"
	"errors"
	"sync"

	"github.com/sigr-dev/sigr/protocol"
)

// DefaultStatefulBufferSize is the official clients' bound on the bytes of
// sent messages kept until the server acknowledges them.
const DefaultStatefulBufferSize = 100_000

// msgBuffer is the client side of stateful reconnect (HubProtocol.md,
// "Stateful Reconnect"; the official MessageBuffer): it numbers the
// trackable messages sigr sends (types 1 to 5) and keeps them until the
// server acknowledges them, so that a resumed transport can replay them;
// it numbers what the server sends, so that the server's replay after a
// resume is not delivered twice; and it says when an Ack is due.
//
// Ids start at 1, count each direction separately and survive resumes.
// It outlives the transports of one connection; a full reconnect starts a
// new one.
type msgBuffer struct {
	limit int
	wire  *wireProtocol // writes Sequence and Ack; nil is JSON

	mu sync.Mutex
	// Outgoing.
	sent  int64
	buf   []sentRec
	bytes int
	room  chan struct{} // closed (and replaced) when an Ack frees room
	// Incoming.
	recv      protocol.SequenceReceiver
	ackedRecv int64 // the latest id sigr acknowledged
}

type sentRec struct {
	id  int64
	rec []byte
}

func newMsgBuffer(limit int) *msgBuffer {
	if limit <= 0 {
		limit = DefaultStatefulBufferSize
	}
	return &msgBuffer{limit: limit, recv: protocol.NewSequenceReceiver(), room: make(chan struct{})}
}

// errBufferClosed is returned to senders waiting for room when the
// connection ends.
var errBufferClosed = errors.New("the connection closed while the send waited for the server to acknowledge earlier messages")

// add numbers a trackable record and keeps it until it is acknowledged.
// When the buffer already holds limit bytes it waits for an Ack first
// (backpressure, as the official clients do), until ctx or done ends. rec
// must not be modified afterwards.
func (b *msgBuffer) add(ctx context.Context, done <-chan struct{}, rec []byte) error {
	for {
		b.mu.Lock()
		if b.bytes < b.limit {
			b.sent++
			b.buf = append(b.buf, sentRec{id: b.sent, rec: rec})
			b.bytes += len(rec)
			b.mu.Unlock()
			return nil
		}
		room := b.room
		b.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errBufferClosed
		}
	}
}

// ack drops what the server acknowledged (every id up to n) and wakes the
// senders waiting for room.
func (b *msgBuffer) ack(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := 0
	for i < len(b.buf) && b.buf[i].id <= n {
		b.bytes -= len(b.buf[i].rec)
		i++
	}
	if i == 0 {
		return
	}
	clear(b.buf[:i])
	b.buf = b.buf[i:]
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

// replay returns what starts a resumed transport: the Sequence record (the
// id of the oldest unacknowledged message, or the next new id), then every
// unacknowledged record in order, concatenated into one payload.
func (b *msgBuffer) replay() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := b.sent + 1
	if len(b.buf) > 0 {
		next = b.buf[0].id
	}
	seq := protocol.NewSequence(next)
	out := b.encode(&seq)
	for _, r := range b.buf {
		out = append(out, r.rec...)
	}
	return out
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

// ackDue returns the Ack record to send, when something arrived since the
// last Ack.
func (b *msgBuffer) ackDue() ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	latest := b.recv.Latest()
	if latest <= b.ackedRecv {
		return nil, false
	}
	b.ackedRecv = latest
	m := protocol.NewAck(latest)
	return b.encode(&m), true
}

// pending returns how many sent messages and bytes wait for an Ack.
func (b *msgBuffer) pending() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf), b.bytes
}

// encode writes one of the buffer's own messages in the connection's
// protocol.
func (b *msgBuffer) encode(m *protocol.Message) []byte {
	if b.wire == nil {
		return protocol.AppendMessage(nil, m)
	}
	return b.wire.encodeOwn(m)
}
