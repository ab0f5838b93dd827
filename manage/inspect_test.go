package manage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// TestInspectErrors checks what the extension client says about servers
// that are not sigr's emulator, and about bad input.
func TestInspectErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var sawAuth string
	azure := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth = r.Header.Get("Authorization")
		http.NotFound(w, r)
	}))
	defer azure.Close()
	in := manage.Inspect{Endpoint: azure.URL + "/", AccessKey: "k"}
	_, err := manage.HubState(ctx, in, "chat")
	var ee *manage.ExtensionError
	if !errors.As(err, &ee) || !ee.NotEmulator() || !strings.Contains(err.Error(), "does not have sigr's emulator extensions") || ee.URL != azure.URL+"/_sigr/v1/hubs/chat" {
		t.Fatalf("HubState on a server without the extensions: %v", err)
	}
	if !strings.HasPrefix(sawAuth, "Bearer ") {
		t.Fatalf("no bearer token sent: %q", sawAuth)
	}
	if err := manage.Trace(ctx, in, "", func(protocol.TraceEvent) error { return nil }); !errors.As(err, &ee) || !ee.NotEmulator() {
		t.Fatalf("Trace on a server without the extensions: %v", err)
	}

	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>login</html>"))
	}))
	defer html.Close()
	in = manage.Inspect{Endpoint: html.URL, AccessKey: "k"}
	if err := manage.Trace(ctx, in, "chat", func(protocol.TraceEvent) error { return nil }); err == nil || !strings.Contains(err.Error(), "not an event stream") {
		t.Fatalf("Trace on an HTML page: %v", err)
	}
	if _, err := manage.HubState(ctx, in, "chat"); err == nil || !strings.Contains(err.Error(), "not the emulator's JSON") {
		t.Fatalf("HubState on an HTML page: %v", err)
	}

	for _, bad := range []manage.Inspect{{Endpoint: "127.0.0.1:8888", AccessKey: "k"}, {Endpoint: "ftp://h", AccessKey: "k"}, {Endpoint: html.URL}} {
		if _, err := manage.Hubs(ctx, bad); err == nil {
			t.Errorf("Hubs %+v: no error", bad)
		}
	}
	if _, err := manage.HubState(ctx, in, "bad hub"); err == nil {
		t.Error("HubState took an invalid hub name")
	}
	if err := manage.Trace(ctx, in, "bad hub", nil); err == nil {
		t.Error("Trace took an invalid hub name")
	}
}

// TestTraceFollowsEmulator reads the emulator's trace and state through
// the client, and ends with the context.
func TestTraceFollowsEmulator(t *testing.T) {
	st := startEmulator(t)
	in := manage.Inspect{Endpoint: st.ServiceURL, AccessKey: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan protocol.TraceEvent, 16)
	tctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- manage.Trace(tctx, in, "chat", func(e protocol.TraceEvent) error { got <- e; return nil })
	}()
	// The subscription is not visible from outside: connect until the
	// trace shows a connection.
	var e protocol.TraceEvent
	for e.Kind != protocol.TraceConnected {
		connectAs(t, st.ConnectionString, "alice")
		select {
		case e = <-got:
		case <-time.After(200 * time.Millisecond):
		}
	}
	s, err := manage.HubState(ctx, in, "chat")
	if err != nil || len(s.Connections) == 0 || s.Connections[0].User != "alice" {
		t.Fatalf("HubState: %+v %v", s, err)
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Trace after its context ended: %v", err)
	}
}
