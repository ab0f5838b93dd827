package emulator

import (
	"sync"
	"sync/atomic"
)

// outQueue is a connection's bounded outgoing queue. It grows as records
// arrive instead of reserving all its slots up front, as a buffered
// channel does, so that the thousands of idle connections of a fan-out
// hold next to nothing. ready holds a token whenever records may be
// waiting, for the one writer's select; a token can be stale, so a writer
// that finds the queue empty just waits again.
type outQueue struct {
	mu    sync.Mutex
	items [][]byte
	head  int
	limit int
	ready chan struct{}
	// busy is set while the writer holds records it took and has not
	// finished writing: a fan-out's direct write must not pass them.
	busy bool
	// backlog, when set, mirrors !idle() for readers that take no lock:
	// it sits beside the other fields a fan-out reads of a connection,
	// which saves it a cache line and this lock per recipient.
	backlog *atomic.Bool
}

func newOutQueue(limit int) *outQueue {
	return &outQueue{limit: limit, ready: make(chan struct{}, 1)}
}

// push adds a record without blocking; false means the queue is full.
func (q *outQueue) push(b []byte) bool {
	q.mu.Lock()
	if len(q.items)-q.head >= q.limit {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, b)
	q.note()
	q.mu.Unlock()
	q.signal()
	return true
}

// take moves queued records to batch, which arrives empty, all under one
// lock: at most max records, past the first at most batchBytes in all,
// and no more than room bytes. It re-arms ready when it leaves records
// behind, for a writer that stopped early.
func (q *outQueue) take(batch [][]byte, max, room int) [][]byte {
	size := 0
	q.mu.Lock()
	for len(batch) < max && room > 0 && q.head < len(q.items) {
		f := q.items[q.head]
		if len(batch) > 0 && size+len(f) > batchBytes {
			break
		}
		q.items[q.head] = nil
		q.head++
		batch = append(batch, f)
		size += len(f)
		room -= len(f)
	}
	if len(batch) > 0 {
		q.busy = true
	}
	q.note()
	left := len(q.items) - q.head
	if left == 0 {
		// Empty: start over, and let a burst's large backing array go.
		if cap(q.items) > 64 {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
		q.head = 0
	}
	q.mu.Unlock()
	if left > 0 {
		q.signal()
	}
	return batch
}

// pending reports whether records are waiting, re-arming ready if so, for
// a writer that stopped draining early.
func (q *outQueue) pending() bool {
	q.mu.Lock()
	n := len(q.items) - q.head
	q.mu.Unlock()
	if n > 0 {
		q.signal()
	}
	return n > 0
}

// release tells the queue the writer has written what it took.
func (q *outQueue) release() {
	q.mu.Lock()
	q.busy = false
	q.note()
	q.mu.Unlock()
}

// idle reports whether nothing is queued and the writer holds nothing it
// took, so a frame written now comes after everything before it.
func (q *outQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.head == len(q.items) && !q.busy
}

// note updates backlog; called with mu held.
func (q *outQueue) note() {
	if q.backlog != nil {
		q.backlog.Store(q.busy || q.head < len(q.items))
	}
}

func (q *outQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}
