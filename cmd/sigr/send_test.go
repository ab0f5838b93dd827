package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
)

func newRESTForTest(st *emulator.Stack) (*manage.RESTClient, error) {
	return manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
}

func TestSendFlagErrors(t *testing.T) {
	ctx := context.Background()
	id := &identityFlags{}
	cases := []struct {
		sf   sendFlags
		args []string
		want string
	}{
		{sendFlags{id: id}, []string{"http://127.0.0.1:1/api"}, "--target is required"},
		{sendFlags{id: id, target: "x", toUser: "a", toGroup: "g"}, []string{"http://127.0.0.1:1/api"}, "at most one"},
		{sendFlags{id: id, text: "hi"}, []string{"http://127.0.0.1:1/api", "arg"}, "takes no --target"},
		{sendFlags{id: id, target: "x"}, nil, "a URL is required"},
	}
	t.Setenv(connectionStringEnv, "")
	for _, c := range cases {
		err := runSend(ctx, &bytes.Buffer{}, c.args, &c.sf)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.sf, err, c.want)
		}
	}
}

// TestSendAndGroupThroughRESTAndFunctionApp checks the HTTP paths against
// the emulator: status printed on success, the body on failure.
func TestSendAndGroupThroughRESTAndFunctionApp(t *testing.T) {
	st := startTestStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var out bytes.Buffer
	err := runSend(ctx, &out, []string{"hello"}, &sendFlags{id: &identityFlags{connectionString: st.ConnectionString}, target: "x", toUser: "nobody"})
	if err != nil || out.String() != "202 Accepted (service REST API, hub chat): delivered to 0 connections: no connection for user 'nobody'; hub 'chat' has no connections\n" {
		t.Fatalf("REST send: %q, %v", out.String(), err)
	}

	out.Reset()
	if err := runGroup(ctx, &out, "add", []string{st.FunctionsURL}, &groupFlags{id: &identityFlags{}, group: "room", toUser: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := runGroup(ctx, &out, "remove", nil, &groupFlags{id: &identityFlags{connectionString: st.ConnectionString}, group: "room", toUser: "alice"}); err != nil {
		t.Fatal(err)
	}
	if want := "200 OK: applied to 0 connections: no connection for user 'alice'; hub 'chat' has no connections; the membership in 'room' applies when the user connects\n" +
		"204 No Content (service REST API, hub chat): applied to 0 connections: no connection for user 'alice'; hub 'chat' has no connections\n"; out.String() != want {
		t.Errorf("group printed %q", out.String())
	}
	err = runGroup(ctx, &out, "add", []string{st.FunctionsURL}, &groupFlags{id: &identityFlags{}, group: "room"})
	if err == nil || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("group without a member: %v", err)
	}

	// A function that does not exist: the status and the hint, one line.
	err = runSend(ctx, &out, []string{st.FunctionsURL + "/nope"}, &sendFlags{id: &identityFlags{}, target: "x"})
	if err == nil || !strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "\n") {
		t.Errorf("send to a missing function: %v", err)
	}
}
