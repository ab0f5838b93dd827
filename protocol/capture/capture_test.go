package capture

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

var decodeTestTime = time.Date(2026, 11, 28, 9, 30, 0, 5, time.UTC)

const decodeTS = `"time":"2026-11-28T09:30:00.000000005Z"`

// decode runs DecodeRaw, or DecodeHAR when har, on in with the test clock
// and returns what it wrote and how many records failed. Every line is
// checked to be one JSON object, and the failures to match the error lines.
func decode(t *testing.T, in io.Reader, har bool, o Options) (string, int) {
	t.Helper()
	o.Now = func() time.Time { return decodeTestTime }
	run := DecodeRaw
	if har {
		run = DecodeHAR
	}
	var out bytes.Buffer
	res, err := run(in, &out, o)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.SplitAfter(out.String(), "\n") {
		if line == "" {
			continue
		}
		n++
		if !strings.HasSuffix(line, "\n") || !json.Valid([]byte(line)) || line[0] != '{' {
			t.Fatalf("output line %q is not one JSON object", line)
		}
	}
	if errs := strings.Count(out.String(), `,"event":"error"`); res.Failed != errs || res.Lines != n {
		t.Fatalf("result %+v for %d lines, %d of them errors", res, n, errs)
	}
	return out.String(), res.Failed
}

// wantFailed checks whether some record failed, which makes sigr decode
// exit with status 1.
func wantFailed(t *testing.T, failed int, want bool) {
	t.Helper()
	if (failed > 0) != want {
		t.Fatalf("%d records failed, want failures: %v", failed, want)
	}
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

// TestDecodeIssueExample is the check of issue 2.
func TestDecodeIssueExample(t *testing.T) {
	out, failed := decode(t, strings.NewReader("{\"type\":1,\"target\":\"a\",\"arguments\":[1]}\x1e{\"type\":6}\x1e"), false, Options{})
	wantFailed(t, failed, false)
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
	out, failed := decode(t, strings.NewReader(in), false, Options{})
	wantFailed(t, failed, true)
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
	out, failed = decode(t, strings.NewReader("{\"error\":\"Handshake was canceled.\"}\x1e{}\x1e"), false, Options{Mode: protocol.Strict})
	wantFailed(t, failed, true)
	want = lines(
		`{`+decodeTS+`,"event":"handshakeResponse","error":"Handshake was canceled."}`,
		`{`+decodeTS+`,"event":"error","error":"Missing required property 'type'.","raw":"{}"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}

	// Malformed handshakes give the official texts.
	out, failed = decode(t, strings.NewReader("{\"protocol\":\"json\"}\x1e{\"error\":null}\x1e"), false, Options{})
	wantFailed(t, failed, true)
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
	// The zero Options are lenient.
	for _, o := range []Options{{}, {Mode: protocol.Lenient}} {
		out, failed := decode(t, strings.NewReader(in), false, o)
		wantFailed(t, failed, true)
		want := lines(
			`{`+decodeTS+`,"event":"ping"}`,
			`{`+decodeTS+`,"event":"invocation","target":"m"}`,
			`{`+decodeTS+`,"event":"error","error":"Invalid payload for StreamItem message.","raw":"{\"type\":2,\"invocationId\":\"1\"}"}`,
		)
		if out != want {
			t.Fatalf("lenient %+v\n got %s\nwant %s", o, out, want)
		}
	}
	out, failed := decode(t, strings.NewReader(in), false, Options{Mode: protocol.Strict})
	wantFailed(t, failed, true)
	want := lines(
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"error","error":"Missing required property 'arguments'.","raw":"{\"type\":1,\"target\":\"m\"}"}`,
		`{`+decodeTS+`,"event":"error","error":"Missing required property 'item'.","raw":"{\"type\":2,\"invocationId\":\"1\"}"}`,
	)
	if out != want {
		t.Fatalf("strict\n got %s\nwant %s", out, want)
	}
}

func TestDecodeIncompleteAndSplitReads(t *testing.T) {
	in := "{\"type\":6}\x1e{\"type\":1,\"target\":\"t\",\"arguments\":[\"é☃\"]}\x1e{\"type\":7"
	// One byte per read: records split across reads come out whole.
	out, failed := decode(t, iotest.OneByteReader(strings.NewReader(in)), false, Options{})
	wantFailed(t, failed, true)
	want := lines(
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"invocation","target":"t","arguments":["é☃"]}`,
		`{`+decodeTS+`,"event":"error","error":"Message is incomplete.","raw":"{\"type\":7"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
	// Empty input: nothing to say, success.
	out, failed = decode(t, strings.NewReader(""), false, Options{})
	wantFailed(t, failed, false)
	if out != "" {
		t.Fatalf("output %q for empty input", out)
	}
}

func TestDecodeRawFlag(t *testing.T) {
	in := "{\"type\":6}\x1e{\"type\":1,\"target\":\"t\",\"arguments\":[\"\xff\"]}\x1e"
	out, failed := decode(t, strings.NewReader(in), false, Options{Raw: true})
	wantFailed(t, failed, false)
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
	out, failed := decode(t, strings.NewReader(in), false, Options{MaxRecordSize: 50})
	wantFailed(t, failed, true)
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
	out, failed := decode(t, bytes.NewReader(chromeHAR(t)), true, Options{})
	wantFailed(t, failed, false)
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

	// A tail left unfinished.
	var h map[string]any
	_ = json.Unmarshal(chromeHAR(t), &h)
	entries := h["log"].(map[string]any)["entries"].([]any)
	ws := entries[1].(map[string]any)
	ws["_webSocketMessages"] = append(ws["_webSocketMessages"].([]any), map[string]any{"type": "receive", "time": 1732800004.0, "opcode": 1, "data": "{\"type\":"})
	b, _ := json.Marshal(h)
	out, failed = decode(t, bytes.NewReader(b), true, Options{})
	wantFailed(t, failed, true)
	last := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
	if wantLast := `{"time":"2024-11-28T13:20:04.000000000Z","event":"error","direction":"receive","hub":"chat","error":"Message is incomplete.","raw":"{\"type\":"}` + "\n"; last != wantLast {
		t.Fatalf("last line\n got %s\nwant %s", last, wantLast)
	}
}

func TestDecodeHARErrors(t *testing.T) {
	for in, want := range map[string]string{
		"not json": "not a HAR file",
		`{"log":{"entries":[{"request":{"url":"http://h/"}}]}}`: "no WebSocket messages",
	} {
		var out bytes.Buffer
		if _, err := DecodeHAR(strings.NewReader(in), &out, Options{}); err == nil || !strings.Contains(err.Error(), want) || out.Len() != 0 {
			t.Errorf("DecodeHAR(%q) = %v, wrote %q", in, err, out.String())
		}
	}
}

// TestClassify checks the classifier on its own, broken records included:
// it reads members as far as the JSON is well-formed.
func TestClassify(t *testing.T) {
	cases := []struct {
		rec          string
		first, after bool
		want         kind
	}{
		{`{"protocol":"json","version":1}`, false, false, handshakeRequest},
		{`{"protocol":"json","version":`, false, false, handshakeRequest},
		{`{"protocol":"json","type":1}`, true, false, hubMessage},
		{`{}`, true, false, handshakeResponse},
		{`{"error":"x"}`, false, true, handshakeResponse},
		{`{"error":"x"}`, false, false, hubMessage},
		{`{"type":6}`, true, false, hubMessage},
		{`{"type"`, true, false, hubMessage},
		{`{"a":1,"type":`, true, false, hubMessage},
		{`[1,2]`, true, false, handshakeResponse},
		{`not json`, false, false, hubMessage},
		{``, true, false, handshakeResponse},
	}
	for _, c := range cases {
		if got := classify([]byte(c.rec), c.first, c.after); got != c.want {
			t.Errorf("classify(%q, first %v, after request %v) = %d, want %d", c.rec, c.first, c.after, got, c.want)
		}
	}
}

// TestInsertDirection checks the splice of "direction" after "event", and
// that a line without an event name is left alone.
func TestInsertDirection(t *testing.T) {
	cases := []struct{ line, dir, want string }{
		{`{"time":"t","event":"ping"}` + "\n", "send", `{"time":"t","event":"ping","direction":"send"}` + "\n"},
		{`{"time":"t","event":"invocation","target":"a","arguments":["\"event\":\"x"]}`, "receive", `{"time":"t","event":"invocation","direction":"receive","target":"a","arguments":["\"event\":\"x"]}`},
		{`{"time":"t","event":"error","error":"e"}`, "odd\"dir", `{"time":"t","event":"error","direction":"odd\"dir","error":"e"}`},
		{`{"time":"t"}`, "send", `{"time":"t"}`},
		{`{"time":"t","event":"unterminated`, "send", `{"time":"t","event":"unterminated`},
	}
	for _, c := range cases {
		if got := string(insertDirection([]byte(c.line), c.dir)); got != c.want {
			t.Errorf("insertDirection(%q, %q)\n got %s\nwant %s", c.line, c.dir, got, c.want)
		}
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestDecodeWriteAndReadErrors checks that a failed write is reported
// once, and that what decoded before a failed read is still written.
func TestDecodeWriteAndReadErrors(t *testing.T) {
	in := strings.Repeat("{\"type\":6}\x1e", 10000)
	if _, err := DecodeRaw(strings.NewReader(in), failingWriter{}, Options{}); err == nil || !strings.Contains(err.Error(), "writing output") {
		t.Fatalf("DecodeRaw to a failing writer: %v", err)
	}
	var out bytes.Buffer
	broken := io.MultiReader(strings.NewReader("{\"type\":6}\x1e"), iotest.ErrReader(io.ErrUnexpectedEOF))
	res, err := DecodeRaw(broken, &out, Options{Now: func() time.Time { return decodeTestTime }})
	if err == nil || !strings.Contains(err.Error(), "reading input") || res.Lines != 1 || out.String() != `{`+decodeTS+`,"event":"ping"}`+"\n" {
		t.Fatalf("DecodeRaw of a failing reader: %+v %v, wrote %q", res, err, out.String())
	}
}
