package manage_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
)

func startEmulator(t *testing.T) *emulator.Stack {
	t.Helper()
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Service: emulator.ServiceOptions{ShutdownTimeout: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestRESTClientAgainstEmulator(t *testing.T) {
	st := startEmulator(t)
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rc.Health(ctx); err != nil {
		t.Fatal(err)
	}
	args := json.RawMessage(`["x"]`)
	for name, err := range map[string]error{
		"broadcast":  rc.Broadcast(ctx, "Chat", "t", args, "c1", "c2"),
		"user":       rc.SendToUser(ctx, "chat", "a user/with slash", "t", nil),
		"group":      rc.SendToGroup(ctx, "chat", "g", "t", args),
		"connection": rc.SendToConnection(ctx, "chat", "nobody", "t", args),
		"add user":   rc.AddUserToGroup(ctx, "chat", "g", "alice", -1),
		"add ttl":    rc.AddUserToGroup(ctx, "chat", "g2", "alice", 30*time.Second),
		"remove":     rc.RemoveUserFromGroup(ctx, "chat", "g2", "alice"),
		"remove all": rc.RemoveUserFromAllGroups(ctx, "chat", "alice"),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := rc.AddUserToGroup(ctx, "chat", "g", "bob", -1); err != nil {
		t.Fatal(err)
	}
	if in, err := rc.UserInGroup(ctx, "chat", "g", "bob"); err != nil || !in {
		t.Fatalf("UserInGroup: %v %v", in, err)
	}
	for name, f := range map[string]func() (bool, error){
		"connection": func() (bool, error) { return rc.ConnectionExists(ctx, "chat", "nobody") },
		"user":       func() (bool, error) { return rc.UserExists(ctx, "chat", "nobody") },
		"group":      func() (bool, error) { return rc.GroupExists(ctx, "chat", "nobody") },
	} {
		if ok, err := f(); ok || err != nil {
			t.Errorf("%s exists: %v %v, want false nil", name, ok, err)
		}
	}

	// A 404 with its error code comes back as a RESTError.
	err = rc.AddConnectionToGroup(ctx, "chat", "g", "nobody")
	var re *manage.RESTError
	if !errors.As(err, &re) || re.Status != 404 || re.Code != "Error.Connection.NotExisted" || !strings.Contains(err.Error(), "add connection to group") {
		t.Fatalf("add unknown connection: %v", err)
	}
	if err := rc.Broadcast(ctx, "chat", "", nil); err == nil || !strings.Contains(err.Error(), "target is empty") {
		t.Fatalf("empty target: %v", err)
	}
	if err := rc.Broadcast(ctx, "chat", "t", json.RawMessage(`{"a":1}`)); err == nil || !strings.Contains(err.Error(), "JSON array") {
		t.Fatalf("object arguments: %v", err)
	}

	// The wrong key: 401 with a hint about the AccessKey.
	bad, err := manage.NewRESTClient(strings.Replace(st.ConnectionString, "AccessKey=A", "AccessKey=Z", 1), manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Broadcast(ctx, "chat", "t", nil); !errors.As(err, &re) || re.Status != 401 || !strings.Contains(err.Error(), "AccessKey") {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestRESTClientUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	host, port, _ := net.SplitHostPort(addr)
	rc, err := manage.NewRESTClient("Endpoint=http://"+host+";Port="+port+";AccessKey=k;Version=1.0;", manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = rc.Broadcast(context.Background(), "chat", "t", nil)
	if err == nil || !strings.Contains(err.Error(), "check that the service is running") {
		t.Fatalf("unreachable service: %v", err)
	}
	if _, err := manage.NewRESTClient("Endpoint=http://h;AuthType=aad;Version=1.0;", manage.RESTOptions{}); err == nil {
		t.Fatal("a connection string without a key was accepted")
	}
}
