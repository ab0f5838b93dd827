package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/syncbuf"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// traceLines parses sigr trace's standard output.
func traceLines(t *testing.T, out string) []protocol.TraceEvent {
	t.Helper()
	var evs []protocol.TraceEvent
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var e struct {
			Event string `json:"event"`
			protocol.TraceEvent
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Event != "trace" || e.Time.IsZero() {
			t.Fatalf("line %q: %v", line, err)
		}
		evs = append(evs, e.TraceEvent)
	}
	return evs
}

// startTraceCmd runs sigr trace in the background and returns once it
// prints events: it sends probes (target "probe") until one shows.
func startTraceCmd(t *testing.T, st *emulator.Stack, args []string, tf *traceFlags) (stdout, stderr *syncbuf.Buffer, stop func() error) {
	t.Helper()
	stdout, stderr = &syncbuf.Buffer{}, &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runTrace(ctx, stdout, stderr, args, tf) }()
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the trace to show a probe", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("sigr trace ended: %v; stderr %q", err, stderr.String())
		default:
		}
		_ = rc.Broadcast(context.Background(), "chat", "probe", nil)
		return strings.Contains(stdout.String(), `"target":"probe"`)
	})
	return stdout, stderr, func() error { cancel(); return <-done }
}

// afterProbes drops the events up to the last probe's REST call.
func afterProbes(evs []protocol.TraceEvent) []protocol.TraceEvent {
	last := -1
	for i, e := range evs {
		if e.Target == "probe" {
			last = i + 1 // its REST call follows
		}
	}
	return evs[last+1:]
}

// TestTraceCommand runs sigr trace on a function app URL, which leads to
// its service, with the emulator's well-known key, and reads the event
// lines of a connect, a send to nobody, a delivered send and a
// disconnect, in order.
func TestTraceCommand(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	t.Setenv(connectionStringEnv, "")
	stdout, stderr, stop := startTraceCmd(t, st, []string{st.FunctionsURL}, &traceFlags{hub: "chat"})
	if want := "sigr: tracing hub chat at " + st.ServiceURL + ", signed with the emulator's well-known key\n"; stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
	bob := connectUser(t, st, "bob")
	bobID := bob.ConnectionID()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, to := range []string{"Bob", "bob"} {
		if err := runSend(ctx, &syncbuf.Buffer{}, []string{st.FunctionsURL, "1"}, &sendFlags{id: &identityFlags{}, target: "t", toUser: to}); err != nil {
			t.Fatal(err)
		}
	}
	_ = bob.Close()
	waitFor(t, "the disconnect and an upstream call", func() bool {
		return strings.Contains(stdout.String(), `"kind":"disconnected"`) && strings.Contains(stdout.String(), `"kind":"upstream"`)
	})
	if err := stop(); err != nil {
		t.Fatalf("sigr trace after Ctrl-C: %v", err)
	}
	// The upstream's calls (to the stack's function app) come when they
	// come; everything else in order.
	var evs []protocol.TraceEvent
	upstream := 0
	for _, e := range afterProbes(traceLines(t, stdout.String())) {
		if e.Kind == protocol.TraceUpstream {
			upstream++
			continue
		}
		evs = append(evs, e)
	}
	if upstream == 0 {
		t.Error("no upstream call in the trace")
	}
	var got []string
	for _, e := range evs {
		s := e.Kind
		if e.Recipients != nil {
			s += ":" + e.Route + "=" + strconv.Itoa(*e.Recipients)
		}
		got = append(got, s)
	}
	if want := "connected delivered:user:Bob=0 rest delivered:user:bob=1 rest disconnected"; strings.Join(got, " ") != want {
		t.Fatalf("events %v\nwant %s", got, want)
	}
	if evs[0].User != "bob" || evs[0].ConnectionID != bobID || evs[1].Reason != "no connection for user 'Bob'; user ids are case-sensitive; connected users: bob" ||
		evs[2].Path != "/api/hubs/chat/users/Bob/:send" || evs[5].ConnectionID != evs[0].ConnectionID || evs[5].Reason == "" {
		t.Fatalf("events %+v", evs)
	}
}

// TestTraceCommandKeys checks which key sigr trace uses and says it used:
// --access-key, else the connection string's, else on this machine the
// emulator's well-known key; and what it says when none works.
func TestTraceCommandKeys(t *testing.T) {
	verifyNoLeaks(t)
	t.Setenv(connectionStringEnv, "")
	st := startTestStack(t)

	// A wrong --access-key on a local service: the well-known key works.
	_, stderr, stop := startTraceCmd(t, st, []string{st.ServiceURL}, &traceFlags{accessKey: "not the key"})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(stderr.String(), "signed with the emulator's well-known key\n") {
		t.Fatalf("stderr %q", stderr.String())
	}
	// The connection string, from the environment when no URL is given.
	t.Setenv(connectionStringEnv, st.ConnectionString)
	_, stderr, stop = startTraceCmd(t, st, nil, &traceFlags{})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if want := "sigr: tracing every hub at " + st.ServiceURL + ", signed with $AzureSignalRConnectionString\n"; stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
	t.Setenv(connectionStringEnv, "")

	// A service with its own key: the well-known key is refused.
	other, err := emulator.StartStack(context.Background(), emulator.StackOptions{ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0",
		AccessKey: "a key of the service's own, not the emulator's", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut syncbuf.Buffer
	err = runTrace(ctx, &out, &errOut, []string{other.ServiceURL}, &traceFlags{accessKey: "wrong"})
	if err == nil || !strings.Contains(err.Error(), "refused every key tried (--access-key, the emulator's well-known key)") {
		t.Fatalf("wrong keys: %v", err)
	}
	_, stderr, stop = startTraceCmd(t, other, nil, &traceFlags{connectionString: other.ConnectionString})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(stderr.String(), "signed with --connection-string\n") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// TestTraceCommandNotEmulator checks that a service without the
// extension (404), or one elsewhere with no key, is pointed at Azure's
// Live Trace tool.
func TestTraceCommandNotEmulator(t *testing.T) {
	verifyNoLeaks(t)
	t.Setenv(connectionStringEnv, "")
	azure := httptest.NewServer(http.NotFoundHandler())
	defer azure.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut syncbuf.Buffer
	cases := map[string][]string{
		azure.URL: {"answered 404", "Live trace settings"},
		// Never contacted: no key, and not this machine.
		"https://example.service.signalr.net": {"no access key for https://example.service.signalr.net", "Live trace settings"},
	}
	for u, wants := range cases {
		err := runTrace(ctx, &out, &errOut, []string{u}, &traceFlags{})
		for _, want := range wants {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("sigr trace %s: %v, want %q", u, err, want)
			}
		}
	}
	// A function app whose negotiate is not a redirect.
	err := runTrace(ctx, &out, &errOut, []string{azure.URL + "/api"}, &traceFlags{})
	if err == nil || !strings.Contains(err.Error(), "finding the service behind") {
		t.Errorf("trace of a URL with no negotiate: %v", err)
	}
	if err := runTrace(ctx, &out, &errOut, nil, &traceFlags{}); err == nil || !strings.Contains(err.Error(), "a URL is required") {
		t.Errorf("trace without a URL: %v", err)
	}
	if err := runTrace(ctx, &out, &errOut, []string{azure.URL}, &traceFlags{hub: "bad hub"}); err == nil || !strings.Contains(err.Error(), "not a valid hub name") {
		t.Errorf("trace with a bad hub: %v", err)
	}
	if out.String() != "" || errOut.String() != "" {
		t.Errorf("output from failed traces: %q %q", out.String(), errOut.String())
	}
}

func TestIsLoopbackURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8888": true, "http://localhost:8888": true, "http://[::1]:8888": true, "http://127.3.4.5": true,
		"https://x.service.signalr.net": false, "http://10.0.0.1": false, "::bad": false,
	} {
		if got := isLoopbackURL(u); got != want {
			t.Errorf("isLoopbackURL(%q) = %v", u, got)
		}
	}
}
