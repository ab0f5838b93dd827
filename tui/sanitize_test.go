package tui

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

func TestSanitize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x1b]0;pwned\x07title", `\x1b]0;pwned\x07title`},
		{"\x1b]52;c;ZXZpbA==\x1b\\", `\x1b]52;c;ZXZpbA==\x1b\`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\x9b31m", `\x9b31m`},                   // invalid UTF-8 byte: shown as a byte
		{"\u009b31m", `\u009b31m`},               // C1 CSI as a rune
		{"abc\u202Egnp.exe", `abc\u202egnp.exe`}, // right-to-left override
		{"\u2066isolate\u2069", `\u2066isolate\u2069`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"del\x7f", `del\x7f`},
		{"line\u2028sep", `line\u2028sep`},
		{"tag\U000E0041", `tag\ue0041`},
		{"漢字 e\u0301 👩\u200d💻", "漢字 e\u0301 👩\u200d💻"}, // wide, combining, ZWJ stay
	}
	for _, c := range cases {
		if got := sanitize(c.in); got != c.want {
			t.Errorf("sanitize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFitWideAndCombining(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"漢字漢字", 5, "漢字…"},
		{"漢字漢字", 8, "漢字漢字"},
		{"e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301e\u0301"},
		{"e\u0301e\u0301e\u0301x", 3, "e\u0301e\u0301…"},
		{"ab", 4, "ab  "},
	} {
		if got := fit(c.in, c.w); got != c.want {
			t.Errorf("fit(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}

func TestCompactJSON(t *testing.T) {
	in := []byte("[ {\"a\" : \"x  y\\\" z\" ,\n \"b\": [1, 2] } ]")
	if got, want := compactJSON(in, 1000), `[{"a":"x  y\" z","b":[1,2]}]`; got != want {
		t.Fatalf("compactJSON = %q, want %q", got, want)
	}
	if got := compactJSON([]byte(strings.Repeat(`"aaaa",`, 100000)), 50); len(got) > 60 {
		t.Fatalf("compactJSON ignored its limit: %d bytes", len(got))
	}
}

// sgr matches the only escape sequences the screen itself may emit.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// TestHostilePayloads sends escape sequences, bidi overrides, invalid UTF-8
// and wide text in every field the network controls, and checks that no
// frame, in any view, carries anything but the screen's own colours.
func TestHostilePayloads(t *testing.T) {
	hostile := "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\u202Eevil\u2066\x9b\xff\x00漢字e\u0301"
	m := newTestModel(120, 35, Config{Groups: []GroupMember{{Hub: "chat", Group: hostile, Member: hostile}}})
	who := ConnSpec{Name: "mallory\x1b[5m@chat", Hub: "chat\x1b[7m", User: "mallory\u202E"}
	st := Event{Conn: who, Event: client.Event{Kind: client.EventState, Time: t0, State: client.Disconnected,
		Transport: "Web\x1bSockets", ConnectionID: "id\x07", Err: errors.New("close: " + hostile),
		AccessToken: fakeJWT(map[string]any{"asrs.s.uid": hostile, "aud": hostile, "x": hostile})}}
	msg := protocol.Message{Type: protocol.TypeInvocation, Fields: protocol.FieldTarget | protocol.FieldArguments | protocol.FieldInvocationID | protocol.FieldHeaders,
		Target: hostile, InvocationID: hostile, Arguments: json.RawMessage(`["` + hostile + `",{"k` + hostile + `":1}]`),
		Headers: json.RawMessage(`{"route":"` + hostile + `"}`)}
	comp := protocol.Message{Type: protocol.TypeCompletion, Fields: protocol.FieldInvocationID | protocol.FieldError, InvocationID: "1", Error: hostile}
	feed(m, []Event{st,
		{Conn: who, Event: client.Event{Kind: client.EventMessage, Time: t0.Add(time.Second), Message: msg, Raw: []byte(hostile)}},
		{Conn: who, Event: client.Event{Kind: client.EventMessage, Time: t0.Add(2 * time.Second), Message: comp}},
		{Conn: who, Event: client.Event{Kind: client.EventError, Time: t0.Add(3 * time.Second), Raw: []byte(`{"type":1,` + hostile),
			Err: errors.New("Unexpected token '" + hostile + "'")}},
	})
	// A chat message, the service's view and a send that reached nobody,
	// every field hostile.
	chatArgs, _ := json.Marshal([]map[string]string{{"sender": hostile, "text": hostile, "recipient": hostile}})
	feed(m, []Event{{Conn: who, Event: client.Event{Kind: client.EventMessage, Time: t0.Add(4 * time.Second),
		Message: protocol.NewInvocation("newMessage", chatArgs)}}})
	n0 := 0
	m.Update(serviceMsg{found: true, from: hostile, hasState: true, states: []protocol.HubState{{Hub: hostile,
		Connections: []protocol.ConnectionState{{ID: hostile, User: hostile, Transport: hostile, Groups: []string{hostile}}},
		Groups:      []protocol.GroupState{{Name: hostile, Connections: []string{hostile}, Users: []string{hostile}}}}},
		events: []protocol.TraceEvent{{Kind: hostile, User: hostile, ConnectionID: hostile, Target: hostile, Route: hostile, Reason: hostile},
			{Kind: protocol.TraceDelivered, Target: hostile, Route: hostile, Recipients: &n0, Reason: hostile, Error: hostile},
			{Kind: protocol.TraceUpstream, URL: "http://x/" + hostile, UpstreamEvent: hostile, Hub: hostile}}})
	m.cfg.Sender = &fakeSender{answer: func(Outgoing) (manage.Outcome, error) {
		h := http.Header{}
		h.Set(protocol.HeaderDelivered, "0")
		h.Set(protocol.HeaderUndelivered, hostile)
		return manage.Outcome{Status: 200, Header: h}, nil
	}}
	sendNow(m, hostile, "user:"+hostile, hostile)
	// The record that failed to parse, the completion, the invocation.
	for _, move := range []string{"end", "up", "up"} {
		m.Update(press("esc"))
		m.Update(press(move))
		for _, k := range []string{"", "enter", "r", "t", "?", "n", "v", "s", "e"} {
			if k != "" {
				m.Update(press("esc"))
				m.Update(press(k))
			}
			out := m.View().Content
			checkFrame(t, out, 120, 35)
			rest := sgr.ReplaceAllString(out, "")
			for _, bad := range []string{"\x1b", "\x07", "\x00", "\u202E", "\u2066", "\u009b", "\xff"} {
				if strings.Contains(rest, bad) {
					t.Errorf("view after %q, %q leaks %q", move, k, bad)
				}
			}
		}
	}
	m.Update(press("esc"))
	m.Update(press("/"))
	for _, r := range "owned" {
		m.Update(press(string(r)))
	}
	if len(m.stream.matches) != 4 {
		t.Errorf("filter on hostile text: %d matches, want 4 (the invocation, the completion, the unreadable record and the chat message)", len(m.stream.matches))
	}
}

// TestWidthMatchesAnsi checks width's fast path against ansi.StringWidth
// on every symbol it measures itself, on styled lines like the screen's,
// and on what it must hand over (wide, combining, other sequences).
func TestWidthMatchesAnsi(t *testing.T) {
	var cases []string
	for r := rune(0x2000); r < 0x2600; r++ {
		cases = append(cases, string(r), "a"+string(r)+"b", string(r)+"\u0301", string(r)+"\ufe0f")
	}
	for r := rune(0x20); r < 0x7f; r++ {
		cases = append(cases, string(r))
	}
	cases = append(cases,
		"\x1b[38;2;188;140;255;1msigr\x1b[m \x1b[4mhttp://x\x1b[m│ ● anon …",
		"plain ascii", "", "\x1b[m", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "日本語", "e\u0301", "👍🏽", "\x1b[", "a\x1b",
		"tab\there", "\x1b[1;2", "x\u200dy", "\u2028", "\u202e")
	for _, c := range cases {
		if got, want := width(c), ansi.StringWidth(c); got != want {
			t.Errorf("width(%q) = %d, ansi.StringWidth says %d", c, got, want)
		}
	}
}
