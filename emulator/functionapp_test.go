package emulator

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

func TestFunctionNegotiateUser(t *testing.T) {
	st := startStack(t, nil)
	cases := []struct {
		name, query string
		hdr         map[string]string
		hub, user   string
	}{
		{"anonymous, default hub", "", nil, "chat", ""},
		{"principal header wins", "?userId=q", map[string]string{"x-ms-client-principal-id": "p", "x-ms-signalr-userid": "s"}, "chat", "p"},
		{"sample header", "?userId=q", map[string]string{"x-ms-signalr-userid": "s"}, "chat", "s"},
		{"query", "?hub=Other&userId=q", nil, "other", "q"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"POST", "GET"} {
				resp, body := doReq(t, method, st.FunctionsURL+"/negotiate"+tc.query, "", nil, tc.hdr)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", method, resp.StatusCode, body)
				}
				var ca manage.ClientAccess
				if err := json.Unmarshal(body, &ca); err != nil {
					t.Fatal(err)
				}
				if ca.URL != st.ServiceURL+"/client/?hub="+tc.hub {
					t.Fatalf("url %q", ca.URL)
				}
				claims := jwt.MapClaims{}
				if _, err := jwt.ParseWithClaims(ca.AccessToken, claims, func(*jwt.Token) (any, error) { return []byte(DefaultAccessKey), nil }); err != nil {
					t.Fatal(err)
				}
				if got := protocol.UserIDFromClaims(claims); got != tc.user || claims["aud"] != ca.URL {
					t.Fatalf("user %q aud %v, want %q %q", got, claims["aud"], tc.user, ca.URL)
				}
			}
		})
	}
	if resp, body := doReq(t, "POST", st.FunctionsURL+"/negotiate?hub=bad-hub", "", nil, nil); resp.StatusCode != 400 {
		t.Fatalf("invalid hub: %d %s", resp.StatusCode, body)
	}
}

func TestFunctionMessagesAndGroups(t *testing.T) {
	st := startStack(t, nil)
	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	alice := connectWS(t, st, "chat", "alice")
	bob := connectWS(t, st, "chat", "bob")

	// The chat sample's body: to recipient, else groupname, else everyone.
	if _, err := fa.Send(ctx, "", manage.Chat(protocol.ChatMessage{Sender: "bob", Text: "hi", Recipient: "alice"})); err != nil {
		t.Fatal(err)
	}
	m := alice.expectInvocation("newMessage", "user:alice")
	if string(m.Arguments) != `[{"sender":"bob","text":"hi","recipient":"alice"}]` {
		t.Fatalf("arguments %s", m.Arguments)
	}
	bob.expectNothing()
	if _, err := fa.Send(ctx, "", manage.Chat(protocol.ChatMessage{Sender: "bob", Text: "all"})); err != nil {
		t.Fatal(err)
	}
	alice.expectInvocation("newMessage", "broadcast")
	bob.expectInvocation("newMessage", "broadcast")

	// Group actions by connection and by user.
	if _, err := fa.Group(ctx, "chat", protocol.SignalRGroupAction{Action: "add", GroupName: "g", ConnectionID: bob.id}); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.Group(ctx, "chat", protocol.SignalRGroupAction{Action: "add", GroupName: "g", UserID: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.Send(ctx, "chat", manage.Chat(protocol.ChatMessage{Sender: "x", Text: "to g", GroupName: "g"})); err != nil {
		t.Fatal(err)
	}
	alice.expectInvocation("newMessage", "group:g")
	bob.expectInvocation("newMessage", "group:g")
	if _, err := fa.Group(ctx, "chat", protocol.SignalRGroupAction{Action: "removeAll", UserID: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.Group(ctx, "chat", protocol.SignalRGroupAction{Action: "remove", GroupName: "g", ConnectionID: bob.id}); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.Send(ctx, "chat", manage.SignalR(protocol.SignalRMessage{Target: "t", Arguments: json.RawMessage(`[1]`), GroupName: "g"})); err != nil {
		t.Fatal(err)
	}
	alice.expectNothing()
	bob.expectNothing()
	if _, err := fa.Send(ctx, "chat", manage.SignalR(protocol.SignalRMessage{Target: "t", ConnectionID: bob.id})); err != nil {
		t.Fatal(err)
	}
	bob.expectInvocation("t", "connection:"+bob.id)

	// Bad bodies and unknown connections come back with what went wrong.
	bad := []struct {
		fn, body string
		status   int
	}{
		{"messages", `[]`, 400},
		{"messages", `{"foo":1}`, 400},
		{"messages", `{"target":"","arguments":[]}`, 400},
		{"groups", `{"action":"join","groupName":"g","userId":"u"}`, 400},
		{"groups", `{"action":"add","groupName":"g"}`, 400},
		{"groups", `{"action":"add","userId":"u"}`, 400},
		{"groups", `{"action":"add","groupName":"g","connectionId":"nope"}`, 404},
	}
	for _, b := range bad {
		resp, data := doReq(t, "POST", st.FunctionsURL+"/"+b.fn, "", []byte(b.body), nil)
		if resp.StatusCode != b.status {
			t.Errorf("%s %s: %d %s, want %d", b.fn, b.body, resp.StatusCode, data, b.status)
		}
	}
	_, err = fa.Group(ctx, "chat", protocol.SignalRGroupAction{Action: "add", GroupName: "g", ConnectionID: "nope"})
	var fe *manage.FunctionError
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("group add of an unknown connection: %v", err)
	}
	_ = fe
}

func TestCORS(t *testing.T) {
	st := startStack(t, func(o *StackOptions) {
		o.CORSOrigins = []string{"http://localhost:8080"}
		o.CORSCredentials = true
	})
	pre := map[string]string{"Origin": "http://localhost:8080", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-ms-signalr-userid"}
	resp, _ := doReq(t, "OPTIONS", st.FunctionsURL+"/negotiate", "", nil, pre)
	h := resp.Header
	if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "http://localhost:8080" || h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "x-ms-signalr-userid") {
		t.Fatalf("function preflight: %d %v", resp.StatusCode, h)
	}
	resp, _ = doReq(t, "POST", st.FunctionsURL+"/negotiate", "", nil, map[string]string{"Origin": "http://evil.example"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("an unlisted origin was allowed: %v", resp.Header)
	}
	// The service echoes any origin with credentials, like the official emulator.
	pre["Origin"] = "http://any.example"
	resp, _ = doReq(t, "OPTIONS", st.ServiceURL+"/client/negotiate?hub=chat", "", nil, pre)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://any.example" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("service preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestClientEndpoint(t *testing.T) {
	st := startStack(t, func(o *StackOptions) { o.ClientEndpoint = "http://127.0.0.1:9/proxy" })
	resp, body := doReq(t, "POST", st.FunctionsURL+"/negotiate", "", nil, nil)
	var ca manage.ClientAccess
	if err := json.Unmarshal(body, &ca); err != nil || resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode, err)
	}
	if ca.URL != "http://127.0.0.1:9/proxy/client/?hub=chat" || !strings.Contains(st.ConnectionString, "ClientEndpoint=http://127.0.0.1:9/proxy;") {
		t.Fatalf("url %q, connection string %q", ca.URL, st.ConnectionString)
	}
	// A token naming the client endpoint is good at the service itself.
	r, b := doReq(t, "POST", st.ServiceURL+"/client/negotiate?hub=chat", ca.AccessToken, nil, nil)
	if r.StatusCode != 200 {
		t.Fatalf("negotiate with a client-endpoint token: %d %s", r.StatusCode, b)
	}
}
