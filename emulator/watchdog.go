package emulator

import (
	"sync"
	"sync/atomic"
	"time"
)

// watchdog ends the client sockets whose write has made no progress for
// WriteTimeout. A timeout context per write (and the timer coder/websocket
// arms for a context that can end) cost a quarter of the CPU of a
// broadcast and most of its allocations; here a write costs a clock read
// and two atomic stores, and one goroutine per service looks at the
// writes in progress a few times per WriteTimeout.
type watchdog struct {
	limit time.Duration
	every time.Duration

	mu      sync.Mutex
	writers map[*writeWatch]struct{}

	aborts sync.WaitGroup // aborts in flight
}

// writeWatch is one writer's entry.
type writeWatch struct {
	since atomic.Int64 // monoNow when the write in progress started; 0 when none
	fired atomic.Bool
	abort func() // ends the socket, which fails the write; called once
}

// monoEpoch anchors monoNow on the monotonic clock.
var monoEpoch = time.Now()

// monoNow is monotonic nanoseconds, never 0.
func monoNow() int64 { return int64(time.Since(monoEpoch)) + 1 }

func newWatchdog(limit time.Duration) *watchdog {
	// A stall is caught between limit and limit + every.
	every := min(max(limit/4, time.Millisecond), time.Second)
	return &watchdog{limit: limit, every: every, writers: map[*writeWatch]struct{}{}}
}

// run checks the writes in progress until stop closes, then waits for the
// aborts it started.
func (d *watchdog) run(stop <-chan struct{}) {
	defer d.aborts.Wait()
	t := time.NewTicker(d.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			d.check(monoNow())
		}
	}
}

func (d *watchdog) check(now int64) {
	limit := int64(d.limit)
	d.mu.Lock()
	defer d.mu.Unlock()
	for w := range d.writers {
		if s := w.since.Load(); s != 0 && now-s >= limit && !w.fired.Swap(true) {
			// Its own goroutine: closing a socket can wait for a close
			// handshake under way, and the check must not.
			d.aborts.Add(1)
			go func() {
				defer d.aborts.Done()
				w.abort()
			}()
		}
	}
}

// watch registers a writer; abort ends its socket.
func (d *watchdog) watch(abort func()) *writeWatch {
	w := &writeWatch{abort: abort}
	d.mu.Lock()
	d.writers[w] = struct{}{}
	d.mu.Unlock()
	return w
}

// unwatch forgets a writer that has returned.
func (d *watchdog) unwatch(w *writeWatch) {
	d.mu.Lock()
	delete(d.writers, w)
	d.mu.Unlock()
}

// begin marks the start of a write and returns its time.
func (w *writeWatch) begin() int64 {
	now := monoNow()
	w.since.Store(now)
	return now
}

// end marks the end of a write.
func (w *writeWatch) end(err error) error {
	w.since.Store(0)
	return err
}
