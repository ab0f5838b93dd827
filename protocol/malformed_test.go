package protocol

import (
	"errors"
	"strings"
	"testing"
)

// jsonSyntax marks a lenient expectation of a JSON.parse SyntaxError. Its
// wording depends on the JavaScript engine and its version, so the tables
// only require a ProtocolError that is none of the hub-protocol texts; the
// Node interop test checks that the official client fails on the same
// inputs.
const jsonSyntax = "<SyntaxError>"

// accepted marks an input that must parse without error.
const accepted = ""

// malformedVectors are the .NET suite's InvalidMessages (E1-E33, numbered
// here) and more, with the .NET text expected in strict mode and the
// TypeScript client's behaviour in lenient mode.
//
// sigr keeps arguments raw and has no argument binder, so the .NET
// ArgumentBindingErrors table does not apply: those inputs are
// well-formed messages here (TestBindingVectorsParse). For the same reason
// E33, whose .NET text comes from the binder reading `[[}]`, is simply bad
// JSON: `Error reading JSON.`.
var malformedVectors = []struct {
	name    string
	input   string
	strict  string
	lenient string
}{
	{"E1", `null`, "Unexpected JSON Token Type 'Null'. Expected a JSON Object.", "Cannot read properties of null (reading 'type')"},
	{"E2", `"foo"`, "Unexpected JSON Token Type 'String'. Expected a JSON Object.", "Invalid payload."},
	{"E3", `[42]`, "Unexpected JSON Token Type 'Array'. Expected a JSON Object.", "Invalid payload."},
	{"E4", `{}`, "Missing required property 'type'.", "Invalid payload."},
	{"E5", `{"type":1,"headers":{"Foo": 42},"target":"test",arguments:[]}`, "Expected header 'Foo' to be of type String.", jsonSyntax},
	{"E6", `{"type":1,"headers":{"Foo": true},"target":"test",arguments:[]}`, "Expected header 'Foo' to be of type String.", jsonSyntax},
	{"E7", `{"type":1,"headers":{"Foo": null},"target":"test",arguments:[]}`, "Expected header 'Foo' to be of type String.", jsonSyntax},
	{"E8", `{"type":1,"headers":{"Foo": []},"target":"test",arguments:[]}`, "Expected header 'Foo' to be of type String.", jsonSyntax},
	{"E9", `{"type":1}`, "Missing required property 'target'.", "Invalid payload for Invocation message."},
	{"E10", `{"type":1,"invocationId":42}`, "Expected 'invocationId' to be of type String.", "Invalid payload for Invocation message."},
	{"E11", `{"type":1,"invocationId":"42"}`, "Missing required property 'target'.", "Invalid payload for Invocation message."},
	{"E12", `{"type":1,"invocationId":"42","target":42}`, "Expected 'target' to be of type String.", "Invalid payload for Invocation message."},
	{"E13", `{"type":1,"invocationId":"42","target":"foo"}`, "Missing required property 'arguments'.", accepted},
	{"E14", `{"type":1,"invocationId":"42","target":"foo","arguments":{}}`, "Expected 'arguments' to be of type Array.", accepted},
	{"E15", `{"type":2}`, "Missing required property 'invocationId'.", "Invalid payload for StreamItem message."},
	{"E16", `{"type":2,"invocationId":42}`, "Expected 'invocationId' to be of type String.", "Invalid payload for StreamItem message."},
	{"E17", `{"type":2,"invocationId":"42"}`, "Missing required property 'item'.", "Invalid payload for StreamItem message."},
	{"E18", `{"type":3}`, "Missing required property 'invocationId'.", "Invalid payload for Completion message."},
	{"E19", `{"type":3,"invocationId":42}`, "Expected 'invocationId' to be of type String.", "Invalid payload for Completion message."},
	{"E20", `{"type":3,"invocationId":"42","error":[]}`, "Expected 'error' to be of type String.", "Invalid payload for Completion message."},
	// The TS client ignores type 4 (a server never sends it); sigr's
	// lenient mode applies the Invocation rules with the id required.
	{"E21", `{"type":4}`, "Missing required property 'invocationId'.", "Invalid payload for StreamInvocation message."},
	{"E22", `{"type":4,"invocationId":42}`, "Expected 'invocationId' to be of type String.", "Invalid payload for StreamInvocation message."},
	{"E23", `{"type":4,"invocationId":"42","target":42}`, "Expected 'target' to be of type String.", "Invalid payload for StreamInvocation message."},
	{"E24", `{"type":4,"invocationId":"42","target":"foo"}`, "Missing required property 'arguments'.", accepted},
	{"E25", `{"type":4,"invocationId":"42","target":"foo","arguments":{}}`, "Expected 'arguments' to be of type Array.", accepted},
	{"E26", `{"type":3,"invocationId":"42","error":"foo","result":true}`, "The 'error' and 'result' properties are mutually exclusive.", "Invalid payload for Completion message."},
	{"E27", ``, "Error reading JSON.", "Unexpected end of JSON input"},
	{"E28", `42`, "Unexpected JSON Token Type 'Number'. Expected a JSON Object.", "Invalid payload."},
	{"E29", `{"type":"foo"}`, "Expected 'type' to be of type Number.", "Invalid payload."},
	{"E30", `{"type":3,"invocationId":"42","result":true`, "Error reading JSON.", "Unexpected end of JSON input"},
	{"E31", `{"type":8,"sequenceId":true}`, "Expected 'sequenceId' to be of type Number.", "Invalid SequenceId for Ack message."},
	{"E32", `{"type":9,"sequenceId":"value"}`, "Expected 'sequenceId' to be of type Number.", "Invalid SequenceId for Sequence message."},
	{"E33", `{"type":1,"invocationId":"42","target":"foo","arguments":[[}]}`, "Error reading JSON.", jsonSyntax},

	// From the .NET server source (JsonHubProtocol.cs and
	// SystemTextJsonExtensions.cs, newest stored version).
	{"Ack without sequenceId", `{"type":8}`, "Missing required property 'sequenceId'.", "Invalid SequenceId for Ack message."},
	{"Sequence without sequenceId", `{"type":9}`, "Missing required property 'sequenceId'.", "Invalid SequenceId for Sequence message."},
	{"null sequenceId is absent", `{"type":9,"sequenceId":null}`, "Missing required property 'sequenceId'.", "Invalid SequenceId for Sequence message."},
	{"headers not an object", `{"type":1,"headers":[],"target":"a","arguments":[]}`, "Expected 'headers' to be of type StartObject.", accepted},
	{"headers a string", `{"type":1,"headers":"h","target":"a","arguments":[]}`, "Expected 'headers' to be of type StartObject.", accepted},
	{"null streamId", `{"type":1,"target":"a","arguments":[],"streamIds":[null]}`, "Null value for 'streamIds' is not valid.", accepted},
	{"streamIds not an array", `{"type":1,"target":"a","arguments":[],"streamIds":{}}`, "Expected 'streamIds' to be of type Array.", accepted},
	{"allowReconnect not a bool", `{"type":7,"allowReconnect":"yes"}`, "Expected 'allowReconnect' to be true or false.", accepted},
	{"allowReconnect null", `{"type":7,"allowReconnect":null}`, "Expected 'allowReconnect' to be true or false.", accepted},
	{"type null", `{"type":null}`, "Expected 'type' to be of type Number.", "Invalid payload."},
	{"type object", `{"type":{}}`, "Expected 'type' to be of type Number.", "Invalid payload."},
	{"type not an int32", `{"type":1.5}`, "Expected 'type' to be of type Number.", accepted},
	{"invocationId null", `{"type":1,"invocationId":null,"target":"a","arguments":[]}`, "Expected 'invocationId' to be of type String.", "Invalid payload for Invocation message."},
	{"target null", `{"type":1,"target":null,"arguments":[]}`, "Expected 'target' to be of type String.", "Invalid payload for Invocation message."},
	{"error null", `{"type":7,"error":null}`, "Expected 'error' to be of type String.", accepted},
	{"empty target", `{"type":1,"target":"","arguments":[]}`, "Missing required property 'target'.", "Invalid payload for Invocation message."},
	{"empty invocationId on item", `{"type":2,"invocationId":"","item":1}`, "Missing required property 'invocationId'.", "Invalid payload for StreamItem message."},
	{"cancel without id", `{"type":5}`, "Missing required property 'invocationId'.", "Invalid payload for CancelInvocation message."},
	{"empty error with result", `{"type":3,"invocationId":"1","error":"","result":1}`, "The 'error' and 'result' properties are mutually exclusive.", accepted},
	{"non-string header last", `{"type":6,"headers":{"a":"b","c":{}}}`, "Expected header 'c' to be of type String.", accepted},
	{"escaped header name", `{"type":6,"headers":{"a\u0042":1}}`, "Expected header 'aB' to be of type String.", accepted},
	{"escaped member names", `{"\u0074ype":1,"target":"a"}`, "Missing required property 'arguments'.", accepted},

	// Document order: .NET reports the first problem it meets.
	{"order: target before headers", `{"type":1,"target":42,"headers":{"a":1}}`, "Expected 'target' to be of type String.", "Invalid payload for Invocation message."},
	{"order: headers before type", `{"headers":{"a":1},"type":"x"}`, "Expected header 'a' to be of type String.", "Invalid payload."},
	{"order: type before JSON error", `{"type":"x","target":"a",}`, "Expected 'type' to be of type Number.", jsonSyntax},
	{"order: JSON error before missing", `{"type":1,"target":"a","arguments":[1,]}`, "Error reading JSON.", jsonSyntax},
	{"order: arguments before target", `{"type":1,"arguments":{},"target":5}`, "Expected 'arguments' to be of type Array.", "Invalid payload for Invocation message."},

	// Bad JSON in all its forms.
	{"unquoted name", `{type:1}`, "Error reading JSON.", jsonSyntax},
	{"trailing comma", `{"type":6,}`, "Error reading JSON.", jsonSyntax},
	{"bad literal", `{"type":6,"x":tru}`, "Error reading JSON.", jsonSyntax},
	{"bad number", `{"type":6,"x":01}`, "Error reading JSON.", jsonSyntax},
	{"bad escape", `{"type":6,"x":"\q"}`, "Error reading JSON.", jsonSyntax},
	{"control char in string", "{\"type\":6,\"x\":\"a\x01\"}", "Error reading JSON.", jsonSyntax},
	{"unterminated string", `{"type":6,"x":"abc`, "Error reading JSON.", "Unexpected end of JSON input"},
	{"missing colon", `{"type" 6}`, "Error reading JSON.", jsonSyntax},
	{"white space only", ` `, "Error reading JSON.", "Unexpected end of JSON input"},
	{"broken scalar at root", `nul`, "Error reading JSON.", jsonSyntax},
	{"broken number at root", `-`, "Error reading JSON.", jsonSyntax},
}

func TestMalformedStrict(t *testing.T) {
	for _, v := range malformedVectors {
		t.Run(v.name, func(t *testing.T) {
			checkParse(t, v.input, Strict, v.strict)
		})
	}
}

func TestMalformedLenient(t *testing.T) {
	for _, v := range malformedVectors {
		t.Run(v.name, func(t *testing.T) {
			checkParse(t, v.input, Lenient, v.lenient)
		})
	}
}

// protocolTexts are the hub-protocol error texts; a JSON syntax error must
// be none of them.
var protocolTexts = []string{"Invalid payload", "Invalid SequenceId", "Missing required", "Expected '", "Cannot read"}

func checkParse(t *testing.T, input string, mode Mode, want string) {
	t.Helper()
	_, err := ParseMessage([]byte(input), mode)
	switch want {
	case accepted:
		if err != nil {
			t.Fatalf("%s ParseMessage(%s) = %v, want no error", mode, input, err)
		}
		return
	case jsonSyntax:
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("%s ParseMessage(%s) = %v, want a JSON syntax ProtocolError", mode, input, err)
		}
		for _, p := range protocolTexts {
			if strings.HasPrefix(pe.Text, p) {
				t.Fatalf("%s ParseMessage(%s) = %q, want a JSON syntax error", mode, input, pe.Text)
			}
		}
		return
	}
	if err == nil {
		t.Fatalf("%s ParseMessage(%s) succeeded, want %q", mode, input, want)
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("%s ParseMessage(%s) error %T is not a *ProtocolError", mode, input, err)
	}
	if pe.Text != want || err.Error() != want {
		t.Fatalf("%s ParseMessage(%s)\n got %q\nwant %q", mode, input, err.Error(), want)
	}
}

// TestBindingVectorsParse: the ArgumentBindingErrors inputs are messages
// whose arguments do not fit a .NET method. sigr binds nothing, so they
// parse in both modes with their arguments kept raw.
func TestBindingVectorsParse(t *testing.T) {
	cases := map[string]string{
		`{"type":1,"invocationId":"42","target":"foo","arguments":[]}`:                   `[]`,
		`{"type":1,"arguments":[], "invocationId":"42","target":"foo"}`:                  `[]`,
		`{"type":1,"invocationId":"42","target":"foo","arguments":[ "abc", "xyz"]}`:      `[ "abc", "xyz"]`,
		`{"type":4,"invocationId":"42","target":"foo","arguments":[]}`:                   `[]`,
		`{"type":1,"invocationId":"42","target":"foo","arguments":[1,"",{"1":1,"2":2}]}`: `[1,"",{"1":1,"2":2}]`,
		`{"type":1,"invocationId":"42","target":"foo","arguments":[1,[1]]}`:              `[1,[1]]`,
	}
	for in, args := range cases {
		for _, mode := range []Mode{Strict, Lenient} {
			m, err := ParseMessage([]byte(in), mode)
			if err != nil {
				t.Errorf("%s ParseMessage(%s): %v", mode, in, err)
				continue
			}
			if string(m.Arguments) != args || m.Target != "foo" || m.InvocationID != "42" {
				t.Errorf("%s ParseMessage(%s) = %+v", mode, in, m)
			}
		}
	}
}

// TestValidationDifferences: inputs on which the official parsers
// disagree, in both modes.
func TestValidationDifferences(t *testing.T) {
	cases := []struct {
		name, input, strict, lenient string
	}{
		{"invocation without arguments", `{"type":1,"target":"m"}`, "Missing required property 'arguments'.", accepted},
		{"arguments not an array", `{"type":1,"target":"m","arguments":42}`, "Expected 'arguments' to be of type Array.", accepted},
		{"empty invocationId", `{"type":1,"invocationId":"","target":"m","arguments":[]}`, accepted, "Invalid payload for Invocation message."},
		{"completion result null and error", `{"type":3,"invocationId":"1","result":null,"error":"e"}`, "The 'error' and 'result' properties are mutually exclusive.", accepted},
		{"completion result 0 and error", `{"type":3,"invocationId":"1","result":0,"error":"e"}`, "The 'error' and 'result' properties are mutually exclusive.", accepted},
		{"completion truthy result and error", `{"type":3,"invocationId":"1","result":2,"error":"error"}`, "The 'error' and 'result' properties are mutually exclusive.", "Invalid payload for Completion message."},
		{"non-string header value", `{"type":1,"target":"m","arguments":[],"headers":{"Foo":42}}`, "Expected header 'Foo' to be of type String.", accepted},
		{"ack sequenceId a string", `{"type":8,"sequenceId":"5"}`, "Expected 'sequenceId' to be of type Number.", "Invalid SequenceId for Ack message."},
		{"ack without sequenceId", `{"type":8}`, "Missing required property 'sequenceId'.", "Invalid SequenceId for Ack message."},
		{"sequence without sequenceId", `{"type":9}`, "Missing required property 'sequenceId'.", "Invalid SequenceId for Sequence message."},
		{"type missing", `{"target":"m"}`, "Missing required property 'type'.", "Invalid payload."},
		{"type not a number", `{"type":"1"}`, "Expected 'type' to be of type Number.", "Invalid payload."},
		{"bad JSON", `{"type":1,`, "Error reading JSON.", "Unexpected end of JSON input"},
		// JSON.parse rejects trailing bytes; the .NET reader stops at the
		// end of the object and never sees them.
		{"bytes after the object", `{"type":6} x`, accepted, jsonSyntax},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkParse(t, c.input, Strict, c.strict)
			checkParse(t, c.input, Lenient, c.lenient)
		})
	}
}

// TestTSVectors: JsonHubProtocol.test.ts and records run through the
// 10.0.11 client under Node, in lenient mode.
func TestTSVectors(t *testing.T) {
	ok := []struct {
		input string
		check func(Message) bool
	}{
		{`{"type":3, "invocationId": "abc", "error": "Err", "result": null, "headers": {}}`, func(m Message) bool {
			return m.Type == TypeCompletion && m.Error == "Err" && string(m.Result) == "null" && string(m.Headers) == "{}" && m.InvocationID == "abc"
		}},
		{`{"type":3, "invocationId": "abc", "result": "OK", "headers": {}}`, func(m Message) bool { return string(m.Result) == `"OK"` }},
		{`{"type":3, "invocationId": "abc", "result": null, "headers": {}}`, func(m Message) bool { return string(m.Result) == `null` && m.Has(FieldResult) }},
		{`{"type":3, "invocationId": "abc", "result": 1514805840000, "headers": {}}`, func(m Message) bool { return string(m.Result) == `1514805840000` }},
		{`{"type":3, "invocationId": "abc", "result": null, "headers": {}, "extraParameter":"value"}`, func(m Message) bool { return m.Type == TypeCompletion }},
		{`{"type":2, "invocationId": "abc", "headers": {}, "item": 8}`, func(m Message) bool { return m.Type == TypeStreamItem && string(m.Item) == "8" }},
		{`{"type":2, "invocationId": "abc", "headers": {"t": "u"}, "item": 8}`, func(m Message) bool {
			v, ok := m.Header("t")
			return ok && v == "u"
		}},
		{`{"type":6}`, func(m Message) bool { return m.Type == TypePing && m.Fields == 0 }},
		{`{"type":1,"target":"m"}`, func(m Message) bool { return m.Target == "m" && !m.Has(FieldArguments) }},
		{`{"type":3,"invocationId":"1","result":0,"error":"e"}`, func(m Message) bool { return string(m.Result) == "0" && m.Error == "e" }},
		// An unknown type comes back as such, with no error.
		{`{"type":42,"foo":1}`, func(m Message) bool { return m.Type == 42 && m.Type.String() == "unknown" }},
		// JSON.parse gives the number 1 for 1.0 and 1e0.
		{`{"type":1.0,"target":"m"}`, func(m Message) bool { return m.Type == TypeInvocation }},
		{`{"type":1e0,"target":"m"}`, func(m Message) bool { return m.Type == TypeInvocation }},
		{`{"type":8,"sequenceId":1.5}`, func(m Message) bool { return m.Type == TypeAck && m.SequenceID == 1 }},
	}
	for _, c := range ok {
		m, err := ParseMessage([]byte(c.input), Lenient)
		if err != nil {
			t.Errorf("ParseMessage(%s): %v", c.input, err)
			continue
		}
		if !c.check(m) {
			t.Errorf("ParseMessage(%s) = %+v", c.input, m)
		}
	}
	bad := []struct{ input, want string }{
		{`{}`, "Invalid payload."},
		{`{"type":1,"invocationId":1,"target":"method"}`, "Invalid payload for Invocation message."},
		{`{"type":1,"invocationId":"","target":"method"}`, "Invalid payload for Invocation message."},
		{`{"type":1,"invocationId":"1","target":1}`, "Invalid payload for Invocation message."},
		{`{"type":2}`, "Invalid payload for StreamItem message."},
		{`{"type":2,"invocationId":1}`, "Invalid payload for StreamItem message."},
		{`{"type":3}`, "Invalid payload for Completion message."},
		{`{"type":3,"invocationId":1}`, "Invalid payload for Completion message."},
		{`{"type":3,"invocationId":"1","result":2,"error":"error"}`, "Invalid payload for Completion message."},
		{`{"type":3,"invocationId":"1","error":21}`, "Invalid payload for Completion message."},
		{`{"type":2,"invocationId":"1"}`, "Invalid payload for StreamItem message."},
		{`{"type":8,"sequenceId":"5"}`, "Invalid SequenceId for Ack message."},
		{`{"type":9}`, "Invalid SequenceId for Sequence message."},
		{`{"type":"1"}`, "Invalid payload."},
		{`[1]`, "Invalid payload."},
	}
	for _, c := range bad {
		checkParse(t, c.input, Lenient, c.want)
	}

	// Two in one chunk, through the splitter.
	recs, err := SplitRecords([]byte(`{"type":2, "invocationId": "abc", "headers": {}, "item": 8}` + "\x1e" + `{"type":3, "invocationId": "abc", "headers": {}, "result": "OK"}` + "\x1e"))
	if err != nil || len(recs) != 2 {
		t.Fatalf("SplitRecords: %d records, %v", len(recs), err)
	}
	var types []MessageType
	for _, r := range recs {
		m, err := ParseMessage(r, Lenient)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, m.Type)
	}
	if types[0] != TypeStreamItem || types[1] != TypeCompletion {
		t.Fatalf("types = %v", types)
	}
}

// TestDepthLimits: strict allows System.Text.Json's 64 levels and no more;
// lenient is bounded too, so hostile nesting cannot make it walk forever.
func TestDepthLimits(t *testing.T) {
	nest := func(n int) string {
		// The record object is one level; n-1 arrays inside arguments.
		return `{"type":1,"target":"t","arguments":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`
	}
	if _, err := ParseMessage([]byte(nest(64)), Strict); err != nil {
		t.Errorf("64 levels in strict: %v", err)
	}
	checkParse(t, nest(65), Strict, "Error reading JSON.")
	if _, err := ParseMessage([]byte(nest(65)), Lenient); err != nil {
		t.Errorf("65 levels in lenient: %v", err)
	}
	deep := `{"type":1,"target":"t","arguments":` + strings.Repeat("[", 1<<20) + `}`
	for _, mode := range []Mode{Strict, Lenient} {
		if _, err := ParseMessage([]byte(deep), mode); err == nil {
			t.Errorf("%s: a million levels parsed", mode)
		}
	}
}

// TestInvalidUTF8 records the .NET reader's rejection of invalid UTF-8 in
// strings (strict) and the lenient acceptance (a browser decodes it to
// U+FFFD before JSON.parse sees it).
func TestInvalidUTF8(t *testing.T) {
	in := "{\"type\":1,\"target\":\"t\",\"arguments\":[\"\xff\"]}"
	checkParse(t, in, Strict, "Error reading JSON.")
	m, err := ParseMessage([]byte(in), Lenient)
	if err != nil {
		t.Fatalf("lenient: %v", err)
	}
	if string(m.Arguments) != "[\"\xff\"]" {
		t.Fatalf("arguments not kept as they arrived: %q", m.Arguments)
	}
}

// MalformedInputs exposes the inputs of malformedVectors to the Node
// interop test (package protocol_test), which checks the
// lenient column against the official client.
func MalformedInputs() []string {
	var out []string
	for _, v := range malformedVectors {
		out = append(out, v.input)
	}
	return out
}
