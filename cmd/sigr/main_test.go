package main

import (
	"slices"
	"testing"
)

// TestNewRootCmd checks that the tree holds every command, that the root
// runs the TUI with the connect flags, and that two trees share nothing:
// a flag parsed into one is not set in the other.
func TestNewRootCmd(t *testing.T) {
	root := newRootCmd()
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	for _, want := range []string{"bench", "connect", "decode", "demo", "emulator", "group", "invoke", "send", "token", "trace", "watch"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s command in %v", want, names)
		}
	}
	for _, flag := range []string{"user", "hub", "connection-string", "history", "transport"} {
		if root.Flags().Lookup(flag) == nil {
			t.Errorf("sigr URL has no --%s", flag)
		}
	}
	if root.Version == "" {
		t.Error("no version")
	}

	other := newRootCmd()
	if err := root.ParseFlags([]string{"--user", "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := other.Flags().Lookup("user").Value.String(); got != "" {
		t.Fatalf("the second tree's --user is %q", got)
	}
}
