package main

import (
	"strings"
	"testing"
)

// TestIdentityRefusesControlCharacters checks that a --user that cannot go
// in an HTTP header is refused up front with a reason, not sent and failed.
func TestIdentityRefusesControlCharacters(t *testing.T) {
	for _, user := range []string{"al\x1bice", "bob\n", "\x7f"} {
		f := &identityFlags{user: user}
		_, _, err := f.resolve([]string{"http://127.0.0.1:7071/api"})
		if err == nil || !strings.Contains(err.Error(), "control characters") {
			t.Errorf("--user %q: err = %v", user, err)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\x1b\n\x7f") {
			t.Errorf("the error shows the raw control characters: %q", err)
		}
	}
	f := &identityFlags{user: "alice ünïcode"}
	if _, _, err := f.resolve([]string{"http://127.0.0.1:7071/api"}); err != nil {
		t.Errorf("a plain user id was refused: %v", err)
	}
}
