package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayCommand: replay refuses a pipe as sigr URL does, says what is
// wrong with a file it cannot read, and reads watch's lines.
func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "alice.jsonl")
	lines := `{"time":"2026-11-30T14:52:09.455887877Z","event":"state","connection":"alice@chat","hub":"chat","state":"connected","transport":"WebSockets","connectionId":"zd"}
{"time":"2026-11-30T14:52:09.556620112Z","event":"invocation","connection":"alice@chat","hub":"chat","target":"newMessage","arguments":["hi alice"]}
`
	if err := os.WriteFile(good, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(lines+"hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, false, "", "replay", good)
	if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "sigr replay opens a full-screen interface") {
		t.Errorf("replay to a pipe: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, true, "", "replay", filepath.Join(dir, "nosuch.jsonl"))
	if r.code != 1 || !strings.Contains(r.stderr, "replay: open") || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, true, "", "replay", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "line 3") || !strings.Contains(r.stderr, "sigr watch") {
		t.Errorf("bad file: exit %d, stderr %q", r.code, r.stderr)
	}
	rp, err := loadReplay(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.Conns) != 1 || len(rp.Events) != 2 || rp.Events[1].Message.Target != "newMessage" {
		t.Fatalf("replay %+v", rp)
	}
}
