package emulator

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sigr-dev/sigr/protocol"
)

// webhookHeaders are the headers of a signed upstream call.
func webhookHeaders(category, event, connID string) map[string]string {
	return map[string]string{
		"Content-Type":         "application/json; charset=utf-8",
		"X-ASRS-Hub":           "chat",
		"X-ASRS-Category":      category,
		"X-ASRS-Event":         event,
		"X-ASRS-Connection-Id": connID,
		"X-ASRS-User-Id":       "alice",
		"X-ASRS-Signature":     connectionSignature(DefaultAccessKey, connID),
	}
}

func TestWebhookAnswers(t *testing.T) {
	st := startStack(t, nil)
	hook := strings.TrimSuffix(st.FunctionsURL, "/api") + WebhookPath
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{}
		for a, b := range h {
			out[a] = b
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	inv := webhookHeaders("messages", "echo", "c1")
	cases := []struct {
		name, method string
		hdr          map[string]string
		body         string
		status       int
		answer       string // exact body, or a substring for errors
	}{
		{"echo", "POST", inv, `{"type":1,"invocationId":"1","target":"echo","arguments":[{"a":[1]}]}`, 200,
			"{\"type\":3,\"invocationId\":\"1\",\"result\":{\"a\":[1]}}\x1e"},
		{"method names ignore case", "POST", with(inv, "X-ASRS-Event", "ECHO"), `{"Type":1,"InvocationId":"2","Target":"ECHO","Arguments":["x"]}`, 200,
			"{\"type\":3,\"invocationId\":\"2\",\"result\":\"x\"}\x1e"},
		{"send: no invocation id", "POST", inv, `{"type":1,"target":"echo","arguments":[1]}`, 200, ""},
		{"too few arguments", "POST", with(inv, "X-ASRS-Event", "broadcast"), `{"type":1,"invocationId":"3","target":"broadcast","arguments":[]}`, 200,
			"{\"type\":3,\"invocationId\":\"3\",\"error\":\"broadcast takes 1 argument(s) (message), got 0\"}\x1e"},
		{"not a string", "POST", with(inv, "X-ASRS-Event", "sendToUser"), `{"type":1,"invocationId":"4","target":"sendToUser","arguments":[{},"m"]}`, 200,
			"{\"type\":3,\"invocationId\":\"4\",\"error\":\"sendToUser: argument 1 (userId) must be a string\"}\x1e"},
		{"connected", "POST", webhookHeaders("connections", "connected", "c1"), `{"type":10}`, 200, ""},
		{"disconnected", "POST", webhookHeaders("connections", "disconnected", "c1"), `{"Type":11,"Error":"x"}`, 200, ""},
		{"GET", "GET", inv, ``, 405, "takes POST"},
		{"not JSON", "POST", with(inv, "Content-Type", "text/plain"), `{}`, 415, "application/json"},
		{"MessagePack not framed", "POST", with(inv, "Content-Type", "application/x-msgpack"), `{}`, 400, "not a MessagePack invocation: Incomplete message."},
		{"no hub", "POST", with(inv, "X-ASRS-Hub", ""), `{}`, 400, "X-ASRS-Hub, X-ASRS-Category and X-ASRS-Event are required"},
		{"no event", "POST", with(inv, "X-ASRS-Event", ""), `{}`, 400, "are required"},
		{"unknown method", "POST", with(inv, "X-ASRS-Event", "nosuch"), `{"type":1,"invocationId":"5","target":"nosuch","arguments":[]}`, 404,
			"No function for hub 'chat', category 'messages', event 'nosuch'. The built-in hub's methods: broadcast, echo, joinGroup"},
		{"unknown category", "POST", with(inv, "X-ASRS-Category", "other"), `{}`, 404, "No function"},
		{"unknown connection event", "POST", webhookHeaders("connections", "reconnected", "c1"), `{}`, 404, "No function"},
		{"bad signature", "POST", with(inv, "X-ASRS-Signature", connectionSignature("another key", "c1")), `{}`, 401,
			"The request is unauthorized, please check the Signature."},
		{"no signature", "POST", with(inv, "X-ASRS-Signature", ""), `{}`, 401, "please check the Signature"},
		{"signature of another connection", "POST", with(inv, "X-ASRS-Connection-Id", "c2"), `{}`, 401, "please check the Signature"},
		{"signatures of two keys", "POST", with(inv, "X-ASRS-Signature", connectionSignature("k2", "c1")+", "+strings.ToUpper(connectionSignature(DefaultAccessKey, "c1"))),
			`{"type":1,"invocationId":"6","target":"echo","arguments":[true]}`, 200, "{\"type\":3,\"invocationId\":\"6\",\"result\":true}\x1e"},
		{"invalid hub", "POST", with(inv, "X-ASRS-Hub", "bad hub!"), `{}`, 400, "Invalid value of 'hub'."},
		{"body not JSON", "POST", inv, `nope`, 400, "not a serverless message"},
		{"messages body not an invocation", "POST", inv, `{"type":10}`, 400, "must be an invocation (type 1), got type 10"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := doReq(t, tc.method, hook, "", []byte(tc.body), tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == 200 {
				if string(body) != tc.answer {
					t.Fatalf("answer %q, want %q", body, tc.answer)
				}
				return
			}
			if !strings.Contains(string(body), tc.answer) {
				t.Fatalf("answer %q, want it to contain %q", body, tc.answer)
			}
		})
	}
}

// chatArg decodes the one newMessage argument.
func chatArg(t *testing.T, m protocol.Message) newMessage {
	t.Helper()
	var args []newMessage
	if err := json.Unmarshal(m.Arguments, &args); err != nil || len(args) != 1 {
		t.Fatalf("newMessage arguments %s: %v", m.Arguments, err)
	}
	return args[0]
}

// TestBuiltinHubOverUpstream drives the built-in hub the way a client
// does: invocations over the connection, through the service's default
// upstream to the function app, and back through the REST API.
func TestBuiltinHubOverUpstream(t *testing.T) {
	st := startStack(t, nil)
	alice := connectWS(t, st, "chat", "alice")
	bob := connectWS(t, st, "chat", "bob")
	anon := connectWS(t, st, "chat", "")
	all := []*wsClient{alice, bob, anon}

	alice.invoke("1", "echo", `[{"deep":[1,"two",null]}]`)
	if m := alice.completion("1"); string(m.Result) != `{"deep":[1,"two",null]}` {
		t.Fatalf("echo: %+v", m)
	}

	alice.invoke("2", "broadcast", `["hi all"]`)
	for _, c := range all {
		got := chatArg(t, c.expectInvocation("newMessage", "broadcast"))
		if got != (newMessage{ConnectionID: alice.id, Sender: "alice", Text: "hi all"}) {
			t.Fatalf("%s got %+v", c.id, got)
		}
	}
	if m := alice.completion("2"); string(m.Result) != "null" || m.Has(protocol.FieldError) {
		t.Fatalf("broadcast completion %+v, want result null", m)
	}

	// An anonymous sender is empty, as in the sample; the connection id
	// says who it was.
	anon.invoke("", "Broadcast", `["from nobody"]`)
	for _, c := range all {
		if got := chatArg(t, c.expectInvocation("newMessage", "broadcast")); got.Sender != "" || got.ConnectionID != anon.id || got.Text != "from nobody" {
			t.Fatalf("%s got %+v", c.id, got)
		}
	}

	alice.invoke("3", "sendToUser", `["bob","psst"]`)
	if got := chatArg(t, bob.expectInvocation("newMessage", "user:bob")); got.Text != "psst" {
		t.Fatalf("bob got %+v", got)
	}
	alice.completion("3")

	alice.invoke("4", "joinGroup", `["`+bob.id+`","g"]`)
	alice.completion("4")
	alice.invoke("5", "sendToGroup", `["g","to g"]`)
	if got := chatArg(t, bob.expectInvocation("newMessage", "group:g")); got.Text != "to g" {
		t.Fatalf("bob got %+v", got)
	}
	alice.completion("5")
	alice.invoke("6", "leaveGroup", `["`+bob.id+`","g"]`)
	alice.completion("6")
	alice.invoke("7", "sendToGroup", `["g","nobody hears"]`)
	alice.completion("7")

	bob.invoke("8", "joinUserToGroup", `["alice","h"]`)
	bob.completion("8")
	bob.invoke("9", "sendToGroup", `["h","to h"]`)
	if got := chatArg(t, alice.expectInvocation("newMessage", "group:h")); got.Sender != "bob" || got.Text != "to h" {
		t.Fatalf("alice got %+v", got)
	}
	bob.completion("9")
	bob.invoke("10", "leaveUserFromGroup", `["alice","h"]`)
	bob.completion("10")
	bob.invoke("11", "sendToGroup", `["h","gone"]`)
	bob.completion("11")

	bob.invoke("12", "sendToConnection", `["`+anon.id+`","direct"]`)
	if got := chatArg(t, anon.expectInvocation("newMessage", "connection:"+anon.id)); got.Text != "direct" {
		t.Fatalf("anon got %+v", got)
	}
	bob.completion("12")

	alice.invoke("13", "nosuch", `[]`)
	if m := alice.completion("13"); m.Error != "Invocation failed, status code 404" {
		t.Fatalf("unknown method: %+v", m)
	}
	// A REST failure inside a method is the invocation's error.
	alice.invoke("14", "sendToGroup", `["  ","x"]`)
	if m := alice.completion("14"); m.Error == "" {
		t.Fatalf("a send to an invalid group succeeded: %+v", m)
	}

	// Nobody got anything else: no newConnection by default, nothing of
	// the sends to empty groups.
	connectWS(t, st, "chat", "carol")
	for _, c := range all {
		c.expectNothing()
	}
}

func TestBuiltinHubAnnouncesConnections(t *testing.T) {
	st := startStack(t, func(o *StackOptions) { o.AnnounceConnections = true })
	alice := connectWS(t, st, "chat", "alice")
	var got []map[string]string
	if err := json.Unmarshal(alice.expectInvocation("newConnection", "broadcast").Arguments, &got); err != nil || len(got) != 1 || got[0]["connectionId"] != alice.id {
		t.Fatalf("alice's own announcement %v %v", got, err)
	}
	bob := connectWS(t, st, "chat", "bob")
	for _, c := range []*wsClient{alice, bob} {
		if err := json.Unmarshal(c.expectInvocation("newConnection", "broadcast").Arguments, &got); err != nil || got[0]["connectionId"] != bob.id {
			t.Fatalf("%s: announcement %v %v", c.id, got, err)
		}
	}
}
