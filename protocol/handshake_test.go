package protocol

import (
	"testing"
)

// The vectors of HandshakeProtocolTests.cs and HandshakeProtocol.ts.

func TestHandshakeRequestVectors(t *testing.T) {
	valid := []struct {
		in       string
		protocol string
		version  int
	}{
		{`{"protocol":"dummy","version":1}`, "dummy", 1},
		{`{"protocol":"","version":10}`, "", 10},
		{`{"protocol":"","version":10,"unknown":null}`, "", 10},
		{`{"version":2, "protocol":"json"}`, "json", 2},
		{`{"protocol":"json","version":1,"extra":{"a":[1,2]}}`, "json", 1},
	}
	for _, c := range valid {
		r, err := ParseHandshakeRequest([]byte(c.in))
		if err != nil || r.Protocol != c.protocol || r.Version != c.version {
			t.Errorf("ParseHandshakeRequest(%s) = %+v, %v", c.in, r, err)
		}
	}
	invalid := []struct{ in, want string }{
		{`42`, "Unexpected JSON Token Type 'Number'. Expected a JSON Object."},
		{`"42"`, "Unexpected JSON Token Type 'String'. Expected a JSON Object."},
		{`null`, "Unexpected JSON Token Type 'Null'. Expected a JSON Object."},
		{`{}`, "Missing required property 'protocol'. Message content: {}"},
		{`[]`, "Unexpected JSON Token Type 'Array'. Expected a JSON Object."},
		{`{"protocol":"json"}`, `Missing required property 'version'. Message content: {"protocol":"json"}`},
		{`{"version":1}`, `Missing required property 'protocol'. Message content: {"version":1}`},
		{`{"type":4,"invocationId":"42","target":"foo","arguments":{}}`, `Missing required property 'protocol'. Message content: {"type":4,"invocationId":"42","target":"foo","arguments":{}}`},
		{`{"version":"123"}`, "Expected 'version' to be of type Number."},
		{`{"protocol":null,"version":123}`, "Expected 'protocol' to be of type String."},
		{`{"protocol":"json","version":1`, "Error reading JSON."},
		{``, "Error reading JSON."},
		{`{"protocol":"json",}`, "Error reading JSON."},
	}
	for _, c := range invalid {
		_, err := ParseHandshakeRequest([]byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("ParseHandshakeRequest(%s) = %v, want %q", c.in, err, c.want)
		}
	}
}

// TestHandshakeIncomplete: `42` with no separator is not yet a record.
func TestHandshakeIncomplete(t *testing.T) {
	var f Framer
	f.Feed([]byte("42"))
	if _, ok, err := f.Next(); ok || err != nil {
		t.Fatalf("ok=%v err=%v for a record without separator", ok, err)
	}
	f.Feed([]byte{RecordSeparator})
	rec, ok, _ := f.Next()
	if !ok {
		t.Fatal("record not complete after its separator")
	}
	if _, err := ParseHandshakeRequest(rec); err == nil || err.Error() != "Unexpected JSON Token Type 'Number'. Expected a JSON Object." {
		t.Fatalf("err = %v", err)
	}
}

func TestHandshakeResponseVectors(t *testing.T) {
	valid := []struct {
		in       string
		hasError bool
		errText  string
	}{
		{`{"error":"dummy"}`, true, "dummy"},
		{`{"error":""}`, true, ""},
		{`{}`, false, ""},
		{`{"unknown":null}`, false, ""},
		{`{"error":"","minorVersion":34}`, true, ""},
		{`{"error":"Requested protocol 'messagepack' is not available."}`, true, "Requested protocol 'messagepack' is not available."},
	}
	for _, c := range valid {
		r, err := ParseHandshakeResponse([]byte(c.in))
		if err != nil || r.HasError != c.hasError || r.Error != c.errText {
			t.Errorf("ParseHandshakeResponse(%s) = %+v, %v", c.in, r, err)
		}
	}
	invalid := []struct{ in, want string }{
		{`42`, "Unexpected JSON Token Type 'Number'. Expected a JSON Object."},
		{`"42"`, "Unexpected JSON Token Type 'String'. Expected a JSON Object."},
		{`null`, "Unexpected JSON Token Type 'Null'. Expected a JSON Object."},
		{`[]`, "Unexpected JSON Token Type 'Array'. Expected a JSON Object."},
		{`{"error":null}`, "Expected 'error' to be of type String."},
		{`{"type":6}`, "Expected a handshake response from the server."},
		{`{"error":"x","type":1,"target":"a","arguments":[]}`, "Expected a handshake response from the server."},
		{`{"error":`, "Error reading JSON."},
		{`{"minorVersion":[1,]}`, "Error reading JSON."},
		{`{"extra":{"a":1,}}`, "Error reading JSON."},
	}
	for _, c := range invalid {
		_, err := ParseHandshakeResponse([]byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("ParseHandshakeResponse(%s) = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestHandshakeWriters(t *testing.T) {
	if got := string(AppendHandshakeRequest(nil, HandshakeRequest{Protocol: "json", Version: 1})); got != "{\"protocol\":\"json\",\"version\":1}\x1e" {
		t.Errorf("AppendHandshakeRequest = %q", got)
	}
	if got := string(AppendHandshakeResponse(nil, "")); got != "{}\x1e" {
		t.Errorf("AppendHandshakeResponse(ok) = %q", got)
	}
	const e = "The server does not support version 9001 of the 'json' protocol."
	got := AppendHandshakeResponse(nil, e)
	if string(got) != `{"error":"The server does not support version 9001 of the 'json' protocol."}`+"\x1e" {
		t.Errorf("AppendHandshakeResponse(err) = %q", got)
	}
	r, err := ParseHandshakeResponse(got[:len(got)-1])
	if err != nil || !r.HasError || r.Error != e {
		t.Errorf("round trip: %+v %v", r, err)
	}
	req := AppendHandshakeRequest(nil, HandshakeRequest{Protocol: "js\"on", Version: 2})
	back, err := ParseHandshakeRequest(req[:len(req)-1])
	if err != nil || back.Protocol != "js\"on" || back.Version != 2 {
		t.Errorf("request round trip: %+v %v", back, err)
	}
}
