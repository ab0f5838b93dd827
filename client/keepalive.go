package client

import (
	"fmt"
	"time"
)

// keepAlive sends a Ping whenever nothing was sent for KeepAlive, and ends
// the session when nothing was received for ServerTimeout. It sleeps until
// the nearer of the two deadlines, so an idle connection costs no wakeups
// in between.
//
// A wake far later than asked for means the process (or the machine) was
// suspended: whatever the server sent meanwhile is in the socket buffer,
// unread, because the reader was suspended too. Judging the timeout before
// the reader has run would throw that away, so such a wake gives the
// reader lateWakeGrace to show that data arrived; and the ping waits as
// long (see wokeLate).
func (s *session) keepAlive() {
	o := &s.c.opts
	now := s.elapsed()
	s.lastRecv.Store(now)
	s.lastSend.Store(now)
	timer := s.c.clk.newTimer(o.KeepAlive)
	defer timer.stop()
	var graceUntil, late int64 // late: how late the last wake was, in ns
	for {
		now := s.elapsed()
		deadline := s.lastRecv.Load() + int64(o.ServerTimeout)
		if s.wokeLate(now, late) && now >= deadline {
			s.c.log.Info("keep-alive timer fired late (process suspended?): giving the reader time to catch up before the server timeout",
				"late", time.Duration(late).Round(time.Millisecond), "grace", s.lateGrace())
			graceUntil = now + int64(s.lateGrace())
		}
		late = 0
		if now >= max(deadline, graceUntil) {
			s.c.log.Info("server timeout", "timeout", o.ServerTimeout)
			s.end(fmt.Errorf("Server timeout (%s) elapsed without receiving a message from the server.", o.ServerTimeout), true)
			return
		}
		nextPing := max(s.lastSend.Load()+int64(o.KeepAlive), s.quietUntil.Load())
		if now >= nextPing {
			if err := s.write(s.c.ctx, s.c.wp.ping); err != nil {
				if s.buf != nil && !s.isEnded() {
					// The transport dropped and the reader is resuming it;
					// the next ping goes on the new one.
					s.lastSend.Store(s.elapsed())
					continue
				}
				s.end(fmt.Errorf("sending a keep-alive ping failed: %w", err), true)
				return
			}
			continue
		}
		wake := min(max(deadline, graceUntil), nextPing)
		timer.reset(time.Duration(wake - now))
		select {
		case <-timer.ch():
			late = s.elapsed() - wake
		case <-s.done:
			return
		}
	}
}

// A keep-alive or Ack wake more than lateWakeSlack after its time is
// taken for a suspension rather than scheduling delay; it then gives the
// reader lateWakeGrace (at most ServerTimeout) to read what arrived
// meanwhile.
const (
	lateWakeSlack = time.Second
	lateWakeGrace = 2 * time.Second
)

// lateGrace is the grace after a late wake, never past the server timeout.
func (s *session) lateGrace() time.Duration { return min(lateWakeGrace, s.c.opts.ServerTimeout) }

// wokeLate reports whether a wake at now (session time, ns), late ns after
// its time, follows a suspension, and if so keeps the session's own
// writes (pings, Acks) back until the grace ends.
//
// While the process was stopped the server may have given up on it and
// closed the socket with data still in its send buffer, waiting for room
// in ours. Data that reaches a socket its owner has closed makes the
// peer's kernel answer with a reset, which discards everything it had yet
// to send: a ping written at once on waking loses those messages. Reading
// first lets them, and the server's Close, arrive.
func (s *session) wokeLate(now, late int64) bool {
	if late <= int64(lateWakeSlack) {
		return false
	}
	until := now + int64(s.lateGrace())
	for {
		cur := s.quietUntil.Load()
		if cur >= until || s.quietUntil.CompareAndSwap(cur, until) {
			return true
		}
	}
}

// clock is the time source of a session's receive timestamps, its
// keep-alive and its acker. Tests replace it to make their timers fire
// late, as they do after the process was suspended, without waiting.
type clock interface {
	since(t time.Time) time.Duration
	newTimer(d time.Duration) clockTimer
}

// clockTimer is the part of *time.Timer the keep-alive uses.
type clockTimer interface {
	ch() <-chan time.Time
	reset(d time.Duration)
	stop()
}

type realClock struct{}

func (realClock) since(t time.Time) time.Duration { return time.Since(t) }

func (realClock) newTimer(d time.Duration) clockTimer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) ch() <-chan time.Time  { return r.t.C }
func (r realTimer) reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) stop()                 { r.t.Stop() }
