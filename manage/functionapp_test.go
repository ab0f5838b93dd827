package manage_test

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

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

func TestNewFunctionAppChecksURL(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:7071/api", "ftp://h/api", "http://h/api/negotiate", "http://h/api/negotiate/"} {
		if _, err := manage.NewFunctionApp(bad, manage.FunctionAppOptions{}); err == nil {
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

	fa, err := manage.NewFunctionApp(srv.URL+"/api?code=abc==", manage.FunctionAppOptions{
		User: "alice", Header: http.Header{"X-Extra": {"1"}}, Query: url.Values{"tenant": {"t"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resp, err := fa.Send(ctx, "Chat", manage.SignalR(protocol.SignalRMessage{Target: "newMessage", Arguments: json.RawMessage(`["hi"]`), UserID: "bob"}))
	if err != nil || resp.Status != 200 || string(resp.Body) != `{"ok":true}` || resp.String() != "200 OK" {
		t.Fatalf("Send: %+v %v", resp, err)
	}
	s := <-got
	q, _ := url.ParseQuery(s.query)
	if s.path != "/api/messages" || q.Get("code") != "abc==" || q.Get("hub") != "Chat" || q.Get("tenant") != "t" || s.principal != "alice" || s.extra != "1" || s.ctype != "application/json" || s.body["userId"] != "bob" {
		t.Fatalf("request seen: %+v", s)
	}

	// The chat sample's body goes as it is: its function expects it so.
	if _, err := fa.Send(ctx, "", manage.Chat(protocol.ChatMessage{Sender: "alice", Text: "hi", GroupName: "g"})); err != nil {
		t.Fatal(err)
	}
	s = <-got
	if s.path != "/api/messages" || len(s.body) != 3 || s.body["sender"] != "alice" || s.body["text"] != "hi" || s.body["groupname"] != "g" {
		t.Fatalf("chat body seen: %+v", s)
	}

	_, err = fa.Group(ctx, "", protocol.SignalRGroupAction{Action: "remove", GroupName: "g", UserID: "bob"})
	var fe *manage.FunctionError
	if !errors.As(err, &fe) || fe.Status != 404 || strings.Contains(err.Error(), "\x1b") || strings.Contains(err.Error(), "code=") {
		t.Fatalf("Group error: %v", err)
	}
	s = <-got
	if s.path != "/api/groups" || strings.Contains(s.query, "hub=") {
		t.Fatalf("request seen: %+v", s)
	}
	for _, a := range []protocol.SignalRGroupAction{
		{Action: "join", GroupName: "g", UserID: "u"},
		{Action: "add", GroupName: "g"},
		{Action: "remove", UserID: "u"},
	} {
		if _, err := fa.Group(ctx, "", a); err == nil || !strings.HasPrefix(err.Error(), "group action: ") {
			t.Errorf("group action %+v: %v", a, err)
		}
	}
	if _, err := fa.Send(ctx, "", manage.SignalR(protocol.SignalRMessage{})); err == nil {
		t.Fatal("a message without target was sent")
	}
	select {
	case s := <-got:
		t.Fatalf("a refused call reached the server: %+v", s)
	default:
	}
}

func TestFunctionAppAgainstEmulator(t *testing.T) {
	st := startEmulator(t)
	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := fa.Negotiate(context.Background(), "chat")
	if err != nil || ca.URL != st.ServiceURL+"/client/?hub=chat" || ca.AccessToken == "" {
		t.Fatalf("Negotiate: %+v %v", ca, err)
	}
	if _, err := fa.Send(context.Background(), "chat", manage.Chat(protocol.ChatMessage{Sender: "alice", Text: "hi"})); err != nil {
		t.Fatal(err)
	}
}

// TestFunctionAppErrorHidesKey checks that a failed request does not show
// the function key: Go's *url.Error repeats the whole URL with its query.
func TestFunctionAppErrorHidesKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	fa, err := manage.NewFunctionApp(addr+"/api?code=SUPERSECRETKEY", manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fa.Send(context.Background(), "chat", manage.SignalR(protocol.SignalRMessage{Target: "x", Arguments: json.RawMessage("[1]")}))
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

// TestFunctionAppHTMLPage: a login page in place of the function's answer,
// status 200 after the redirect, is an error that says so, for every call.
func TestFunctionAppHTMLPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/login" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html><title>Sign in</title></html>")
	}))
	defer srv.Close()
	fa, err := manage.NewFunctionApp(srv.URL+"/api?code=SECRET", manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, sendErr := fa.Send(ctx, "", manage.SignalR(protocol.SignalRMessage{Target: "x", Arguments: json.RawMessage("[1]")}))
	_, groupErr := fa.Group(ctx, "", protocol.SignalRGroupAction{Action: "add", GroupName: "g", UserID: "u"})
	_, negErr := fa.Negotiate(ctx, "chat")
	for _, err := range []error{sendErr, groupErr, negErr} {
		var fe *manage.FunctionError
		if !errors.As(err, &fe) || !fe.HTMLPage || fe.Status != http.StatusOK ||
			!strings.Contains(err.Error(), "answered 200 OK with an HTML page") || !strings.HasSuffix(err.Error(), protocol.HTMLPageHint) ||
			strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "<html>") {
			t.Errorf("err = %v", err)
		}
	}
}
