package hostile

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// clientRows are a hostile server's frames against the client's receive
// path.
func clientRows() []row {
	sendAll := func(frames ...string) func(ctx context.Context, ws *websocket.Conn) {
		return func(ctx context.Context, ws *websocket.Conn) {
			for _, f := range frames {
				if ws.Write(ctx, websocket.MessageText, []byte(f)) != nil {
					return
				}
			}
		}
	}
	ok := "{\"type\":1,\"target\":\"ok\",\"arguments\":[]}\x1e"
	gotOK := func(evs []client.Event) bool {
		for _, ev := range evs {
			if ev.Kind == client.EventMessage && ev.Message.Target == "ok" {
				return true
			}
		}
		return false
	}
	return []row{
		{area: "client", input: "server sends a malformed record, then a good one",
			outcome: "an error event with the parser's text for the bad record; the connection carries on and delivers the next",
			check: func(t *testing.T, e *env) {
				f := newFakeHub(t, sendAll("{\"type\":1,\"target\":\x1e"+ok))
				evs, err := collect(t, client.Options{URL: f.URL}, 5*time.Second, gotOK)
				if err != nil {
					t.Fatal(err)
				}
				bad := 0
				for _, ev := range evs {
					if ev.Kind == client.EventError {
						bad++
					}
				}
				if bad != 1 || !gotOK(evs) {
					t.Fatalf("%d error events, ok delivered %v", bad, gotOK(evs))
				}
			}},
		{area: "client", input: "server sends a record that never ends (4 MiB without 0x1E, 64 KiB messages)",
			outcome: "connection ends with `a record exceeded the read limit of 2097152 bytes without its 0x1E separator`",
			check: func(t *testing.T, e *env) {
				chunk := strings.Repeat("x", 64<<10)
				frames := make([]string, 64)
				for i := range frames {
					frames[i] = chunk
				}
				f := newFakeHub(t, sendAll(frames...))
				evs, err := collect(t, client.Options{URL: f.URL}, 10*time.Second, nil)
				if err != nil {
					t.Fatal(err)
				}
				if st := lastState(evs); st.State != client.Disconnected || st.Err == nil || !strings.Contains(st.Err.Error(), "read limit") {
					t.Fatalf("last state %v %v", st.State, st.Err)
				}
			}},
		{area: "client", input: "server sends one 4 MiB WebSocket message (read limit 2 MiB)",
			outcome: "connection ends with `a message exceeded the read limit (raise Options.ReadLimit)`; `sigr watch` adds `raise it with --read-limit`",
			check: func(t *testing.T, e *env) {
				f := newFakeHub(t, sendAll(strings.Repeat("y", 4<<20)))
				evs, err := collect(t, client.Options{URL: f.URL}, 10*time.Second, nil)
				if err != nil {
					t.Fatal(err)
				}
				if st := lastState(evs); st.Err == nil || !strings.Contains(st.Err.Error(), "read limit") {
					t.Fatalf("last state %v %v", st.State, st.Err)
				}
			}},
		{area: "client", input: "server sends deep JSON (arguments 100 000 arrays deep), then a good record",
			outcome: "an error event (depth limit), then the good record; no stack exhaustion",
			check: func(t *testing.T, e *env) {
				deep := "{\"type\":1,\"target\":\"d\",\"arguments\":[" + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "]}\x1e"
				f := newFakeHub(t, sendAll(deep, ok))
				evs, err := collect(t, client.Options{URL: f.URL}, 5*time.Second, gotOK)
				if err != nil || !gotOK(evs) {
					t.Fatalf("%v, ok delivered %v", err, gotOK(evs))
				}
			}},
		{area: "client", input: "server sends invalid UTF-8 and escape sequences in a target and arguments",
			outcome: "delivered as bytes; the event line `watch` prints is valid JSON with the text escaped",
			check: func(t *testing.T, e *env) {
				rec := "{\"type\":1,\"target\":\"t\x1b[2J\xff\",\"arguments\":[\"\xc3\x28\x1b]0;x\x07\"]}"
				f := newFakeHub(t, sendAll(rec+"\x1e"+ok))
				evs, err := collect(t, client.Options{URL: f.URL}, 5*time.Second, gotOK)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range evs {
					if ev.Kind != client.EventMessage && ev.Kind != client.EventError {
						continue
					}
					var line []byte
					if ev.Kind == client.EventMessage {
						line = protocol.AppendMessageEvent(nil, ev.Time, &ev.Message, protocol.EventContext{Raw: ev.Raw})
					} else {
						line = protocol.AppendErrorEvent(nil, ev.Time, ev.Err.Error(), protocol.EventContext{Raw: ev.Raw})
					}
					if !json.Valid(line) || strings.ContainsAny(string(line), "\x1b\x07") {
						t.Fatalf("event line %q", line)
					}
				}
			}},
		{area: "client", input: "server sends a Close message whose error is an escape sequence",
			outcome: "the disconnect error shows it as visible text",
			check: func(t *testing.T, e *env) {
				f := newFakeHub(t, sendAll("{\"type\":7,\"error\":\"\\u001b]0;pwned\\u0007\\u001b[2J\"}\x1e"))
				evs, err := collect(t, client.Options{URL: f.URL}, 5*time.Second, nil)
				if err != nil {
					t.Fatal(err)
				}
				st := lastState(evs)
				if st.Err == nil {
					t.Fatal("no error on a close with an error")
				}
				noControl(t, st.Err.Error())
			}},
	}
}
