package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/syncbuf"

	"go.uber.org/goleak"

	"github.com/sigr-dev/sigr/emulator"
)

// verifyNoLeaks checks, after every other cleanup (the emulator's
// included), that the test left no goroutine behind. Idle keep-alive
// connections of the shared HTTP transport are closed first.
func verifyNoLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, opt)
	})
}

func startTestStack(t *testing.T) *emulator.Stack {
	t.Helper()
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:   "127.0.0.1:0",
		FunctionsAddr: "127.0.0.1:0",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWatchAndSendAgainstEmulator is the "done when": watch as
// alice prints a connected state line, then one invocation line per send
// to alice, and exits 0 at --count.
func TestWatchAndSendAgainstEmulator(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)

	var out syncbuf.Buffer
	wf := &watchFlags{id: &identityFlags{user: "alice"}, count: 2, readLimit: 1 << 20}
	done := make(chan error, 1)
	go func() { done <- runWatch(context.Background(), &out, []string{st.FunctionsURL}, wf) }()
	waitFor(t, "the connected line", func() bool { return strings.Contains(out.String(), `"state":"connected"`) })
	waitFor(t, "alice registered", func() bool {
		return strings.Contains(out.String(), `"connectionId"`) && aliceKnown(t, st)
	})

	ctx := context.Background()
	var sendOut bytes.Buffer
	if err := runSend(ctx, &sendOut, []string{st.FunctionsURL, `{"text":"hi"}`, "hello", "42"}, &sendFlags{id: &identityFlags{}, target: "newMessage", toUser: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := runSend(ctx, &sendOut, []string{st.FunctionsURL}, &sendFlags{id: &identityFlags{user: "bob"}, text: "hello alice", toUser: "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := sendOut.String(); got != "200 OK: delivered to 1 connection\n200 OK: delivered to 1 connection\n" {
		t.Errorf("send printed %q", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not exit at --count")
	}

	var invocations []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if m["time"] == nil || m["event"] == nil {
			t.Errorf("line without time/event: %q", line)
		}
		if m["event"] == "invocation" {
			invocations = append(invocations, m)
		}
	}
	if len(invocations) != 2 {
		t.Fatalf("invocation lines = %d:\n%s", len(invocations), out.String())
	}
	first, _ := json.Marshal(invocations[0]["arguments"])
	if string(first) != `[{"text":"hi"},"hello",42]` {
		t.Errorf("first arguments = %s", first)
	}
	if invocations[0]["connection"] != "alice@chat" || invocations[0]["hub"] != "chat" {
		t.Errorf("connection/hub = %v/%v", invocations[0]["connection"], invocations[0]["hub"])
	}
	second, _ := json.Marshal(invocations[1]["arguments"])
	if string(second) != `[{"groupname":"","recipient":"alice","sender":"bob","text":"hello alice"}]` &&
		!strings.Contains(string(second), `"sender":"bob"`) {
		t.Errorf("chat body = %s", second)
	}
}

func aliceKnown(t *testing.T, st *emulator.Stack) bool {
	t.Helper()
	rc, err := newRESTForTest(st)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := rc.UserExists(context.Background(), "chat", "alice")
	return err == nil && ok
}

func TestWatchFatalErrorIsOneLine(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	var out syncbuf.Buffer
	wf := &watchFlags{id: &identityFlags{}, readLimit: 1 << 20}
	err := runWatch(context.Background(), &out, []string{st.FunctionsURL + "/negotiate"}, wf)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "already ends in /negotiate") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(out.String(), `"state":"disconnected"`) {
		t.Errorf("no disconnected line: %s", out.String())
	}
}

func TestWatchCtrlCExitsZero(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	var out syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runWatch(ctx, &out, []string{st.FunctionsURL}, &watchFlags{id: &identityFlags{user: "zed"}, readLimit: 1 << 20})
	}()
	waitFor(t, "connected", func() bool { return strings.Contains(out.String(), `"state":"connected"`) })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop")
	}
}
