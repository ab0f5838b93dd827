package protocol

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lineMember is one member of an event line, in the line's order.
type lineMember struct {
	name  string
	value json.RawMessage
}

// lineMembers returns the members of one JSON object, in order.
func lineMembers(t *testing.T, line string) []lineMember {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not a JSON object", line)
	}
	var out []lineMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		out = append(out, lineMember{tok.(string), v})
	}
	return out
}

// TestEventsDocExamples checks every example line of docs/events.md
// against the writers: rebuilt from its own members (a message from its
// raw record, or from its fields when the line has none), each comes out
// byte for byte as the page shows it, so the page cannot drift from the
// code.
func TestEventsDocExamples(t *testing.T) {
	data, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples []string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		switch l := sc.Text(); {
		case l == "```json":
			in = true
		case l == "```":
			in = false
		case in:
			examples = append(examples, l)
		}
	}
	if len(examples) < 10 {
		t.Fatalf("found %d example lines in docs/events.md", len(examples))
	}
	for _, line := range examples {
		ms := lineMembers(t, line)
		get := map[string]json.RawMessage{}
		for _, m := range ms {
			get[m.name] = m.value
		}
		s := func(name string) string {
			var v string
			if raw, ok := get[name]; ok {
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Fatalf("%s: %s: %v", line, name, err)
				}
			}
			return v
		}
		n := func(name string) int64 {
			v, _ := strconv.ParseInt(string(get[name]), 10, 64)
			return v
		}
		at, err := time.Parse(time.RFC3339Nano, s("time"))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		ctx := EventContext{Connection: s("connection"), Hub: s("hub")}
		if _, ok := get["raw"]; ok {
			ctx.Raw = []byte(s("raw"))
		}
		if _, ok := get["rawBase64"]; ok {
			if ctx.Raw, err = base64.StdEncoding.DecodeString(s("rawBase64")); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		}
		// "direction" is spliced in by package capture, which tests it.
		want := line
		if d, ok := get["direction"]; ok {
			want = strings.Replace(want, `,"direction":`+string(d), "", 1)
		}

		var got []byte
		switch ev := s("event"); ev {
		case "state":
			got = AppendStateEvent(nil, at, StateEvent{
				Connection: ctx.Connection, Hub: ctx.Hub, State: s("state"), Transport: s("transport"),
				ConnectionID: s("connectionId"), Attempt: int(n("attempt")),
				RetryIn: time.Duration(n("retryInMs")) * time.Millisecond,
				Resumed: string(get["resumed"]) == "true", Error: s("error"),
			})
		case "error":
			got = AppendErrorEvent(nil, at, s("error"), ctx)
		case "handshakeRequest":
			got = AppendHandshakeRequestEvent(nil, at, HandshakeRequest{Protocol: s("protocol"), Version: int(n("version"))}, ctx)
		case "handshakeResponse":
			_, hasErr := get["error"]
			got = AppendHandshakeResponseEvent(nil, at, HandshakeResponse{HasError: hasErr, Error: s("error")}, ctx)
		default:
			rec := ctx.Raw
			if rec == nil {
				// No record on the line: make one from the message's fields.
				typ := -1
				for i, name := range typeNames {
					if name == ev && name != "" {
						typ = i
					}
				}
				if ev == "unknown" {
					typ = int(n("type"))
				}
				if typ < 0 {
					t.Fatalf("%s: unknown event %q", line, ev)
				}
				b := []byte(`{"type":` + strconv.Itoa(typ))
				for _, m := range ms {
					switch m.name {
					case "time", "event", "direction", "connection", "hub", "type":
						continue
					}
					b = append(b, `,"`+m.name+`":`...)
					b = append(b, m.value...)
				}
				rec = append(b, '}')
			}
			msg, err := ParseMessage(rec, Lenient)
			if err != nil {
				t.Fatalf("%s: the record does not parse: %v", line, err)
			}
			got = AppendMessageEvent(nil, at, &msg, ctx)
		}
		if string(got) != want+"\n" {
			t.Errorf("docs/events.md shows\n\t%s\nthe writer gives\n\t%s", want, strings.TrimSuffix(string(got), "\n"))
		}
	}
}
