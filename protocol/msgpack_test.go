package protocol_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

type msgpackFixtures struct {
	Vectors []struct {
		Name   string `json:"name"`
		Base64 string `json:"base64"`
		Write  bool   `json:"write"`
		Line   string `json:"line"`
	} `json:"vectors"`
	Invalid []struct {
		Name   string `json:"name"`
		Hex    string `json:"hex"`
		Strict string `json:"strict"`
	} `json:"invalid"`
}

func loadMsgpackFixtures(t testing.TB) msgpackFixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/messagepack/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f msgpackFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// eventFields is the event line of m without its time and newline.
func eventFields(m *protocol.Message) string {
	line := protocol.AppendMessageEvent(nil, time.Unix(0, 0).UTC(), m, protocol.EventContext{})
	s := strings.TrimSuffix(string(line), "}\n")
	return s[strings.Index(s, `"event"`):]
}

// TestMessagePackOfficialVectors decodes the official test vectors in both
// modes into the event lines a JSON message gives, and writes them back to
// the official bytes.
func TestMessagePackOfficialVectors(t *testing.T) {
	for _, v := range loadMsgpackFixtures(t).Vectors {
		rec, err := base64.StdEncoding.DecodeString(v.Base64)
		if err != nil {
			t.Fatal(v.Name, err)
		}
		for _, mode := range []protocol.Mode{protocol.Lenient, protocol.Strict} {
			m, err := protocol.ParseMessagePack(rec, mode)
			if err != nil {
				t.Errorf("%s (%s): %v", v.Name, mode, err)
				continue
			}
			if got := eventFields(&m); got != v.Line {
				t.Errorf("%s (%s):\n got %s\nwant %s", v.Name, mode, got, v.Line)
			}
		}
		if !v.Write {
			continue
		}
		m, _ := protocol.ParseMessagePack(rec, protocol.Strict)
		out, err := protocol.AppendMessagePack(nil, &m)
		if err != nil {
			t.Errorf("%s: write: %v", v.Name, err)
			continue
		}
		want := protocol.AppendVarint(nil, uint32(len(rec)))
		want = append(want, rec...)
		if !bytes.Equal(out, want) {
			t.Errorf("%s: wrote %x, want %x", v.Name, out, want)
		}
	}
}

// TestMessagePackStrictErrors checks the .NET texts of the official
// invalid payloads.
func TestMessagePackStrictErrors(t *testing.T) {
	for _, v := range loadMsgpackFixtures(t).Invalid {
		rec, err := hex.DecodeString(v.Hex)
		if err != nil {
			t.Fatal(v.Name, err)
		}
		_, err = protocol.ParseMessagePack(rec, protocol.Strict)
		var pe *protocol.ProtocolError
		if !errors.As(err, &pe) || pe.Text != v.Strict {
			t.Errorf("%s: got %v, want %q", v.Name, err, v.Strict)
		}
	}
}

func TestMessagePackStrictMore(t *testing.T) {
	cases := []struct {
		name, hex, want string
	}{
		{"empty record", "", "Attempted to read past the end of the stream."},
		{"not an array", "a3666f6f", "Unexpected msgpack code 163 (fixstr) encountered."},
		{"count past the end", "9606", "Attempted to read past the end of the stream."},
		{"null target", "950180c0c090", "Null or empty target for Invocation message."},
		{"stream invocation without id", "960480c0a16d9090", "Null or empty invocation ID for StreamInvocation message."},
		{"stream item null id", "940280c02a", "Null or empty invocation ID for StreamItem message."},
		{"cancel empty id", "930580a0", "Null or empty invocation ID for CancelInvocation message."},
		{"empty header key", "950181a0a17ac0a16d90", "Null or empty key in header."},
		{"empty header value", "950181a17aa0c0a16d90", "Null or empty value in header."},
		{"bad argument", "950180c0a16d922ac1", "Error binding argument 2. Make sure that the types of the provided values match the types of the hub method being invoked."},
		{"cut item", "940280a178d9", "Deserializing object of the `Object` type for 'item' failed."},
		{"stream id not a string", "960180c0a16d90912a", "Unexpected msgpack code 42 (positive fixint) encountered."},
		{"empty stream id", "960180c0a16d9091a0", "Null or empty value in streamIds received."},
		{"allowReconnect not a bool", "9307c001", "Reading 'allowReconnect' as Boolean failed."},
		{"sequence id a float", "9208cb3ff0000000000000", "Reading 'sequenceId' as Int64 failed."},
		{"type past int32", "91ce80000000", "Reading 'messageType' as Int32 failed."},
	}
	for _, c := range cases {
		rec, _ := hex.DecodeString(c.hex)
		_, err := protocol.ParseMessagePack(rec, protocol.Strict)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestMessagePackLenientErrors checks texts of the official TypeScript
// client; TestMessagePackMatchesOfficialClient compares many more under
// Node.
func TestMessagePackLenientErrors(t *testing.T) {
	cases := []struct {
		name, hex, want string
	}{
		{"empty record", "", "Invalid payload."},
		{"empty array", "90", "Invalid payload."},
		{"not an array", "a3666f6f", "Invalid payload."},
		{"nil", "c0", "Cannot read properties of null (reading 'length')"},
		{"cut header", "96", "Offset is outside the bounds of the DataView"},
		{"cut string", "92a5616263", "Insufficient data"},
		{"never used byte", "92c1", "Unrecognized type byte: 0xc1"},
		{"extra bytes", "910600", "Extra 1 of 3 byte(s) found at buffer[2]"},
		{"headers a string", "9501a0c0a16d90", "Invalid headers."},
		{"headers missing", "9102", "Invalid headers."},
		{"short invocation", "940180c0a16d", "Invalid payload for Invocation message."},
		{"short stream item", "930280a178", "Invalid payload for StreamItem message."},
		{"short completion", "930380a178", "Invalid payload for Completion message."},
		{"completion error kind without error", "940380a17801", "Invalid payload for Completion message."},
		{"short close", "9107", "Invalid payload for Close message."},
		{"bool key", "92018180c0", "The type of key must be string or number but object"},
		{"proto key", "920181a95f5f70726f746f5f5fc0", "The key __proto__ is not allowed"},
		{"bad timestamp", "9201d5ff0000", "Unrecognized data size for timestamp (expected 4, 8, or 12): 2"},
	}
	for _, c := range cases {
		rec, _ := hex.DecodeString(c.hex)
		_, err := protocol.ParseMessagePack(rec, protocol.Lenient)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestMessagePackValues checks the JSON each MessagePack value becomes.
func TestMessagePackValues(t *testing.T) {
	cases := []struct {
		name, hex, want string
	}{
		{"nil", "c0", `null`},
		{"bools", "92c2c3", `[false,true]`},
		{"negative fixint", "ff", `-1`},
		{"uint64 past 2^53", "cfffffffffffffffff", `18446744073709551615`},
		{"int64 min", "d38000000000000000", `-9223372036854775808`},
		{"float32", "ca3fc00000", `1.5`},
		{"float64 small", "cb3eb0c6f7a0b5ed8d", `0.000001`},
		{"float64 tiny", "cb3e7ad7f29abcaf48", `1e-7`},
		{"float64 big", "cb444b1ae4d6e2ef50", `1e+21`},
		{"NaN", "cb7ff8000000000000", `"NaN"`},
		{"-Infinity", "cbfff0000000000000", `"-Infinity"`},
		{"bin", "c403010203", `{"$binary":"AQID"}`},
		{"ext", "d40501", `{"$ext":5,"$binary":"AQ=="}`},
		{"timestamp 32", "d6ff00000001", `"1970-01-01T00:00:01Z"`},
		{"timestamp 96", "c70cff000003e8000000000000000a", `"1970-01-01T00:00:10.000001Z"`},
		{"number key", "81012a", `{"1":42}`},
		{"escapes", "a4220a5c01", `"\"\n\\\u0001"`},
		{"invalid utf-8", "a2ff61", `"` + "\uFFFD" + `a"`},
		{"nested", "82a161919180a162c0", `{"a":[[{}]],"b":null}`},
	}
	for _, c := range cases {
		v, _ := hex.DecodeString(c.hex)
		// A completion with the value as its result.
		rec := append([]byte{0x95, 0x03, 0x80, 0xa1, 'x', 0x03}, v...)
		for _, mode := range []protocol.Mode{protocol.Lenient, protocol.Strict} {
			m, err := protocol.ParseMessagePack(rec, mode)
			if err != nil {
				t.Errorf("%s (%s): %v", c.name, mode, err)
				continue
			}
			if string(m.Result) != c.want {
				t.Errorf("%s (%s): got %s, want %s", c.name, mode, m.Result, c.want)
			}
		}
	}
}

// TestMessagePackRoundTrip writes JSON values as MessagePack and reads
// them back to the same JSON value, binary and extensions included.
func TestMessagePackRoundTrip(t *testing.T) {
	values := []string{
		`[]`, `[1,-1,0,127,128,255,256,65535,65536,4294967295,4294967296,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649]`,
		`[9223372036854775807,-9223372036854775808,18446744073709551615]`,
		`[1.5,-0.25,1e300,3.141592653589793]`,
		`[{"sender":"alice","text":"hello world, this is a chat message","ts":1732800000000}]`,
		`[null,true,false,"","é中😀","a\"b\\c\n"]`,
		`[{"$binary":"AQID"},{"$ext":5,"$binary":"AQ=="},{"$binary":""}]`,
		`[{"a":{"b":{"c":[1,[2,[3,{}]]]}}}]`,
		`["` + strings.Repeat("x", 70000) + `"]`,
	}
	for _, v := range values {
		m := protocol.NewInvocation("target", json.RawMessage(v))
		m.Headers = protocol.EncodeHeaders(map[string]string{"route": "user:alice"})
		m.Fields |= protocol.FieldHeaders
		rec, err := protocol.AppendMessagePack(nil, &m)
		if err != nil {
			t.Fatalf("%.60s: %v", v, err)
		}
		recs, err := protocol.SplitBinaryRecords(rec)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%.60s: framing %v", v, err)
		}
		for _, mode := range []protocol.Mode{protocol.Lenient, protocol.Strict} {
			got, err := protocol.ParseMessagePack(recs[0], mode)
			if err != nil {
				t.Fatalf("%.60s (%s): %v", v, mode, err)
			}
			if !jsonEqual(t, got.Arguments, []byte(v)) {
				t.Errorf("%.60s (%s): got %.200s", v, mode, got.Arguments)
			}
			if r, _ := got.Header("route"); r != "user:alice" || got.Target != "target" {
				t.Errorf("%.60s (%s): headers %s target %q", v, mode, got.Headers, got.Target)
			}
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if err := da.Decode(&x); err != nil {
		t.Fatalf("decoding %.100s: %v", a, err)
	}
	if err := db.Decode(&y); err != nil {
		t.Fatalf("decoding %.100s: %v", b, err)
	}
	return reflect.DeepEqual(normNumbers(x), normNumbers(y))
}

// normNumbers compares numbers by value, so 1.0 and 1 are equal.
func normNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if strings.ContainsAny(string(t), ".eE") {
			f, _ := t.Float64()
			return f
		}
		return string(t)
	case []any:
		for i := range t {
			t[i] = normNumbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = normNumbers(t[k])
		}
	}
	return v
}

func TestAppendMessagePackRejectsBadJSON(t *testing.T) {
	m := protocol.NewInvocation("t", json.RawMessage(`[1,`))
	if _, err := protocol.AppendMessagePack(nil, &m); err == nil {
		t.Fatal("bad JSON arguments were written")
	}
	m = protocol.Message{Type: 42}
	if _, err := protocol.AppendMessagePack(nil, &m); err == nil {
		t.Fatal("an unknown type was written")
	}
}

// TestMessagePackEventLinesMatchJSON checks that the same message sent
// over either protocol gives the same event line.
func TestMessagePackEventLinesMatchJSON(t *testing.T) {
	msgs := []protocol.Message{
		protocol.NewInvocation("newMessage", json.RawMessage(`[{"sender":"alice","text":"hi","n":1.5}]`)),
		protocol.NewCompletion("7", json.RawMessage(`{"ok":true}`), ""),
		protocol.NewCompletion("8", nil, "boom"),
		protocol.NewClose("bye", true),
		protocol.NewClose("", false),
		protocol.NewPing(),
		protocol.NewAck(12),
		protocol.NewSequence(13),
		{Type: protocol.TypeStreamItem, Fields: protocol.FieldInvocationID | protocol.FieldItem, InvocationID: "3", Item: json.RawMessage(`"x"`)},
		{Type: protocol.TypeCancelInvocation, Fields: protocol.FieldInvocationID, InvocationID: "3"},
	}
	for _, m := range msgs {
		jsonRec := protocol.AppendMessage(nil, &m)
		jm, err := protocol.ParseMessage(jsonRec[:len(jsonRec)-1], protocol.Strict)
		if err != nil {
			t.Fatal(err)
		}
		mp, err := protocol.AppendMessagePack(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		recs, _ := protocol.SplitBinaryRecords(mp)
		mm, err := protocol.ParseMessagePack(recs[0], protocol.Lenient)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := eventFields(&jm), eventFields(&mm); a != b {
			t.Errorf("json %s\nmsgpack %s", a, b)
		}
	}
}

// TestMessagePackReplayPlaceholder: the MessagePack placeholder is the
// JSON one's Completion, and a receiver drops it as a trackable message.
func TestMessagePackReplayPlaceholder(t *testing.T) {
	recs, err := protocol.SplitBinaryRecords(protocol.MessagePackReplayPlaceholder)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%x: %v", protocol.MessagePackReplayPlaceholder, err)
	}
	m, err := protocol.ParseMessagePack(recs[0], protocol.Strict)
	j, _ := protocol.ParseMessage([]byte(strings.TrimSuffix(protocol.ReplayPlaceholder, "\x1e")), protocol.Strict)
	if err != nil || eventFields(&m) != eventFields(&j) || !protocol.IsTrackableMessagePack(protocol.MessagePackReplayPlaceholder) {
		t.Fatalf("%s, want %s: %v", eventFields(&m), eventFields(&j), err)
	}
	head := protocol.AppendResumeMessagePack(nil, 5, 3)
	recs, err = protocol.SplitBinaryRecords(head)
	if err != nil || len(recs) != 2 {
		t.Fatalf("resume head %x: %v", head, err)
	}
	for i, want := range []string{`"event":"sequence","sequenceId":5`, `"event":"ack","sequenceId":3`} {
		m, err := protocol.ParseMessagePack(recs[i], protocol.Strict)
		if err != nil || eventFields(&m) != want {
			t.Fatalf("record %d: %s %v", i, eventFields(&m), err)
		}
	}
}
