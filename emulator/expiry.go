package emulator

import (
	"container/heap"
	"time"
)

// expiries orders every user-group membership by expiry, so that a sweep
// pops what expired and never walks what is kept: with 3 million
// memberships a walk held the service's lock for about 600 ms a second.
// A membership knows its index, so an update or a removal fixes the heap
// in place instead of leaving a stale entry behind. Guarded by Service.mu.
type expiries []*membership

func (q expiries) Len() int           { return len(q) }
func (q expiries) Less(i, j int) bool { return q[i].expires.Before(q[j].expires) }
func (q expiries) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}

func (q *expiries) Push(x any) {
	m := x.(*membership)
	m.idx = len(*q)
	*q = append(*q, m)
}

func (q *expiries) Pop() any {
	old := *q
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	m.idx = -1
	return m
}

// add indexes a new membership.
func (q *expiries) add(m *membership) { heap.Push(q, m) }

// moved re-orders a membership whose expiry changed.
func (q *expiries) moved(m *membership) { heap.Fix(q, m.idx) }

// remove drops a membership from the index; one already popped is left
// alone.
func (q *expiries) remove(m *membership) {
	if m.idx >= 0 {
		heap.Remove(q, m.idx)
	}
}

// popExpired removes and returns the next membership expired at now, or
// nil when none is.
func (q *expiries) popExpired(now time.Time) *membership {
	if len(*q) == 0 || now.Before((*q)[0].expires) {
		return nil
	}
	return heap.Pop(q).(*membership)
}
