package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/client"
)

// screens draws what a batch shows up in: the stream, a message's details
// (the last one and one in the middle), the routing matrix and the chat.
func screens(m *Model) []string {
	var out []string
	draw := func() { out = append(out, m.View().Content) }
	draw()
	m.openDetails()
	draw()
	m.back()
	m.stream.move(-7)
	m.openDetails()
	draw()
	m.back()
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnd})
	m.toggle(overlayMatrix)
	draw()
	m.toggle(overlayMatrix)
	m.view = viewChat
	draw()
	m.view = viewStream
	return out
}

// TestIngestKeepsNothingOfTheBatch writes over a batch once the screen
// has ingested it, as the Feed does when it collects the next batch into
// the same slice (recycle): every view must stay as it was. If the screen
// kept a pointer into Batch.Events, reusing the slice would change what
// it shows, and this test fails.
func TestIngestKeepsNothingOfTheBatch(t *testing.T) {
	f := NewFeed(make(chan Source), 0, 0)
	defer f.Stop()
	m := newTestModel(160, 40, Config{Feed: f, Groups: devs, As: "alice"})
	evs := append(liveEvents(), badEv(30*time.Second, "bob@chat", "{nope"),
		stateEv(31*time.Second, "bob@chat", "bob", client.Reconnecting))
	m.Update(batchMsg(Batch{Events: evs}))
	want := screens(m)

	other := msgEv(time.Hour, "mallory@chat", "stolen", chat("mallory", "overwritten"), "group:evil")
	other.ConnectionID, other.Err, other.Transport = "id-mallory", errOverwritten, "LongPolling"
	for i := range evs {
		evs[i] = other
	}
	got := screens(m)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("screen %d changed when the batch was written over:\nbefore:\n%s\nafter:\n%s", i, want[i], got[i])
		}
	}

	select {
	case free := <-f.free:
		if len(free) != 0 || cap(free) != cap(evs) || &free[:1][0] != &evs[0] {
			t.Fatalf("the Feed got back %d of %d events of another slice", len(free), cap(free))
		}
	default:
		t.Fatal("Update did not hand the batch's events back to the Feed")
	}
}

var errOverwritten = &overwrittenError{}

type overwrittenError struct{}

func (*overwrittenError) Error() string { return "overwritten" }

// TestFeedReusesRecycledEvents checks that the Feed collects the next
// batch into the events the screen handed back, and leaves a slice larger
// than recycleMax to the collector.
func TestFeedReusesRecycledEvents(t *testing.T) {
	in := make(chan client.Event)
	f := NewFeed(oneConn(in), time.Millisecond, 0)
	defer f.Stop()
	next := func(i int) Batch {
		t.Helper()
		in <- client.Event{Kind: client.EventMessage, Attempt: i}
		bm, ok := f.Next()().(batchMsg)
		if !ok || len(bm.Events) != 1 || bm.Events[0].Attempt != i {
			t.Fatalf("batch %d: %+v", i, bm)
		}
		return Batch(bm)
	}
	first := next(0)
	f.recycle(first.Events)
	if second := next(1); &second.Events[0] != &first.Events[0] {
		t.Fatal("the second batch is not in the first one's events")
	}

	f.recycle(make([]Event, 0, recycleMax+1))
	f.recycle(nil)
	select {
	case free := <-f.free:
		t.Fatalf("the Feed kept a slice of %d events", cap(free))
	default:
	}
	close(in)
	drain(t, f)
}
