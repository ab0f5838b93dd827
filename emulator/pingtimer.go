package emulator

import (
	"sync/atomic"
	"time"
)

// pingTimer tells a connection's writer when its socket has been quiet
// for the ping interval. It looks at the time of the latest write only
// when it fires, so a write costs an atomic store instead of a timer
// reset, and it re-arms itself without waking the writer while writes
// keep coming: a fan-out's direct writes never wake the writer, and
// waking 5 000 of them every interval just to re-arm their timers was a
// measurable part of a broadcast's cost.
type pingTimer struct {
	interval time.Duration
	last     atomic.Int64  // monoNow of the writer's latest write
	direct   *atomic.Int64 // monoNow of the latest direct write
	wake     func()        // wakes the writer, once due is set
	due      atomic.Bool
	stopped  atomic.Bool
	t        atomic.Pointer[time.Timer]
}

func startPingTimer(interval time.Duration, direct *atomic.Int64, wake func()) *pingTimer {
	p := &pingTimer{interval: interval, direct: direct, wake: wake}
	p.last.Store(monoNow())
	p.t.Store(time.AfterFunc(interval, p.fire))
	return p
}

// idle is how long the socket has been quiet.
func (p *pingTimer) idle() time.Duration {
	return time.Duration(monoNow() - max(p.last.Load(), p.direct.Load()))
}

func (p *pingTimer) fire() {
	if p.stopped.Load() {
		return
	}
	// t is nil only if the timer fired before startPingTimer stored it.
	if t := p.t.Load(); t != nil {
		if idle := p.idle(); idle < p.interval {
			t.Reset(p.interval - idle)
			return
		}
	}
	p.due.Store(true)
	p.wake()
}

// rearm starts the next interval after the writer looked at a due ping.
func (p *pingTimer) rearm(d time.Duration) { p.t.Load().Reset(d) }

// stop ends the timer; a fire under way re-arms it at most once more.
func (p *pingTimer) stop() {
	p.stopped.Store(true)
	p.t.Load().Stop()
}
