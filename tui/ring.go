package tui

import (
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// DefaultHistory is how many received messages the screen keeps.
const DefaultHistory = 50_000

// entry is one received message as the stream keeps it.
type entry struct {
	seq      uint64 // position in arrival order, from 0; never reused
	time     time.Time
	conn     int    // index into Model.conns
	delivery uint64 // id of the delivery this receipt belongs to
	msg      protocol.Message
	raw      []byte
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

// rate counts events per second over a short sliding window.
type rate struct {
	buckets [rateWindow]int
	sec     int64 // the unix second of the newest bucket
}

const rateWindow = 12

func (r *rate) roll(now time.Time) {
	s := now.Unix()
	if s <= r.sec {
		return
	}
	if s-r.sec >= rateWindow {
		r.buckets = [rateWindow]int{}
	} else {
		for t := r.sec + 1; t <= s; t++ {
			r.buckets[t%rateWindow] = 0
		}
	}
	r.sec = s
}

func (r *rate) add(t time.Time, n int) {
	s := t.Unix()
	if s > r.sec {
		r.roll(t)
	}
	if r.sec-s >= rateWindow {
		return
	}
	r.buckets[s%rateWindow] += n
}

// perSecond is the mean rate over the last complete seconds.
func (r *rate) perSecond(now time.Time) float64 {
	const span = 5
	s := now.Unix()
	total := 0
	for t := s - span; t < s; t++ {
		if r.sec-t >= rateWindow || t > r.sec {
			continue
		}
		total += r.buckets[((t%rateWindow)+rateWindow)%rateWindow]
	}
	return float64(total) / span
}

// series returns the counts of the last n seconds, oldest first, the current
// second last.
func (r *rate) series(now time.Time, n int) []int {
	if n > rateWindow {
		n = rateWindow
	}
	out := make([]int, n)
	s := now.Unix()
	for i := range n {
		t := s - int64(n-1-i)
		if t > r.sec || r.sec-t >= rateWindow {
			continue
		}
		out[i] = r.buckets[((t%rateWindow)+rateWindow)%rateWindow]
	}
	return out
}

// targetStat is what the sidebar knows about one target.
type targetStat struct {
	name  string
	count int
	rate  rate
}

// delivery is one message as sent, seen by one or more of our connections:
// the receipts of identical records within a short window. The routing
// matrix shows one row per delivery.
type delivery struct {
	id     uint64
	key    uint64 // hash of type, target, arguments and invocation id
	time   time.Time
	target string
	route  string // the route header, if any
	conns  []bool // indexed like Model.conns
	seq    uint64 // the first receipt
}

// deliveryWindow is how far apart two identical receipts may be and still
// count as one delivery.
const deliveryWindow = 2 * time.Second

// maxDeliveries bounds the deliveries kept for the matrix and for routing
// inference.
const maxDeliveries = 512
