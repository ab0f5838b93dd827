package tui

import (
	"fmt"
	"testing"
	"time"
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

func TestFeedBatchesPerFrame(t *testing.T) {
	in := make(chan Event, 64)
	const frame = 20 * time.Millisecond
	f := NewFeed(in, frame, 100_000)
	defer f.Stop()
	const n = 20_000
	start := time.Now()
	go func() {
		for i := range n {
			in <- Event{Kind: EventMessage, Conn: "a", Attempt: i}
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
			got++
		}
	}
	if got != n {
		t.Fatalf("%d events delivered, want %d", got, n)
	}
	// One batch per frame at most, plus the final flush on close.
	if limit := int(elapsed/frame) + 2; len(batches) > limit {
		t.Fatalf("%d batches in %v: more than one per %v frame", len(batches), elapsed, frame)
	}
	if len(batches) >= n/10 {
		t.Fatalf("%d batches for %d events: not batched", len(batches), n)
	}
}

// TestFeedDropsOldestWhenScreenStalls holds the screen back: the feed keeps a
// bounded number of messages, never drops a state change, and counts what
// it drops so the totals stay exact.
func TestFeedDropsOldestWhenScreenStalls(t *testing.T) {
	in := make(chan Event, 5000)
	for i := range 5000 {
		ev := Event{Kind: EventMessage, Attempt: i}
		ev.Msg.Target = fmt.Sprint("t", i%2)
		if i%1000 == 0 {
			ev = Event{Kind: EventState, Attempt: i}
		}
		in <- ev
	}
	close(in)
	f := NewFeed(in, time.Millisecond, 100)
	defer f.Stop()
	batches := drain(t, f)
	msgs, states, dropped, byTarget := 0, 0, 0, 0
	for _, b := range batches {
		dropped += b.Dropped
		for _, n := range b.DroppedByTarget {
			byTarget += n
		}
		for _, ev := range b.Events {
			if ev.Kind == EventState {
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
	if msgs+dropped != 4995 || dropped == 0 || byTarget != dropped {
		t.Fatalf("messages %d + dropped %d (by target %d) != 4995", msgs, dropped, byTarget)
	}
}

func TestFeedStopReleasesNext(t *testing.T) {
	in := make(chan Event)
	f := NewFeed(in, 0, 0)
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
