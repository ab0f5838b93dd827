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
	// chunks hold the entries, ringChunk at a time, so that growing never
	// copies what is held: a full history is some 14 MB of entries, which
	// growing by doubling copied and cleared twice over during the first
	// flood.
	chunks [][]entry
	size   int    // entries held, at most cap
	start  int    // index of the oldest entry
	first  uint64 // seq of the oldest entry
	next   uint64 // seq of the next entry pushed
	cap    int
}

const ringChunk = 1024

func newRing(capacity int) *ring {
	if capacity <= 0 {
		capacity = DefaultHistory
	}
	return &ring{cap: capacity}
}

// Len is the number of entries held.
func (r *ring) Len() int { return int(r.next - r.first) }

func (r *ring) slot(i int) *entry { return &r.chunks[i/ringChunk][i%ringChunk] }

// push adds e, giving it the next seq, and returns that seq.
func (r *ring) push(e entry) uint64 {
	e.seq = r.next
	r.next++
	if r.size < r.cap {
		if r.size/ringChunk == len(r.chunks) {
			r.chunks = append(r.chunks, make([]entry, min(ringChunk, r.cap-r.size)))
		}
		*r.slot(r.size) = e
		r.size++
		return e.seq
	}
	*r.slot(r.start) = e
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
	if i >= r.size {
		i -= r.size
	}
	return r.slot(i)
}

// clear drops every entry but keeps counting seqs, so a seq never names two
// messages.
func (r *ring) clear() {
	r.size = 0
	r.start = 0
	r.first = r.next
}
