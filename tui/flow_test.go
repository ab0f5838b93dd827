package tui

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
)

// fakeSession is a Session whose connections carry the events the test
// pushes.
type fakeSession struct {
	conns  chan Source
	mu     sync.Mutex
	events map[string]chan client.Event // by label
	opened []ConnSpec
	closed bool
}

func newFakeSession() *fakeSession {
	return &fakeSession{conns: make(chan Source, 16), events: map[string]chan client.Event{}}
}

func (s *fakeSession) Conns() <-chan Source { return s.conns }

// push sends ev on its connection's channel, announcing the connection on
// its first event.
func (s *fakeSession) push(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.events[ev.Conn.Label()]
	if ch == nil {
		ch = make(chan client.Event, 1024)
		s.events[ev.Conn.Label()] = ch
		s.conns <- Source{Spec: ev.Conn, Events: ch}
	}
	ch <- ev.Event
}

func (s *fakeSession) Open(_ context.Context, spec ConnSpec) error {
	s.mu.Lock()
	s.opened = append(s.opened, spec)
	s.mu.Unlock()
	s.push(Event{Conn: spec, Event: client.Event{Kind: client.EventState, Time: time.Now(), State: client.Connected, Transport: "WebSockets"}})
	return nil
}

func (s *fakeSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		for _, ch := range s.events {
			close(ch)
		}
		close(s.conns)
	}
	return nil
}

// fakeSender records what it is asked to send and answers as answer
// says, 202 Accepted with no delivery headers when it is nil.
type fakeSender struct {
	mu     sync.Mutex
	sent   []Outgoing
	groups []GroupAction
	answer func(out Outgoing) (manage.Outcome, error)
}

func (f *fakeSender) Send(_ context.Context, out Outgoing) (manage.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, out)
	if f.answer != nil {
		return f.answer(out)
	}
	return manage.Outcome{Status: http.StatusAccepted}, nil
}

func (f *fakeSender) Group(_ context.Context, a GroupAction) (manage.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups = append(f.groups, a)
	return manage.Outcome{Status: http.StatusOK}, nil
}

func (f *fakeSender) snapshot() ([]Outgoing, []GroupAction) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Outgoing(nil), f.sent...), append([]GroupAction(nil), f.groups...)
}

type flow struct {
	t      *testing.T
	tm     *teatest.TestModel
	sess   *fakeSession
	sender *fakeSender
	feed   *Feed
}

func startFlow(t *testing.T) *flow {
	sess, sender := newFakeSession(), &fakeSender{}
	f := NewFeed(sess.Conns(), 0, 0)
	m := New(Config{Session: sess, Sender: sender, Feed: f, URL: "http://fake/api", Location: time.UTC, As: "alice"})
	for _, ev := range liveEvents() {
		ev.Time = time.Now()
		sess.push(ev)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(110, 30),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	fl := &flow{t: t, tm: tm, sess: sess, sender: sender, feed: f}
	t.Cleanup(func() {
		_ = sess.Close()
		f.Stop()
	})
	fl.waitText("priceTick")
	return fl
}

func (f *flow) waitText(s string) {
	f.t.Helper()
	// The renderer writes only what changed, with styles in between, so
	// match on the text without escapes, and on strings that are new.
	teatest.WaitFor(f.t, f.tm.Output(), func(b []byte) bool { return strings.Contains(ansi.Strip(string(b)), s) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func (f *flow) keys(ks ...string) {
	for _, k := range ks {
		f.tm.Send(press(k))
	}
}

// quit presses keys (to leave inputs) and then ctrl+c, which quits from
// any overlay, and returns the final model.
func (f *flow) quit(keys ...string) *Model {
	f.t.Helper()
	f.keys(append(keys, "ctrl+c")...)
	return f.tm.FinalModel(f.t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
}

func TestFlowFilter(t *testing.T) {
	f := startFlow(t)
	f.keys("/")
	f.tm.Type("target:priceT")
	f.waitText("/37 match")
	m := f.quit("enter")
	if m.stream.len() != 1 || m.stream.selected().msg.Target != "priceTick" {
		t.Fatalf("filter left %d rows", m.stream.len())
	}
}

func TestFlowSend(t *testing.T) {
	f := startFlow(t)
	f.keys("i") // the message input
	f.tm.Type("hi there")
	f.keys("enter")
	f.waitText("sent newMessage to everyone")
	f.keys("esc")
	sent, _ := f.sender.snapshot()
	if len(sent) != 1 || !sent[0].Chat || sent[0].Text != "hi there" || sent[0].Sender != "alice" {
		t.Fatalf("sent %+v", sent)
	}
	m := f.quit()
	if m.composer.body.Value() != "" {
		t.Fatalf("composer kept %q after a send", m.composer.body.Value())
	}
}

func TestFlowPause(t *testing.T) {
	f := startFlow(t)
	f.keys("p")
	f.waitText("PAUSED")
	for i := range 3 {
		f.sess.push(msgEv(time.Duration(i), "bob@chat", "late", `[1]`, ""))
	}
	f.waitText("paused, 3")
	m := f.quit()
	// 37 receipts of 19 messages: one row per message with three connections.
	if m.stream.len() != 19 || m.stats.count != 40 {
		t.Fatalf("paused view %d total %d, want 19 and 40", m.stream.len(), m.stats.count)
	}
}

func TestFlowNewConnection(t *testing.T) {
	f := startFlow(t)
	f.keys("n")
	f.waitText("New connection")
	f.keys("tab")
	f.tm.Type("carol")
	f.keys("tab")
	f.tm.Type("x-test: 1")
	f.keys("enter")
	f.waitText("carol")
	f.keys("g") // join carol's selected connection to a group
	f.waitText("Join or leave a group")
	f.keys("enter", "enter", "enter")
	f.waitText("joined devs")
	m := f.quit()
	f.sess.mu.Lock()
	opened := f.sess.opened
	f.sess.mu.Unlock()
	if len(opened) != 1 || opened[0].User != "carol" || opened[0].Headers["x-test"] != "1" {
		t.Fatalf("opened %+v", opened)
	}
	if _, ok := m.roster.index["carol@chat"]; !ok {
		t.Fatal("the new connection is not on screen")
	}
	if _, groups := f.sender.snapshot(); len(groups) != 1 || !groups[0].Add || groups[0].Group != "devs" {
		t.Fatalf("group actions %+v", groups)
	}
}

func TestFlowQuit(t *testing.T) {
	f := startFlow(t)
	f.keys("i")
	f.tm.Type("q") // q in an input is text, not quit
	f.keys("esc", "q")
	m := f.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if m.composer.body.Value() != "q" {
		t.Fatalf("composer holds %q, want the q typed into it", m.composer.body.Value())
	}
}

// TestFlowQClosesOverlays: in each overlay q closes it, and only q
// outside them quits.
func TestFlowQClosesOverlays(t *testing.T) {
	f := startFlow(t)
	for _, o := range []struct{ key, text string }{
		{"?", "Keys"}, {"r", "ROUTING"}, {"s", "from this screen"}, {"t", "Token inspector"}, {"e", "e or esc closes"}, {"enter", "MESSAGE #"},
	} {
		// Had q quit, the next overlay would never show.
		f.keys(o.key)
		f.waitText(o.text)
		f.keys("q")
	}
	f.keys("q")
	m := f.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if m.overlay != overlayNone {
		t.Fatalf("quit with overlay %d open", m.overlay)
	}
}

// TestFlowQuitAsksWithExtraConnections: with a connection opened here
// beyond the command's, q asks once; a key other than y stays, y quits.
func TestFlowQuitAsksWithExtraConnections(t *testing.T) {
	sess := newFakeSession()
	f := NewFeed(sess.Conns(), 0, 0)
	defer f.Stop()
	defer sess.Close()
	m := New(Config{Session: sess, Feed: f, URL: "http://fake/api", Location: time.UTC, Initial: 1})
	for _, ev := range liveEvents() {
		ev.Time = time.Now()
		sess.push(ev)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(110, 30),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	fl := &flow{t: t, tm: tm, sess: sess, feed: f}
	fl.waitText("priceTick")
	fl.keys("q")
	fl.waitText("quit, closing 2 connection(s) opened here too?")
	fl.keys("n")
	fl.waitText("? keys")
	fl.keys("q")
	fl.waitText("y quits")
	fl.keys("y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestFlowCtrlC(t *testing.T) {
	f := startFlow(t)
	f.keys("/", "ctrl+c")
	f.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestFlowParseError: a record that fails to parse reaches the screen as a
// row, with the parser's text and the record, as it does in `sigr watch`.
func TestFlowParseError(t *testing.T) {
	f := startFlow(t)
	f.sess.push(badEv(0, "bob@chat", `{"type":1,"target":"oops"`))
	f.waitText("Unexpected end of JSON input  raw: {")
	m := f.quit()
	e := m.stream.selected()
	if e == nil || !e.failed || string(e.raw) != `{"type":1,"target":"oops"` || e.msg.Error == "" {
		t.Fatalf("selected %+v, want the unreadable record", e)
	}
	if m.stream.len() != 20 || m.stats.count != 38 {
		t.Fatalf("view %d total %d, want 20 (19 messages and the record) and 38", m.stream.len(), m.stats.count)
	}
}
