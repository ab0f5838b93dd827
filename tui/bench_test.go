package tui

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// benchEvents returns n chat messages of a typical size (about 120 bytes
// on the wire) spread over three connections.
func benchEvents(n int) []Event {
	conns := []string{"alice@chat", "bob@chat", "alice#2@chat"}
	evs := make([]Event, n)
	for i := range evs {
		args, _ := json.Marshal([]protocol.ChatMessage{{Sender: "user" + fmt.Sprint(i%7), Text: fmt.Sprintf("message number %d, hello there", i)}})
		msg := protocol.NewInvocation("newMessage", args)
		msg.Headers = protocol.EncodeHeaders(map[string]string{"route": "broadcast"})
		msg.Fields |= protocol.FieldHeaders
		raw := protocol.AppendMessage(nil, &msg)
		raw = raw[:len(raw)-1]
		msg, _ = protocol.ParseMessage(raw, protocol.Lenient)
		evs[i] = Event{Conn: spec(conns[i%3], userOf(conns[i%3])),
			Event: client.Event{Kind: client.EventMessage, Time: t0.Add(time.Duration(i) * 50 * time.Microsecond), Message: msg, Raw: raw}}
	}
	return evs
}

func fullModel(b *testing.B, w, h int) *Model {
	m := newLiveModel(w, h, Config{History: DefaultHistory})
	feed(m, benchEvents(DefaultHistory))
	if m.stream.history.Len() != DefaultHistory {
		b.Fatalf("ring holds %d", m.stream.history.Len())
	}
	return m
}

// benchTerminal is what Bubble Tea's renderer does with a frame: the view
// is drawn into a cell buffer, compared with the last frame, and the
// difference written out, here to a counter.
type benchTerminal struct {
	scr     *uv.TerminalRenderer
	buf     uv.ScreenBuffer
	written int
}

func newBenchTerminal(w, h int) *benchTerminal {
	t := &benchTerminal{buf: uv.NewScreenBuffer(w, h)}
	t.scr = uv.NewTerminalRenderer(writeCounter{&t.written}, []string{"TERM=xterm-256color", "COLORTERM=truecolor"})
	t.scr.SetColorProfile(colorprofile.TrueColor)
	t.scr.Resize(w, h)
	t.scr.SetScrollOptim(true)
	t.scr.EnterAltScreen()
	return t
}

func (t *benchTerminal) draw(b *testing.B, v tea.View) {
	t.buf.Clear()
	uv.NewStyledString(v.Content).Draw(t.buf, t.buf.Bounds())
	t.scr.Render(t.buf.RenderBuffer)
	if err := t.scr.Flush(); err != nil {
		b.Fatal(err)
	}
}

type writeCounter struct{ n *int }

func (w writeCounter) Write(p []byte) (int, error) { *w.n += len(p); return len(p), nil }

// BenchmarkFrameRendered is a frame as the terminal gets it during a
// flood, at 200×60 with a full ring: a batch of 667 messages (20 000 a
// second at 30 frames a second) has moved the stream on, and the frame is
// drawn, then diffed and written out by the terminal renderer.
func BenchmarkFrameRendered(b *testing.B) {
	m, term, batches := floodSetup(b)
	b.ReportAllocs()
	i, written := 0, term.written
	for b.Loop() {
		m.Update(batchMsg(Batch{Events: batches[i%len(batches)]}))
		i++
		term.draw(b, m.View())
	}
	b.ReportMetric(float64(term.written-written)/float64(i), "bytes/frame")
}

// floodBatch is the Feed's batch at 20 000 msgs/s: about 30 a second.
const floodBatch = 20_000 / 30

// floodSetup is a full model at 200×60 whose frame the terminal has drawn,
// and 16 batches of floodBatch messages to move it on.
func floodSetup(b *testing.B) (*Model, *benchTerminal, [][]Event) {
	m := fullModel(b, 200, 60)
	evs := benchEvents(floodBatch * 16)
	var batches [][]Event
	for k := 0; k < len(evs); k += floodBatch {
		batches = append(batches, evs[k:k+floodBatch])
	}
	term := newBenchTerminal(200, 60)
	term.draw(b, m.View())
	return m, term, batches
}

// BenchmarkFrame is one full render at 200×60 with a full ring: its cost is
// the rows on screen, not the 50 000 messages kept.
func BenchmarkFrame(b *testing.B) {
	m := fullModel(b, 200, 60)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkFrameByHistory shows that a frame's cost does not grow with the
// history kept.
func BenchmarkFrameByHistory(b *testing.B) {
	for _, n := range []int{1_000, 50_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := newLiveModel(200, 60, Config{History: n})
			feed(m, benchEvents(n))
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkFrameFiltered renders with a filter that matches every seventh
// message.
func BenchmarkFrameFiltered(b *testing.B) {
	m := fullModel(b, 200, 60)
	m.stream.setQuery("user3")
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkIngest20k feeds 20 000 messages per second as the feed does
// during a flood: one batch of 667 per two 16 ms frames, each followed by
// a frame and two key presses that are drawn at once, every frame drawn
// by the terminal renderer as in BenchmarkFrameRendered. ns/op is the cost
// of two frames' work; it must stay well under 33 ms for the screen to
// keep up and answer keys within a frame.
func BenchmarkIngest20k(b *testing.B) {
	m, term, batches := floodSetup(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Update(batchMsg(Batch{Events: batches[i%len(batches)]}))
		i++
		term.draw(b, m.View())
		m.Update(tea.KeyPressMsg{Code: tea.KeyUp})
		term.draw(b, m.View())
		m.Update(tea.KeyPressMsg{Code: tea.KeyEnd})
		term.draw(b, m.View())
	}
	b.ReportMetric(floodBatch, "msgs/batch")
}

// BenchmarkFilterKeystroke is the cost of one keystroke in the filter: one
// scan of the full ring.
func BenchmarkFilterKeystroke(b *testing.B) {
	m := fullModel(b, 200, 60)
	qs := []string{"hello", "user3", "target:newMessage", "number 4"}
	i := 0
	for b.Loop() {
		m.stream.setQuery(qs[i%len(qs)])
		i++
	}
}

// BenchmarkRingMemory reports the heap held by a full ring of typical chat
// messages (MB per 50 000).
func BenchmarkRingMemory(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		m := newTestModel(200, 60, Config{History: DefaultHistory})
		// The messages' own memory counts: the ring keeps it.
		feed(m, benchEvents(DefaultHistory))
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB/full-ring")
		runtime.KeepAlive(m)
	}
}

// BenchmarkFeed is the Feed's cost per event: three connections send b.N
// message events between them, read on the Feed's one goroutine and
// batched per frame; each batch's events go back to the Feed as Update
// hands them back.
func BenchmarkFeed(b *testing.B) {
	conns := make(chan Source, 3)
	ins := make([]chan client.Event, 3)
	for i := range ins {
		ins[i] = make(chan client.Event, client.DefaultEventBuffer)
		conns <- Source{Spec: ConnSpec{Name: fmt.Sprint("c", i), Hub: "chat"}, Events: ins[i]}
	}
	close(conns)
	f := NewFeed(conns, time.Millisecond, 0)
	defer f.Stop()
	b.ReportAllocs()
	go func() {
		for i := range b.N {
			ins[i%3] <- client.Event{Kind: client.EventMessage}
		}
		for _, in := range ins {
			close(in)
		}
	}()
	n := 0
	for {
		bm, ok := f.Next()().(batchMsg)
		if !ok {
			break
		}
		n += len(bm.Events)
		f.recycle(bm.Events)
	}
	if n != b.N {
		b.Fatalf("%d events batched, want %d", n, b.N)
	}
}

// BenchmarkIngest is the screen's cost per message with no frame drawn:
// batches of 1 000 chat messages into a full ring.
func BenchmarkIngest(b *testing.B) {
	m := fullModel(b, 200, 60)
	evs := benchEvents(16_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % 16_000
		i++
		if k%1000 == 0 {
			m.Update(batchMsg(Batch{Events: evs[k : k+1000]}))
		}
	}
}
