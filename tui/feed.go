package tui

import (
	"reflect"
	"slices"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/client"
)

// DefaultFrame is how soon the Feed hands the screen a message that ends a
// quiet spell: one frame at 60 frames per second. During a flood it hands
// one batch every two frames, about 30 a second: the screen still reads as
// continuous, and a redraw costs the same whatever the batch holds, so the
// CPU goes to the messages and the keys (which the screen answers within a
// frame, batches or not).
const DefaultFrame = 16 * time.Millisecond

// Batch is what the Feed hands to the screen at most once per frame: the
// events that arrived since the last batch, batchMax at most.
type Batch struct {
	// Opened lists the connections the session announced since the last
	// batch, in the order it opened them, so that the screen lists them in
	// that order whichever speaks first.
	Opened []ConnSpec
	Events []Event
	// Dropped counts message and error events the Feed discarded because
	// the screen fell more than a ring's worth behind; they still count in
	// the totals.
	Dropped int
	// DroppedByTarget holds the targets of the dropped messages, so the
	// sidebar counts stay exact.
	DroppedByTarget map[string]int
}

// batchMsg carries one Batch into Update.
type batchMsg Batch

// feedClosedMsg says the session has closed and every connection has
// sent its last event.
type feedClosedMsg struct{}

// Feed reads every connection of a Session on one goroutine and hands the
// screen one Batch per frame at most (per two frames during a flood), so a burst of thousands of SignalR
// messages costs one Update and one render, never one per message. It
// reads each connection's client.Event channel itself (one select over all
// of them), so no goroutine per connection copies events on their way.
//
// The goroutine holds at most max message and error events; beyond that it
// drops the oldest of them (counting them), because the ring would evict
// them anyway. State changes are never dropped.
type Feed struct {
	conns <-chan Source
	out   chan Batch
	done  chan struct{}
	frame time.Duration
	max   int
	// free holds the events of batches the screen has ingested (recycle):
	// the Feed collects the next batches into them instead of allocating
	// and growing a slice of some 3 000 events 30 times a second.
	free chan []Event

	stopOnce sync.Once
	wg       sync.WaitGroup
}

// NewFeed returns a Feed over the connections announced on conns (see
// Session.Conns). frame is the shortest time between two batches
// (DefaultFrame when zero); max bounds the events held while the screen is
// busy (50 000 when zero).
func NewFeed(conns <-chan Source, frame time.Duration, max int) *Feed {
	if frame <= 0 {
		frame = DefaultFrame
	}
	if max <= 0 {
		max = DefaultHistory
	}
	f := &Feed{conns: conns, out: make(chan Batch, 1), done: make(chan struct{}), frame: frame, max: max,
		free: make(chan []Event, freeBatches)}
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

// recycle hands back the events of a batch once the screen has ingested
// them: nothing of the screen's refers to a batch's slice (ingest copies
// what it keeps out of each event), so the Feed may write over it. Slices
// larger than recycleMax are left to the collector, so that a burst does
// not pin its memory.
func (f *Feed) recycle(evs []Event) {
	if cap(evs) == 0 || cap(evs) > recycleMax {
		return
	}
	select {
	case f.free <- evs[:0]:
	default:
	}
}

// freeBatches is how many ingested batches' slices the Feed keeps for
// reuse: one being filled, one waiting in out for the screen, one being
// ingested. recycleMax bounds the events of a slice kept (424 bytes each,
// 3.5 MB), which a flood of 100 000 msgs/s fills in 80 ms: a batch of a
// burst, up to batchMax, goes to the collector.
const (
	freeBatches = 3
	recycleMax  = 8192
)

// The fixed cases of run's select; the connections' channels follow them.
const (
	caseDone = iota
	caseConns
	caseFrame
	caseFirstSource
)

// batchMax bounds the events of one batch: the screen ingests them in a
// few tens of milliseconds, so a key press waits no longer than that behind a
// burst. A backlog larger than that goes in several batches, each as soon
// as the screen has taken the one before (backlogPoll).
const (
	batchMax    = 16384
	backlogPoll = time.Millisecond
)

// drainMax bounds the events taken from one connection without going back
// to the select, so that the frame timer and the other connections get
// their turn during a flood.
const drainMax = 256

// feedState is what run collects between two batches.
type feedState struct {
	opened []ConnSpec
	// chunks hold the pending events, oldest first, at most batchMax in
	// each: the next batch is the first, and only the last one fills. A
	// backlog (a burst, or a screen that fell behind) thus never grows one
	// slice of up to twice max events, copying all of them each time.
	chunks  [][]Event
	n       int // events in chunks
	dropped int
	byTgt   map[string]int
	hint    int // the last batch's size: the next is likely the same
}

// take returns the next batch, the oldest chunk, and what is left to send
// after it.
func (st *feedState) take() (Batch, feedState) {
	b := Batch{Opened: st.opened, Dropped: st.dropped, DroppedByTarget: st.byTgt}
	rest := feedState{}
	if len(st.chunks) > 0 {
		b.Events = st.chunks[0]
		rest.chunks = st.chunks[1:]
		rest.n = st.n - len(b.Events)
		rest.hint = len(b.Events)
	}
	return b, rest
}

func (st *feedState) empty() bool {
	return len(st.opened) == 0 && st.n == 0 && st.dropped == 0
}

func (f *Feed) run() {
	defer f.wg.Done()
	var (
		st    feedState
		srcs  []Source
		timer = time.NewTimer(time.Hour)
		armed bool
		sent  time.Time // when the screen took the last batch
	)
	timer.Stop()
	defer timer.Stop()
	arm := func() {
		if armed {
			return
		}
		// A frame from the first event, and two from the last batch; a
		// backlog goes as soon as the screen has taken the last batch.
		d := max(f.frame, 2*f.frame-time.Since(sent))
		if st.n >= batchMax {
			d = backlogPoll
		}
		timer.Reset(d)
		armed = true
	}
	// The set of connections grows as the session opens them, so the
	// select is built at run time.
	cases := []reflect.SelectCase{
		caseDone:  {Dir: reflect.SelectRecv, Chan: reflect.ValueOf(f.done)},
		caseConns: {Dir: reflect.SelectRecv, Chan: reflect.ValueOf(f.conns)},
		caseFrame: {Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)},
	}
	open := f.conns != nil
	for open || len(srcs) > 0 {
		i, v, ok := reflect.Select(cases)
		switch {
		case i == caseDone:
			return
		case i == caseConns && !ok:
			open = false
			cases[caseConns].Chan = reflect.Value{} // a zero Chan is never chosen
		case i == caseConns:
			src := v.Interface().(Source)
			srcs = append(srcs, src)
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(src.Events)})
			st.opened = append(st.opened, src.Spec)
			arm()
		case i == caseFrame:
			armed = false
			if st.empty() {
				continue
			}
			b, rest := st.take()
			select {
			case f.out <- b:
				st = rest
				sent = time.Now()
				if st.n > 0 {
					arm()
				}
			default:
				// The screen has not taken the last batch yet: keep
				// collecting and try again next frame.
				arm()
			}
		default:
			k := i - caseFirstSource
			if ok {
				f.add(&st, srcs[k].Spec, v.Interface().(client.Event))
				ok = f.drain(&st, srcs[k])
				arm()
			}
			if !ok {
				srcs = slices.Delete(srcs, k, k+1)
				cases = slices.Delete(cases, i, i+1)
			}
		}
	}
	for !st.empty() {
		b, rest := st.take()
		select {
		case f.out <- b:
			st = rest
		case <-f.done:
			return
		}
	}
	// Closed only here, so that Next tells "the session ended"
	// (feedClosedMsg) from "the Feed was stopped" (nil).
	close(f.out)
}

// drain takes what src already holds, up to drainMax events, without
// another select; it reports false once src is closed.
func (f *Feed) drain(st *feedState, src Source) bool {
	for range drainMax {
		select {
		case ev, ok := <-src.Events:
			if !ok {
				return false
			}
			f.add(st, src.Spec, ev)
		default:
			return true
		}
	}
	return true
}

// add appends one event, trimming the pending events once they reach
// twice max.
func (f *Feed) add(st *feedState, spec ConnSpec, ev client.Event) {
	last := len(st.chunks) - 1
	if last < 0 || len(st.chunks[last]) >= batchMax {
		st.chunks = append(st.chunks, f.chunk(st.hint))
		last++
	}
	st.chunks[last] = append(st.chunks[last], Event{Conn: spec, Event: ev})
	st.n++
	if st.n >= 2*f.max {
		st.n, st.dropped, st.byTgt = trimPending(st.chunks, st.n-f.max, st.dropped, st.byTgt)
		st.chunks = slices.DeleteFunc(st.chunks, func(c []Event) bool { return len(c) == 0 })
	}
}

// chunk returns an empty slice for the next batch: one the screen handed
// back when it can hold a batch like the last, else a new one.
func (f *Feed) chunk(hint int) []Event {
	select {
	case c := <-f.free:
		if cap(c) >= min(hint, batchMax) {
			return c
		}
		// Too small for a batch like the last (the first batches of a
		// flood): it would grow, copying every event.
	default:
	}
	if hint == 0 {
		return nil
	}
	return make([]Event, 0, batchCap(hint))
}

// batchCap is the capacity to give a new batch when the last one held
// hint events: half as much again, so that a batch a little larger than
// the last, which a steady flood makes every few frames, does not grow
// its slice (copying every event) and the slice still goes back to the
// Feed (recycleMax); a batch of a backlog gets batchMax at once.
func batchCap(hint int) int {
	switch {
	case hint+hint/2 <= recycleMax:
		return hint + hint/2
	case hint <= recycleMax:
		return recycleMax
	}
	return batchMax
}

// trimPending drops the oldest excess message and error events of chunks
// and keeps every other event, compacting each chunk in place; it counts
// what it drops (messages also by target) and returns the events left.
// It runs once per max events, so it costs O(1) per event.
func trimPending(chunks [][]Event, excess, dropped int, byTgt map[string]int) (int, int, map[string]int) {
	n := 0
	for k, c := range chunks {
		out := c[:0]
		for _, ev := range c {
			if excess > 0 && (ev.Kind == client.EventMessage || ev.Kind == client.EventError) {
				excess--
				dropped++
				if ev.Kind == client.EventMessage {
					if byTgt == nil {
						byTgt = map[string]int{}
					}
					byTgt[ev.Message.Target]++
				}
				continue
			}
			out = append(out, ev)
		}
		clear(c[len(out):]) // what was dropped is the collector's
		chunks[k] = out
		n += len(out)
	}
	return n, dropped, byTgt
}
