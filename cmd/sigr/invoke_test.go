package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/internal/testhub"
	"github.com/sigr-dev/sigr/protocol"
)

func startTestHub(t *testing.T) *testhub.Server {
	t.Helper()
	s, err := testhub.Listen("127.0.0.1:0", testhub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// invokeLines parses what invoke printed: one JSON object per line.
func invokeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		if m["time"] == nil {
			t.Errorf("line without time: %q", l)
		}
		lines = append(lines, m)
	}
	return lines
}

func exitCode(err error) int {
	var ec exitCoder
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return ec.ExitCode()
	}
	return 1
}

// TestInvokePlainHub runs invoke against the plain test hub over each
// transport: a value, a void method, a hub error, a stream, arguments from
// a file and from standard input, and no hub shown in the lines, even with
// --hub.
func TestInvokePlainHub(t *testing.T) {
	verifyNoLeaks(t)
	hub := startTestHub(t)
	argsFile := filepath.Join(t.TempDir(), "args.json")
	if err := os.WriteFile(argsFile, []byte(" [1, 41]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, transport := range []string{"websockets", "sse"} {
		t.Run(transport, func(t *testing.T) {
			cases := []struct {
				name   string
				f      invokeFlags
				args   []string
				stdin  string
				code   int
				events []string // the event of each line
				check  func(t *testing.T, lines []map[string]any, err error)
			}{
				{name: "value", f: invokeFlags{target: "echo"}, args: []string{`{"a":1}`}, events: []string{"completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						if r, _ := json.Marshal(lines[0]["result"]); string(r) != `{"a":1}` || lines[0]["invocationId"] == "" {
							t.Errorf("completion %v", lines[0])
						}
						if _, ok := lines[0]["hub"]; ok || lines[0]["connection"] != "alice" {
							t.Errorf("a plain hub names no hub: %v", lines[0])
						}
					}},
				{name: "bare words", f: invokeFlags{target: "echo"}, args: []string{"two words"}, events: []string{"completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						if lines[0]["result"] != "two words" {
							t.Errorf("completion %v", lines[0])
						}
					}},
				{name: "void", f: invokeFlags{target: "Sleep"}, args: []string{"1"}, events: []string{"completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						if _, ok := lines[0]["result"]; ok {
							t.Errorf("a void method's completion has a result: %v", lines[0])
						}
					}},
				{name: "hub error", f: invokeFlags{target: "Fail"}, args: []string{"boom"}, code: 1, events: []string{"completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						want := "An unexpected error occurred invoking 'Fail' on the server. HubException: boom"
						if lines[0]["error"] != want || err.Error() != "invoke Fail: "+want {
							t.Errorf("line %v, err %v", lines[0], err)
						}
					}},
				{name: "stream", f: invokeFlags{target: "Counter", stream: true}, args: []string{"3", "1"},
					events: []string{"streamItem", "streamItem", "streamItem", "completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						for i, l := range lines[:3] {
							if l["item"] != float64(i+1) || l["invocationId"] != lines[3]["invocationId"] {
								t.Errorf("item %d: %v", i, l)
							}
						}
					}},
				{name: "args file", f: invokeFlags{target: "add", argsFile: argsFile}, events: []string{"completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						if lines[0]["result"] != float64(42) {
							t.Errorf("completion %v", lines[0])
						}
					}},
				{name: "args on stdin", f: invokeFlags{target: "add", argsFile: "-"}, stdin: `[2.5, 0.5]`, events: []string{"completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						if lines[0]["result"] != float64(3) {
							t.Errorf("completion %v", lines[0])
						}
					}},
				{name: "raw", f: invokeFlags{target: "echo", raw: true}, args: []string{"1"}, events: []string{"completion"},
					check: func(t *testing.T, lines []map[string]any, err error) {
						raw, _ := lines[0]["raw"].(string)
						if m, perr := protocol.ParseMessage([]byte(raw), protocol.Strict); perr != nil || m.Type != protocol.TypeCompletion {
							t.Errorf("raw %q: %v", raw, perr)
						}
					}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					var out syncbuf.Buffer
					f := tc.f
					// --hub goes to negotiate, but a plain hub names none.
					f.id, f.conn = &identityFlags{user: "alice", hub: "Chat"}, &connFlags{transport: transport}
					f.timeout, f.readLimit = 30*time.Second, 1<<20
					err := runInvoke(context.Background(), strings.NewReader(tc.stdin), &out, append([]string{hub.URL()}, tc.args...), &f)
					if exitCode(err) != tc.code {
						t.Fatalf("exit %d (%v), want %d", exitCode(err), err, tc.code)
					}
					lines := invokeLines(t, out.String())
					var events []string
					for _, l := range lines {
						events = append(events, l["event"].(string))
					}
					if strings.Join(events, ",") != strings.Join(tc.events, ",") {
						t.Fatalf("lines %v, want events %v:\n%s", events, tc.events, out.String())
					}
					tc.check(t, lines, err)
				})
			}
		})
	}
}

// TestInvokeStreamCtrlC: Ctrl-C during a stream sends CancelInvocation
// and exits 0 after the items printed so far.
func TestInvokeStreamCtrlC(t *testing.T) {
	verifyNoLeaks(t)
	hub := startTestHub(t)
	for _, transport := range []string{"websockets", "sse"} {
		t.Run(transport, func(t *testing.T) {
			var out syncbuf.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := invokeFlags{id: &identityFlags{}, conn: &connFlags{transport: transport}, target: "counter", stream: true, timeout: 30 * time.Second, readLimit: 1 << 20}
			done := make(chan error, 1)
			go func() { done <- runInvoke(ctx, nil, &out, []string{hub.URL(), "1000000", "5"}, &f) }()
			waitFor(t, "a stream item", func() bool { return strings.Contains(out.String(), `"event":"streamItem"`) })
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("invoke --stream after Ctrl-C: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("invoke --stream did not stop")
			}
			id := invokeLines(t, out.String())[0]["invocationId"]
			waitFor(t, "the CancelInvocation", func() bool {
				for _, r := range hub.Received() {
					if r.Message.Type == protocol.TypeCancelInvocation && r.Message.InvocationID == id {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestInvokeNoWait: --no-wait writes an Invocation without an id and
// prints nothing.
func TestInvokeNoWait(t *testing.T) {
	verifyNoLeaks(t)
	hub := startTestHub(t)
	var out syncbuf.Buffer
	f := invokeFlags{id: &identityFlags{}, conn: &connFlags{}, target: "Broadcast", noWait: true, timeout: 30 * time.Second, readLimit: 1 << 20}
	if err := runInvoke(context.Background(), nil, &out, []string{hub.URL(), "hello"}, &f); err != nil {
		t.Fatal(err)
	}
	if out.String() != "" {
		t.Errorf("--no-wait printed %q", out.String())
	}
	waitFor(t, "the invocation", func() bool {
		for _, r := range hub.Received() {
			if r.Message.Target == "Broadcast" {
				if r.Message.Has(protocol.FieldInvocationID) || string(r.Message.Arguments) != `["hello"]` {
					t.Fatalf("received %+v", r.Message)
				}
				return true
			}
		}
		return false
	})
}

// TestInvokeTimeout: no answer in time is exit 1 with the likely cause,
// which differs between a plain hub and Azure SignalR in serverless mode
// (the emulator, which without an upstream drops client invocations).
func TestInvokeTimeout(t *testing.T) {
	verifyNoLeaks(t)
	hub := startTestHub(t)
	// An upstream for another hub only: chat's invocations are dropped, as
	// on a service with no upstream for them.
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:   "127.0.0.1:0",
		FunctionsAddr: "127.0.0.1:0",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Service:       emulator.ServiceOptions{Upstream: []emulator.UpstreamTemplate{{URLTemplate: "http://127.0.0.1:1/x", HubPattern: "other"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, tc := range []struct {
		name, url, target string
		args              []string
		stream            bool
		want              []string
	}{
		{"plain hub", hub.URL(), "sleep", []string{"60000"}, false, []string{"no completion for sleep within 2s", "the hub may have no method sleep", "raise --timeout"}},
		{"plain hub stream", hub.URL(), "counter", []string{"1", "60000"}, true, []string{"no stream item and no completion for counter within 2s"}},
		{"serverless", st.FunctionsURL, "echo", []string{"1"}, false, []string{"no completion for echo within 2s", "serverless mode drops a client's invocations unless the hub has an upstream"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncbuf.Buffer
			// Long enough to connect on a loaded machine: the timeout
			// covers connecting too.
			f := invokeFlags{id: &identityFlags{}, conn: &connFlags{}, target: tc.target, stream: tc.stream, timeout: 2 * time.Second, readLimit: 1 << 20}
			err := runInvoke(context.Background(), nil, &out, append([]string{tc.url}, tc.args...), &f)
			if exitCode(err) != 1 {
				t.Fatalf("exit %d: %v", exitCode(err), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if out.String() != "" {
				t.Errorf("printed %q", out.String())
			}
		})
	}
}

// TestInvokeEmulatorUpstream: on the emulator, an invocation goes through
// the default upstream to the built-in function app, whose echo answers.
func TestInvokeEmulatorUpstream(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	var out syncbuf.Buffer
	f := invokeFlags{id: &identityFlags{user: "alice"}, conn: &connFlags{}, target: "echo", timeout: 30 * time.Second, readLimit: 1 << 20}
	if err := runInvoke(context.Background(), nil, &out, []string{st.FunctionsURL, `{"a":[1,"two"]}`}, &f); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Event  string          `json:"event"`
		Hub    string          `json:"hub"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out.String())), &line); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if line.Event != "completion" || line.Hub != "chat" || string(line.Result) != `{"a":[1,"two"]}` {
		t.Fatalf("printed %q", out.String())
	}

	f.target = "nosuch"
	err := runInvoke(context.Background(), nil, io.Discard, []string{st.FunctionsURL}, &f)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "Invocation failed, status code 404") {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
}

func TestInvokeFlagErrors(t *testing.T) {
	t.Setenv(connectionStringEnv, "")
	for _, tc := range []struct {
		f     invokeFlags
		args  []string
		stdin string
		want  string
	}{
		{invokeFlags{}, []string{"http://127.0.0.1:1/hub"}, "", "--target is required"},
		{invokeFlags{target: "x", stream: true, noWait: true}, []string{"http://127.0.0.1:1/hub"}, "", "do not go together"},
		{invokeFlags{target: "x", argsFile: "-"}, []string{"http://127.0.0.1:1/hub", "1"}, "", "not both"},
		{invokeFlags{target: "x", argsFile: "-"}, []string{"http://127.0.0.1:1/hub"}, `{"a":1}`, "standard input must hold one JSON array"},
		{invokeFlags{target: "x", argsFile: "-"}, []string{"http://127.0.0.1:1/hub"}, `[1,`, "one JSON array"},
		{invokeFlags{target: "x", argsFile: "/nonexistent/args.json"}, []string{"http://127.0.0.1:1/hub"}, "", "no such file"},
		{invokeFlags{target: "x"}, nil, "", "a URL is required"},
	} {
		f := tc.f
		f.id, f.conn = &identityFlags{}, &connFlags{}
		err := runInvoke(context.Background(), strings.NewReader(tc.stdin), &syncbuf.Buffer{}, tc.args, &f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v %v: err %v, want %q", tc.f, tc.args, err, tc.want)
		}
	}
}

// TestInvokeConnectFails: a connection that cannot be made says why, as
// watch does.
func TestInvokeConnectFails(t *testing.T) {
	verifyNoLeaks(t)
	hub := startTestHub(t)
	f := invokeFlags{id: &identityFlags{}, conn: &connFlags{}, target: "echo", timeout: 30 * time.Second, readLimit: 1 << 20}
	err := runInvoke(context.Background(), nil, &syncbuf.Buffer{}, []string{hub.URL() + "/negotiate"}, &f)
	if err == nil || !strings.Contains(err.Error(), "already ends in /negotiate") {
		t.Fatalf("err = %v", err)
	}
}
