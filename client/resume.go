package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// Resumes that bring nothing new: a link that drops each transport before
// the server's replay gets through would otherwise resume hundreds of
// times a second and never catch up. Each such resume waits longer
// (idleResumeDelay, doubling), and after maxIdleResumes in a row the
// connection starts over with a full reconnect, since the server's replay
// cannot get through.
const (
	maxIdleResumes  = 5
	idleResumeDelay = 100 * time.Millisecond
	// resumeMinLife is how long a resumed transport must last to count as
	// progress when nothing new arrived on it: an idle link that drops now
	// and then is not a replay that cannot get through.
	resumeMinLife = time.Second
)

// resumeTracker judges whether resumes get anywhere. Only the reader uses
// it.
type resumeTracker struct {
	resumed     bool      // the transport in use came from a resume
	at          time.Time // when it came up
	recv, acked int64     // msgBuffer.progress when it came up
	idle        int       // resumed transports in a row that brought nothing
}

// dropped records that the transport in use dropped with the buffer's
// progress at recv and acked, and returns how many resumed transports in
// a row brought nothing new.
func (r *resumeTracker) dropped(recv, acked int64, now time.Time) int {
	if r.resumed && recv == r.recv && acked == r.acked && now.Sub(r.at) < resumeMinLife {
		r.idle++
	} else {
		r.idle = 0
	}
	return r.idle
}

// up records that a resumed transport came up.
func (r *resumeTracker) up(recv, acked int64, now time.Time) {
	r.resumed, r.at, r.recv, r.acked = true, now, recv, acked
}

// errReadLimitResume explains why a read over the limit is not resumed.
const errReadLimitResume = "stateful reconnect: not resuming, since the server would replay the same message: reconnecting with a new connection"

// resume tries to carry a stateful connection over to a new transport
// after the old one failed with cause: it dials the same URL again (no
// negotiate, no handshake), sends Sequence and an Ack of what arrived,
// replays what the server has not acknowledged, and from then on drops
// what the server replays twice. It returns the new transport; or nil
// and the error the session ends with when the session is not stateful,
// is ending, or resuming failed or would not help (a message over the
// read limit, the server refusing the URL, or too many resumes in a row
// that brought nothing new). The Reconnect policy then runs a full
// reconnect.
func (s *session) resume(cause error) (transport, error) {
	if s.buf == nil || s.isEnded() {
		return nil, cause
	}
	c := s.c
	old := s.transport()
	old.Close()
	if errors.Is(cause, ErrReadLimit) {
		c.log.Info(errReadLimitResume, "err", cause)
		return nil, fmt.Errorf("%s: %w", errReadLimitResume, cause)
	}
	// A record cut in half by the drop is replayed whole by the server.
	s.framer.Reset()
	if !s.settle() {
		return nil, cause
	}
	s.buf.disconnected()
	began := time.Now()
	recv, acked := s.buf.progress()
	nt, err := s.redial(s.resumes.dropped(recv, acked, began), cause)
	if nt == nil {
		return nil, err
	}
	now := time.Now()
	s.lastRecv.Store(s.elapsed())
	s.lastSend.Store(s.elapsed())
	s.resumes.up(recv, acked, now)
	n, size := s.buf.pending()
	c.log.Info("connection resumed", "after", now.Sub(began).Round(time.Millisecond), "replayed", n, "replayedBytes", size)
	ev := &Event{Kind: EventState, Time: now, State: Connected, Transport: nt.Name(), ConnectionID: s.connID, Hub: s.hub, AccessToken: s.target.token, Resumed: true}
	if !s.q.push(queued{t: now, state: ev}, s.stopped) {
		return nil, cause
	}
	return nt, nil
}

// redial opens the new transport of a resume and starts it with the
// replay. idle is how many resumes in a row brought nothing new before
// this one: each such attempt waits longer, and at maxIdleResumes it
// gives up. An attempt that fails on the network (the link may drop the
// new transport too) counts as one more; an answer from the server (404:
// the connection is gone; 401, 403: the token no longer works) ends the
// resume at once, since the same URL cannot work.
func (s *session) redial(idle int, cause error) (transport, error) {
	c := s.c
	for last := cause; ; idle++ {
		if idle >= maxIdleResumes {
			err := fmt.Errorf("stateful reconnect: gave up after %d resumes in a row that brought nothing new (the last: %w); reconnecting with a new connection", idle, last)
			c.log.Info("giving up on resuming", "err", err)
			return nil, err
		}
		if idle > 0 {
			delay := min(idleResumeDelay<<(idle-1), c.opts.ServerTimeout/2)
			c.log.Info("the last resume brought nothing new; waiting before the next", "idle", idle, "delay", delay, "err", last)
			// The server timeout restarts with each attempt: the keep-alive
			// check must not end the session while it waits.
			s.lastRecv.Store(s.elapsed())
			if !sleepCtx(s.sctx, delay) {
				return nil, cause
			}
		}
		s.lastRecv.Store(s.elapsed())
		c.log.Info("transport dropped, resuming the connection", "transport", s.tname, "err", last)
		ctx, cancel := context.WithTimeout(s.sctx, c.opts.HandshakeTimeout)
		nt, err := dialers[s.tname](ctx, c, s.target)
		cancel()
		if err != nil {
			var e *Error
			if s.sctx.Err() != nil || !errors.As(err, &e) || e.Status != 0 {
				c.log.Info("resume failed, reconnecting", "err", err)
				return nil, cause
			}
			c.log.Info("resume failed on the network, trying again", "err", err)
			last = err
			continue
		}
		s.tmu.Lock()
		// Set before the check: an end that marks the session after the
		// check then closes nt itself (end marks, then closes the transport
		// in use).
		s.setTransport(nt)
		if s.isEnded() {
			s.tmu.Unlock()
			nt.Close()
			return nil, cause
		}
		err = s.replayOn(nt)
		s.tmu.Unlock()
		if err == nil {
			s.resumes.idle = idle
			return nt, nil
		}
		nt.Close()
		if s.sctx.Err() != nil {
			return nil, cause
		}
		c.log.Info("resume failed while replaying, trying again", "err", err)
		last = err
	}
}

// settle waits until the dispatcher has handled every record read before
// the drop. What it delivers then counts in the resume's Ack, rather than
// being dropped as arriving before the server's Sequence and replayed. It
// reports false when the session ends meanwhile.
func (s *session) settle() bool {
	done := make(chan struct{})
	if !s.q.push(queued{settled: done}, s.stopped) {
		return false
	}
	select {
	case <-done:
		return true
	case <-s.stopped:
		return false
	case <-s.c.closing:
		return false
	}
}

// replayOn starts the resumed transport t: Sequence, an Ack of what was
// delivered (each record it covers is one the server's replay skips, and
// the earlier Ack may have been lost with the drop), then what the server
// has not acknowledged, in writes of at most protocol.ReplayChunkSize
// bytes. The caller holds tmu for writing, so no send comes in between.
func (s *session) replayOn(t transport) error {
	p, from, ack := s.buf.resumeHead()
	var chunk [][]byte
	for {
		chunk, from = s.buf.replay(chunk[:0], from, protocol.ReplayChunkSize-len(p))
		for _, r := range chunk {
			p = append(p, r...)
		}
		if len(p) == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(s.sctx, writeTimeout)
		err := t.Write(ctx, p)
		cancel()
		if err != nil {
			return err
		}
		if ack > 0 {
			s.buf.acked(ack)
			ack = 0
		}
		p = p[:0]
	}
}

// lockAndKeep takes tmu for reading and keeps p, a trackable record, in
// the buffer: numbered under the lock, p belongs to the transport the
// caller writes it on, so a resume (which takes the lock for writing)
// replays it when that write failed and never replays one the caller has
// yet to write. While the buffer is full it waits for an Ack, without the
// lock, until ctx ends or the session stops; or, unless wait, returns
// errBufferFull at once.
func (s *session) lockAndKeep(ctx context.Context, p []byte, wait bool) error {
	for {
		s.tmu.RLock()
		room, ok := s.buf.add(p)
		if ok {
			return nil
		}
		s.tmu.RUnlock()
		if !wait {
			return errBufferFull
		}
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stopped:
			return errBufferClosed
		}
	}
}

// acker acknowledges, every AckInterval, what arrived since the last Ack,
// so the server can drop it from its replay buffer. An Ack whose write
// failed stays due, and so does one held back after a suspension (see
// wokeLate).
func (s *session) acker() {
	iv := s.c.opts.AckInterval
	t := s.c.clk.newTimer(iv)
	defer t.stop()
	due := s.elapsed() + int64(iv)
	for {
		select {
		case <-t.ch():
			now := s.elapsed()
			s.wokeLate(now, now-due)
			if now >= s.quietUntil.Load() {
				s.sendAck()
			}
			due = s.elapsed() + int64(iv)
			t.reset(iv)
		case <-s.stopped:
			return
		}
	}
}

// sendAck writes an Ack of what arrived since the last one, if anything
// did.
func (s *session) sendAck() {
	ack, n, ok := s.buf.ackDue()
	if !ok {
		return
	}
	if err := s.write(s.c.ctx, ack); err != nil {
		s.c.log.Debug("ack not sent", "err", err)
		return
	}
	s.buf.acked(n)
}
