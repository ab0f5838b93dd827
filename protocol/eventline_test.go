package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

var eventTime = time.Date(2026, 11, 28, 14, 0, 0, 123456789, time.UTC)

// decodeLine checks the shape every event line shares (one compact JSON
// object, newline-terminated, with time and event) and returns its members.
func decodeLine(t *testing.T, line []byte) map[string]json.RawMessage {
	t.Helper()
	if len(line) == 0 || line[len(line)-1] != '\n' || bytes.Count(line, []byte{'\n'}) != 1 {
		t.Fatalf("line %q is not one newline-terminated line", line)
	}
	body := line[:len(line)-1]
	if !json.Valid(body) {
		t.Fatalf("line is not valid JSON: %q", body)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, body)
	if !bytes.Equal(compact.Bytes(), body) {
		t.Fatalf("line is not compact: %q", body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var ts string
	if err := json.Unmarshal(m["time"], &ts); err != nil {
		t.Fatalf("time: %v", err)
	}
	parsed, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || !parsed.Equal(eventTime) {
		t.Fatalf("time %q: %v", ts, err)
	}
	if _, ok := m["event"]; !ok {
		t.Fatal("no event member")
	}
	return m
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func str(t *testing.T, v json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		t.Fatalf("%s is not a string: %v", v, err)
	}
	return s
}

// TestMessageEventFieldsOnlyWhenPresent: each field of the message is on
// the line under its protocol name exactly when the message carried it,
// with the value as it arrived.
func TestMessageEventFieldsOnlyWhenPresent(t *testing.T) {
	fieldNames := []struct {
		f    Field
		name string
	}{
		{FieldTarget, "target"}, {FieldArguments, "arguments"}, {FieldInvocationID, "invocationId"},
		{FieldItem, "item"}, {FieldResult, "result"}, {FieldError, "error"}, {FieldHeaders, "headers"},
		{FieldStreamIDs, "streamIds"}, {FieldAllowReconnect, "allowReconnect"}, {FieldSequenceID, "sequenceId"},
	}
	for _, v := range roundTripVectors {
		m, err := ParseMessage([]byte(v.wire), Strict)
		if err != nil {
			t.Fatal(err)
		}
		line := AppendMessageEvent(nil, eventTime, &m, EventContext{})
		got := decodeLine(t, line)
		if ev := str(t, got["event"]); ev != m.Type.String() {
			t.Errorf("%s: event %q", v.name, ev)
		}
		wantKeys := []string{"event", "time"}
		for _, fn := range fieldNames {
			if m.Has(fn.f) {
				wantKeys = append(wantKeys, fn.name)
			}
		}
		sort.Strings(wantKeys)
		if gk := keys(got); strings.Join(gk, ",") != strings.Join(wantKeys, ",") {
			t.Errorf("%s: members %v, want %v", v.name, gk, wantKeys)
		}
		// Raw values are written as they arrived.
		for name, rawv := range map[string][]byte{"arguments": m.Arguments, "item": m.Item, "result": m.Result, "headers": m.Headers} {
			if m.Has(map[string]Field{"arguments": FieldArguments, "item": FieldItem, "result": FieldResult, "headers": FieldHeaders}[name]) &&
				!bytes.Equal(got[name], rawv) {
				t.Errorf("%s: %s = %s, want %s", v.name, name, got[name], rawv)
			}
		}
		if m.Has(FieldError) && str(t, got["error"]) != m.Error {
			t.Errorf("%s: error %s", v.name, got["error"])
		}
	}
}

func TestMessageEventExamples(t *testing.T) {
	rec := []byte(`{"type":1,"target":"newMessage","arguments":[{"text":"hi"}],"headers":{"route":"user:alice"}}`)
	m, err := ParseMessage(rec, Lenient)
	if err != nil {
		t.Fatal(err)
	}
	got := string(AppendMessageEvent(nil, eventTime, &m, EventContext{Connection: "alice@chat", Hub: "chat"}))
	want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"invocation","connection":"alice@chat","hub":"chat","target":"newMessage","arguments":[{"text":"hi"}],"headers":{"route":"user:alice"}}` + "\n"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	// --raw adds the record as a string.
	line := AppendMessageEvent(nil, eventTime, &m, EventContext{Raw: rec})
	if r := str(t, decodeLine(t, line)["raw"]); r != string(rec) {
		t.Fatalf("raw = %q", r)
	}
	// An unknown type carries its number.
	m, _ = ParseMessage([]byte(`{"type":42,"foo":1}`), Lenient)
	got = string(AppendMessageEvent(nil, eventTime, &m, EventContext{}))
	if want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"unknown","type":42}` + "\n"; got != want {
		t.Fatalf("unknown: %s", got)
	}
	// allowReconnect false is written when present, left out when absent.
	m, _ = ParseMessage([]byte(`{"type":7,"allowReconnect":false}`), Strict)
	if ar := decodeLine(t, AppendMessageEvent(nil, eventTime, &m, EventContext{}))["allowReconnect"]; string(ar) != "false" {
		t.Fatalf("allowReconnect = %s", ar)
	}
	m, _ = ParseMessage([]byte(`{"type":7}`), Strict)
	if _, ok := decodeLine(t, AppendMessageEvent(nil, eventTime, &m, EventContext{}))["allowReconnect"]; ok {
		t.Fatal("allowReconnect written when absent")
	}
	// A time zone other than UTC keeps its offset.
	loc := time.FixedZone("x", 2*3600)
	l := AppendMessageEvent(nil, eventTime.In(loc), &m, EventContext{})
	if !bytes.Contains(l, []byte(`"time":"2026-11-28T16:00:00.123456789+02:00"`)) {
		t.Fatalf("offset time: %s", l)
	}
}

// TestEventLinesInvalidUTF8: a record that is not valid UTF-8 is written as
// rawBase64, and every line stays valid JSON.
func TestEventLinesInvalidUTF8(t *testing.T) {
	rec := []byte("{\"type\":1,\"target\":\"t\xfe\",\"arguments\":[\"\xff\"],\"headers\":{\"k\xc3\":\"v\"}}")
	m, err := ParseMessage(rec, Lenient)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeLine(t, AppendMessageEvent(nil, eventTime, &m, EventContext{Raw: rec}))
	if _, ok := got["raw"]; ok {
		t.Fatal("raw written for invalid UTF-8")
	}
	b, err := base64.StdEncoding.DecodeString(str(t, got["rawBase64"]))
	if err != nil || !bytes.Equal(b, rec) {
		t.Fatalf("rawBase64 does not hold the record: %v", err)
	}
	errLine := decodeLine(t, AppendErrorEvent(nil, eventTime, "Error reading JSON.", EventContext{Raw: []byte("\xff\x00{")}))
	if str(t, errLine["event"]) != "error" || str(t, errLine["error"]) != "Error reading JSON." {
		t.Fatalf("error line %v", errLine)
	}
	if _, ok := errLine["rawBase64"]; !ok {
		t.Fatal("error line without rawBase64")
	}
	// Control characters and escapes in a valid record stay text.
	ctl := []byte("{\"type\":7,\"error\":\"\x1b[2J\"}")
	line := AppendErrorEvent(nil, eventTime, "x", EventContext{Raw: ctl})
	if bytes.ContainsRune(line, 0x1b) {
		t.Fatalf("raw escape byte on the line: %q", line)
	}
	decodeLine(t, line)
}

func TestErrorEventExample(t *testing.T) {
	got := string(AppendErrorEvent(nil, eventTime, "Missing required property 'item'.", EventContext{Raw: []byte(`{"type":2,"invocationId":"1"}`)}))
	want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"error","error":"Missing required property 'item'.","raw":"{\"type\":2,\"invocationId\":\"1\"}"}` + "\n"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	got = string(AppendErrorEvent(nil, eventTime, ErrIncomplete, EventContext{}))
	if want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"error","error":"Message is incomplete."}` + "\n"; got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

func TestHandshakeAndStateEvents(t *testing.T) {
	got := string(AppendHandshakeRequestEvent(nil, eventTime, HandshakeRequest{Protocol: "json", Version: 1}, EventContext{}))
	if want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"handshakeRequest","protocol":"json","version":1}` + "\n"; got != want {
		t.Fatalf("handshakeRequest %s", got)
	}
	got = string(AppendHandshakeResponseEvent(nil, eventTime, HandshakeResponse{}, EventContext{}))
	if want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"handshakeResponse"}` + "\n"; got != want {
		t.Fatalf("handshakeResponse %s", got)
	}
	got = string(AppendHandshakeResponseEvent(nil, eventTime, HandshakeResponse{HasError: true}, EventContext{Raw: []byte(`{"error":""}`)}))
	if want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"handshakeResponse","error":"","raw":"{\"error\":\"\"}"}` + "\n"; got != want {
		t.Fatalf("handshakeResponse error %s", got)
	}
	got = string(AppendStateEvent(nil, eventTime, StateEvent{Connection: "alice@chat", Hub: "chat", State: "reconnecting", Transport: TransportWebSockets, ConnectionID: "c1", Attempt: 2, RetryIn: 2 * time.Second, Error: "WebSocket closed with status code: 1006 (no reason given)."}))
	want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"state","connection":"alice@chat","hub":"chat","state":"reconnecting","transport":"WebSockets","connectionId":"c1","attempt":2,"retryInMs":2000,"error":"WebSocket closed with status code: 1006 (no reason given)."}` + "\n"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	got = string(AppendStateEvent(nil, eventTime, StateEvent{State: "connected"}))
	if want := `{"time":"2026-11-28T14:00:00.123456789Z","event":"state","state":"connected"}` + "\n"; got != want {
		t.Fatalf("minimal state %s", got)
	}
	decodeLine(t, []byte(got))
}

// TestEventLinesStayOneLine: a peer that pretty-prints its values still
// gets one line per message: line breaks between tokens become spaces,
// the values keep their meaning, and the record keeps its bytes.
func TestEventLinesStayOneLine(t *testing.T) {
	recs := []string{
		"{\"type\":1,\"target\":\"t\",\"arguments\":[1,\n  {\"a\":\r\n\"x y\"}],\"headers\":{\n\"route\":\"broadcast\"\n}}",
		"{\"type\":2,\"invocationId\":\"1\",\"item\":{\r\n\"n\":[\n1,2]\n}}",
		"{\"type\":3,\"invocationId\":\"1\",\"result\":[\n\"\xff\",\n2]}",
	}
	for _, rec := range recs {
		m, err := ParseMessage([]byte(rec), Lenient)
		if err != nil {
			t.Fatalf("%q: %v", rec, err)
		}
		line := AppendMessageEvent(nil, eventTime, &m, EventContext{Raw: []byte(rec)})
		if bytes.IndexByte(line, '\n') != len(line)-1 || bytes.IndexByte(line, '\r') >= 0 {
			t.Fatalf("%q: the event spans lines: %q", rec, line)
		}
		if !json.Valid(line) {
			t.Fatalf("%q: not valid JSON: %q", rec, line)
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]json.RawMessage{"arguments": m.Arguments, "item": m.Item, "result": m.Result, "headers": m.Headers} {
			if v == nil {
				continue
			}
			if !bytes.ContainsAny(got[name], " ") {
				t.Errorf("%q: %s = %s: the line breaks were not turned into spaces", rec, name, got[name])
			}
			var a, b any
			// The record's invalid UTF-8 becomes U+FFFD on the line, as
			// encoding/json decodes it too.
			if json.Unmarshal(v, &a) != nil || json.Unmarshal(got[name], &b) != nil || !jsonEqual(a, b) {
				t.Errorf("%q: %s = %s, want the value of %s", rec, name, got[name], v)
			}
		}
		if r, ok := got["raw"]; ok {
			if str(t, r) != rec {
				t.Errorf("%q: raw = %s", rec, r)
			}
		} else if b, err := base64.StdEncoding.DecodeString(str(t, got["rawBase64"])); err != nil || string(b) != rec {
			t.Errorf("%q: rawBase64 does not hold the record", rec)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
