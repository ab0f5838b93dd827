package tui

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
)

// drain reads batches through Next, as Update would, until the feed closes.
func drain(t *testing.T, f *Feed) []Batch {
	t.Helper()
	var out []Batch
	for {
		switch msg := f.Next()().(type) {
		case batchMsg:
			out = append(out, Batch(msg))
		case feedClosedMsg:
			return out
		default:
			t.Fatalf("Next returned %T", msg)
		}
	}
}

// oneConn returns a session channel that has announced one connection,
// a, whose events are in, and is closed.
func oneConn(in chan client.Event) chan Source {
	conns := make(chan Source, 1)
	conns <- Source{Spec: ConnSpec{Name: "a", Hub: "chat"}, Events: in}
	close(conns)
	return conns
}

func TestFeedBatchesPerFrame(t *testing.T) {
	in := make(chan client.Event, 64)
	const frame = 20 * time.Millisecond
	f := NewFeed(oneConn(in), frame, 100_000)
	defer f.Stop()
	const n = 20_000
	start := time.Now()
	go func() {
		for i := range n {
			in <- client.Event{Kind: client.EventMessage, Attempt: i}
			if i%2000 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		close(in)
	}()
	batches := drain(t, f)
	elapsed := time.Since(start)
	got := 0
	for _, b := range batches {
		for _, ev := range b.Events {
			if ev.Attempt != got {
				t.Fatalf("event %d arrived as number %d: order lost", ev.Attempt, got)
			}
			if ev.Conn.Label() != "a" {
				t.Fatalf("event %d came from %q, want a", got, ev.Conn.Label())
			}
			got++
		}
	}
	if got != n {
		t.Fatalf("%d events delivered, want %d", got, n)
	}
	// One batch per two frames at most, plus the final flush on close;
	// full batches (a backlog) go as soon as the screen takes them.
	short := 0
	for _, b := range batches {
		if len(b.Events) < batchMax {
			short++
		}
	}
	if limit := int(elapsed/(2*frame)) + 2; short > limit {
		t.Fatalf("%d batches in %v: more than one per two %v frames", short, elapsed, frame)
	}
	if len(batches) >= n/10 {
		t.Fatalf("%d batches for %d events: not batched", len(batches), n)
	}
}

// TestFeedBacklogInBatches checks that a backlog of events reaches the
// screen in order, in batches of at most batchMax, so that no batch holds
// the screen (and the keys) for long.
func TestFeedBacklogInBatches(t *testing.T) {
	const n = 3*batchMax + 5
	in := make(chan client.Event, n)
	for i := range n {
		in <- client.Event{Kind: client.EventMessage, Attempt: i}
	}
	f := NewFeed(oneConn(in), time.Millisecond, 100_000)
	defer f.Stop()
	got, batches := 0, 0
	for got < n {
		bm, ok := f.Next()().(batchMsg)
		if !ok {
			t.Fatalf("the feed ended after %d events", got)
		}
		batches++
		if len(bm.Events) > batchMax {
			t.Fatalf("a batch of %d events, more than %d", len(bm.Events), batchMax)
		}
		for _, ev := range bm.Events {
			if ev.Attempt != got {
				t.Fatalf("event %d arrived as number %d: order lost", ev.Attempt, got)
			}
			got++
		}
	}
	close(in)
	if rest := drain(t, f); len(rest) != 0 {
		t.Fatalf("%d more batches after every event", len(rest))
	}
	if batches < 4 {
		t.Fatalf("%d events in %d batches", n, batches)
	}
}

// TestFeedReadsEveryConnection has several connections, announced while
// the feed runs, send at once: every event arrives, each connection's in
// its order and named by its connection, the connections are listed in
// the order they were announced, and the feed ends once the session and
// every connection have closed.
func TestFeedReadsEveryConnection(t *testing.T) {
	conns := make(chan Source)
	f := NewFeed(conns, time.Millisecond, 0)
	defer f.Stop()
	const nConn, perConn = 5, 3000
	done := make(chan struct{})
	go func() {
		defer close(done)
		ins := make([]chan client.Event, nConn)
		for c := range ins {
			ins[c] = make(chan client.Event, 16)
			conns <- Source{Spec: ConnSpec{Name: fmt.Sprint("c", c), Hub: "chat"}, Events: ins[c]}
		}
		close(conns)
		for i := range perConn {
			for c := range ins {
				ins[c] <- client.Event{Kind: client.EventMessage, Attempt: i}
			}
		}
		for _, in := range ins {
			close(in)
		}
	}()
	next := map[string]int{}
	var opened []string
	for _, b := range drain(t, f) {
		for _, spec := range b.Opened {
			opened = append(opened, spec.Label())
		}
		for _, ev := range b.Events {
			c := ev.Conn.Label()
			if ev.Attempt != next[c] {
				t.Fatalf("%s: event %d arrived as number %d", c, ev.Attempt, next[c])
			}
			next[c]++
		}
	}
	<-done
	if fmt.Sprint(opened) != "[c0 c1 c2 c3 c4]" {
		t.Fatalf("opened %v, want c0 to c4 in order", opened)
	}
	for c := range nConn {
		if n := next[fmt.Sprint("c", c)]; n != perConn {
			t.Fatalf("c%d: %d events, want %d", c, n, perConn)
		}
	}
}

// TestFeedDropsOldestWhenScreenStalls holds the screen back: the feed keeps a
// bounded number of messages, never drops a state change, and counts what
// it drops so the totals stay exact.
func TestFeedDropsOldestWhenScreenStalls(t *testing.T) {
	in := make(chan client.Event, 5000)
	for i := range 5000 {
		ev := client.Event{Kind: client.EventMessage, Attempt: i}
		ev.Message.Target = fmt.Sprint("t", i%2)
		switch {
		case i%1000 == 0:
			ev = client.Event{Kind: client.EventState, Attempt: i}
		case i%1000 == 1:
			ev = client.Event{Kind: client.EventError, Attempt: i, Raw: []byte("{")}
		}
		in <- ev
	}
	close(in)
	f := NewFeed(oneConn(in), time.Millisecond, 100)
	defer f.Stop()
	batches := drain(t, f)
	msgs, states, dropped, byTarget := 0, 0, 0, 0
	for _, b := range batches {
		dropped += b.Dropped
		for _, n := range b.DroppedByTarget {
			byTarget += n
		}
		for _, ev := range b.Events {
			if ev.Kind == client.EventState {
				states++
			} else {
				msgs++
			}
		}
		if len(b.Events) > 2*100+5 {
			t.Fatalf("a batch holds %d events, bound is about %d", len(b.Events), 2*100)
		}
	}
	if states != 5 {
		t.Fatalf("%d state events delivered, want all 5", states)
	}
	if msgs+dropped != 4995 || dropped == 0 || byTarget == 0 || byTarget >= dropped {
		t.Fatalf("messages and errors %d + dropped %d (messages by target %d) != 4995", msgs, dropped, byTarget)
	}
}

func TestFeedStopReleasesNext(t *testing.T) {
	f := NewFeed(make(chan Source), 0, 0)
	done := make(chan any)
	go func() { done <- f.Next()() }()
	f.Stop()
	select {
	case msg := <-done:
		if msg != nil {
			t.Fatalf("Next after Stop returned %T, want nil", msg)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next still blocked after Stop")
	}
}

// TestFeedTrimsAcrossChunks holds the screen back while more than twice
// max events arrive, max being larger than a batch: the pending events
// span several chunks when they are trimmed. What arrives is in order,
// each batch at most batchMax, every state change kept and every dropped
// message counted.
func TestFeedTrimsAcrossChunks(t *testing.T) {
	const max, n = batchMax, 3*batchMax + 100
	in := make(chan client.Event, n)
	msgs := 0
	for i := range n {
		ev := client.Event{Kind: client.EventMessage, Attempt: i}
		if i%5000 == 7 {
			ev.Kind = client.EventState
		} else {
			msgs++
		}
		in <- ev
	}
	close(in)
	f := NewFeed(oneConn(in), time.Millisecond, max)
	defer f.Stop()
	// The screen reads nothing until the Feed holds every event.
	for deadline := time.Now().Add(10 * time.Second); len(in) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the feed has not read %d events in 10 s", len(in))
		}
	}
	last, got, states, dropped := -1, 0, 0, 0
	for _, b := range drain(t, f) {
		if len(b.Events) > batchMax {
			t.Fatalf("a batch of %d events, more than %d", len(b.Events), batchMax)
		}
		dropped += b.Dropped
		for _, ev := range b.Events {
			if ev.Attempt <= last {
				t.Fatalf("event %d after %d: order lost", ev.Attempt, last)
			}
			last = ev.Attempt
			if ev.Kind == client.EventState {
				states++
			} else {
				got++
			}
		}
	}
	if states != n/5000+1 {
		t.Fatalf("%d state events delivered, want %d", states, n/5000+1)
	}
	if got+dropped != msgs || dropped == 0 {
		t.Fatalf("%d messages delivered and %d dropped, want %d in all, some dropped", got, dropped, msgs)
	}
	if last != n-1 {
		t.Fatalf("the last event delivered is %d, want %d", last, n-1)
	}
}
