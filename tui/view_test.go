package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/sigr-dev/sigr/client"
)

var sizes = []struct{ w, h int }{{80, 24}, {120, 35}}

// TestView goldens the whole screen in each main state at fixed sizes. The
// files hold the styled output with escapes quoted; `go test ./tui -update`
// rewrites them.
func TestView(t *testing.T) {
	states := []struct {
		name  string
		setup func(m *Model)
	}{
		{"empty", nil},
		{"live", func(m *Model) {}},
		{"filtered", func(m *Model) {
			m.Update(press("/"))
			for _, r := range "user:bob" {
				m.Update(press(string(r)))
			}
		}},
		{"filtered-or", func(m *Model) {
			m.Update(press("/"))
			for _, r := range "route:user:alice !conn:alice#2 | target:priceTick" {
				m.Update(press(string(r)))
			}
		}},
		{"target-selected", func(m *Model) {
			m.Update(press("tab"))
			for range 4 {
				m.Update(press("down")) // past the three connections
			}
		}},
		{"per-receipt", func(m *Model) { m.Update(press("m")) }},
		{"detail", func(m *Model) {
			m.Update(press("up"))
			m.Update(press("enter"))
		}},
		{"error", func(m *Model) {
			ev := stateEv(26*time.Second, "bob@chat", "bob", client.Reconnecting)
			ev.Attempt, ev.RetryIn = 2, 10*time.Second
			ev.Err = errors.New("connection lost: websocket: read: unexpected EOF (the server closed the connection without a Close message)")
			fail := stateEv(27*time.Second, "carol@chat", "carol", client.Disconnected)
			fail.Transport, fail.ConnectionID = "", ""
			fail.Err = errors.New("negotiate: POST http://127.0.0.1:7071/api/negotiate answered 401 Unauthorized")
			feed(m, []Event{ev, fail})
		}},
		{"gaps", func(m *Model) {
			down := stateEv(20*time.Second, "bob@chat", "bob", client.Reconnecting)
			back := stateEv(27*time.Second, "bob@chat", "bob", client.Connected)
			back.ConnectionID = "id-bob-2"
			adown := stateEv(28*time.Second, "alice@chat", "alice", client.Reconnecting)
			resumed := stateEv(29*time.Second, "alice@chat", "alice", client.Connected)
			resumed.Resumed = true
			feed(m, []Event{down, back, adown, resumed})
		}},
		{"matrix", func(m *Model) { m.Update(press("r")) }},
		{"help", func(m *Model) { m.Update(press("?")) }},
		{"token", func(m *Model) { m.Update(press("t")) }},
		{"newconn", func(m *Model) { m.Update(press("n")) }},
		{"group", func(m *Model) {
			m.Update(press("g"))
			m.Update(press("down"))
			m.Update(press("right"))
		}},
		{"unreadable", func(m *Model) { feed(m, []Event{badEv(29*time.Second, "bob@chat", badRecord)}) }},
		{"unreadable-detail", func(m *Model) {
			feed(m, []Event{badEv(29*time.Second, "bob@chat", badRecord)})
			m.Update(press("enter"))
		}},
	}
	for _, st := range states {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", st.name, sz.w, sz.h), func(t *testing.T) {
				m := newTestModel(sz.w, sz.h, Config{})
				if st.setup != nil {
					m = newLiveModel(sz.w, sz.h, Config{})
					st.setup(m)
				}
				out := m.View().Content
				checkFrame(t, out, sz.w, sz.h)
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestViewLight goldens the live screen on a light background.
func TestViewLight(t *testing.T) {
	m := newLiveModel(100, 30, Config{Light: true})
	golden.RequireEqual(t, m.View().Content)
}

// badRecord is a record that fails to parse, with text a terminal would
// obey if it reached it raw.
const badRecord = `{"type":1,"target":"x\u001b]0;pwned\u0007","arguments":[` + "\x1b[2J\xff"

// devs is the group the live session knows before the screen starts: bob
// is in it.
var devs = []GroupMember{{Hub: "chat", Group: "devs", Member: "bob"}}

// newLiveModel returns a w×h screen that knows devs and has received
// liveEvents.
func newLiveModel(w, h int, cfg Config) *Model {
	cfg.Groups = append(cfg.Groups, devs...)
	if cfg.As == "" {
		cfg.As = "alice" // as the demo sends
	}
	m := newTestModel(w, h, cfg)
	feed(m, liveEvents())
	return m
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// checkFrame asserts the frame is exactly h lines of exactly w cells, which
// is what keeps resizes free of leftovers.
func checkFrame(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Fatalf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i, got, w, ansi.Strip(l))
		}
	}
}

// TestResize renders the same state at many sizes, small ones included;
// every frame must fill the window exactly.
func TestResize(t *testing.T) {
	m := newLiveModel(80, 24, Config{})
	for _, sz := range [][2]int{{200, 60}, {80, 24}, {40, 10}, {20, 5}, {1, 1}, {59, 20}, {61, 20}, {120, 35}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, o := range []string{"", "r", "?", "t", "enter", "v", "s"} {
			if o != "" {
				m.Update(press(o))
			}
			checkFrame(t, m.View().Content, sz[0], sz[1])
			m.Update(press("esc"))
		}
	}
}

// TestNoColorSelection: without colours the selection must still show, so
// it turns to reverse video.
func TestNoColorSelection(t *testing.T) {
	m := newLiveModel(100, 30, Config{})
	m.Update(tea.ColorProfileMsg{Profile: colorprofile.ASCII})
	lines := strings.Split(m.View().Content, "\n")
	found := false
	for _, l := range lines {
		if strings.Contains(ansi.Strip(l), "priceTick  ~user:bob") && strings.Contains(l, "7m") {
			found = true
		}
	}
	if !found {
		t.Fatal("the selected row is not in reverse video under a colourless profile")
	}
}

// TestComposeKeyFocusesMessage checks that `i` goes straight to the message
// input from the stream, and that what is typed then is text, not commands.
func TestComposeKeyFocusesMessage(t *testing.T) {
	m := newLiveModel(100, 30, Config{})
	m.Update(press("r"))
	m.Update(press("i"))
	if m.focus != focusBody {
		t.Fatalf("focus = %d after i, want the message input", m.focus)
	}
	if m.overlay != overlayNone {
		t.Fatalf("overlay %d still open after i", m.overlay)
	}
	for _, r := range "pqr" {
		m.Update(press(string(r)))
	}
	if got := m.composer.body.Value(); got != "pqr" {
		t.Fatalf("message input holds %q, want the typed text", got)
	}
}

// TestStatusMarksResumeAndReconnect checks that the status line tells a
// stateful resume (same connection id) from a full reconnect (a new one).
func TestStatusMarksResumeAndReconnect(t *testing.T) {
	m := newTestModel(120, 30, Config{})
	feed(m, []Event{stateEv(0, "alice@chat", "alice", client.Connected)})
	if line := ansi.Strip(m.statusLine(120)); strings.Contains(line, "resumed") || strings.Contains(line, "new id") {
		t.Fatalf("fresh connection marked as recovered: %q", line)
	}
	down := stateEv(time.Second, "alice@chat", "alice", client.Reconnecting)
	resumed := stateEv(2*time.Second, "alice@chat", "alice", client.Connected)
	resumed.Resumed = true
	feed(m, []Event{down, resumed})
	line := ansi.Strip(m.statusLine(120))
	if !strings.Contains(line, "↺ resumed 1") || strings.Contains(line, "new id") {
		t.Fatalf("after a resume the status line reads %q", line)
	}
	again := stateEv(3*time.Second, "alice@chat", "alice", client.Connected)
	again.ConnectionID = "id-alice-2"
	feed(m, []Event{stateEv(2500*time.Millisecond, "alice@chat", "alice", client.Reconnecting), again})
	line = ansi.Strip(m.statusLine(120))
	if !strings.Contains(line, "↺ resumed 1") || !strings.Contains(line, "⟳ new id 1") {
		t.Fatalf("after a full reconnect the status line reads %q", line)
	}
	if narrow := ansi.Strip(m.statusLine(80)); !strings.Contains(narrow, "↺1") && !strings.Contains(narrow, "⟳1") {
		t.Fatalf("narrow status line lost the marks: %q", narrow)
	}
}

// TestGroupActionIsAChoice: the group dialog's action takes no typing
// (a typo cannot close it or stand for an action); the arrows pick add or
// remove, and the one picked is sent.
func TestGroupActionIsAChoice(t *testing.T) {
	sender := &fakeSender{}
	m := newLiveModel(120, 35, Config{Sender: sender})
	m.Update(press("g"))
	m.Update(press("tab"))
	for _, k := range []string{"j", "i", "o", "n", "q"} {
		m.Update(press(k)) // typed text does nothing on a choice, q included
	}
	if m.overlay != overlayForm || m.form.value(1) != "add" {
		t.Fatalf("after typing on the action: overlay %d, action %q", m.overlay, m.form.value(1))
	}
	m.Update(press("right"))
	if got := m.form.value(1); got != "remove" {
		t.Fatalf("→ chose %q, want remove", got)
	}
	m.Update(press("enter")) // to the member
	_, cmd := m.Update(press("enter"))
	if cmd == nil {
		t.Fatal("submitting the dialog gave no command")
	}
	m.Update(cmd())
	_, acts := sender.snapshot()
	if len(acts) != 1 || acts[0].Add || acts[0].Group != "devs" {
		t.Fatalf("group actions %+v, want one remove from devs", acts)
	}
}

// TestComposerTabOrder: tab walks the composer's inputs as they appear
// on its line, the message last, and then leaves the composer instead of
// going round to the message again.
func TestComposerTabOrder(t *testing.T) {
	m := newLiveModel(120, 35, Config{})
	var order []focusArea
	for range 6 {
		m.Update(press("tab"))
		order = append(order, m.focus)
	}
	want := []focusArea{focusSidebar, focusAs, focusTo, focusTarget, focusBody, focusStream}
	if !slices.Equal(order, want) {
		t.Fatalf("tab order %v, want %v", order, want)
	}
}

// TestPickTarget: down past the connections reaches TARGETS; enter
// filters the stream by the target picked, and up leaves TARGETS again.
func TestPickTarget(t *testing.T) {
	m := newLiveModel(120, 35, Config{})
	m.Update(press("tab"))
	for range 4 {
		m.Update(press("down"))
	}
	if m.stats.sel != 1 {
		t.Fatalf("TARGETS selection %d, want the second target", m.stats.sel)
	}
	m.Update(press("enter"))
	if m.focus != focusStream || m.stream.query.raw != "target:priceTick" || m.stream.len() != 1 {
		t.Fatalf("after enter: focus %d, filter %q, %d rows", m.focus, m.stream.query.raw, m.stream.len())
	}
	m.Update(press("tab"))
	for range 2 {
		m.Update(press("up"))
	}
	if m.stats.sel != -1 || m.roster.sel != 2 {
		t.Fatalf("up out of TARGETS: target %d, connection %d", m.stats.sel, m.roster.sel)
	}
	m.Update(press("enter"))
	if m.overlay != overlayToken {
		t.Fatal("enter on a connection no longer opens its token")
	}
}

// TestPerMessageView: with several connections the stream shows one row
// per message with the connections that received it, and TARGETS counts
// messages; m switches to one row per receipt, and the header says which.
func TestPerMessageView(t *testing.T) {
	one := newTestModel(120, 35, Config{})
	feed(one, []Event{stateEv(0, "alice@chat", "alice", client.Connected), msgEv(time.Second, "alice@chat", "ping", `[1]`, "broadcast")})
	if one.stream.perMessage || strings.Contains(ansi.Strip(one.stream.Header(120, one.stats)), "per ") {
		t.Fatal("one connection: the view is per message, or the header says so")
	}
	m := newLiveModel(120, 35, Config{})
	head := func() string { return ansi.Strip(m.stream.Header(120, m.stats)) }
	side := func() string { return ansi.Strip(strings.Join(m.sidebar(30, 30), "\n")) }
	if !m.stream.perMessage || !strings.Contains(head(), "per message") || m.stream.len() != 19 {
		t.Fatalf("three connections: per message %v, header %q, %d rows", m.stream.perMessage, head(), m.stream.len())
	}
	if !strings.Contains(side(), "newMessage          18") {
		t.Fatalf("TARGETS per message:\n%s", side())
	}
	rows := strings.Join(strings.Fields(ansi.Strip(strings.Join(m.stream.Render(120, 40, false), " | "))), " ")
	for _, want := range []string{"all 3 newMessage broadcast", "alice,alice#2 newMessage user:alice", "bob newMessage group:devs"} {
		if !strings.Contains(rows, want) {
			t.Fatalf("no row %q in:\n%s", want, rows)
		}
	}
	m.Update(press("m"))
	if m.stream.perMessage || !strings.Contains(head(), "per receipt") || m.stream.len() != 37 || !strings.Contains(side(), "newMessage          36") {
		t.Fatalf("after m: per message %v, header %q, %d rows\n%s", m.stream.perMessage, head(), m.stream.len(), side())
	}
	// Chosen: a new connection does not switch it back.
	feed(m, []Event{stateEv(29*time.Second, "dave@chat", "dave", client.Connected)})
	if m.stream.perMessage {
		t.Fatal("a new connection overrode the view chosen with m")
	}
}

// TestConnectingFlashEnds: the hint line's "connecting carol…" gives way
// once carol has connected.
func TestConnectingFlashEnds(t *testing.T) {
	m := newTestModel(120, 30, Config{})
	m.Update(openedMsg{label: "carol@chat"})
	if got := ansi.Strip(m.bottomLine(120)); !strings.Contains(got, "connecting carol@chat…") {
		t.Fatalf("hint line after n: %q", got)
	}
	feed(m, []Event{stateEv(0, "carol@chat", "carol", client.Connected)})
	if got := ansi.Strip(m.bottomLine(120)); strings.Contains(got, "connecting") || !strings.Contains(got, "carol@chat connected") {
		t.Fatalf("hint line after carol connected: %q", got)
	}
}

// TestViewOutcomes goldens the screens that answer "why did nobody get
// it?" at 80×24 and 200×60: the chat with own sends and their outcomes,
// the routing matrix with four connections and the undelivered rows, a
// send's details, the sent log and the token inspector with a verified
// signature.
func TestViewOutcomes(t *testing.T) {
	states := []struct {
		name  string
		setup func(m *Model)
	}{
		{"chat", func(m *Model) { m.Update(press("v")) }},
		{"matrix", func(m *Model) { m.Update(press("r")) }},
		{"matrix-undelivered-detail", func(m *Model) {
			m.Update(press("r"))
			for range 2 {
				m.Update(press("up"))
			}
			m.Update(press("enter"))
		}},
		{"sent", func(m *Model) { m.Update(press("s")) }},
		{"token", func(m *Model) {
			m.Update(press("tab"))
			for range 3 {
				m.Update(press("down"))
			}
			m.Update(press("t"))
		}},
	}
	for _, st := range states {
		for _, sz := range []struct{ w, h int }{{80, 24}, {200, 60}} {
			t.Run(fmt.Sprintf("%s/%dx%d", st.name, sz.w, sz.h), func(t *testing.T) {
				m := newOutcomeModel(sz.w, sz.h)
				st.setup(m)
				out := m.View().Content
				checkFrame(t, out, sz.w, sz.h)
				golden.RequireEqual(t, out)
			})
		}
	}
}
