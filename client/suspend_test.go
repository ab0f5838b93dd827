package client

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// jumpClock is a clock that stands still until the test moves it, and
// whose timers fire only then: a jump past a timer's time is a timer that
// fires late, as it does for a process woken from kill -STOP. Standing
// still keeps a loaded machine's delays out of the lateness it measures.
type jumpClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*jumpTimer
	armed  chan time.Duration // each reset, with its duration
}

type jumpTimer struct {
	clk *jumpClock
	c   chan time.Time
	at  time.Time // zero when not armed
}

func newJumpClock() *jumpClock {
	return &jumpClock{now: time.Now(), armed: make(chan time.Duration, 64)}
}

func (j *jumpClock) since(t time.Time) time.Duration {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.now.Sub(t)
}

func (j *jumpClock) newTimer(d time.Duration) clockTimer {
	j.mu.Lock()
	defer j.mu.Unlock()
	t := &jumpTimer{clk: j, c: make(chan time.Time, 1), at: j.now.Add(d)}
	j.timers = append(j.timers, t)
	return t
}

// jump moves the clock on by d and fires every timer now due.
func (j *jumpClock) jump(d time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.now = j.now.Add(d)
	for _, t := range j.timers {
		if !t.at.IsZero() && !t.at.After(j.now) {
			t.at = time.Time{}
			select {
			case t.c <- j.now:
			default:
			}
		}
	}
}

// waitArmed waits until a timer is reset, which the keep-alive does just
// before it waits, and returns the duration.
func (j *jumpClock) waitArmed(t *testing.T, c *Conn) time.Duration {
	t.Helper()
	select {
	case d := <-j.armed:
		return d
	case <-time.After(5 * time.Second):
		t.Fatalf("the keep-alive did not set its timer again; state %s", c.State())
		return 0
	}
}

// waitTimers waits until n timers exist: the goroutines that use them
// have started.
func (j *jumpClock) waitTimers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		j.mu.Lock()
		have := len(j.timers)
		j.mu.Unlock()
		if have >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d timers, want %d", have, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (t *jumpTimer) ch() <-chan time.Time { return t.c }

func (t *jumpTimer) reset(d time.Duration) {
	t.clk.mu.Lock()
	t.at = t.clk.now.Add(d)
	select {
	case <-t.c:
	default:
	}
	t.clk.mu.Unlock()
	select {
	case t.clk.armed <- d:
	default:
	}
}

func (t *jumpTimer) stop() {
	t.clk.mu.Lock()
	t.at = time.Time{}
	t.clk.mu.Unlock()
}

// suspendHub answers the handshake, then writes n invocations each time
// the test sends on burst, one WebSocket message each.
func suspendHub(t *testing.T, burst <-chan int) *fakeHub {
	return newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		gone := make(chan struct{})
		go func() {
			defer close(gone)
			drain(ctx, c, nil)
		}()
		defer func() { c.CloseNow(); <-gone }()
		for {
			select {
			case n := <-burst:
				for i := range n {
					msg := `{"type":1,"target":"tick","arguments":[` + itoa(i) + `]}` + "\x1e"
					if c.Write(ctx, websocket.MessageText, []byte(msg)) != nil {
						return
					}
				}
			case <-gone:
				return
			}
		}
	})
}

// suspended is a connection to a suspendHub on a jumpClock, started with
// the official keep-alive (15 s) and server timeout (30 s).
type suspended struct {
	c     *Conn
	f     *fakeHub
	clk   *jumpClock
	burst chan int
}

func startSuspended(t *testing.T) *suspended {
	t.Helper()
	s := &suspended{clk: newJumpClock(), burst: make(chan int)}
	s.f = suspendHub(t, s.burst)
	o := testOptions(s.f.URL())
	o.KeepAlive = 15 * time.Second
	o.ServerTimeout = 30 * time.Second
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c.clk = s.clk
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	expectState(t, c, Connecting)
	expectState(t, c, Connected)
	s.c = c
	s.clk.waitArmed(t, c)
	return s
}

// sleep40 is a kill -STOP for 40 s: the keep-alive timer set for 15 s
// fires 25 s late, with nothing received for longer than the 30 s server
// timeout. It returns the keep-alive's next wait.
func (s *suspended) sleep40(t *testing.T) time.Duration {
	t.Helper()
	s.clk.jump(40 * time.Second)
	return s.clk.waitArmed(t, s.c)
}

// A process suspended past the server timeout wakes with the keep-alive
// timer long overdue and the server's messages waiting in the socket
// buffer. The reader gets to read them before the timeout is judged.
func TestLateKeepAliveWakeKeepsWhatArrived(t *testing.T) {
	s := startSuspended(t)
	c := s.c
	if d := s.sleep40(t); d > lateWakeGrace {
		t.Fatalf("after a late wake the keep-alive waits %s, want at most the grace %s", d, lateWakeGrace)
	}
	// The reader now runs and drains what the socket holds.
	const n = 50
	s.burst <- n
	for i := range n {
		ev := nextMessage(t, c)
		if ev.Kind != EventMessage || ev.Message.Target != "tick" {
			t.Fatalf("message %d = %+v", i, ev)
		}
	}
	// The grace ends on time, with data received: the connection stays.
	s.clk.jump(lateWakeGrace)
	s.clk.waitArmed(t, c)
	if st := c.State(); st != Connected {
		t.Fatalf("state = %s after the reader caught up", st)
	}
	s.burst <- 1
	if ev := nextMessage(t, c); ev.Message.Target != "tick" {
		t.Fatalf("after the grace: %+v", ev)
	}
	if n := s.f.connects.Load(); n != 1 {
		t.Errorf("connects = %d, want 1: the connection should have been kept", n)
	}
}

// The grace does not keep a dead connection: when nothing arrives in it,
// the server timeout ends the connection as before.
func TestLateKeepAliveWakeStillTimesOut(t *testing.T) {
	s := startSuspended(t)
	s.sleep40(t)
	s.clk.jump(lateWakeGrace)
	ev := expectState(t, s.c, Disconnected)
	if ev.Err == nil || !strings.Contains(ev.Err.Error(), "Server timeout (30s) elapsed") {
		t.Fatalf("err = %v", ev.Err)
	}
}

// A wake on time past the deadline times out at once, with no grace.
func TestTimelyKeepAliveWakeTimesOut(t *testing.T) {
	s := startSuspended(t)
	// Walk the clock in steps no timer can be late by: the ping at 15 s,
	// then the server timeout at 30 s.
	s.clk.jump(15 * time.Second)
	s.clk.jump(s.clk.waitArmed(t, s.c))
	ev := expectState(t, s.c, Disconnected)
	if ev.Err == nil || !strings.Contains(ev.Err.Error(), "Server timeout (30s) elapsed") {
		t.Fatalf("err = %v", ev.Err)
	}
}

// TestLateWakeHoldsWrites: on waking from a suspension the session writes
// nothing of its own, neither the overdue ping nor the overdue Ack, until
// the grace has let the reader catch up. A server that gave up meanwhile
// has closed its socket with messages still unsent, and data reaching that
// socket makes its kernel reset the connection, discarding them. After the
// grace both go out.
func TestLateWakeHoldsWrites(t *testing.T) {
	got := make(chan string, 64)
	f := statefulFake(t, func(ctx context.Context, n int, c *websocket.Conn) {
		inv := `{"type":1,"target":"t","arguments":[]}` + "\x1e"
		if n != 1 || !statefulHandshake(t, ctx, c, inv+inv) {
			return
		}
		eachRecord(ctx, c, func(rec string) bool {
			got <- rec
			if strings.Contains(rec, `"marker"`) {
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":1,"target":"pong","arguments":[]}`+"\x1e"))
			}
			return true
		})
	})
	clk := newJumpClock()
	o := testOptions(f.URL())
	o.StatefulReconnect = true
	// The acker's next tick comes a second after the grace, so that each
	// of the two writes after it is seen on its own.
	o.AckInterval = lateWakeGrace + time.Second
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c.clk = clk
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	nextMessage(t, c)
	nextMessage(t, c)    // an Ack is due
	clk.waitTimers(t, 2) // the keep-alive's and the acker's
	clk.waitArmed(t, c)  // the keep-alive waits
	// Suspended for 40 s: both timers fire long overdue.
	clk.jump(40 * time.Second)
	clk.waitArmed(t, c)
	clk.waitArmed(t, c)
	if err := c.Send(ctx, "marker", nil); err != nil {
		t.Fatal(err)
	}
	var before []string
	for rec := range recordsUntil(t, got, `"marker"`) {
		before = append(before, rec)
	}
	// The ping right after the handshake is the only record before the
	// marker.
	if len(before) != 2 || before[0] != `{"type":6}` {
		t.Fatalf("up to the marker the server got %q; want the ping after the handshake, then the marker: nothing written on waking", before)
	}
	if ev := nextMessage(t, c); ev.Message.Target != "pong" {
		t.Fatalf("got %+v, want the pong", ev)
	}
	// The grace ends: the keep-alive pings.
	clk.jump(lateWakeGrace)
	for rec := range recordsUntil(t, got, `{"type":6}`) {
		if rec != `{"type":6}` {
			t.Fatalf("after the grace the server got %q before the ping", rec)
		}
	}
	// The acker's next tick sends the Ack it held back.
	clk.jump(time.Second)
	for range recordsUntil(t, got, `{"type":8,"sequenceId":3}`) {
	}
}

// recordsUntil yields the records from got up to and including the first
// that contains want, failing after 5 s without one.
func recordsUntil(t *testing.T, got <-chan string, want string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for {
			select {
			case rec := <-got:
				if !yield(rec) || strings.Contains(rec, want) {
					return
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no record with %s within 5 s", want)
			}
		}
	}
}
