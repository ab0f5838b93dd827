package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var decodeTestTime = time.Date(2026, 11, 28, 9, 30, 0, 5, time.UTC)

// runDecodeCmd runs `sigr decode ARGS` in-process on stdin, through the
// whole command tree, and returns stdout and the command's error.
func runDecodeCmd(t *testing.T, stdin io.Reader, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	for _, c := range root.Commands() {
		if c.Name() == "decode" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newDecodeCmd(func() time.Time { return decodeTestTime }))
	var out, errOut bytes.Buffer
	root.SetIn(stdin)
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"decode"}, args...))
	err := root.Execute()
	return out.String(), err
}

func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("error %v, want success", err)
		}
		return
	}
	var ee exitError
	if !errors.As(err, &ee) || ee.ExitCode() != code || ee.Error() != "" {
		t.Fatalf("error %#v, want exit status %d with no message", err, code)
	}
}

// TestDecodeCommand checks what the command adds to package capture: the
// input file or standard input, the flags, the exit status and the error
// prefix.
func TestDecodeCommand(t *testing.T) {
	const ts = `"time":"2026-11-28T09:30:00.000000005Z"`
	in := "{\"type\":6}\x1e{\"type\":1,\"target\":\"m\"}\x1e"
	out, err := runDecodeCmd(t, strings.NewReader(in))
	wantExit(t, err, 0)
	if want := `{` + ts + `,"event":"ping"}` + "\n" + `{` + ts + `,"event":"invocation","target":"m"}` + "\n"; out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
	if lenient, err := runDecodeCmd(t, strings.NewReader(in), "--lenient"); err != nil || lenient != out {
		t.Fatalf("--lenient differs from the default: %q %v", lenient, err)
	}
	// The .NET rules refuse an invocation without arguments: exit 1.
	out, err = runDecodeCmd(t, strings.NewReader(in), "--strict", "--raw")
	wantExit(t, err, 1)
	if !strings.Contains(out, `"error":"Missing required property 'arguments'."`) || !strings.Contains(out, `"event":"ping","raw":"{\"type\":6}"`) {
		t.Fatalf("--strict --raw wrote %s", out)
	}
	if _, err := runDecodeCmd(t, strings.NewReader(in), "--strict", "--lenient"); err == nil {
		t.Fatal("--strict with --lenient accepted")
	}
	out, err = runDecodeCmd(t, strings.NewReader(in), "--max-record-size", "5")
	wantExit(t, err, 1)
	if !strings.Contains(out, "5-byte limit") {
		t.Fatalf("--max-record-size 5 wrote %s", out)
	}

	// A file argument, "-" for standard input, and a file that is missing.
	dir := t.TempDir()
	path := filepath.Join(dir, "capture.har")
	har := `{"log":{"entries":[{"request":{"url":"wss://h/client/?hub=chat&access_token=SECRET"},"_webSocketMessages":[{"type":"receive","time":1732800000.25,"opcode":1,"data":"{}\u001e{\"type\":6}\u001e"}]}]}}`
	if err := os.WriteFile(path, []byte(har), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runDecodeCmd(t, strings.NewReader("ignored"), "--har", path)
	wantExit(t, err, 0)
	if want := `{"time":"2024-11-28T13:20:00.250000000Z","event":"handshakeResponse","direction":"receive","hub":"chat"}` + "\n" +
		`{"time":"2024-11-28T13:20:00.250000000Z","event":"ping","direction":"receive","hub":"chat"}` + "\n"; out != want {
		t.Fatalf("--har FILE\n got %s\nwant %s", out, want)
	}
	if stdin, err := runDecodeCmd(t, strings.NewReader(har), "--har", "-"); err != nil || stdin != out {
		t.Fatalf("--har - read %q, %v", stdin, err)
	}
	if _, err := runDecodeCmd(t, strings.NewReader(""), filepath.Join(dir, "missing")); err == nil || !strings.HasPrefix(err.Error(), "decode: ") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := runDecodeCmd(t, strings.NewReader("not json"), "--har"); err == nil || err.Error() != "decode: the input is not a HAR file: invalid character 'o' in literal null (expecting 'u')" {
		t.Fatalf("not a HAR file: %v", err)
	}
}

// TestDecodeMessagePackCommand decodes length-prefixed MessagePack records
// from standard input with --protocol messagepack, and refuses an unknown
// protocol.
func TestDecodeMessagePackCommand(t *testing.T) {
	const ts = `"time":"2026-11-28T09:30:00.000000005Z"`
	// The spec's Invocation example and a Ping, each after its length.
	in := "\x11\x96\x01\x80\xa3xyz\xa6method\x91\x2a\x90" + "\x02\x91\x06"
	out, err := runDecodeCmd(t, strings.NewReader(in), "--protocol", "messagepack")
	wantExit(t, err, 0)
	if want := `{` + ts + `,"event":"invocation","target":"method","arguments":[42],"invocationId":"xyz"}` + "\n" + `{` + ts + `,"event":"ping"}` + "\n"; out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
	out, err = runDecodeCmd(t, strings.NewReader("\x02\x91"), "--protocol", "msgpack", "--strict")
	wantExit(t, err, 1)
	if !strings.Contains(out, `"error":"Incomplete message."`) {
		t.Fatalf("got %s", out)
	}
	if _, err := runDecodeCmd(t, strings.NewReader(""), "--protocol", "xml"); err == nil || !strings.Contains(err.Error(), "use json or messagepack") {
		t.Fatalf("error %v", err)
	}
}
