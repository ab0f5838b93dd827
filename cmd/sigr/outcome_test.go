package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// connectUser opens a hub connection as user straight to st's service.
func connectUser(t *testing.T, st *emulator.Stack, user string) *client.Conn {
	t.Helper()
	access, err := manage.ConnectionStringAccess(st.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.Options{Access: access, UserID: user, Reconnect: client.NoReconnect})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// withoutSigrHeaders serves h without the emulator's X-Sigr-* answer
// headers: a stand-in for Azure SignalR Service, or a function app in
// front of it, which report no deliveries.
func withoutSigrHeaders(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&stripSigr{ResponseWriter: w}, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type stripSigr struct {
	http.ResponseWriter
	wrote bool
}

func (s *stripSigr) WriteHeader(code int) {
	if !s.wrote {
		s.wrote = true
		for k := range s.Header() {
			if strings.HasPrefix(k, "X-Sigr-") {
				s.Header().Del(k)
			}
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *stripSigr) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// csFor is a connection string for the service at srvURL with the
// emulator's key.
func csFor(srvURL string) string {
	return protocol.ConnectionString{Endpoint: srvURL, AccessKey: emulator.DefaultAccessKey, Version: "1.0"}.String()
}

// TestSendAndGroupReportOutcome checks the line send and group print on
// standard error: the emulator's outcome, else the existence checks with
// a connection string, else what cannot be known.
func TestSendAndGroupReportOutcome(t *testing.T) {
	verifyNoLeaks(t)
	st := startTestStack(t)
	connectUser(t, st, "bob")
	azure := withoutSigrHeaders(t, st.Service.Handler())
	plainApp := withoutSigrHeaders(t, st.FunctionApp.Handler())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Setenv(connectionStringEnv, "")

	sends := []struct {
		args []string
		sf   sendFlags
		want string
	}{
		{[]string{st.FunctionsURL}, sendFlags{id: &identityFlags{user: "alice"}, text: "hi", toUser: "Bob"},
			"200 OK: delivered to 0 connections: no connection for user 'Bob'; user ids are case-sensitive; connected users: bob"},
		{[]string{st.FunctionsURL, "1"}, sendFlags{id: &identityFlags{}, target: "t", toUser: "bob"}, "200 OK: delivered to 1 connection"},
		{[]string{"1"}, sendFlags{id: &identityFlags{connectionString: st.ConnectionString}, target: "t", toGroup: "ops"},
			"202 Accepted (service REST API, hub chat): delivered to 0 connections: group 'ops' has no members"},
		{[]string{"1"}, sendFlags{id: &identityFlags{connectionString: csFor(azure.URL)}, target: "t", toUser: "Bob"},
			"202 Accepted (service REST API, hub chat): not reported by the service; user 'Bob' has no connection to hub 'chat' (existence check), so the message reached nobody; user ids are case-sensitive, and user 'bob' is connected"},
		{[]string{"1"}, sendFlags{id: &identityFlags{connectionString: csFor(azure.URL)}, target: "t", toConnection: "bob"},
			"202 Accepted (service REST API, hub chat): not reported by the service; connection 'bob' is not connected to hub 'chat' (existence check), so the message reached nobody; 'bob' is a user id, not a connection id"},
		{[]string{"1"}, sendFlags{id: &identityFlags{connectionString: csFor(azure.URL)}, target: "t"},
			"202 Accepted (service REST API, hub chat): not reported by the service; no existence check tells whether hub 'chat' has connections"},
		{[]string{plainApp.URL + "/api"}, sendFlags{id: &identityFlags{user: "alice"}, text: "hi", toUser: "Bob"},
			"200 OK: the function app does not say how many connections got it (sigr's emulator does); with --connection-string, sigr checks that user 'Bob' has a connection"},
		{[]string{plainApp.URL + "/api", "1"}, sendFlags{id: &identityFlags{}, target: "t", toGroup: "ops"},
			"200 OK: the function app does not say how many connections got it (sigr's emulator does); with --connection-string, sigr checks that group 'ops' has connections"},
		{[]string{plainApp.URL + "/api", "1"}, sendFlags{id: &identityFlags{}, target: "t"},
			"200 OK: the function app does not say how many connections got it (sigr's emulator does); nothing outside the service can tell whether the hub has connections"},
	}
	for _, c := range sends {
		var w bytes.Buffer
		if err := runSend(ctx, &w, c.args, &c.sf); err != nil {
			t.Errorf("send %v: %v", c.args, err)
			continue
		}
		if got := strings.TrimSuffix(w.String(), "\n"); got != c.want {
			t.Errorf("send %v %+v:\n got: %s\nwant: %s", c.args, c.sf, got, c.want)
		}
	}

	groups := []struct {
		args []string
		gf   groupFlags
		want string
	}{
		{[]string{st.FunctionsURL}, groupFlags{id: &identityFlags{}, group: "ops", toUser: "bob"}, "200 OK: applied to 1 connection"},
		{[]string{st.FunctionsURL}, groupFlags{id: &identityFlags{}, group: "ops", toUser: "Bob"},
			"200 OK: applied to 0 connections: no connection for user 'Bob'; user ids are case-sensitive; connected users: bob; the membership in 'ops' applies when the user connects"},
		{nil, groupFlags{id: &identityFlags{connectionString: csFor(azure.URL)}, group: "ops", toUser: "Bob"},
			"200 OK (service REST API, hub chat): not reported by the service; user 'Bob' has no connection to hub 'chat' (existence check); the membership applies when one connects; user ids are case-sensitive, and user 'bob' is connected"},
		{[]string{plainApp.URL + "/api"}, groupFlags{id: &identityFlags{}, group: "ops", toUser: "Bob"},
			"200 OK: the function app does not say what the action applied to (sigr's emulator does); with --connection-string, sigr checks that user 'Bob' has a connection"},
	}
	for _, c := range groups {
		var w bytes.Buffer
		if err := runGroup(ctx, &w, "add", c.args, &c.gf); err != nil {
			t.Errorf("group %v: %v", c.args, err)
			continue
		}
		if got := strings.TrimSuffix(w.String(), "\n"); got != c.want {
			t.Errorf("group add %v %+v:\n got: %s\nwant: %s", c.args, c.gf, got, c.want)
		}
	}

	// A connection id that is a user id: the emulator's reason replaces
	// the error's text.
	var w bytes.Buffer
	err := runGroup(ctx, &w, "add", []string{st.FunctionsURL}, &groupFlags{id: &identityFlags{}, group: "ops", toConnection: "bob"})
	want := "404 Not Found: applied to 0 connections: no connection 'bob'; 'bob' is a user id, not a connection id: send to the user"
	var fe *manage.FunctionError
	if err == nil || err.Error() != want || !errors.As(err, &fe) {
		t.Errorf("group add --to-connection bob: %v\nwant: %s", err, want)
	}
}
