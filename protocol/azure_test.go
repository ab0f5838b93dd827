package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

const emulatorConnectionString = "Endpoint=http://localhost;Port=8888;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;"

func TestParseConnectionString(t *testing.T) {
	cases := []struct {
		in   string
		want ConnectionString
	}{
		{emulatorConnectionString, ConnectionString{Endpoint: "http://localhost:8888", AccessKey: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH", Version: "1.0"}},
		{"Endpoint=https://x.service.signalr.net;AccessKey=abc/+==;Version=1.0;",
			ConnectionString{Endpoint: "https://x.service.signalr.net", AccessKey: "abc/+==", Version: "1.0"}},
		// Keys without regard to case, values trimmed, no trailing ';'.
		{"endpoint = https://x.service.signalr.net/ ; ACCESSKEY= k ;version=1.1",
			ConnectionString{Endpoint: "https://x.service.signalr.net", AccessKey: "k", Version: "1.1"}},
		// Port overrides the endpoint's own port.
		{"Endpoint=http://127.0.0.1:7000;Port=8999;AccessKey=k",
			ConnectionString{Endpoint: "http://127.0.0.1:8999", AccessKey: "k", Version: "1.0"}},
		{"Endpoint=http://[::1];Port=8888;AccessKey=k",
			ConnectionString{Endpoint: "http://[::1]:8888", AccessKey: "k", Version: "1.0"}},
		{"Endpoint=https://x.service.signalr.net;AccessKey=k;Version=1.0-preview",
			ConnectionString{Endpoint: "https://x.service.signalr.net", AccessKey: "k", Version: "1.0-preview"}},
		{"Endpoint=https://x.service.signalr.net;AuthType=aad;ClientId=c;Version=1.0",
			ConnectionString{Endpoint: "https://x.service.signalr.net", AuthType: "aad", Version: "1.0"}},
		{"Endpoint=https://x.service.signalr.net;AccessKey=k;ClientEndpoint=https://gw.example.com/;ServerEndpoint=https://internal.example.com",
			ConnectionString{Endpoint: "https://x.service.signalr.net", AccessKey: "k", Version: "1.0", ClientEndpoint: "https://gw.example.com", ServerEndpoint: "https://internal.example.com"}},
	}
	for _, c := range cases {
		got, err := ParseConnectionString(c.in)
		if err != nil {
			t.Errorf("ParseConnectionString(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseConnectionString(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func TestParseConnectionStringErrors(t *testing.T) {
	const secret = "SuperSecretAccessKeyValue0123456789"
	cases := []struct{ in, wantSub string }{
		{"Endpoint=https://x.service.signalr.net;AccessKey=k;Version=2.0", `Version "2.0" is not supported`},
		{"Endpoint=https://x.service.signalr.net;AccessKey=k;Version=1", `Version "1" is not supported`},
		{"Endpoint=https://a;endpoint=https://b;AccessKey=k", "duplicate key"},
		{"AccessKey=k;Version=1.0", "Endpoint is missing"},
		{"Endpoint=;AccessKey=k", "Endpoint is missing"},
		{"Endpoint=https://x.service.signalr.net;Version=1.0", "AccessKey is missing"},
		{"Endpoint=https://x.service.signalr.net", "expected at least Endpoint and AccessKey"},
		{"", "expected at least Endpoint and AccessKey"},
		{"Endpoint=x.service.signalr.net;AccessKey=k", "is not an absolute http or https URL"},
		{"Endpoint=ftp://x;AccessKey=k", "is not an absolute http or https URL"},
		{"Endpoint=http://h;Port=0;AccessKey=k", "Port"},
		{"Endpoint=http://h;Port=70000;AccessKey=k", "Port"},
		{"Endpoint=http://h;Port=eighty;AccessKey=k", "Port"},
		{"Endpoint=http://h;AccessKey=k;ClientEndpoint=nope", "is not an absolute http or https URL"},
		{"Endpoint=http://h;" + secret + ";Version=1.0", "is not a key=value pair"},
	}
	for _, c := range cases {
		_, err := ParseConnectionString(c.in)
		if err == nil || !strings.Contains(err.Error(), c.wantSub) {
			t.Errorf("ParseConnectionString(%q) = %v, want error containing %q", c.in, err, c.wantSub)
			continue
		}
		if !strings.HasPrefix(err.Error(), "connection string: ") {
			t.Errorf("error %q lacks the operation prefix", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows a secret whole", err)
		}
	}
}

func TestConnectionStringURLs(t *testing.T) {
	c, err := ParseConnectionString(emulatorConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ClientURL("Chat"); got != "http://localhost:8888/client/?hub=chat" {
		t.Errorf("ClientURL = %q", got)
	}
	if got := c.RESTBase(); got != "http://localhost:8888" {
		t.Errorf("RESTBase = %q", got)
	}
	// String gives back a string that parses to the same value.
	back, err := ParseConnectionString(c.String())
	if err != nil || back != c {
		t.Errorf("String round trip: %q -> %+v %v", c.String(), back, err)
	}
	for _, in := range []string{"Endpoint=http://[::1];Port=8888;AccessKey=k", "Endpoint=https://h.example.com:8443/base;AccessKey=k"} {
		c, err := ParseConnectionString(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConnectionString(c.String())
		if err != nil || back != c {
			t.Errorf("String round trip of %q: %q -> %#v %v", in, c.String(), back, err)
		}
	}
	c2, _ := ParseConnectionString("Endpoint=https://x.service.signalr.net;AccessKey=k;ClientEndpoint=https://gw.example.com;ServerEndpoint=https://in.example.com")
	if got := c2.ClientURL("chat"); got != "https://gw.example.com/client/?hub=chat" {
		t.Errorf("ClientURL with ClientEndpoint = %q", got)
	}
	if got := c2.RESTBase(); got != "https://in.example.com" {
		t.Errorf("RESTBase with ServerEndpoint = %q", got)
	}
	back2, err := ParseConnectionString(c2.String())
	if err != nil || back2 != c2 {
		t.Errorf("String round trip: %q -> %+v %v", c2.String(), back2, err)
	}
}

func TestUserIDFromClaims(t *testing.T) {
	cases := []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"asrs.s.uid": "alice", "nameid": "bob", "sub": "carol"}, "alice"},
		{map[string]any{"nameid": "bob", "sub": "carol"}, "bob"},
		{map[string]any{"sub": "carol"}, "carol"},
		{map[string]any{"aud": "x"}, ""},
		{nil, ""},
		// An empty asrs.s.uid is found first and means anonymous, as in
		// the service (FindFirst finds the claim).
		{map[string]any{"asrs.s.uid": "", "nameid": "bob"}, ""},
		// Non-string values are skipped.
		{map[string]any{"asrs.s.uid": 42, "nameid": []any{"x"}, "sub": "carol"}, "carol"},
	}
	for _, c := range cases {
		if got := UserIDFromClaims(c.claims); got != c.want {
			t.Errorf("UserIDFromClaims(%v) = %q, want %q", c.claims, got, c.want)
		}
	}
}

func TestHubAndGroupNames(t *testing.T) {
	hubs := map[string]bool{
		"chat": true, "Chat_1": true, "a": true, "a.b,c`d[e]": true, strings.Repeat("a", 128): true,
		"": false, "1chat": false, "li-hub": false, "_x": false, "chat hub": false, strings.Repeat("a", 129): false, "héllo": false,
	}
	for h, want := range hubs {
		if got := ValidHubName(h); got != want {
			t.Errorf("ValidHubName(%q) = %v", h, got)
		}
	}
	groups := map[string]bool{
		"g": true, "group one": true, "ünïcode": true, strings.Repeat("é", 1024): true,
		"": false, "   ": false, "\t\n": false, strings.Repeat("g", 1025): false,
	}
	for g, want := range groups {
		if got := ValidGroupName(g); got != want {
			t.Errorf("ValidGroupName(%.20q) = %v", g, got)
		}
	}
}

func TestBindingBodies(t *testing.T) {
	var m SignalRMessage
	in := `{"target":"newMessage","arguments":[{"sender":"a","text":"hi"}],"userId":"bob"}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if m.Target != "newMessage" || string(m.Arguments) != `[{"sender":"a","text":"hi"}]` || m.UserID != "bob" || m.GroupName != "" {
		t.Fatalf("SignalRMessage = %+v", m)
	}
	out, _ := json.Marshal(m)
	if string(out) != in {
		t.Fatalf("SignalRMessage marshal = %s", out)
	}
	var ga SignalRGroupAction
	if err := json.Unmarshal([]byte(`{"action":"removeAll","userId":"u"}`), &ga); err != nil || ga.Action != GroupRemoveAll || ga.UserID != "u" {
		t.Fatalf("SignalRGroupAction = %+v %v", ga, err)
	}
	out, _ = json.Marshal(SignalRGroupAction{Action: GroupAdd, GroupName: "g", ConnectionID: "c"})
	if string(out) != `{"action":"add","groupName":"g","connectionId":"c"}` {
		t.Fatalf("SignalRGroupAction marshal = %s", out)
	}
	out, _ = json.Marshal(ChatMessage{Sender: "alice", Text: "hi", GroupName: "g"})
	if string(out) != `{"sender":"alice","text":"hi","groupname":"g"}` {
		t.Fatalf("ChatMessage marshal = %s", out)
	}
	out, _ = json.Marshal(PayloadMessage{Target: ChatTarget, Arguments: json.RawMessage(`[1]`)})
	if string(out) != `{"target":"newMessage","arguments":[1]}` {
		t.Fatalf("PayloadMessage marshal = %s", out)
	}
}

// TestChatMessageRouting pins the chat sample's rule, shared by the
// emulator's function app, sigr send and the TUI: recipient, else group,
// else everyone, with the body as the one argument of newMessage.
func TestChatMessageRouting(t *testing.T) {
	cases := []struct {
		c           ChatMessage
		user, group string
	}{
		{ChatMessage{Sender: "a", Text: "t"}, "", ""},
		{ChatMessage{Sender: "a", Text: "t", GroupName: "devs"}, "", "devs"},
		{ChatMessage{Sender: "a", Text: "t", Recipient: "bob", GroupName: "devs"}, "bob", ""},
	}
	for _, tc := range cases {
		m, err := tc.c.SignalRMessage(nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.Target != ChatTarget || m.UserID != tc.user || m.GroupName != tc.group || m.ConnectionID != "" {
			t.Errorf("%+v routed as %+v", tc.c, m)
		}
		var args []ChatMessage
		if err := json.Unmarshal(m.Arguments, &args); err != nil || len(args) != 1 || args[0] != tc.c {
			t.Errorf("%+v: arguments %s (%v)", tc.c, m.Arguments, err)
		}
	}
	raw := []byte(`{"sender":"a","text":"t","extra":1}`)
	m, _ := ChatMessage{Sender: "a", Text: "t"}.SignalRMessage(raw)
	if string(m.Arguments) != "["+string(raw)+"]" {
		t.Errorf("the body as received is not kept: %s", m.Arguments)
	}
}
