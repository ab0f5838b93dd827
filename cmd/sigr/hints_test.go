package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/syncbuf"
)

// TestFlagHints checks that each failure the libraries type comes out of
// the command naming the flag that mends it, in the final error and in
// the event line, while the libraries' own texts name none.
func TestFlagHints(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no key", http.StatusUnauthorized)
	}))
	defer refuse.Close()

	// The function app refuses the negotiate: its own credentials.
	var out syncbuf.Buffer
	err := runWatch(context.Background(), &out, []string{refuse.URL + "/api"}, &watchFlags{id: &identityFlags{}, readLimit: 1 << 20})
	if err == nil || strings.Contains(err.Error(), "--") {
		t.Fatalf("library error %v names a flag, or there is none", err)
	}
	if got := withFlagHint(err).Error(); !strings.HasSuffix(got, "; pass them with --header and --query code=<function key>") || !strings.Contains(got, "refused the credentials") {
		t.Errorf("negotiate 401: %s", got)
	}
	if !strings.Contains(out.String(), `--header and --query code=`) {
		t.Errorf("the state line has no hint: %s", out.String())
	}

	// The service refuses a token minted with the wrong key.
	wrongKey := strings.Replace(st.ConnectionString, "AccessKey=A", "AccessKey=Z", 1)
	err = runWatch(context.Background(), &syncbuf.Buffer{}, nil, &watchFlags{id: &identityFlags{connectionString: wrongKey}, readLimit: 1 << 20})
	if got := withFlagHint(err).Error(); !strings.Contains(got, "refused the access token") || !strings.HasSuffix(got, "; check --connection-string, or the function app's AzureSignalRConnectionString") {
		t.Errorf("token refused: %s", got)
	}

	// A function that wants a key.
	err = runSend(context.Background(), &bytes.Buffer{}, []string{refuse.URL + "/api"}, &sendFlags{id: &identityFlags{}, target: "x"})
	if got := withFlagHint(err).Error(); strings.Contains(err.Error(), "--") || !strings.HasSuffix(got, "; pass --query code=<function key> or --header") {
		t.Errorf("function 401: %s", got)
	}

	// Nothing to add to an error no flag mends.
	err = runSend(context.Background(), &bytes.Buffer{}, []string{st.FunctionsURL + "/nope"}, &sendFlags{id: &identityFlags{}, target: "x"})
	if err == nil || withFlagHint(err).Error() != err.Error() {
		t.Errorf("404: %v", err)
	}
}

// TestWatchReadLimitHint sends a message larger than --read-limit: the
// state line that reports the lost connection says how to raise it.
func TestWatchReadLimitHint(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	var out syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runWatch(ctx, &out, []string{st.FunctionsURL}, &watchFlags{id: &identityFlags{user: "alice"}, readLimit: 512})
	}()
	waitFor(t, "alice registered", func() bool {
		return strings.Contains(out.String(), `"connectionId"`) && aliceKnown(t, st)
	})
	big := `"` + strings.Repeat("x", 2048) + `"`
	if err := runSend(ctx, &bytes.Buffer{}, []string{st.FunctionsURL, big}, &sendFlags{id: &identityFlags{}, target: "big", toUser: "alice"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the read limit line", func() bool {
		return strings.Contains(out.String(), `exceeded the read limit (raise Options.ReadLimit)`) && strings.Contains(out.String(), `; raise it with --read-limit"`)
	})
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop")
	}
}

// TestFlagHintsEmulatorAndBench checks the hints for an address already
// taken and for bench options that cannot work.
func TestFlagHintsEmulatorAndBench(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	taken := strings.TrimPrefix(st.ServiceURL, "http://")
	err := runDemo(context.Background(), demoFlags{functionsAddr: "127.0.0.1:0", serviceAddr: taken, every: time.Second})
	if got := withFlagHint(err).Error(); strings.Contains(err.Error(), "--") || !strings.HasPrefix(got, "demo: start emulator: the service cannot listen on "+taken) || !strings.HasSuffix(got, "; pick another address with --service-addr") {
		t.Errorf("service address taken: %s", got)
	}
	err = runDemo(context.Background(), demoFlags{functionsAddr: taken, serviceAddr: "127.0.0.1:0", every: time.Second})
	if got := withFlagHint(err).Error(); !strings.HasSuffix(got, "; pick another address with --functions-addr") {
		t.Errorf("function app address taken: %s", got)
	}

	f := benchFlags{connections: 2, rate: 1, duration: time.Second, mode: "group"}
	err = runBench(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, []string{"http://127.0.0.1:1/api"}, &f)
	if got := withFlagHint(err).Error(); got != "bench: sending to groups needs at least one group (Options.Groups); set --groups" {
		t.Errorf("bench without groups: %s", got)
	}
}
