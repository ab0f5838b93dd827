package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/syncbuf"
)

// runEmulatorCmd runs `sigr emulator args...` until its banner is out,
// then stops it and returns what it printed.
func runEmulatorCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncbuf.Buffer
	cmd := newEmulatorCmd()
	cmd.SetArgs(append([]string{"--service-addr", "127.0.0.1:0", "--functions-addr", "127.0.0.1:0"}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C stops it.") {
		select {
		case err := <-done:
			return out.String() + errOut.String(), err
		case <-deadline:
			t.Fatalf("no banner within 10 s:\n%s%s", out.String(), errOut.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("emulator: %v", err)
	}
	return out.String(), nil
}

func TestEmulatorUpstreamFlags(t *testing.T) {
	verifyNoLeaks(t)
	out, err := runEmulatorCmd(t, "--service-only")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"service only (no function app)", "Values.AzureSignalRConnectionString", "trace:             sigr trace http://127.0.0.1:",
		"upstream:          none: client invocations are dropped", "add --upstream http://127.0.0.1:7071/runtime/webhooks/signalr"} {
		if !strings.Contains(out, want) {
			t.Errorf("service-only banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "negotiate URL") {
		t.Errorf("service-only banner names a function app:\n%s", out)
	}

	out, err = runEmulatorCmd(t, "--service-only", "--upstream", "http://127.0.0.1:9/{hub}/{event}?code=topsecret",
		"--upstream", "https://other.example/x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "upstream:          http://127.0.0.1:9/{hub}/{event}?code=… (every hub, category and event)") ||
		!strings.Contains(out, "https://other.example/x") || strings.Contains(out, "topsecret") {
		t.Errorf("banner with two upstreams:\n%s", out)
	}

	// The default: the built-in function app's trigger endpoint.
	out, err = runEmulatorCmd(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "/runtime/webhooks/signalr (every hub, category and event)") {
		t.Errorf("default banner does not name the built-in upstream:\n%s", out)
	}

	settings := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(settings, []byte(`{"UpstreamSettings":{"Templates":[{"UrlTemplate":"http://127.0.0.1:7071/runtime/webhooks/signalr","HubPattern":"chat"}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runEmulatorCmd(t, "--service-only", "--upstream-settings", settings)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "(hub=chat)") || !strings.Contains(out, "upstream settings: "+settings) {
		t.Errorf("banner with a settings file:\n%s", out)
	}

	for _, bad := range [][]string{{"--upstream", "localhost:7071"}, {"--upstream-settings", filepath.Join(t.TempDir(), "none.json")}} {
		if _, err := runEmulatorCmd(t, bad...); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%v: error %v, want one naming the flag", bad, err)
		}
	}
}
