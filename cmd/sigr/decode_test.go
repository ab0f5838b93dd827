package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var decodeTestTime = time.Date(2026, 11, 28, 9, 30, 0, 5, time.UTC)

const decodeTS = `"time":"2026-11-28T09:30:00.000000005Z"`

// runDecodeCmd runs `sigr decode ARGS` in-process on stdin and returns
// stdout and the command's error.
func runDecodeCmd(t *testing.T, stdin io.Reader, args ...string) (string, error) {
	t.Helper()
	old := decodeClock
	decodeClock = func() time.Time { return decodeTestTime }
	t.Cleanup(func() { decodeClock = old })
	cmd := newDecodeCmd()
	var out, errOut bytes.Buffer
	cmd.SetIn(stdin)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	// Every stdout line is one JSON object, nothing else.
	for _, line := range strings.SplitAfter(out.String(), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") || !json.Valid([]byte(line)) || line[0] != '{' {
			t.Fatalf("stdout line %q is not one JSON object", line)
		}
	}
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

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

// TestDecodeIssueExample is the check of issue 2.
func TestDecodeIssueExample(t *testing.T) {
	out, err := runDecodeCmd(t, strings.NewReader("{\"type\":1,\"target\":\"a\",\"arguments\":[1]}\x1e{\"type\":6}\x1e"))
	wantExit(t, err, 0)
	want := lines(
		`{`+decodeTS+`,"event":"invocation","target":"a","arguments":[1]}`,
		`{`+decodeTS+`,"event":"ping"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}

func TestDecodeHandshakeClassification(t *testing.T) {
	in := "{\"protocol\":\"json\",\"version\":1}\x1e" + // handshake request
		"{}\x1e" + // follows a request: handshake response
		"{\"type\":1,\"target\":\"newMessage\",\"arguments\":[{\"text\":\"hi\"}],\"headers\":{\"route\":\"user:alice\"}}\x1e" +
		"{\"error\":\"x\"}\x1e" + // no type, not first, not after a request
		"{\"protocol\":\"json\",\"version\":2,\"type\":6}\x1e" + // has type: a hub message
		"{\"type\":3,\"invocationId\":\"1\",\"result\":null}\x1e" +
		"{\"type\":42,\"x\":1}\x1e" +
		"{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\x1e"
	out, err := runDecodeCmd(t, strings.NewReader(in))
	wantExit(t, err, 1)
	want := lines(
		`{`+decodeTS+`,"event":"handshakeRequest","protocol":"json","version":1}`,
		`{`+decodeTS+`,"event":"handshakeResponse"}`,
		`{`+decodeTS+`,"event":"invocation","target":"newMessage","arguments":[{"text":"hi"}],"headers":{"route":"user:alice"}}`,
		`{`+decodeTS+`,"event":"error","error":"Invalid payload.","raw":"{\"error\":\"x\"}"}`,
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"completion","invocationId":"1","result":null}`,
		`{`+decodeTS+`,"event":"unknown","type":42}`,
		`{`+decodeTS+`,"event":"close","error":"Connection closed with an error.","allowReconnect":true}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}

	// The first record without type is a handshake response, with or
	// without an error; after it, a record without type is an error.
	out, err = runDecodeCmd(t, strings.NewReader("{\"error\":\"Handshake was canceled.\"}\x1e{}\x1e"), "--strict")
	wantExit(t, err, 1)
	want = lines(
		`{`+decodeTS+`,"event":"handshakeResponse","error":"Handshake was canceled."}`,
		`{`+decodeTS+`,"event":"error","error":"Missing required property 'type'.","raw":"{}"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}

	// Malformed handshakes give the official texts.
	out, err = runDecodeCmd(t, strings.NewReader("{\"protocol\":\"json\"}\x1e{\"error\":null}\x1e"))
	wantExit(t, err, 1)
	want = lines(
		`{`+decodeTS+`,"event":"error","error":"Missing required property 'version'. Message content: {\"protocol\":\"json\"}","raw":"{\"protocol\":\"json\"}"}`,
		`{`+decodeTS+`,"event":"error","error":"Expected 'error' to be of type String.","raw":"{\"error\":null}"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}

func TestDecodeModes(t *testing.T) {
	in := "{\"type\":6}\x1e{\"type\":1,\"target\":\"m\"}\x1e{\"type\":2,\"invocationId\":\"1\"}\x1e"
	out, err := runDecodeCmd(t, strings.NewReader(in))
	wantExit(t, err, 1)
	want := lines(
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"invocation","target":"m"}`,
		`{`+decodeTS+`,"event":"error","error":"Invalid payload for StreamItem message.","raw":"{\"type\":2,\"invocationId\":\"1\"}"}`,
	)
	if out != want {
		t.Fatalf("lenient\n got %s\nwant %s", out, want)
	}
	out, err = runDecodeCmd(t, strings.NewReader(in), "--strict")
	wantExit(t, err, 1)
	want = lines(
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"error","error":"Missing required property 'arguments'.","raw":"{\"type\":1,\"target\":\"m\"}"}`,
		`{`+decodeTS+`,"event":"error","error":"Missing required property 'item'.","raw":"{\"type\":2,\"invocationId\":\"1\"}"}`,
	)
	if out != want {
		t.Fatalf("strict\n got %s\nwant %s", out, want)
	}
	out2, err := runDecodeCmd(t, strings.NewReader(in), "--lenient")
	wantExit(t, err, 1)
	if out3, _ := runDecodeCmd(t, strings.NewReader(in)); out2 != out3 {
		t.Fatal("--lenient differs from the default")
	}
	if _, err := runDecodeCmd(t, strings.NewReader(in), "--strict", "--lenient"); err == nil {
		t.Fatal("--strict with --lenient accepted")
	}
}

func TestDecodeIncompleteAndSplitReads(t *testing.T) {
	in := "{\"type\":6}\x1e{\"type\":1,\"target\":\"t\",\"arguments\":[\"é☃\"]}\x1e{\"type\":7"
	// One byte per read: records split across reads come out whole.
	out, err := runDecodeCmd(t, iotest.OneByteReader(strings.NewReader(in)))
	wantExit(t, err, 1)
	want := lines(
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"invocation","target":"t","arguments":["é☃"]}`,
		`{`+decodeTS+`,"event":"error","error":"Message is incomplete.","raw":"{\"type\":7"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
	// Empty input: nothing to say, success.
	out, err = runDecodeCmd(t, strings.NewReader(""))
	wantExit(t, err, 0)
	if out != "" {
		t.Fatalf("output %q for empty input", out)
	}
}

func TestDecodeRawFlag(t *testing.T) {
	in := "{\"type\":6}\x1e{\"type\":1,\"target\":\"t\",\"arguments\":[\"\xff\"]}\x1e"
	out, err := runDecodeCmd(t, strings.NewReader(in), "--raw")
	wantExit(t, err, 0)
	want := lines(
		`{`+decodeTS+`,"event":"ping","raw":"{\"type\":6}"}`,
		`{`+decodeTS+`,"event":"invocation","target":"t","arguments":["`+"\uFFFD"+`"],"rawBase64":"`+
			base64.StdEncoding.EncodeToString([]byte("{\"type\":1,\"target\":\"t\",\"arguments\":[\"\xff\"]}"))+`"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}

func TestDecodeMaxRecordSize(t *testing.T) {
	in := "{\"type\":6}\x1e{\"type\":1,\"target\":\"" + strings.Repeat("x", 100) + "\",\"arguments\":[]}\x1e{\"type\":6}\x1e"
	out, err := runDecodeCmd(t, strings.NewReader(in), "--max-record-size", "50")
	wantExit(t, err, 1)
	want := lines(
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"error","error":"record exceeds the 50-byte limit without a record separator (0x1E); raise the limit if such records are expected"}`,
		`{`+decodeTS+`,"event":"ping"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}

// chromeHAR is a HAR export in Chrome's shape: one WebSocket entry whose
// _webSocketMessages hold the handshake, a receive frame carrying the
// handshake response and a ping together, a record split across two
// frames, and a binary frame.
func chromeHAR(t *testing.T) []byte {
	t.Helper()
	type msg struct {
		Type   string  `json:"type"`
		Time   float64 `json:"time"`
		Opcode int     `json:"opcode"`
		Data   string  `json:"data"`
	}
	msgs := []msg{
		{"send", 1732800000.000001, 1, "{\"protocol\":\"json\",\"version\":1}\x1e"},
		{"receive", 1732800000.25, 1, "{}\x1e{\"type\":6}\x1e"},
		{"receive", 1732800001.5, 1, "{\"type\":1,\"target\":\"newMessage\",\"argu"},
		{"send", 1732800001.75, 1, "{\"type\":6}\x1e"},
		{"receive", 1732800002, 1, "ments\":[{\"sender\":\"bob\"}]}\x1e"},
		{"receive", 1732800003.125, 2, base64.StdEncoding.EncodeToString([]byte("{\"type\":7}\x1e"))},
	}
	har := map[string]any{"log": map[string]any{
		"version": "1.2",
		"creator": map[string]any{"name": "WebInspector", "version": "537.36"},
		"entries": []any{
			map[string]any{"request": map[string]any{"method": "GET", "url": "https://app.azurewebsites.net/api/negotiate?negotiateVersion=1"}},
			map[string]any{
				"_resourceType":      "websocket",
				"request":            map[string]any{"method": "GET", "url": "wss://x.service.signalr.net/client/?hub=chat&id=abc&access_token=eyJhbGciOiJIUzI1NiJ9.SECRET.sig"},
				"_webSocketMessages": msgs,
			},
		},
	}}
	b, err := json.Marshal(har)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeHAR(t *testing.T) {
	out, err := runDecodeCmd(t, bytes.NewReader(chromeHAR(t)), "--har")
	wantExit(t, err, 0)
	want := lines(
		`{"time":"2024-11-28T13:20:00.000001000Z","event":"handshakeRequest","direction":"send","hub":"chat","protocol":"json","version":1}`,
		`{"time":"2024-11-28T13:20:00.250000000Z","event":"handshakeResponse","direction":"receive","hub":"chat"}`,
		`{"time":"2024-11-28T13:20:00.250000000Z","event":"ping","direction":"receive","hub":"chat"}`,
		`{"time":"2024-11-28T13:20:01.750000000Z","event":"ping","direction":"send","hub":"chat"}`,
		`{"time":"2024-11-28T13:20:02.000000000Z","event":"invocation","direction":"receive","hub":"chat","target":"newMessage","arguments":[{"sender":"bob"}]}`,
		`{"time":"2024-11-28T13:20:03.125000000Z","event":"close","direction":"receive","hub":"chat"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
	if strings.Contains(out, "SECRET") {
		t.Fatal("the access token reached the output")
	}

	// From a file argument, with a tail left unfinished.
	var h map[string]any
	_ = json.Unmarshal(chromeHAR(t), &h)
	entries := h["log"].(map[string]any)["entries"].([]any)
	ws := entries[1].(map[string]any)
	ws["_webSocketMessages"] = append(ws["_webSocketMessages"].([]any), map[string]any{"type": "receive", "time": 1732800004.0, "opcode": 1, "data": "{\"type\":"})
	b, _ := json.Marshal(h)
	path := filepath.Join(t.TempDir(), "capture.har")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runDecodeCmd(t, strings.NewReader(""), "--har", path)
	wantExit(t, err, 1)
	last := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
	if wantLast := `{"time":"2024-11-28T13:20:04.000000000Z","event":"error","direction":"receive","hub":"chat","error":"Message is incomplete.","raw":"{\"type\":"}` + "\n"; last != wantLast {
		t.Fatalf("last line\n got %s\nwant %s", last, wantLast)
	}
}

func TestDecodeHARErrors(t *testing.T) {
	if _, err := runDecodeCmd(t, strings.NewReader("not json"), "--har"); err == nil || !strings.Contains(err.Error(), "not a HAR file") {
		t.Fatalf("err = %v", err)
	}
	if _, err := runDecodeCmd(t, strings.NewReader(`{"log":{"entries":[{"request":{"url":"http://h/"}}]}}`), "--har"); err == nil || !strings.Contains(err.Error(), "no WebSocket messages") {
		t.Fatalf("err = %v", err)
	}
	if _, err := runDecodeCmd(t, strings.NewReader(""), filepath.Join(t.TempDir(), "missing")); err == nil || !strings.HasPrefix(err.Error(), "decode: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeRegistered(t *testing.T) {
	for _, c := range rootCmd.Commands() {
		if c.Name() == "decode" {
			return
		}
	}
	t.Fatal("decode is not registered on the root command")
}
