package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

func TestChatOf(t *testing.T) {
	for _, tc := range []struct {
		target, args string
		want         chatContent
		ok           bool
	}{
		{"newMessage", `[{"sender":"carol","text":"hi"}]`, chatContent{sender: "carol", text: "hi"}, true},
		{"newMessage", `[{"connectionId":"c1","sender":"dave","text":"yo"}]`, chatContent{sender: "dave", text: "yo", connectionID: "c1"}, true},
		{"newMessage", `[{"sender":"bob","text":"hey","recipient":"alice"}]`, chatContent{sender: "bob", text: "hey", recipient: "alice"}, true},
		{"anything", `[{"text":"no sender"}]`, chatContent{text: "no sender"}, true},
		{"newMessage", `["hi all"]`, chatContent{text: "hi all"}, true},
		{"newMessage", `["alice","hi"]`, chatContent{sender: "alice", text: "hi"}, true},
		{"other", `["alice","hi"]`, chatContent{}, false},
		{"newMessage", `[{"sender":1,"text":"x"}]`, chatContent{}, false},
		{"newMessage", `[{"sender":"a"}]`, chatContent{}, false},
		{"newMessage", `[{"sym":"ACME"}]`, chatContent{}, false},
		{"newMessage", `[1,2]`, chatContent{}, false},
		{"newMessage", `[]`, chatContent{}, false},
		{"newMessage", `[{"sender":"a","text":"b"`, chatContent{}, false},
	} {
		msg := protocol.NewInvocation(tc.target, json.RawMessage(tc.args))
		got, ok := chatOf(&msg, "newMessage")
		if ok != tc.ok || got != tc.want {
			t.Errorf("chatOf(%s %s) = %+v, %v; want %+v, %v", tc.target, tc.args, got, ok, tc.want, tc.ok)
		}
	}
	c := protocol.NewCompletion("1", json.RawMessage(`[{"sender":"a","text":"b"}]`), "")
	if _, ok := chatOf(&c, "newMessage"); ok {
		t.Error("a completion read as a chat message")
	}
}

// chatLines is the chat as text, one line per screen line.
func chatLines(m *Model, w int) []string {
	var out []string
	for i := m.chat.msgs.first(); i < m.chat.msgs.end(); i++ {
		for _, l := range m.chat.lines(m.chat.msgs.byID(i), w, false, false) {
			out = append(out, strings.TrimRight(ansi.Strip(l), " "))
		}
	}
	return out
}

// TestChatOneLinePerMessage: a broadcast received by three of our
// connections is one line, author first, with a mark for each; a message
// to one user marks only that user's connections.
func TestChatOneLinePerMessage(t *testing.T) {
	m := newLiveModel(120, 40, Config{})
	if n := m.chat.msgs.len(); n != 18 {
		t.Fatalf("%d chat lines, want 18 (6 broadcasts, 6 to alice, 6 to devs)", n)
	}
	lines := chatLines(m, 120)
	want := map[int]string{
		0:  "14:00:01 carol → everyone  hello everyone 0",
		1:  "14:00:03 dave → alice  psst alice",
		2:  "14:00:04 erin → #devs  devs standup in 5",
		18: "", // priceTick is not a chat message
	}
	for i, w := range want {
		if w == "" {
			continue
		}
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start %q", i, lines[i], w)
		}
	}
	for i, marks := range map[int]string{0: "●●●", 1: "●·●", 2: "·●·"} {
		if !strings.HasSuffix(lines[i], " "+marks) {
			t.Errorf("line %d = %q, want marks %s", i, lines[i], marks)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "priceTick") || strings.Contains(l, "ACME") {
			t.Errorf("a message that is not chat is in the chat: %q", l)
		}
	}
}

// TestChatEchoesOwnSends: a send from the composer is in the chat at once,
// with its outcome once answered; copies of it received by our
// connections mark that line rather than add one; a send that reached
// nobody says why.
func TestChatEchoesOwnSends(t *testing.T) {
	sender := &fakeSender{answer: emulatorAnswers}
	m := newLiveModel(120, 40, Config{Sender: sender})
	before := m.chat.msgs.len()
	m.composer.as.SetValue("alice")
	m.composer.body.SetValue("lunch?")
	cmd := m.send()
	if m.chat.msgs.len() != before+1 {
		t.Fatal("the send is not echoed before its answer")
	}
	if got := chatLines(m, 120); !strings.Contains(got[len(got)-1], "alice → everyone  lunch?  … sending") {
		t.Fatalf("pending echo %q", got[len(got)-1])
	}
	var evs []Event
	for _, c := range []string{"alice@chat", "bob@chat", "alice#2@chat"} {
		evs = append(evs, msgEv(30*time.Second, c, "newMessage", chat("alice", "lunch?"), "broadcast"))
	}
	feed(m, evs)
	m.Update(cmd())
	if m.chat.msgs.len() != before+1 {
		t.Fatalf("%d lines after the copies arrived, want the echo alone", m.chat.msgs.len()-before)
	}
	got := chatLines(m, 120)
	if l := got[len(got)-1]; !strings.Contains(l, "alice → everyone  lunch?  ✓ delivered to 4 connections") || !strings.HasSuffix(l, " ●●●") {
		t.Fatalf("echo after delivery %q", l)
	}

	sendNow(m, "alice", "user:Bob", "hi Bob")
	got = chatLines(m, 120)
	if !strings.Contains(got[len(got)-2], "alice → Bob  hi Bob  ✗ reached nobody") ||
		!strings.Contains(got[len(got)-1], "no connection for user 'Bob'; user ids are case-sensitive") {
		t.Fatalf("undelivered echo:\n%s", strings.Join(got[len(got)-3:], "\n"))
	}
	if !strings.Contains(m.flash.text, "reached nobody") || !m.flash.err {
		t.Fatalf("flash %+v", m.flash)
	}
}

// TestChatDestinations: the destination comes from the route header, else
// the chat body's recipient or group, else which of our connections
// received it (marked as inferred).
func TestChatDestinations(t *testing.T) {
	m := newLiveModel(120, 40, Config{})
	feed(m, []Event{
		msgEv(40*time.Second, "bob@chat", "newMessage", `[{"sender":"x","text":"one","recipient":"bob"}]`, ""),
		msgEv(41*time.Second, "bob@chat", "newMessage", `[{"sender":"x","text":"two","groupname":"devs"}]`, ""),
		msgEv(42*time.Second, "alice@chat", "newMessage", `[{"sender":"x","text":"three"}]`, ""),
		msgEv(42*time.Second, "alice#2@chat", "newMessage", `[{"sender":"x","text":"three"}]`, ""),
		msgEv(43*time.Second, "alice@chat", "newMessage", `[{"sender":"x","text":"four"}]`, "connection:id-alice"),
	})
	got := chatLines(m, 120)
	for i, want := range []string{"x → bob  one", "x → #devs  two", "x → ~alice  three", "x → conn:id-alice  four"} {
		if l := got[len(got)-4+i]; !strings.Contains(l, want) {
			t.Errorf("line %q, want %q", l, want)
		}
	}
}

// TestStreamShowsChatAuthor: in the stream, a chat message reads author
// first, then the text, before its JSON, even at 80 columns.
func TestStreamShowsChatAuthor(t *testing.T) {
	m := newLiveModel(80, 24, Config{})
	out := ansi.Strip(m.View().Content)
	if !strings.Contains(out, "erin: devs standup") || !strings.Contains(out, "dave: psst alice") {
		t.Fatalf("the stream does not show authors:\n%s", out)
	}
}

// TestAsIsExplicit: who the composer sends as is its own input; picking
// another connection in the sidebar changes nothing, and an invocation
// goes over a connection of the identity named there.
func TestAsIsExplicit(t *testing.T) {
	sender := &fakeSender{}
	m := newLiveModel(120, 40, Config{Sender: sender, As: "alice"})
	m.Update(press("tab"))
	m.Update(press("down")) // bob in the sidebar
	m.composer.body.SetValue("hi")
	out, _, err := m.compose()
	if err != nil || out.Sender != "alice" {
		t.Fatalf("after picking bob in the sidebar the composer sends as %q (%v)", out.Sender, err)
	}
	m.setFocus(focusAs)
	for range len("alice") {
		m.Update(press("backspace"))
	}
	for _, r := range "bob" {
		m.Update(press(string(r)))
	}
	out, _, _ = m.compose()
	if out.Sender != "bob" {
		t.Fatalf("as bob the composer sends as %q", out.Sender)
	}
	if !strings.Contains(ansi.Strip(m.composer.Render(120, m.focus, hubService)), "as bob") {
		t.Fatal("the composer does not show as bob")
	}
	m.composer.to.SetValue("invoke")
	m.composer.target.SetValue("echo")
	_, call, err := m.compose()
	if err != nil || call == nil || call.Conn != "bob@chat" {
		t.Fatalf("invoke as bob goes over %+v (%v)", call, err)
	}
	m.composer.as.SetValue("alice#2@chat")
	if _, call, _ := m.compose(); call == nil || call.Conn != "alice#2@chat" {
		t.Fatalf("invoke as alice#2@chat goes over %+v", call)
	}
	m.composer.as.SetValue("zoe")
	if _, _, err := m.compose(); err == nil || !strings.Contains(err.Error(), "no connection of zoe") {
		t.Fatalf("invoke as zoe: %v", err)
	}
}

func TestSentOutcome(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		kind      sentKind
		res       manage.Outcome
		err       error
		delivered int
		outcome   string
		why       string
		nobody    bool
	}{
		{sentSend, manage.Outcome{Status: 202, Header: h(protocol.HeaderDelivered, "2")}, nil, 2, "202 Accepted · delivered to 2 connections", "", false},
		{sentSend, manage.Outcome{Status: 202, Header: h(protocol.HeaderDelivered, "1")}, nil, 1, "202 Accepted · delivered to 1 connection", "", false},
		{sentSend, manage.Outcome{Status: 202, Header: h(protocol.HeaderDelivered, "0", protocol.HeaderUndelivered, "group 'ops' has no members")}, nil, 0,
			"202 Accepted · delivered to 0 connections", "group 'ops' has no members", true},
		{sentSend, manage.Outcome{Status: 202, Header: h(protocol.HeaderDelivered, "0")}, nil, 0,
			"202 Accepted · delivered to 0 connections", "the service wrote it to no connection and gave no reason", true},
		{sentSend, manage.Outcome{Status: 202}, nil, -1, "202 Accepted · delivery not reported", "", false},
		{sentSend, manage.Outcome{Status: 202, Header: h(protocol.HeaderDelivered, "lots")}, nil, -1, "202 Accepted · delivery not reported", "", false},
		{sentSend, manage.Outcome{Status: 500}, errors.New("send: 500 boom"), -1, "500 Internal Server Error, failed", "send: 500 boom", false},
		{sentSend, manage.Outcome{}, errors.New("connection refused"), -1, "failed", "connection refused", false},
		{sentGroup, manage.Outcome{Status: 200, Header: h(protocol.HeaderApplied, "0", protocol.HeaderUnapplied, "no connection for user 'Carol'")}, nil, 0,
			"200 OK · applied to 0 connections", "no connection for user 'Carol'", false},
		{sentGroup, manage.Outcome{Status: 200}, nil, -1, "200 OK", "", false},
	} {
		r := sentRecord{kind: tc.kind, pending: true}
		r.applyOutcome(tc.res, tc.err)
		if r.pending || r.delivered != tc.delivered || r.outcome() != tc.outcome || r.why() != tc.why || r.reachedNobody() != tc.nobody {
			t.Errorf("%+v, %v: delivered %d outcome %q why %q nobody %v", tc.res, tc.err, r.delivered, r.outcome(), r.why(), r.reachedNobody())
		}
	}
}

// TestSentLogRecordsEverything: every send, invoke and group action is in
// the sent log with where it went and what became of it.
func TestSentLogRecordsEverything(t *testing.T) {
	m := newOutcomeModel(120, 40)
	var got []string
	for id := m.sent.records.first(); id < m.sent.records.end(); id++ {
		r := m.sent.byID(id)
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", ansi.Strip(r.what(m.com.styles)), r.dest(), r.outcome(), r.why()))
	}
	want := []string{
		"alice → Bob  are you there, bob?|Bob|200 OK · delivered to 0 connections|" + bobReason,
		"alice → #ops  deploy is done|#ops|200 OK · delivered to 0 connections|group 'ops' has no members",
		"alice → everyone  lunch at noon? the usual place, and bring the release notes so we can go through them|everyone|200 OK · delivered to 4 connections|",
		`invoke echo("ping") over alice@chat|hub method echo|completion "ping"|`,
		"group devs join user:carol|everyone|200 OK|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sent log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// An invocation that gets no answer says so.
	m.composer.to.SetValue("invoke")
	m.composer.target.SetValue("sleep")
	m.Update(m.send()())
	m.Update(invokeDoneMsg{conn: "alice@chat", id: "1", err: fmt.Errorf("wait: %w", errTimeoutForTest)})
	r := m.sent.records.newest(0)
	if r.kind != sentInvoke || r.pending || !strings.Contains(r.err, "timed out") {
		t.Fatalf("invocation without an answer: %+v", r)
	}
}

var errTimeoutForTest = errors.New("timed out")

// TestMatrixFitsFourConnections: at 80 columns the fourth connection's
// column is whole, numbered with a legend; wide, the columns are named.
func TestMatrixFitsFourConnections(t *testing.T) {
	m := newOutcomeModel(80, 24)
	m.Update(press("r"))
	out := ansi.Strip(m.View().Content)
	if !strings.Contains(out, "1 2 3 4 payload") || !strings.Contains(out, "1 alice  2 bob  3 alice#2  4 carol") {
		t.Fatalf("the matrix at 80 columns:\n%s", out)
	}
	if !strings.Contains(out, "✗ user:Bob") || !strings.Contains(out, "✗ group:ops") {
		t.Fatalf("the undelivered rows are missing:\n%s", out)
	}
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	out = ansi.Strip(m.View().Content)
	if !strings.Contains(out, "alice bob alice#2 carol payload") || strings.Contains(out, "connections:  1") {
		t.Fatalf("the matrix at 200 columns:\n%s", out)
	}
	if !strings.Contains(out, "✗ user:Bob         alice      ·     ·   ·       ·     "+bobReason[:60]) {
		t.Fatalf("the reason is not on the row:\n%s", out)
	}
}

// TestMatrixRowsOpen: the matrix's rows are selectable; enter opens the
// message of the row, or the send of an undelivered row, and esc comes
// back to the matrix.
func TestMatrixRowsOpen(t *testing.T) {
	m := newOutcomeModel(120, 40)
	m.Update(press("r"))
	m.Update(press("up")) // the undelivered send to ops
	m.Update(press("enter"))
	out := ansi.Strip(m.View().Content)
	if m.overlay != overlayDetail || !strings.Contains(out, "group 'ops' has no members") || !strings.Contains(out, "to            #ops (group:ops)") {
		t.Fatalf("details of the ops row:\n%s", out)
	}
	m.Update(press("esc"))
	if m.overlay != overlayMatrix {
		t.Fatalf("esc went to %d, want the matrix", m.overlay)
	}
	for range 3 {
		m.Update(press("up"))
	}
	m.Update(press("enter")) // erin's message to devs, above priceTick and the send to Bob
	out = ansi.Strip(m.View().Content)
	if !strings.Contains(out, "route         group:devs (route header)") || !strings.Contains(out, "chat          erin: devs standup in 5") ||
		!strings.Contains(out, "received by   bob") {
		t.Fatalf("details of a delivered row:\n%s", out)
	}
}

// TestTokenInspector: the times read in words and UTC, the connection id
// and groups show, and the signature is checked when the key is known.
func TestTokenInspector(t *testing.T) {
	m := newOutcomeModel(120, 40)
	m.roster.sel = 3 // carol, signed with testKey
	m.Update(press("t"))
	out := ansi.Strip(m.View().Content)
	for _, want := range []string{"connection id id-carol", "groups        devs (as joined from this screen)", "✓ valid",
		"expires       in 59 minutes (2026-11-28 15:00:00 UTC)", "issued        30 seconds ago (2026-11-28 14:00:00 UTC)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("token inspector lacks %q:\n%s", want, out)
		}
	}
	m.roster.sel = 0 // alice: a token not signed with the key
	if out := ansi.Strip(m.View().Content); !strings.Contains(out, "✗ INVALID") {
		t.Fatalf("a bad signature passes:\n%s", out)
	}
	_, cmd := m.Update(press("y"))
	if cmd == nil {
		t.Fatal("y copies nothing in the token inspector")
	}
	if got := fmt.Sprint(cmd()); !strings.Contains(got, `"asrs.s.uid":"alice"`) || !strings.Contains(got, `"aud":"http://127.0.0.1:8888/client/?hub=chat"`) {
		t.Fatalf("clipboard %q, want the decoded claims", got)
	}

	nokey := newLiveModel(120, 40, Config{})
	nokey.Update(press("t"))
	if out := ansi.Strip(nokey.View().Content); !strings.Contains(out, "not checked: no access key") {
		t.Fatalf("without a key:\n%s", out)
	}
}

// TestTokenInspectorFitsTheScreen: a token with more claims than an
// 80x24 screen holds lists those that fit and says how many it left out,
// and the panel's frame and hint stay on screen.
func TestTokenInspectorFitsTheScreen(t *testing.T) {
	m := newTestModel(80, 24, Config{})
	ev := stateEv(0, "alice@chat", "alice", client.Connected)
	claims := map[string]any{"asrs.s.uid": "alice", "exp": float64(t0.Add(time.Hour).Unix()), "iat": float64(t0.Unix())}
	for i := range 30 {
		claims[fmt.Sprintf("role%02d", i)] = "reader"
	}
	ev.AccessToken = fakeJWT(claims)
	feed(m, []Event{ev})
	m.Update(press("t"))
	lines := strings.Split(ansi.Strip(m.View().Content), "\n")
	out := strings.Join(lines, "\n")
	if len(lines) > 24 || !strings.Contains(out, "role00") || !strings.Contains(out, "more not shown (y copies them all)") ||
		!strings.Contains(out, "t or esc closes") || !strings.Contains(out, "╰") {
		t.Fatalf("token inspector at 80x24 (%d lines):\n%s", len(lines), out)
	}
	if strings.Contains(out, "role29") {
		t.Fatalf("all 30 claims shown in 24 lines:\n%s", out)
	}
}

// TestFlowSendToBob sends to user Bob, wrong case, through the screen:
// the answer's delivery headers show as an undelivered row of the routing
// matrix with the service's reason, in the chat and in the sent log.
func TestFlowSendToBob(t *testing.T) {
	f := startFlow(t)
	f.sender.answer = emulatorAnswers
	f.sendToBob()
	f.keys("s")
	f.waitText("delivered to 0 connections")
	m := f.quit()
	r := m.sent.records.newest(0)
	if r == nil || r.name != "Bob" || r.why() != bobReason {
		t.Fatalf("sent log %+v", r)
	}
	d := m.routing.recent.newest(0)
	if d == nil || !d.undelivered || d.route != "user:Bob" || d.reason != bobReason {
		t.Fatalf("matrix row %+v", d)
	}
}

// TestChatObjectMatchesEncodingJSON: the chat's own reading of the first
// argument agrees with encoding/json on what it decodes.
func TestChatObjectMatchesEncodingJSON(t *testing.T) {
	for _, arg := range []string{
		`{"sender":"a","text":"b"}`,
		`{ "text" : "x\"y\\u00e9\n", "sender" : "s\u00e9" , "n": {"text":"inner","a":[1,{"b":"}"}]}, "z": [ "]" ], "k": -1.5e3, "t": true }`,
		`{"Sender":"A","TEXT":"B","groupname":"g","recipient":"r","connectionId":"c"}`,
		`{"sender":null,"text":"t"}`,
		`{"text":"only"}`,
	} {
		var want struct {
			Sender, Text, Recipient, GroupName, ConnectionID string
		}
		if err := json.Unmarshal([]byte(arg), &want); err != nil {
			t.Fatal(err)
		}
		got, ok := chatObject([]byte(arg), 0)
		if !ok || got != (chatContent{sender: want.Sender, text: want.Text, recipient: want.Recipient, group: want.GroupName, connectionID: want.ConnectionID}) {
			t.Errorf("chatObject(%s) = %+v, %v; encoding/json reads %+v", arg, got, ok, want)
		}
	}
}

// checkingSender answers as Azure does, without delivery headers, and
// answers the existence checks as a connection string's REST API would.
type checkingSender struct{ fakeSender }

func (c *checkingSender) CheckSend(_ context.Context, out Outgoing) (string, error) {
	if out.Name == "Bob" {
		return "user 'Bob' has no connection to hub 'chat' (existence check), so the message reached nobody; user ids are case-sensitive, and user 'bob' is connected", nil
	}
	return "user '" + out.Name + "' has a connection to hub 'chat' (existence check)", nil
}

// TestSendCheckedWithoutHeaders: when the service does not say where a
// send went, the existence checks of a connection string say whether
// anybody was there to get it; nobody makes it an undelivered row.
func TestSendCheckedWithoutHeaders(t *testing.T) {
	m := newLiveModel(120, 40, Config{Sender: &checkingSender{}})
	sendNow(m, "alice", "user:Bob", "hi")
	r := m.sent.records.newest(0)
	if !r.reachedNobody() || r.outcome() != "202 Accepted · not reported; nobody there to get it" || !strings.Contains(r.why(), "user 'bob' is connected") {
		t.Fatalf("record %+v: %q %q", r, r.outcome(), r.why())
	}
	if d := m.routing.recent.newest(0); !d.undelivered || !strings.Contains(d.reason, "existence check") {
		t.Fatalf("matrix row %+v", d)
	}
	sendNow(m, "alice", "user:bob", "hi")
	r = m.sent.records.newest(0)
	if r.reachedNobody() || r.outcome() != "202 Accepted · delivery not reported" || !strings.Contains(r.why(), "has a connection") {
		t.Fatalf("record %+v: %q %q", r, r.outcome(), r.why())
	}
	if glyph, _ := r.mark(m.com.styles); glyph != "?" {
		t.Fatalf("mark %q for a send the service did not report", glyph)
	}
}

// sendToBob writes "are you there?" to user Bob (wrong case) in the
// composer and sends it, waits for the flash saying it reached nobody,
// and opens the routing matrix on its row.
func (f *flow) sendToBob() {
	f.t.Helper()
	f.keys("i", "shift+tab", "shift+tab") // the message, back to the destination
	f.tm.Type("user:Bob")
	f.keys("enter") // back to the message
	f.tm.Type("are you there?")
	f.keys("enter")
	f.waitText("reached nobody")
	f.keys("esc", "r")
	f.waitText("✗ user:Bob")
}
