package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/nodetest"
	"github.com/sigr-dev/sigr/manage"
)

// line is one JSON line printed by an emulator-*.mjs script.
type line struct {
	Event        string            `json:"event"`
	User         string            `json:"user"`
	Target       string            `json:"target"`
	Args         []json.RawMessage `json:"args"`
	ConnectionID string            `json:"connectionId"`
	Transport    string            `json:"transport"`
	Step         string            `json:"step"`
	OK           bool              `json:"ok"`
	Error        string            `json:"error"`
	First        string            `json:"first"`
	Second       string            `json:"second"`
}

// startEmulator runs the emulator in-process on free loopback ports.
func startEmulator(t *testing.T) *emulator.Stack {
	t.Helper()
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:   "127.0.0.1:0",
		FunctionsAddr: "127.0.0.1:0",
		Logger:        slog.New(slog.NewTextHandler(&testLog{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Service:       emulator.ServiceOptions{ShutdownTimeout: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

type testLog struct {
	mu sync.Mutex
	t  *testing.T
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// runScript runs `node script args...` in the interop directory with a
// 30 s limit, calls onLine for each JSON line as it arrives, and returns
// every line once the script exited.
func runScript(t *testing.T, script string, onLine func(line), args ...string) []line {
	t.Helper()
	dir := nodetest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	var lines []line
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("%s printed a line that is not JSON: %q", script, sc.Text())
			continue
		}
		t.Logf("%s: %s", script, sc.Text())
		lines = append(lines, l)
		if onLine != nil {
			onLine(l)
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s %v failed: %v\nstderr:\n%s", script, args, err, stderr.String())
	}
	for _, l := range lines {
		if l.Event == "error" {
			t.Fatalf("%s reported an error: %s", script, l.Error)
		}
	}
	if len(lines) == 0 || lines[len(lines)-1].Event != "done" {
		t.Fatalf("%s did not finish (no done line); stderr:\n%s", script, stderr.String())
	}
	return lines
}

// received returns "user target args" for each message line, sorted.
func received(lines []line) []string {
	var out []string
	for _, l := range lines {
		if l.Event != "message" {
			continue
		}
		var args []string
		for _, a := range l.Args {
			args = append(args, string(a))
		}
		out = append(out, l.User+" "+l.Target+" "+strings.Join(args, ","))
	}
	sort.Strings(out)
	return out
}

// TestEmulatorRoutingOfficialClient runs the official client over each
// transport: two users negotiate through the function app, then a
// broadcast, a chat message to a user, a group message after a group add
// and a message to one connection each reach exactly their recipients.
func TestEmulatorRoutingOfficialClient(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, transport := range []string{"WebSockets", "ServerSentEvents", "LongPolling"} {
		t.Run(transport, func(t *testing.T) {
			st := startEmulator(t)
			lines := runScript(t, "emulator-routing.mjs", nil, st.FunctionsURL, transport)
			ids := map[string]string{}
			for _, l := range lines {
				if l.Event == "connected" {
					if l.ConnectionID == "" {
						t.Fatalf("%s connected without a connection id", l.User)
					}
					ids[l.User] = l.ConnectionID
				}
				if l.Event == "step" && !l.OK {
					t.Errorf("step %s: the expected messages did not all arrive", l.Step)
				}
			}
			if len(ids) != 2 || ids["alice"] == ids["bob"] {
				t.Fatalf("connection ids %v: want two distinct ids", ids)
			}
			want := []string{
				`alice notify "to everyone"`,
				`alice notify "to g1"`,
				`bob newMessage {"sender":"alice","text":"hi bob","recipient":"bob"}`,
				`bob notify "to bob's connection"`,
				`bob notify "to everyone"`,
			}
			got := received(lines)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("messages received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestEmulatorReconnectOfficialClient closes the official client's
// connection through the REST API (Close with allowReconnect:true): the
// client must reconnect by itself, with a new connection id, and its
// user-group membership must still apply.
func TestEmulatorReconnectOfficialClient(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, transport := range []string{"WebSockets", "LongPolling"} {
		t.Run(transport, func(t *testing.T) {
			st := startEmulator(t)
			rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
			if err != nil {
				t.Fatal(err)
			}
			closeErr := make(chan error, 1)
			lines := runScript(t, "emulator-reconnect.mjs", func(l line) {
				if l.Event == "connected" {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					closeErr <- rc.CloseConnection(ctx, "chat", l.ConnectionID, "maintenance")
				}
			}, st.FunctionsURL, transport)
			select {
			case err := <-closeErr:
				if err != nil {
					t.Fatalf("REST close: %v", err)
				}
			default:
				t.Fatal("the script never reported its connection")
			}
			var sawReconnecting bool
			var last line
			for _, l := range lines {
				if l.Event == "reconnecting" {
					sawReconnecting = true
					if !strings.Contains(l.Error, "maintenance") {
						t.Errorf("reconnecting error %q: want the close reason", l.Error)
					}
				}
				last = l
			}
			if !sawReconnecting {
				t.Fatal("the client never went into reconnecting")
			}
			if last.First == "" || last.Second == "" || last.First == last.Second {
				t.Fatalf("connection ids before and after reconnect: %q, %q; want two different ids", last.First, last.Second)
			}
			got := received(lines)
			if len(got) != 1 || got[0] != `alice notify "team after reconnect"` {
				t.Fatalf("messages after reconnect: %v", got)
			}
		})
	}
}
