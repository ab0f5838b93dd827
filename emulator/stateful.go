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
	conn        *conn         // whose protocol Sequence, Ack and placeholders are written in; nil is JSON

	mu       sync.Mutex
	out      protocol.SequenceSender
	recv     protocol.SequenceReceiver
	ackTimer *time.Timer
	stopped  bool
	// seqPending is set when the client's Sequence after a resume was
	// processed and sequenced not yet signalled: the signal waits for the
	// end of the payload, so that an Ack right behind the Sequence counts.
	seqPending bool
	sequenced  chan struct{}
	seqWait    time.Duration // resumeSequenceWait; tests change it

	// acked wakes a writer that waits for room in out; ackDue asks the
	// writer to send an Ack. Both hold at most one signal, so a signal
	// given while no writer runs (the socket dropped) waits for the next.
	acked  chan struct{}
	ackDue chan struct{}
}

func newStateful(limit int, ackInterval time.Duration) *stateful {
	return &stateful{
		limit:       limit,
		ackInterval: ackInterval,
		recv:        protocol.NewSequenceReceiver(),
		acked:       make(chan struct{}, 1),
		ackDue:      make(chan struct{}, 1),
		sequenced:   make(chan struct{}, 1),
		seqWait:     resumeSequenceWait,
	}
}

// full reports whether the unacknowledged messages fill the buffer; the
// writer then stops taking from the queue until an Ack frees room.
func (sf *stateful) full() bool {
	_, used := sf.pending()
	return used >= sf.limit
}

// number gives each trackable frame of batch its id and buffers it until
// it is acknowledged. It runs before the batch is written, so a write that
// fails loses nothing.
func (sf *stateful) number(batch [][]byte) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	for _, f := range batch {
		if sf.trackable(f) {
			sf.out.Add(f)
		}
	}
}

// ack drops what the client acknowledged (every id up to n), from the
// buffer and from what a replay in progress has left to write, and wakes
// a writer that waits for room.
func (sf *stateful) ack(n int64) {
	sf.mu.Lock()
	dropped := sf.out.Ack(n)
	sf.mu.Unlock()
	if dropped > 0 {
		select {
		case sf.acked <- struct{}{}:
		default:
		}
	}
}

// resumeSequenceWait bounds how long a replay that does not fit one write
// waits for the client's Sequence before it goes on regardless.
const resumeSequenceWait = 2 * time.Second

// replay writes what starts a resumed socket: Sequence (the id of the
// first message replayed, or the next new one when none is pending), then
// every unacknowledged message in order, in writes of at most
// protocol.ReplayChunkSize bytes. (The service's own Acks keep to the Ack
// timer: the .NET MessageBuffer walks its buffer during a resend without
// the lock an Ack takes, so an Ack right behind the Sequence could cut a
// .NET client's resend short.)
//
// The first write goes at once. Before the second it waits for the
// client's Sequence, which every client sends first on a resume (at most
// resumeSequenceWait, or until stop or done): a backlog written in one
// burst can fill what a failing link carries and end the socket before
// the client's Sequence and Ack get through, and the next resume then
// replays the same records again. From then on, whatever an Ack from the
// client covers goes as protocol.ReplayPlaceholder, which keeps the ids
// in place. It never waits for an Ack: the official clients send none on
// a resume. Nothing new is numbered while it runs: the socket's writer
// runs it before taking from the queue.
func (sf *stateful) replay(write func([][]byte) error, stop, done <-chan struct{}) error {
	sf.mu.Lock()
	from := sf.out.Next()
	head := sf.resumeHead(from)
	sf.mu.Unlock()
	batch := [][]byte{head}
	for waited := false; ; {
		var next int64
		sf.mu.Lock()
		batch, next = sf.out.Replay(batch, from, protocol.ReplayChunkSize-len(head))
		sf.mu.Unlock()
		if len(batch) == 0 {
			return nil
		}
		if head == nil && !waited {
			waited = true
			if sf.awaitSequence(stop, done) {
				clear(batch)
				batch = batch[:0]
				continue // an Ack may have come with it
			}
		}
		if err := write(batch); err != nil {
			return err
		}
		clear(batch)
		batch, head, from = batch[:0], nil, next
	}
}

// awaitSequence waits until the client's Sequence on the resumed socket
// was processed, resumeSequenceWait passed, or stop or done closed. It
// reports whether it waited at all.
func (sf *stateful) awaitSequence(stop, done <-chan struct{}) bool {
	select {
	case <-sf.sequenced:
		return false
	default:
	}
	t := time.NewTimer(sf.seqWait)
	defer t.Stop()
	select {
	case <-sf.sequenced:
	case <-t.C:
	case <-stop:
	case <-done:
	}
	return true
}

// resumed prepares the incoming side for a new socket: everything the
// client sends is dropped until its Sequence arrives.
func (sf *stateful) resumed() {
	sf.mu.Lock()
	sf.recv.Resume()
	sf.seqPending = false
	sf.mu.Unlock()
	select {
	case <-sf.sequenced:
	default:
	}
}

// payloadDone signals a replay waiting for the client's Sequence, once
// the payload that carried it has been processed to its end.
func (sf *stateful) payloadDone() {
	sf.mu.Lock()
	pending := sf.seqPending
	sf.seqPending = false
	sf.mu.Unlock()
	if pending {
		select {
		case sf.sequenced <- struct{}{}:
		default:
		}
	}
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
	if process && m.Type == protocol.TypeSequence {
		sf.seqPending = true
	}
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
	return sf.out.Pending()
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

// resumeHead is the Sequence that starts a resumed socket's replay, in the
// connection's protocol.
func (sf *stateful) resumeHead(from int64) []byte {
	if sf.conn != nil && sf.conn.msgpack.Load() {
		return protocol.AppendResumeMessagePack(nil, from, 0)
	}
	return protocol.AppendResume(nil, from, 0)
}

// setConn makes the buffer speak c's protocol: Sequence, Ack and the
// replay's placeholders.
func (sf *stateful) setConn(c *conn) {
	sf.conn = c
	if c.msgpack.Load() {
		sf.out.Placeholder = protocol.MessagePackReplayPlaceholder
	}
}
