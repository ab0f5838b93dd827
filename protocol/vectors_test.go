package protocol

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The vectors in this file are copied from the official test suites: the .NET
// ProtocolTestData, OutOfOrderJsonTestData, MessageSizeData and
// InvalidMessages tables (JsonHubProtocolTestsBase.cs, JsonHubProtocolTests.cs)
// and the TypeScript JsonHubProtocol.test.ts and TextMessageFormat.test.ts.

// testHeaders is TestHeaders of the .NET suite, with JSON escapes in the
// wire text.
const testHeaders = `"headers":{"Foo":"Bar","KeyWith\nNew\r\nLines":"Still Works","ValueWithNewLines":"Also\nWorks\r\nFine"}`

var testHeaderMap = map[string]string{
	"Foo":                   "Bar",
	"KeyWith\nNew\r\nLines": "Still Works",
	"ValueWithNewLines":     "Also\nWorks\r\nFine",
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// roundTripVectors are the well-formed records: each must parse to want in both modes
// and AppendMessage must write the same bytes back.
var roundTripVectors = []struct {
	name string
	wire string
	want Message
}{
	{"V1", `{"type":1,"invocationId":"123","target":"Target","arguments":[1,"Foo"]}`,
		Message{Type: TypeInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments, InvocationID: "123", Target: "Target", Arguments: raw(`[1,"Foo"]`)}},
	{"V2", `{"type":1,"target":"Target","arguments":[true]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments, Target: "Target", Arguments: raw(`[true]`)}},
	{"V3", `{"type":1,"target":"Target","arguments":[null]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments, Target: "Target", Arguments: raw(`[null]`)}},
	{"V4", `{"type":1,"target":"Target","arguments":[],"streamIds":["__test_id__"]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments | FieldStreamIDs, Target: "Target", Arguments: raw(`[]`), StreamIDs: []string{"__test_id__"}}},
	{"V5", `{"type":1,"target":"Target","arguments":[42],"streamIds":["__test_id__"]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments | FieldStreamIDs, Target: "Target", Arguments: raw(`[42]`), StreamIDs: []string{"__test_id__"}}},
	{"V6", `{"type":1,"target":"Target","arguments":[],"streamIds":["__test_id__","__test_id2__"]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments | FieldStreamIDs, Target: "Target", Arguments: raw(`[]`), StreamIDs: []string{"__test_id__", "__test_id2__"}}},
	{"V7", `{"type":1,"target":"Method","arguments":["2016-05-10T13:51:20+12:34"]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments, Target: "Method", Arguments: raw(`["2016-05-10T13:51:20+12:34"]`)}},
	{"V8", `{"type":1,"target":"Method","arguments":["מחרוזת כלשהי"]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments, Target: "Method", Arguments: raw(`["מחרוזת כלשהי"]`)}},
	{"V9", `{"type":2,"invocationId":"123","item":1}`,
		Message{Type: TypeStreamItem, Fields: FieldInvocationID | FieldItem, InvocationID: "123", Item: raw(`1`)}},
	{"V10", `{"type":2,"invocationId":"123","item":"Foo"}`,
		Message{Type: TypeStreamItem, Fields: FieldInvocationID | FieldItem, InvocationID: "123", Item: raw(`"Foo"`)}},
	{"V11", `{"type":2,"invocationId":"123","item":true}`,
		Message{Type: TypeStreamItem, Fields: FieldInvocationID | FieldItem, InvocationID: "123", Item: raw(`true`)}},
	{"V12", `{"type":2,"invocationId":"123","item":null}`,
		Message{Type: TypeStreamItem, Fields: FieldInvocationID | FieldItem, InvocationID: "123", Item: raw(`null`)}},
	{"V13", `{"type":3,"invocationId":"123","result":1}`,
		Message{Type: TypeCompletion, Fields: FieldInvocationID | FieldResult, InvocationID: "123", Result: raw(`1`)}},
	{"V14", `{"type":3,"invocationId":"123","result":"Foo"}`,
		Message{Type: TypeCompletion, Fields: FieldInvocationID | FieldResult, InvocationID: "123", Result: raw(`"Foo"`)}},
	{"V15", `{"type":3,"invocationId":"123","result":true}`,
		Message{Type: TypeCompletion, Fields: FieldInvocationID | FieldResult, InvocationID: "123", Result: raw(`true`)}},
	{"V16", `{"type":3,"invocationId":"123","result":null}`,
		Message{Type: TypeCompletion, Fields: FieldInvocationID | FieldResult, InvocationID: "123", Result: raw(`null`)}},
	{"V17", `{"type":3,"invocationId":"123","error":"Whoops!"}`,
		Message{Type: TypeCompletion, Fields: FieldInvocationID | FieldError, InvocationID: "123", Error: "Whoops!"}},
	{"V18", `{"type":3,"invocationId":"123"}`,
		Message{Type: TypeCompletion, Fields: FieldInvocationID, InvocationID: "123"}},
	{"V19", `{"type":3,` + testHeaders + `,"invocationId":"123","error":"Whoops!"}`,
		Message{Type: TypeCompletion, Fields: FieldHeaders | FieldInvocationID | FieldError, InvocationID: "123", Error: "Whoops!",
			Headers: raw(strings.TrimPrefix(testHeaders, `"headers":`))}},
	{"V20", `{"type":4,"invocationId":"123","target":"Target","arguments":[1,"Foo"]}`,
		Message{Type: TypeStreamInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments, InvocationID: "123", Target: "Target", Arguments: raw(`[1,"Foo"]`)}},
	{"V21", `{"type":4,"invocationId":"123","target":"Target","arguments":[],"streamIds":["__test_id__"]}`,
		Message{Type: TypeStreamInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments | FieldStreamIDs, InvocationID: "123", Target: "Target", Arguments: raw(`[]`), StreamIDs: []string{"__test_id__"}}},
	{"V22", `{"type":5,"invocationId":"123"}`,
		Message{Type: TypeCancelInvocation, Fields: FieldInvocationID, InvocationID: "123"}},
	{"V23", `{"type":5,` + testHeaders + `,"invocationId":"123"}`,
		Message{Type: TypeCancelInvocation, Fields: FieldHeaders | FieldInvocationID, InvocationID: "123",
			Headers: raw(strings.TrimPrefix(testHeaders, `"headers":`))}},
	{"V24", `{"type":6}`, Message{Type: TypePing}},
	{"V25", `{"type":7}`, Message{Type: TypeClose}},
	{"V26", `{"type":7,"error":"Error!"}`, Message{Type: TypeClose, Fields: FieldError, Error: "Error!"}},
	{"V27", `{"type":7,"error":""}`, Message{Type: TypeClose, Fields: FieldError, Error: ""}},
	{"V28", `{"type":7,"allowReconnect":true}`, Message{Type: TypeClose, Fields: FieldAllowReconnect, AllowReconnect: true}},
	{"V29", `{"type":7,"error":"Error!","allowReconnect":true}`,
		Message{Type: TypeClose, Fields: FieldError | FieldAllowReconnect, Error: "Error!", AllowReconnect: true}},
	{"V30", `{"type":1,"target":"Target","arguments":[1,"Foo",2]}`,
		Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments, Target: "Target", Arguments: raw(`[1,"Foo",2]`)}},
	{"V31", `{"type":2,` + testHeaders + `,"invocationId":"123","item":{"stringProp":"SignalR!","doubleProp":6.2831853071,"intProp":42,"dateTimeProp":"2017-04-11T00:00:00Z","nullProp":null,"byteArrProp":"AQID"}}`,
		Message{Type: TypeStreamItem, Fields: FieldHeaders | FieldInvocationID | FieldItem, InvocationID: "123",
			Headers: raw(strings.TrimPrefix(testHeaders, `"headers":`)),
			Item:    raw(`{"stringProp":"SignalR!","doubleProp":6.2831853071,"intProp":42,"dateTimeProp":"2017-04-11T00:00:00Z","nullProp":null,"byteArrProp":"AQID"}`)}},
	// Stateful reconnect messages, written by the .NET writer as WriteNumber.
	{"Ack", `{"type":8,"sequenceId":1394}`, Message{Type: TypeAck, Fields: FieldSequenceID, SequenceID: 1394}},
	{"Sequence", `{"type":9,"sequenceId":1}`, Message{Type: TypeSequence, Fields: FieldSequenceID, SequenceID: 1}},
}

// sameMessage compares two messages field by field, treating nil and empty
// raw values alike.
func sameMessage(a, b Message) bool {
	return a.Type == b.Type && a.Fields == b.Fields &&
		a.InvocationID == b.InvocationID && a.Target == b.Target &&
		bytes.Equal(a.Arguments, b.Arguments) && bytes.Equal(a.Headers, b.Headers) &&
		bytes.Equal(a.Item, b.Item) && bytes.Equal(a.Result, b.Result) &&
		a.Error == b.Error && a.AllowReconnect == b.AllowReconnect &&
		a.SequenceID == b.SequenceID &&
		len(a.StreamIDs) == len(b.StreamIDs) && (len(a.StreamIDs) == 0 || reflect.DeepEqual(a.StreamIDs, b.StreamIDs))
}

func TestRoundTripVectors(t *testing.T) {
	for _, v := range roundTripVectors {
		for _, mode := range []Mode{Strict, Lenient} {
			t.Run(v.name+"/"+mode.String(), func(t *testing.T) {
				m, err := ParseMessage([]byte(v.wire), mode)
				if err != nil {
					t.Fatalf("ParseMessage(%s): %v", v.wire, err)
				}
				if !sameMessage(m, v.want) {
					t.Fatalf("ParseMessage(%s)\n got %+v\nwant %+v", v.wire, m, v.want)
				}
				got := AppendMessage(nil, &m)
				if want := v.wire + "\x1e"; string(got) != want {
					t.Fatalf("AppendMessage\n got %q\nwant %q", got, want)
				}
				// Encoding the expected message (not the decoded one)
				// gives the same bytes too.
				want := v.want
				if got := AppendMessage(nil, &want); string(got) != v.wire+"\x1e" {
					t.Fatalf("AppendMessage(want)\n got %q\nwant %q", got, v.wire+"\x1e")
				}
			})
		}
	}
}

func TestHeaderAccessors(t *testing.T) {
	m, err := ParseMessage([]byte(`{"type":5,`+testHeaders+`,"invocationId":"123"}`), Strict)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.HeaderMap(); !reflect.DeepEqual(got, testHeaderMap) {
		t.Fatalf("HeaderMap = %q, want %q", got, testHeaderMap)
	}
	for k, want := range testHeaderMap {
		if got, ok := m.Header(k); !ok || got != want {
			t.Errorf("Header(%q) = %q, %v; want %q", k, got, ok, want)
		}
	}
	if _, ok := m.Header("Missing"); ok {
		t.Error("Header(Missing) reported present")
	}
	// A non-string value (accepted by lenient mode) is not a header.
	m, err = ParseMessage([]byte(`{"type":1,"target":"t","arguments":[],"headers":{"n":42,"s":"v"}}`), Lenient)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Header("n"); ok {
		t.Error("Header(n) with a number value reported present")
	}
	if got := m.HeaderMap(); !reflect.DeepEqual(got, map[string]string{"s": "v"}) {
		t.Errorf("HeaderMap = %q", got)
	}
	// EncodeHeaders sorts keys and re-parses to the same map.
	enc := EncodeHeaders(testHeaderMap)
	m2 := Message{Type: TypeCancelInvocation, Fields: FieldInvocationID | FieldHeaders, InvocationID: "1", Headers: enc}
	back, err := ParseMessage(bytes.TrimSuffix(AppendMessage(nil, &m2), []byte{RecordSeparator}), Strict)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.HeaderMap(); !reflect.DeepEqual(got, testHeaderMap) {
		t.Fatalf("EncodeHeaders round trip = %q", got)
	}
	if EncodeHeaders(nil) != nil {
		t.Error("EncodeHeaders(nil) should be nil")
	}
}

func TestOutOfOrderVectors(t *testing.T) {
	cases := []struct {
		wire string
		want Message
	}{
		{`{ "arguments": [1,2], "type":1, "target": "Method" }`,
			Message{Type: TypeInvocation, Fields: FieldTarget | FieldArguments, Target: "Method", Arguments: raw(`[1,2]`)}},
		{`{ "type":4, "arguments": [1,2], "target": "Method", "invocationId": "3" }`,
			Message{Type: TypeStreamInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments, InvocationID: "3", Target: "Method", Arguments: raw(`[1,2]`)}},
		{`{ "type":3, "result": 10, "invocationId": "15" }`,
			Message{Type: TypeCompletion, Fields: FieldInvocationID | FieldResult, InvocationID: "15", Result: raw(`10`)}},
		{`{ "item": "foo", "invocationId": "1a", "type":2 }`,
			Message{Type: TypeStreamItem, Fields: FieldInvocationID | FieldItem, InvocationID: "1a", Item: raw(`"foo"`)}},
		// What the TS client writes: type last.
		{`{"target":"Add","arguments":[1,2],"invocationId":"0","type":1}`,
			Message{Type: TypeInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments, InvocationID: "0", Target: "Add", Arguments: raw(`[1,2]`)}},
	}
	for _, c := range cases {
		for _, mode := range []Mode{Strict, Lenient} {
			m, err := ParseMessage([]byte(c.wire), mode)
			if err != nil {
				t.Errorf("%s ParseMessage(%s): %v", mode, c.wire, err)
				continue
			}
			if !sameMessage(m, c.want) {
				t.Errorf("%s ParseMessage(%s)\n got %+v\nwant %+v", mode, c.wire, m, c.want)
			}
		}
	}
}

func TestExtraPropertiesIgnored(t *testing.T) {
	cases := []string{
		`{"type":1,"invocationId":"42","target":"foo","arguments":[],"extraParameter":"1"}`,
		`{"type":1,"extra":{"deep":[1,{"x":null}]},"invocationId":"42","target":"foo","arguments":[]}`,
		`{"extra":[],"type":1,"invocationId":"42","target":"foo","arguments":[],"more":true}`,
	}
	want := Message{Type: TypeInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments, InvocationID: "42", Target: "foo", Arguments: raw(`[]`)}
	for _, wire := range cases {
		for _, mode := range []Mode{Strict, Lenient} {
			m, err := ParseMessage([]byte(wire), mode)
			if err != nil {
				t.Errorf("%s ParseMessage(%s): %v", mode, wire, err)
				continue
			}
			if !sameMessage(m, want) {
				t.Errorf("%s ParseMessage(%s) = %+v", mode, wire, m)
			}
		}
	}
}

// TestMessageSizes checks the serialized sizes of MessageSizeData, 0x1E
// included, through AppendMessage.
func TestMessageSizes(t *testing.T) {
	one := raw(`[1]`)
	cases := []struct {
		name string
		m    Message
		size int
	}{
		{"Ping", NewPing(), 11},
		{"Close empty", NewClose("", false), 11},
		{"Close with error", NewClose("error", false), 27},
		{"Completion empty", NewCompletion("1", nil, ""), 30},
		{"CompletionWithResult", NewCompletion("1", raw(`1`), ""), 41},
		{"CompletionWithError", NewCompletion("1", nil, "error"), 46},
		{"CancelInvocation", Message{Type: TypeCancelInvocation, Fields: FieldInvocationID, InvocationID: "1"}, 30},
		{"StreamItem 1", Message{Type: TypeStreamItem, Fields: FieldInvocationID | FieldItem, InvocationID: "1", Item: raw(`1`)}, 39},
		{"StreamItem null", Message{Type: TypeStreamItem, Fields: FieldInvocationID | FieldItem, InvocationID: "1", Item: raw(`null`)}, 42},
		{"Invocation", NewInvocation("Target", one), 45},
		{"Invocation with id", Message{Type: TypeInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments, InvocationID: "1", Target: "Target", Arguments: one}, 64},
		{"Invocation with stream", Message{Type: TypeInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments | FieldStreamIDs, InvocationID: "1", Target: "Target", Arguments: one, StreamIDs: []string{"2"}}, 82},
		{"StreamInvocation", Message{Type: TypeStreamInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments, InvocationID: "1", Target: "target", Arguments: raw(`[]`)}, 63},
		{"StreamInvocation with stream", Message{Type: TypeStreamInvocation, Fields: FieldInvocationID | FieldTarget | FieldArguments | FieldStreamIDs, InvocationID: "1", Target: "target", Arguments: raw(`[]`), StreamIDs: []string{"2"}}, 81},
	}
	for _, c := range cases {
		got := AppendMessage(nil, &c.m)
		if len(got) != c.size {
			t.Errorf("%s: %d bytes (%q), want %d", c.name, len(got), got, c.size)
		}
		if got[len(got)-1] != RecordSeparator {
			t.Errorf("%s: does not end with 0x1E", c.name)
		}
	}
}

func TestConstructors(t *testing.T) {
	if got := string(AppendMessage(nil, ptr(NewInvocation("t", nil)))); got != `{"type":1,"target":"t","arguments":[]}`+"\x1e" {
		t.Errorf("NewInvocation(nil args) = %q", got)
	}
	if got := string(AppendMessage(nil, ptr(NewClose("bye", true)))); got != `{"type":7,"error":"bye","allowReconnect":true}`+"\x1e" {
		t.Errorf("NewClose = %q", got)
	}
	if got := string(AppendMessage(nil, ptr(NewCompletion("1", raw(`null`), "")))); got != `{"type":3,"invocationId":"1","result":null}`+"\x1e" {
		t.Errorf("NewCompletion(null result) = %q", got)
	}
	if got := string(AppendMessage(nil, ptr(NewAck(7)))); got != `{"type":8,"sequenceId":7}`+"\x1e" {
		t.Errorf("NewAck = %q", got)
	}
	if got := string(AppendMessage(nil, ptr(NewSequence(3)))); got != `{"type":9,"sequenceId":3}`+"\x1e" {
		t.Errorf("NewSequence = %q", got)
	}
	// Strings are escaped like System.Text.Json's relaxed encoder, and
	// invalid UTF-8 never makes invalid JSON.
	m := NewInvocation("a\"b\\c\n\x01\xff☃", nil)
	out := AppendMessage(nil, &m)
	if want := `{"type":1,"target":"a\"b\\c\n\u0001` + "\uFFFD☃" + `","arguments":[]}` + "\x1e"; string(out) != want {
		t.Errorf("escaping: got %q want %q", out, want)
	}
	if !json.Valid(out[:len(out)-1]) {
		t.Errorf("escaped output is not valid JSON: %q", out)
	}
}

func ptr[T any](v T) *T { return &v }

func TestMessageTypeNames(t *testing.T) {
	want := map[MessageType]string{1: "invocation", 2: "streamItem", 3: "completion", 4: "streamInvocation",
		5: "cancelInvocation", 6: "ping", 7: "close", 8: "ack", 9: "sequence", 0: "unknown", 10: "unknown", 42: "unknown", -1: "unknown"}
	for typ, name := range want {
		if got := typ.String(); got != name {
			t.Errorf("MessageType(%d).String() = %q, want %q", typ, got, name)
		}
	}
	for typ := MessageType(-1); typ < 12; typ++ {
		if got, w := typ.Trackable(), typ >= 1 && typ <= 5; got != w {
			t.Errorf("MessageType(%d).Trackable() = %v", typ, got)
		}
	}
	if Strict.String() != "strict" || Lenient.String() != "lenient" {
		t.Error("Mode.String")
	}
}
