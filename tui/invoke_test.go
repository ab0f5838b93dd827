package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/testhub"
	"github.com/sigr-dev/sigr/protocol"
)

// plainConnected is a connection to a plain hub coming up: no redirect,
// so no hub is named and no token is presented.
func plainConnected(at time.Duration, user string) Event {
	return Event{Conn: ConnSpec{User: user}, Event: client.Event{Kind: client.EventState, Time: t0.Add(at), State: client.Connected,
		Transport: "WebSockets", ConnectionID: "id-" + user}}
}

// answerEv is m arriving on label's connection, as the client reports it.
func answerEv(at time.Duration, label string, m protocol.Message) Event {
	raw := protocol.AppendMessage(nil, &m)
	raw = raw[:len(raw)-1]
	msg, err := protocol.ParseMessage(raw, protocol.Lenient)
	if err != nil {
		panic(err)
	}
	spec := ConnSpec{Name: label, User: userOf(label)}
	return Event{Conn: spec, Event: client.Event{Kind: client.EventMessage, Time: t0.Add(at), Message: msg, Raw: raw}}
}

func item(id string, v string) protocol.Message {
	return protocol.Message{Type: protocol.TypeStreamItem, Fields: protocol.FieldInvocationID | protocol.FieldItem, InvocationID: id, Item: json.RawMessage(v)}
}

// started is what Update gets once an invocation has been written.
func started(m *Model, c Call, id string) {
	m.Update(invokeStartedMsg{call: c, p: Pending{ID: id, Wait: func(context.Context) error { return nil }}})
}

// newPlainModel is a screen on a plain hub: alice and bob connected, bob's
// broadcast received by both, and alice's invocations answered with a
// value, a stream, a hub error, and nothing at all.
func newPlainModel(w, h int) *Model {
	m := newTestModel(w, h, Config{As: "alice"})
	m.cfg.URL = "http://127.0.0.1:5000/hub"
	// The clock the invocations are sent by, and sigr's note is written.
	clock := t0
	m.cfg.Now = func() time.Time { return clock }
	defer func() { m.cfg.Now = fixedNow }()
	feed(m, []Event{plainConnected(0, "alice"), plainConnected(0, "bob")})
	started(m, Call{Conn: "alice", Target: "sleep", Args: json.RawMessage(`[60000]`)}, "3")
	bcast := protocol.NewInvocation("newMessage", json.RawMessage(`["hi all"]`))
	feed(m, []Event{answerEv(time.Second, "alice", bcast), answerEv(time.Second, "bob", bcast)})
	clock = t0.Add(1500 * time.Millisecond)
	started(m, Call{Conn: "alice", Target: "echo", Args: json.RawMessage(`["hello"]`)}, "0")
	feed(m, []Event{answerEv(2*time.Second, "alice", protocol.NewCompletion("0", json.RawMessage(`"hello"`), ""))})
	clock = t0.Add(2500 * time.Millisecond)
	started(m, Call{Conn: "alice", Target: "counter", Args: json.RawMessage(`[3,500]`), Stream: true}, "1")
	for i := range 3 {
		feed(m, []Event{answerEv(time.Duration(3+i)*time.Second, "alice", item("1", fmt.Sprint(i+1)))})
	}
	feed(m, []Event{answerEv(6*time.Second, "alice", protocol.NewCompletion("1", nil, ""))})
	clock = t0.Add(6500 * time.Millisecond)
	started(m, Call{Conn: "alice", Target: "Fail", Args: json.RawMessage(`["boom"]`)}, "2")
	feed(m, []Event{answerEv(7*time.Second, "alice",
		protocol.NewCompletion("2", nil, "An unexpected error occurred invoking 'Fail' on the server. HubException: boom"))})
	clock = fixedNow()
	m.Update(invokeDoneMsg{conn: "alice", id: "3", err: fmt.Errorf("client: invoke sleep: %w", context.DeadlineExceeded)})
	return m
}

// selectRow selects the first row for which pick is true.
func selectRow(t *testing.T, m *Model, pick func(e *entry) bool) *entry {
	t.Helper()
	for i := range m.stream.len() {
		if e := m.stream.history.at(m.stream.seq(i)); pick(e) {
			m.stream.cursor, m.stream.follow = e.seq, false
			m.stream.fixScroll(m.streamRows())
			return e
		}
	}
	t.Fatal("no such row")
	return nil
}

// TestViewInvoke goldens the screen of invocations: the answers' rows on a
// plain hub, their details, the composer with invoke as the destination
// and what the destination takes, there and on a function app.
func TestViewInvoke(t *testing.T) {
	states := []struct {
		name  string
		model func(w, h int) *Model
		setup func(t *testing.T, m *Model)
	}{
		{"plain-rows", newPlainModel, nil},
		{"plain-compose", newPlainModel, func(t *testing.T, m *Model) {
			m.composer.target.SetValue("echo")
			m.composer.body.SetValue(`["hello", 42]`)
			m.setFocus(focusTo)
		}},
		{"plain-completion-detail", newPlainModel, func(t *testing.T, m *Model) {
			selectRow(t, m, func(e *entry) bool { return e.msg.Type == protocol.TypeCompletion && e.msg.InvocationID == "0" })
			m.Update(press("enter"))
		}},
		{"plain-item-detail", newPlainModel, func(t *testing.T, m *Model) {
			selectRow(t, m, func(e *entry) bool { return e.msg.Type == protocol.TypeStreamItem })
			m.Update(press("enter"))
		}},
		{"plain-note-detail", newPlainModel, func(t *testing.T, m *Model) {
			selectRow(t, m, func(e *entry) bool { return e.note != nil })
			m.Update(press("enter"))
		}},
		{"app-stream-compose", func(w, h int) *Model { return newLiveModel(w, h, Config{}) }, func(t *testing.T, m *Model) {
			m.composer.to.SetValue("stream")
			m.composer.target.SetValue("counter")
			m.setFocus(focusTo)
		}},
	}
	for _, st := range states {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", st.name, sz.w, sz.h), func(t *testing.T) {
				m := st.model(sz.w, sz.h)
				if st.setup != nil {
					st.setup(t, m)
				}
				out := m.View().Content
				checkFrame(t, out, sz.w, sz.h)
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestAnswerRowsNameTheInvocation: each row of an answer shows the method
// it answers and which part it is, matched by connection and invocation
// id; a completion nobody here asked for stays a plain completion.
func TestAnswerRowsNameTheInvocation(t *testing.T) {
	m := newPlainModel(120, 35)
	// bob's connection never invoked "0": its completion is not echo's.
	feed(m, []Event{answerEv(8*time.Second, "bob", protocol.NewCompletion("0", json.RawMessage(`1`), ""))})
	var rows []string
	for _, l := range m.stream.Render(220, 40, false) {
		f := strings.Fields(ansi.Strip(l))
		rows = append(rows, strings.Join(f[1:], " "))
	}
	want := []string{
		`all 2 newMessage ~broadcast ["hi all"]`, // one row per message, by default with two connections
		`alice echo completion "hello"`,
		`alice counter item 1`,
		`alice counter item 2`,
		`alice counter item 3`,
		`alice counter completion end of stream`,
		`alice Fail error An unexpected error occurred invoking 'Fail' on the server. HubException: boom`,
		`alice sleep error no completion within 30s: the hub may have no such method, or it is still running`,
		`bob completion 1`,
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	m.stream.setQuery("target:echo")
	if m.stream.len() != 1 || m.stream.selected().msg.InvocationID != "0" {
		t.Fatalf("target:echo matches %d rows, want echo's completion", m.stream.len())
	}
}

// TestAnswerBeforeStart: the completion may reach the screen before the
// message saying the invocation was written; its row still names it.
func TestAnswerBeforeStart(t *testing.T) {
	m := newTestModel(100, 30, Config{})
	feed(m, []Event{plainConnected(0, "alice")})
	feed(m, []Event{answerEv(time.Second, "alice", protocol.NewCompletion("7", json.RawMessage(`2`), ""))})
	e := m.stream.selected()
	if m.calls.of(e) != nil {
		t.Fatal("a completion named an invocation not yet known")
	}
	started(m, Call{Conn: "alice", Target: "add", Args: json.RawMessage(`[1,1]`)}, "7")
	if iv := m.calls.of(e); iv == nil || iv.target != "add" {
		t.Fatalf("the completion answers %+v, want add", iv)
	}
}

// TestHubKind: the session is a plain hub once a connection came up
// without a redirect, Azure once one was redirected; the composer's
// default destination and what it refuses follow.
func TestHubKind(t *testing.T) {
	m := newTestModel(100, 30, Config{As: "alice"})
	if k := m.roster.kind(); k != hubUnknown {
		t.Fatalf("kind %d before any connection, want unknown", k)
	}
	feed(m, []Event{plainConnected(0, "alice")})
	if k := m.roster.kind(); k != hubPlain {
		t.Fatalf("kind %d, want plain", k)
	}
	m.composer.target.SetValue("echo")
	m.composer.body.SetValue("two words")
	_, call, err := m.compose()
	if err != nil || call == nil || call.Conn != "alice" || call.Target != "echo" || string(call.Args) != `["two words"]` || call.Stream {
		t.Fatalf("compose on a plain hub = %+v, %v; want an invocation", call, err)
	}
	for _, to := range []string{"all", "user:bob", "group:devs", "conn:x"} {
		m.composer.to.SetValue(to)
		if _, _, err := m.compose(); err == nil || !strings.Contains(err.Error(), "a plain hub has no function app") {
			t.Errorf("to %s on a plain hub: %v", to, err)
		}
	}
	m.Update(press("g"))
	if m.overlay == overlayForm || !strings.Contains(m.flash.text, "no groups API") {
		t.Fatalf("g on a plain hub: overlay %d flash %q", m.overlay, m.flash.text)
	}

	az := newLiveModel(100, 30, Config{})
	if k := az.roster.kind(); k != hubService {
		t.Fatalf("kind %d on a function app, want service", k)
	}
	az.composer.body.SetValue("hi")
	if out, call, err := az.compose(); err != nil || call != nil || !out.Chat {
		t.Fatalf("default on a function app = %+v, %+v, %v; want a chat send", out, call, err)
	}
	az.composer.to.SetValue("stream")
	az.composer.target.SetValue("counter")
	az.composer.body.SetValue("[3, 10]")
	if _, call, err := az.compose(); err != nil || call == nil || !call.Stream || string(call.Args) != "[3, 10]" {
		t.Fatalf("stream on a function app = %+v, %v", call, err)
	}
	az.composer.target.SetValue("")
	if _, _, err := az.compose(); err == nil || !strings.Contains(err.Error(), "name the hub method") {
		t.Fatalf("invoke without a method: %v", err)
	}
}

// TestPlainLabels: with no hub named, connections are named after their
// user alone, and a second one of a user gets a number.
func TestPlainLabels(t *testing.T) {
	m := newTestModel(100, 30, Config{})
	feed(m, []Event{plainConnected(0, "alice")})
	if got := m.roster.uniqueLabel(ConnSpec{User: "alice"}); got != "alice#2" {
		t.Fatalf("second alice is %q", got)
	}
	if got := (ConnSpec{}).Label(); got != "anon" {
		t.Fatalf("anonymous without a hub is %q", got)
	}
	if got := m.roster.uniqueLabel(ConnSpec{User: "alice", Hub: "chat"}); got != "alice@chat" {
		t.Fatalf("alice on hub chat is %q", got)
	}
	// A hub asked for is not shown once the connection names none.
	asked := plainConnected(0, "carol")
	asked.Conn.Hub = "asked"
	feed(m, []Event{asked})
	if line := ansi.Strip(m.statusLine(100)); strings.Contains(line, "hub") {
		t.Fatalf("the status line names a hub on a plain hub: %q", line)
	}
}

// TestCopyNote: a note of sigr's own copies as an error line, not as a
// message that was never received.
func TestCopyNote(t *testing.T) {
	m := newPlainModel(100, 30)
	selectRow(t, m, func(e *entry) bool { return e.note != nil })
	_, cmd := m.Update(press("y"))
	got := fmt.Sprint(cmd())
	if !strings.Contains(got, `"event":"error"`) || !strings.Contains(got, "no completion within 30s") || strings.Contains(got, "completion\",") {
		t.Fatalf("clipboard %s", got)
	}
}

// TestInvocationsBounded: the invocations remembered are bounded; the
// oldest go first.
func TestInvocationsBounded(t *testing.T) {
	is := newInvocations()
	for i := range maxInvocations + 10 {
		is.add(&invocation{id: fmt.Sprint(i)})
	}
	if len(is.byKey) != maxInvocations || len(is.order) != maxInvocations {
		t.Fatalf("%d kept, want %d", len(is.byKey), maxInvocations)
	}
	if is.byKey[invKey{0, "9"}] != nil || is.byKey[invKey{0, "10"}] == nil {
		t.Fatal("the oldest were not the ones dropped")
	}
}

// TestInvokeWriteFails: an invocation that could not be written becomes a
// row saying why, and the arguments stay in the composer.
func TestInvokeWriteFails(t *testing.T) {
	m := newTestModel(100, 30, Config{})
	feed(m, []Event{plainConnected(0, "alice")})
	m.composer.body.SetValue("x")
	m.Update(invokeStartedMsg{call: Call{Conn: "alice", Target: "echo", Args: json.RawMessage(`["x"]`)}, err: client.ErrClosed})
	e := m.stream.selected()
	if e == nil || e.note == nil || !strings.Contains(e.msg.Error, "not sent: client: connection closed") {
		t.Fatalf("row %+v", e)
	}
	if m.composer.body.Value() != "x" || !m.flash.err {
		t.Fatalf("composer %q flash %+v", m.composer.body.Value(), m.flash)
	}
}

// TestFlowInvokeTestHub runs the screen on a real connection to the plain
// test hub: the composer defaults to invoking, a stream's items and end and
// a method's completion come back as rows that name the invocation, and
// the hub received exactly what was typed.
func TestFlowInvokeTestHub(t *testing.T) {
	hub, err := testhub.Listen("127.0.0.1:0", testhub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	sess := NewClientSession(client.Options{URL: hub.URL(), Logger: slog.New(slog.DiscardHandler)})
	f := NewFeed(sess.Conns(), 0, 0)
	t.Cleanup(func() {
		_ = sess.Close()
		f.Stop()
	})
	if err := sess.Open(context.Background(), ConnSpec{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	m := New(Config{Session: sess, Feed: f, URL: hub.URL(), Location: time.UTC, As: "alice"})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(110, 30),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	fl := &flow{t: t, tm: tm}
	fl.waitText("alice WS")

	fl.keys("i")
	fl.tm.Type("[3,1]")
	fl.keys("shift+tab", "shift+tab") // the destination: invoke by default here, stream asked
	fl.tm.Type("stream")
	fl.keys("tab")
	fl.tm.Type("counter")
	fl.keys("enter", "enter") // to the arguments, then send
	fl.waitText("end of stream")

	fl.keys("shift+tab", "shift+tab")
	for range len("stream") {
		fl.keys("backspace")
	}
	fl.keys("tab")
	for range len("counter") {
		fl.keys("backspace")
	}
	fl.tm.Type("echo")
	fl.keys("enter")
	fl.tm.Type("hello")
	fl.keys("enter")
	fl.waitText(`completion "hello"`)
	m = fl.quit("esc")

	var rows []string
	for i := range m.stream.len() {
		e := m.stream.history.at(m.stream.seq(i))
		iv := m.calls.of(e)
		if iv == nil {
			t.Fatalf("row %d (%s) names no invocation", i, e.msg.Type)
		}
		rows = append(rows, iv.target+" "+answerPart(e)+" "+payloadText(&e.msg, 100))
	}
	want := "counter item 1,counter item 2,counter item 3,counter completion ,echo completion \"hello\""
	if strings.Join(rows, ",") != want {
		t.Fatalf("rows %q, want %q", strings.Join(rows, ","), want)
	}
	var got []string
	for _, r := range hub.Received() {
		got = append(got, fmt.Sprintf("%s %s%s", r.Message.Type, r.Message.Target, r.Message.Arguments))
	}
	if strings.Join(got, ",") != `streamInvocation counter[3,1],invocation echo["hello"]` {
		t.Fatalf("the hub received %v", got)
	}
}

// TestAnswerTextStaysText: a hub's error text and a method's result reach
// the screen with their control characters made visible, in the row and in
// the details.
func TestAnswerTextStaysText(t *testing.T) {
	m := newTestModel(120, 35, Config{})
	feed(m, []Event{plainConnected(0, "alice")})
	started(m, Call{Conn: "alice", Target: "x\x1b[5m", Args: json.RawMessage(`[]`)}, "0")
	feed(m, []Event{answerEv(time.Second, "alice", protocol.NewCompletion("0", nil, "boom\x1b]0;pwned\x07\x1b[2J"))})
	out := m.View().Content
	m.Update(press("enter"))
	out += m.View().Content
	for _, bad := range []string{"\x1b]0;", "\x07", "\x1b[2J", "\x1b[5m"} {
		if strings.Contains(out, bad) {
			t.Fatalf("the screen carries %q raw", bad)
		}
	}
	if !strings.Contains(ansi.Strip(out), `boom\x1b]0;pwned\x07\x1b[2J`) {
		t.Fatalf("the error text is not shown escaped:\n%s", ansi.Strip(out))
	}
}
