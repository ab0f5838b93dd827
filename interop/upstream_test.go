package interop

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sigr-dev/sigr/emulator"
)

// upstreamCalls records the emulator's upstream calls.
type upstreamCalls struct {
	mu    sync.Mutex
	calls []emulator.UpstreamCall
}

func (u *upstreamCalls) add(c emulator.UpstreamCall) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, c)
}

func (u *upstreamCalls) snapshot() []emulator.UpstreamCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]emulator.UpstreamCall(nil), u.calls...)
}

// count returns how many calls for event came from connection id, and
// whether each of them got a 200.
func count(calls []emulator.UpstreamCall, id, event string) (n int, all200 bool) {
	all200 = true
	for _, c := range calls {
		if c.ConnectionID == id && c.Event == event {
			n++
			all200 = all200 && c.Status == 200
		}
	}
	return n, all200
}

// TestEmulatorUpstreamOfficialClient runs the official client against the
// emulator's default upstream (the built-in function app's hub) over each
// transport: invoke resolves with the function's result, a broadcast
// reaches every connection, an unknown method and a stream reject with
// the service's texts, send reaches the function, and each connection's
// connected and disconnected events reach it exactly once.
func TestEmulatorUpstreamOfficialClient(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, transport := range []string{"WebSockets", "ServerSentEvents", "LongPolling"} {
		t.Run(transport, func(t *testing.T) {
			rec := &upstreamCalls{}
			st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
				ServiceAddr:   "127.0.0.1:0",
				FunctionsAddr: "127.0.0.1:0",
				Logger:        slog.New(slog.NewTextHandler(&testLog{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
				Service:       emulator.ServiceOptions{ShutdownTimeout: time.Second, OnUpstreamCall: rec.add},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			lines := runScript(t, "emulator-upstream.mjs", nil, st.FunctionsURL, transport)

			ids := map[string]string{}
			steps := map[string]line{}
			for _, l := range lines {
				switch l.Event {
				case "connected":
					ids[l.User] = l.ConnectionID
				case "result", "rejected":
					steps[l.Step] = l
				}
			}
			for _, s := range []string{"echo", "broadcast", "send", "after"} {
				if l, ok := steps[s]; !ok || !l.OK {
					t.Errorf("step %s: %+v", s, l)
				}
			}
			if got := steps["nosuch"].Error; got != "Invocation failed, status code 404" {
				t.Errorf("invoke('nosuch') rejected with %q, want %q", got, "Invocation failed, status code 404")
			}
			if got := steps["stream"].Error; !strings.Contains(got, "Stream invocations are not supported in serverless mode") {
				t.Errorf("stream() ended with %q, want the unsupported error", got)
			}
			want := []string{
				`alice newMessage {"connectionId":"` + ids["alice"] + `","sender":"alice","text":"hello from alice"}`,
				`alice newMessage {"connectionId":"` + ids["bob"] + `","sender":"bob","text":"sent by bob"}`,
				`bob newMessage {"connectionId":"` + ids["alice"] + `","sender":"alice","text":"hello from alice"}`,
				`bob newMessage {"connectionId":"` + ids["bob"] + `","sender":"bob","text":"sent by bob"}`,
			}
			sort.Strings(want)
			if got := received(lines); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("messages received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			// The clients stopped: their disconnected events follow.
			deadline := time.Now().Add(10 * time.Second)
			for {
				a, _ := count(rec.snapshot(), ids["alice"], "disconnected")
				b, _ := count(rec.snapshot(), ids["bob"], "disconnected")
				if a > 0 && b > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("disconnected events after 10 s: alice %d, bob %d", a, b)
				}
				time.Sleep(10 * time.Millisecond)
			}
			_ = st.Close() // nothing more can come
			calls := rec.snapshot()
			for user, id := range ids {
				for _, ev := range []string{"connected", "disconnected"} {
					if n, ok := count(calls, id, ev); n != 1 || !ok {
						t.Errorf("%s: %d %s calls (all 200: %v), want exactly one answered 200", user, n, ev, ok)
					}
				}
			}
			var sendCall, missing *emulator.UpstreamCall
			for i, c := range calls {
				if c.ConnectionID == ids["bob"] && c.Event == "broadcast" && c.InvocationID == "" {
					sendCall = &calls[i]
				}
				if c.Event == "nosuch" {
					missing = &calls[i]
				}
			}
			if sendCall == nil || sendCall.Status != 200 || sendCall.Failure != "" {
				t.Errorf("bob's send reached the function as %+v", sendCall)
			}
			if missing == nil || missing.Status != 404 || missing.Failure != "status code 404" || !strings.Contains(missing.Body, "No function") {
				t.Errorf("the unknown method's call: %+v", missing)
			}
		})
	}
}
