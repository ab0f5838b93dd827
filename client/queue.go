package client

import (
	"sync"
	"time"
)

// maxQueued bounds the records waiting between the reader and the
// dispatcher. When it is reached the reader waits, which leaves data in
// the socket and pushes back on the server instead of growing memory.
const maxQueued = 1024

// queued is one record waiting for the dispatcher.
type queued struct {
	rec []byte
	t   time.Time
	// block, when not 0, is the readRing block rec lies in: the
	// dispatcher copies it out before anything keeps it.
	block uint64
	// state, when set, is a state change to emit in order with the
	// records (a stateful-reconnect resume) instead of a record.
	state *Event
	// settled, when set, is closed by the dispatcher once it has handled
	// every record queued before it (see session.settle).
	settled chan struct{}
}

// recQueue hands records from the reader to the dispatcher in batches:
// the dispatcher takes everything queued at once, so on a busy connection
// the two goroutines rarely wake each other.
type recQueue struct {
	mu     sync.Mutex
	recs   []queued
	closed bool
	err    error
	// idle says the dispatcher found the queue empty and waits on
	// notEmpty; full says the reader found it full and waits on notFull.
	// Each side signals the other only then, so a busy connection costs a
	// lock per record and no channel operation.
	idle, full bool
	notEmpty   chan struct{} // capacity 1: "something was pushed or closed"
	notFull    chan struct{} // capacity 1: "the dispatcher took a batch"
}

func (q *recQueue) init() {
	q.notEmpty = make(chan struct{}, 1)
	q.notFull = make(chan struct{}, 1)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push queues r, waiting while the queue is full; it gives up (false)
// when stop is closed.
func (q *recQueue) push(r queued, stop <-chan struct{}) bool {
	for {
		q.mu.Lock()
		if len(q.recs) < maxQueued {
			q.recs = append(q.recs, r)
			wake := q.idle
			q.idle = false
			q.mu.Unlock()
			if wake {
				signal(q.notEmpty)
			}
			return true
		}
		q.full = true
		q.mu.Unlock()
		select {
		case <-q.notFull:
		case <-stop:
			return false
		}
	}
}

// close marks the end of the records; err is why reading stopped.
func (q *recQueue) close(err error) {
	q.mu.Lock()
	q.closed, q.err = true, err
	q.mu.Unlock()
	signal(q.notEmpty)
}

// swap hands the queued records to the dispatcher in exchange for its
// emptied batch slice, and reports whether the reader has finished. When
// it hands over nothing, the dispatcher is taken to wait on notEmpty
// until the next push or close.
func (q *recQueue) swap(batch []queued) ([]queued, bool, error) {
	q.mu.Lock()
	out := q.recs
	q.recs = batch[:0]
	closed, err := q.closed, q.err
	q.idle = len(out) == 0
	wake := q.full && len(out) > 0
	if wake {
		q.full = false
	}
	q.mu.Unlock()
	if wake {
		signal(q.notFull)
	}
	return out, closed, err
}
