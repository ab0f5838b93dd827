package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

func TestWatchFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		raw    bool
		tty    bool
		want   string // "" wants an error
	}{
		{"", false, true, formatText},
		{"", false, false, formatJSON},
		{"", true, true, formatJSON}, // --raw is for JSON lines
		{"json", false, true, formatJSON},
		{"text", false, false, formatText},
		{" TEXT ", false, false, formatText},
		{"text", true, true, ""},
		{"yaml", false, true, ""},
	} {
		var out interface{ Write([]byte) (int, error) } = &bytes.Buffer{}
		if tc.tty {
			out = &ttyBuffer{}
		}
		got, err := watchFormat(tc.format, tc.raw, out)
		if got != tc.want || (err == nil) != (tc.want != "") || (err != nil && exitCode(err) != exitUsage) {
			t.Errorf("watchFormat(%q, raw %v, tty %v) = %q, %v; want %q", tc.format, tc.raw, tc.tty, got, err, tc.want)
		}
	}
}

// textEvents are a connection's life as watch sees it, with hostile text
// in every place a server controls.
func textEvents(t *testing.T) []client.Event {
	t.Helper()
	at := time.Date(2026, 11, 30, 14, 0, 0, 0, time.Local)
	msg := func(record string) client.Event {
		m, err := protocol.ParseMessage([]byte(record), protocol.Lenient)
		if err != nil {
			t.Fatalf("%s: %v", record, err)
		}
		at = at.Add(time.Second)
		return client.Event{Kind: client.EventMessage, Time: at, Message: m, Raw: []byte(record)}
	}
	// Built in steps: msg moves the clock, and a composite literal does
	// not order its reads of at against its calls.
	events := []client.Event{
		{Kind: client.EventState, Time: at, State: client.Connecting, Attempt: 1},
		{Kind: client.EventState, Time: at, State: client.Connected, Transport: "WebSockets", ConnectionID: "abc123", Hub: "chat"},
	}
	events = append(events,
		msg(`{"type":1,"target":"newMessage","arguments":[{"text": "hi"}, 42],"headers":{"route":"user:alice"}}`),
		msg(`{"type":1,"target":"evil\u001b]0;pwned\u0007","arguments":["\u001b[2J", "`+"\u202e\u009b"+`2J"],"headers":{"route":"group:\u001b[31mred"}}`),
		msg(`{"type":3,"invocationId":"7","error":"boom\r\nsecond line"}`),
		msg(`{"type":2,"invocationId":"8","item":{"n": 1}}`),
		msg(`{"type":7,"error":"going away","allowReconnect":true}`),
	)
	return append(events, []client.Event{
		{Kind: client.EventError, Time: at, Err: errors.New("Missing required property 'item'."), Raw: []byte("{\"type\":2,\x1b[5m}")},
		{Kind: client.EventState, Time: at, State: client.Reconnecting, Attempt: 2, RetryIn: 2 * time.Second, Err: errors.New("websocket: close 1006")},
		{Kind: client.EventState, Time: at, State: client.Disconnected},
	}...)
}

// textOutput writes events in the text format to a buffer standing in
// for stdout, and returns what came out.
func textOutput(t *testing.T, stdout interface{ Write([]byte) (int, error) }, events []client.Event) string {
	t.Helper()
	var b bytes.Buffer
	out := bufio.NewWriter(&b)
	id := &identityFlags{user: "alice"}
	lw := &lineWriter{out: out, id: id}
	lw.label = id.label("")
	w := newTextWriter(lw, stdout)
	for _, ev := range events {
		w.write(ev)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTextFormat checks the text lines: one per event, aligned, what each
// carries, every hostile text made visible, and colour only on a
// terminal that takes it.
func TestTextFormat(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	events := textEvents(t)
	plain := textOutput(t, &bytes.Buffer{}, events)
	if strings.ContainsAny(plain, "\x1b\u009b\u202e\r\a") {
		t.Fatalf("raw escapes or controls in the text:\n%q", plain)
	}
	lines := strings.Split(strings.TrimSuffix(plain, "\n"), "\n")
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events:\n%s", len(lines), len(events), plain)
	}
	want := []string{
		`14:00:00.000  alice         ◌ connecting                  attempt 1`,
		`14:00:00.000  alice@chat    ● connected     WebSockets    id abc123`,
		`14:00:01.000  alice@chat    newMessage      user:alice    [{"text":"hi"},42]`,
		`14:00:02.000  alice@chat    evil\x1b]0;pwned\x07  group:\x1b[31mred  ["\u001b[2J","\u202e\u009b2J"]`,
		`14:00:03.000  alice@chat    completion                               id 7: error: boom\r\nsecond line`,
		`14:00:04.000  alice@chat    streamItem                               id 8: {"n":1}`,
		`14:00:05.000  alice@chat    close                                    going away (the server allows a reconnect)`,
		`14:00:05.000  alice@chat    error                                    Missing required property 'item'.  raw: {"type":2,\x1b[5m}`,
		`14:00:05.000  alice@chat    ↻ reconnecting                           attempt 2, retry in 2s, websocket: close 1006`,
		`14:00:05.000  alice@chat    ○ disconnected`,
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], want[i])
		}
	}

	// On a terminal: the same text, coloured with SGR sequences only.
	colored := textOutput(t, &ttyBuffer{}, events)
	if ansi.Strip(colored) != plain {
		t.Errorf("coloured text differs from plain once stripped:\n%s\n%s", ansi.Strip(colored), plain)
	}
	sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	if !strings.Contains(colored, "\x1b[3") || strings.Contains(sgr.ReplaceAllString(colored, ""), "\x1b") {
		t.Errorf("want SGR colours and no other escape:\n%q", colored)
	}

	// The columns widened for the hostile target and route, and stay so.
	if !strings.HasPrefix(lines[4], "14:00:03.000  alice@chat    completion"+strings.Repeat(" ", 31)+"id 7") {
		t.Errorf("columns not kept: %q", lines[4])
	}

	// NO_COLOR (any value): bold at most. A dumb terminal: nothing.
	colour := regexp.MustCompile(`\x1b\[[0-9;]*[39][0-7][;m]`)
	t.Setenv("NO_COLOR", "yes")
	if got := textOutput(t, &ttyBuffer{}, events); colour.MatchString(got) || ansi.Strip(got) != plain {
		t.Errorf("NO_COLOR: %q", got)
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if got := textOutput(t, &ttyBuffer{}, events); got != plain {
		t.Errorf("TERM=dumb: %q", got)
	}

	// The arguments are cut to the terminal's width: every line fits, as
	// long as the other columns leave some room.
	t.Setenv("TERM", "xterm-256color")
	for _, width := range []int{100, 72} {
		for i, l := range strings.Split(strings.TrimSuffix(textOutput(t, &ttyBuffer{width: width}, events), "\n"), "\n") {
			if width == 72 && i > 2 {
				break // past the hostile line, the widened columns leave 10 cells
			}
			if w := ansi.StringWidth(l); w > width || (width == 72 && i == 2 && w != width) {
				t.Errorf("%d cells on a %d-cell terminal: %s", w, width, ansi.Strip(l))
			}
		}
	}
}

// TestTextWidthKept checks that the terminal's width is asked once per
// textWidthEvery of events, not once a line, and that a resize shows
// after it.
func TestTextWidthKept(t *testing.T) {
	t.Setenv("TERM", "dumb")
	var b bytes.Buffer
	out := bufio.NewWriter(&b)
	id := &identityFlags{user: "alice"}
	lw := &lineWriter{out: out, id: id, label: id.label("")}
	w := newTextWriter(lw, &ttyBuffer{})
	reads, width := 0, 100
	w.readWidth = func() int { reads++; return width }
	long := `["` + strings.Repeat("x", 200) + `"]`
	m := protocol.Message{Type: protocol.TypeInvocation, Target: "t", Arguments: []byte(long)}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	line := func(at time.Duration) int {
		b.Reset()
		w.write(client.Event{Kind: client.EventMessage, Time: t0.Add(at), Message: m})
		if err := out.Flush(); err != nil {
			t.Fatal(err)
		}
		return ansi.StringWidth(strings.TrimSuffix(b.String(), "\n"))
	}
	for i := range 50 {
		if n := line(time.Duration(i) * time.Millisecond); n != 100 {
			t.Fatalf("line %d: %d cells on a 100-cell terminal", i, n)
		}
	}
	if reads != 1 {
		t.Errorf("50 lines within %v: the width read %d times, want 1", textWidthEvery, reads)
	}
	width = 80
	if n := line(textWidthEvery - time.Millisecond); n != 100 || reads != 1 {
		t.Errorf("before %v: %d cells, %d reads; want the width kept", textWidthEvery, n, reads)
	}
	if n := line(textWidthEvery); n != 80 || reads != 2 {
		t.Errorf("after a resize and %v: %d cells, %d reads; want 80 cells, 2 reads", textWidthEvery, n, reads)
	}
}

// TestWatchTextAgainstEmulator runs `sigr watch` on a terminal against
// the emulator: the default is text, and a send shows as a line with the
// route.
func TestWatchTextAgainstEmulator(t *testing.T) {
	verifyNoLeaks(t)
	t.Setenv(connectionStringEnv, "")
	t.Setenv("TERM", "dumb")
	st := startTestStack(t)
	stdout := &ttyBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- execute(context.Background(), []string{"watch", st.FunctionsURL, "--user", "alice", "--count", "1"}, strings.NewReader(""), stdout, &bytes.Buffer{})
	}()
	waitFor(t, "the connected line", func() bool { return strings.Contains(stdout.String(), "● connected") })
	waitFor(t, "alice registered", func() bool { return aliceKnown(t, st) })
	if r := runCLI(t, false, "", "send", st.FunctionsURL, "--to-user", "alice", "--target", "newMessage", "hi"); r.code != 0 {
		t.Fatalf("send: %+v", r)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("watch: exit %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("watch did not exit at --count")
	}
	line := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3}  alice@chat    newMessage      user:alice    \["hi"\]$`)
	if !line.MatchString(stdout.String()) || strings.Contains(stdout.String(), `"event"`) {
		t.Errorf("no text line for the message:\n%s", stdout.String())
	}
}

// BenchmarkEventWriters compares the cost of one invocation line in each
// format, on a coloured terminal for text.
func BenchmarkEventWriters(b *testing.B) {
	b.Setenv("TERM", "xterm-256color")
	b.Setenv("NO_COLOR", "")
	rec := []byte(`{"type":1,"target":"newMessage","arguments":[{"sender":"carol","text":"the build is green again"}],"headers":{"route":"group:devs"}}`)
	m, err := protocol.ParseMessage(rec, protocol.Lenient)
	if err != nil {
		b.Fatal(err)
	}
	ev := client.Event{Kind: client.EventMessage, Time: time.Now(), Message: m, Raw: rec}
	id := &identityFlags{user: "alice"}
	for _, format := range []string{formatJSON, formatText} {
		b.Run(format, func(b *testing.B) {
			out := bufio.NewWriterSize(io.Discard, watchFlushSize)
			lw := &lineWriter{out: out, id: id, hub: "chat", label: id.label("chat")}
			var w eventWriter = lw
			if format == formatText {
				w = newTextWriter(lw, &ttyBuffer{width: 120})
			}
			b.ReportAllocs()
			for b.Loop() {
				w.write(ev)
			}
		})
	}
}
