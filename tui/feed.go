package tui

import (
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
)

// DefaultFrame is how often the Feed hands a batch to the screen: one frame
// at 60 frames per second.
const DefaultFrame = 16 * time.Millisecond

// Batch is what the Feed hands to the screen at most once per frame: every
// event that arrived since the last batch.
type Batch struct {
	Events []Event
	// Dropped counts message events the Feed discarded because the screen
	// fell more than a ring's worth behind; they still count in the rates.
	Dropped int
	// DroppedByTarget holds the targets of the dropped messages, so the
	// sidebar counts stay exact.
	DroppedByTarget map[string]int
}

// batchMsg carries one Batch into Update.
type batchMsg Batch

// feedClosedMsg says the session's event channel is closed.
type feedClosedMsg struct{}

// Feed drains a Session's event channel on its own goroutine and hands the
// screen one Batch per frame at most, so a burst of thousands of SignalR
// messages costs one Update and one render, never one per message.
//
// The goroutine holds at most max message events; beyond that it drops the
// oldest messages (counting them), because the ring would evict them anyway.
type Feed struct {
	in    <-chan Event
	out   chan Batch
	done  chan struct{}
	frame time.Duration
	max   int

	stopOnce sync.Once
	wg       sync.WaitGroup
}

// NewFeed returns a Feed over in. frame is the shortest time between two
// batches (DefaultFrame when zero); max bounds the events held while the
// screen is busy (50 000 when zero).
func NewFeed(in <-chan Event, frame time.Duration, max int) *Feed {
	if frame <= 0 {
		frame = DefaultFrame
	}
	if max <= 0 {
		max = DefaultHistory
	}
	f := &Feed{in: in, out: make(chan Batch, 1), done: make(chan struct{}), frame: frame, max: max}
	f.wg.Add(1)
	go f.run()
	return f
}

// Stop ends the Feed's goroutine and waits for it. It does not close the
// session; a pending Next command returns nil.
func (f *Feed) Stop() {
	f.stopOnce.Do(func() { close(f.done) })
	f.wg.Wait()
}

// Next returns a command that waits for the next batch. Update re-arms it
// after each batch, so exactly one waits at any time.
func (f *Feed) Next() tea.Cmd {
	return func() tea.Msg {
		select {
		case b, ok := <-f.out:
			if !ok {
				return feedClosedMsg{}
			}
			return batchMsg(b)
		case <-f.done:
			return nil
		}
	}
}

func (f *Feed) run() {
	defer f.wg.Done()
	var (
		pending []Event
		dropped int
		byTgt   map[string]int
		timer   = time.NewTimer(time.Hour)
		armed   bool
	)
	timer.Stop()
	defer timer.Stop()
	arm := func() {
		if !armed {
			timer.Reset(f.frame)
			armed = true
		}
	}
	for {
		select {
		case <-f.done:
			return
		case ev, ok := <-f.in:
			if !ok {
				if len(pending) > 0 || dropped > 0 {
					select {
					case f.out <- Batch{Events: pending, Dropped: dropped, DroppedByTarget: byTgt}:
					case <-f.done:
						return
					}
				}
				// Closed only here, so that Next tells "the session
				// ended" (feedClosedMsg) from "the Feed was stopped" (nil).
				close(f.out)
				return
			}
			pending = append(pending, ev)
			if len(pending) >= 2*f.max {
				pending, dropped, byTgt = trimPending(pending, f.max, dropped, byTgt)
			}
			arm()
		case <-timer.C:
			armed = false
			if len(pending) == 0 && dropped == 0 {
				continue
			}
			select {
			case f.out <- Batch{Events: pending, Dropped: dropped, DroppedByTarget: byTgt}:
				pending, dropped, byTgt = nil, 0, nil
			default:
				// The screen has not taken the last batch yet: keep
				// collecting and try again next frame.
				arm()
			}
		}
	}
}

// trimPending keeps the newest max message events and every state event,
// counting what it drops; it runs once per max events, so it costs O(1) per
// event.
func trimPending(p []Event, max, dropped int, byTgt map[string]int) ([]Event, int, map[string]int) {
	excess := len(p) - max
	out := make([]Event, 0, max+16)
	for _, ev := range p {
		if excess > 0 && ev.Kind == EventMessage {
			excess--
			dropped++
			if byTgt == nil {
				byTgt = map[string]int{}
			}
			byTgt[ev.Msg.Target]++
			continue
		}
		out = append(out, ev)
	}
	return out, dropped, byTgt
}
