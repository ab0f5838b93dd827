package tui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/sigr-dev/sigr/client"
)

// TestSaveAndReplay: w writes what the stream keeps as event lines in the
// working directory and says where; a replay of the file shows the same
// rows, gap rows included, read-only.
func TestSaveAndReplay(t *testing.T) {
	dir := t.TempDir()
	m := newLiveModel(120, 35, Config{SaveDir: dir})
	down := stateEv(26*time.Second, "bob@chat", "bob", client.Reconnecting)
	back := stateEv(27*time.Second, "bob@chat", "bob", client.Connected)
	feed(m, []Event{down, back, badEv(28*time.Second, "alice@chat", `{"type":1,`)})
	_, cmd := m.Update(press("w"))
	if cmd == nil {
		t.Fatal("w gave no command")
	}
	m.Update(cmd())
	want := filepath.Join(dir, "sigr-20261128-140030.jsonl")
	if got := ansi.Strip(m.bottomLine(200)); !strings.Contains(got, "saved 40 events to "+want) {
		t.Fatalf("hint line after w: %q", got)
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	conns, evs, err := ReadEventLines(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r := newTestModel(120, 35, Config{Replay: &Replay{Name: "sigr-20261128-140030.jsonl", Conns: conns, Events: evs}})
	if len(r.roster.conns) != 3 || r.stream.len() != m.stream.len() {
		t.Fatalf("replay: %d connections, %d rows; saved %d rows", len(r.roster.conns), r.stream.len(), m.stream.len())
	}
	if a, b := streamText(r), streamText(m); a != b {
		t.Fatalf("replay rows differ:\n%s\nsaved:\n%s", a, b)
	}
	// Read-only: no composer, and nothing to send with.
	r.Update(press("i"))
	if r.focus != focusStream || !strings.Contains(ansi.Strip(r.bottomLine(120)), "read-only") {
		t.Fatalf("i in a replay: focus %d, hint %q", r.focus, ansi.Strip(r.bottomLine(120)))
	}
	for range 3 {
		r.Update(press("tab"))
		if r.focus > focusSidebar {
			t.Fatalf("tab reached the composer (%d) in a replay", r.focus)
		}
	}
	r.Update(press("r"))
	if r.overlay != overlayMatrix {
		t.Fatal("the routing matrix does not open in a replay")
	}
	r.Update(press("q"))
	golden.RequireEqual(t, r.View().Content)
}

// TestReadEventLines: watch's and decode's lines, lines without a raw
// record, and what is not an event line.
func TestReadEventLines(t *testing.T) {
	in := `{"time":"2026-11-30T14:52:09.438032753Z","event":"state","connection":"alice","state":"connecting","attempt":1}
{"time":"2026-11-30T14:52:09.455887877Z","event":"state","connection":"alice@chat","hub":"chat","state":"connected","transport":"WebSockets","connectionId":"zd"}
{"time":"2026-11-30T14:52:09.556620112Z","event":"invocation","connection":"alice@chat","hub":"chat","target":"newMessage","arguments":["hi alice",42,{"a":1}],"headers":{"route":"user:alice"}}
{"time":"2026-11-30T14:52:10Z","event":"handshakeResponse"}

{"time":"2026-11-30T14:52:11Z","event":"completion","invocationId":"7","result":3}
{"time":"2026-11-30T14:52:12Z","event":"error","error":"bad record","raw":"{\"type\":"}
`
	conns, evs, err := ReadEventLines(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 3 || conns[2].Label() != replayConn || len(evs) != 5 {
		t.Fatalf("conns %+v, %d events", conns, len(evs))
	}
	inv := evs[2]
	if inv.Kind != client.EventMessage || inv.Message.Target != "newMessage" || string(inv.Message.Arguments) != `["hi alice",42,{"a":1}]` {
		t.Fatalf("invocation %+v", inv)
	}
	if r, _ := inv.Message.Header("route"); r != "user:alice" {
		t.Fatalf("route %q", r)
	}
	if c := evs[3]; c.Message.InvocationID != "7" || string(c.Message.Result) != "3" {
		t.Fatalf("completion %+v", c.Message)
	}
	if e := evs[4]; e.Kind != client.EventError || e.Err.Error() != "bad record" || string(e.Raw) != `{"type":` {
		t.Fatalf("error %+v", e)
	}
	for _, bad := range []string{"not json\n", `{"a":1}` + "\n", `{"time":"2026-11-30T14:52:10Z","event":"state","state":"asleep"}` + "\n"} {
		if _, _, err := ReadEventLines(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err %v, want one naming line 1", bad, err)
		}
	}
}
