package main

import "testing"

// TestLabelLowerCasesHub checks that the connection label is the same
// before and after negotiate: the service lower-cases hub names.
func TestLabelLowerCasesHub(t *testing.T) {
	f := &identityFlags{user: "alice"}
	if got := f.label("Chat"); got != "alice@chat" {
		t.Errorf("label(Chat) = %q", got)
	}
	if got := (&identityFlags{}).label("chat"); got != "" {
		t.Errorf("anonymous label = %q", got)
	}
}
