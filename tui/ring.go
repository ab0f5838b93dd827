package tui

import (
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// DefaultHistory is how many received messages the screen keeps.
const DefaultHistory = 50_000

// entry is one received record as the stream keeps it: a message, or a
// record that failed to parse.
type entry struct {
	seq  uint64 // position in arrival order, from 0; never reused
	time time.Time
	conn int32 // index into roster.conns; 32 bits leave room for failed
	// failed marks a record that could not be parsed: msg holds only the
	// parser's text, in Error, and raw the record.
	failed   bool
	delivery uint64 // id of the delivery this receipt belongs to
	msg      protocol.Message
	raw      []byte
	// note marks a row of sigr's own, not received: why the invocation it
	// points to has no answer (msg holds the text in Error).
	note *invocation
	// gap marks a row of sigr's own, not received: the connection was
	// away until time.
	gap *gap
}

// ring is the bounded history of received messages. It grows on demand up
// to its capacity and then overwrites the oldest entry, so memory is bounded
// by the capacity and the sizes of the messages kept.
type ring struct {
	buf   []entry
	start int    // index in buf of the oldest entry
	first uint64 // seq of the oldest entry
	next  uint64 // seq of the next entry pushed
	cap   int
}

func newRing(capacity int) *ring {
	if capacity <= 0 {
		capacity = DefaultHistory
	}
	return &ring{cap: capacity}
}

// Len is the number of entries held.
func (r *ring) Len() int { return int(r.next - r.first) }

// push adds e, giving it the next seq, and returns that seq.
func (r *ring) push(e entry) uint64 {
	e.seq = r.next
	r.next++
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, e)
		return e.seq
	}
	r.buf[r.start] = e
	r.start++
	if r.start == r.cap {
		r.start = 0
	}
	r.first++
	return e.seq
}

// at returns the entry with the given seq, or nil when it has been evicted
// or not yet pushed.
func (r *ring) at(seq uint64) *entry {
	if seq < r.first || seq >= r.next {
		return nil
	}
	i := r.start + int(seq-r.first)
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return &r.buf[i]
}

// clear drops every entry but keeps counting seqs, so a seq never names two
// messages.
func (r *ring) clear() {
	r.buf = r.buf[:0]
	r.start = 0
	r.first = r.next
}
