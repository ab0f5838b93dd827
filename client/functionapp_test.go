package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

func TestNewFunctionAppChecksURL(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:7071/api", "ftp://h/api", "http://h/api/negotiate", "http://h/api/negotiate/"} {
		if _, err := client.NewFunctionApp(bad); err == nil {
			t.Errorf("NewFunctionApp(%q) accepted", bad)
		}
	}
}

func TestFunctionAppRequests(t *testing.T) {
	type seen struct {
		path, query, principal, extra, ctype string
		body                                 map[string]any
	}
	got := make(chan seen, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		got <- seen{r.URL.Path, r.URL.RawQuery, r.Header.Get("x-ms-client-principal-id"), r.Header.Get("X-Extra"), r.Header.Get("Content-Type"), m}
		if m["action"] == "remove" {
			http.Error(w, "no such group \x1b[31m", http.StatusNotFound)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()

	fa, err := client.NewFunctionApp(srv.URL + "/api?code=abc==")
	if err != nil {
		t.Fatal(err)
	}
	fa.User = "alice"
	fa.Header = http.Header{"X-Extra": {"1"}}
	fa.Query = url.Values{"tenant": {"t"}}
	ctx := context.Background()
	resp, err := fa.PostMessage(ctx, "Chat", protocol.SignalRMessage{Target: "newMessage", Arguments: json.RawMessage(`["hi"]`), UserID: "bob"})
	if err != nil || resp.Status != 200 || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("PostMessage: %+v %v", resp, err)
	}
	s := <-got
	q, _ := url.ParseQuery(s.query)
	if s.path != "/api/messages" || q.Get("code") != "abc==" || q.Get("hub") != "Chat" || q.Get("tenant") != "t" || s.principal != "alice" || s.extra != "1" || s.ctype != "application/json" || s.body["userId"] != "bob" {
		t.Fatalf("request seen: %+v", s)
	}

	_, err = fa.GroupAction(ctx, "", protocol.SignalRGroupAction{Action: "remove", GroupName: "g", UserID: "bob"})
	var fe *client.FunctionError
	if !errors.As(err, &fe) || fe.Status != 404 || strings.Contains(err.Error(), "\x1b") || strings.Contains(err.Error(), "code=") {
		t.Fatalf("GroupAction error: %v", err)
	}
	s = <-got
	if s.path != "/api/groups" || strings.Contains(s.query, "hub=") {
		t.Fatalf("request seen: %+v", s)
	}
	if _, err := fa.GroupAction(ctx, "", protocol.SignalRGroupAction{Action: "join", UserID: "u"}); err == nil {
		t.Fatal("an unknown action was sent")
	}
	if _, err := fa.PostMessage(ctx, "", protocol.SignalRMessage{}); err == nil {
		t.Fatal("a message without target was sent")
	}
}

func TestFunctionAppAgainstEmulator(t *testing.T) {
	st := startEmulator(t)
	fa, err := client.NewFunctionApp(st.FunctionsURL)
	if err != nil {
		t.Fatal(err)
	}
	fa.User = "alice"
	ca, err := fa.Negotiate(context.Background(), "chat")
	if err != nil || ca.URL != st.ServiceURL+"/client/?hub=chat" || ca.AccessToken == "" {
		t.Fatalf("Negotiate: %+v %v", ca, err)
	}
	if _, err := fa.PostMessage(context.Background(), "chat", protocol.ChatMessage{Sender: "alice", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
}

// TestFunctionAppErrorHidesKey checks that a failed request does not show
// the function key: Go's *url.Error repeats the whole URL with its query.
func TestFunctionAppErrorHidesKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	fa, err := client.NewFunctionApp(addr + "/api?code=SUPERSECRETKEY")
	if err != nil {
		t.Fatal(err)
	}
	_, err = fa.PostMessage(context.Background(), "chat", protocol.SignalRMessage{Target: "x", Arguments: json.RawMessage("[1]")})
	if err == nil {
		t.Fatal("a post to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "SUPERSECRETKEY") {
		t.Fatalf("the function key leaked into the error: %v", err)
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("the error does not say what happened: %v", err)
	}
}
