package emulator

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/manage"
)

// FuzzREST feeds the service's REST API arbitrary methods, paths, queries,
// bodies and content types, with a token minted for the exact URL so that
// the fuzzer reaches the handlers behind the token check. The service
// must answer every request with a 2xx or 4xx status and never panic.
func FuzzREST(f *testing.F) {
	for _, s := range []struct{ method, path, body, ctype string }{
		{"POST", "/api/hubs/chat/:send", `{"target":"t","arguments":[1,"x"]}`, "application/json"},
		{"POST", "/api/v1/hubs/chat", `{"Target":"t","Arguments":[]}`, "application/json; charset=utf-8"},
		{"POST", "/api/hubs/chat/users/alice/:send", `{"target":"t"}`, ""},
		{"POST", "/api/hubs/chat/groups/g1/:send?excluded=a&excluded=b", `{"target":"t","arguments":null}`, "text/json"},
		{"PUT", "/api/hubs/chat/users/alice/groups/g1?ttl=10", "", ""},
		{"DELETE", "/api/hubs/chat/users/alice/groups", "", ""},
		{"HEAD", "/api/hubs/chat/groups/g1", "", ""},
		{"GET", "/api/hubs/chat/connections/abc", "", ""},
		{"DELETE", "/api/hubs/chat/connections/abc?reason=bye", "", ""},
		{"POST", "/api/hubs/chat/:closeConnections?excluded=x", "", ""},
		{"PUT", "/api/hubs/chat/groups/g%2F1/connections/c1", "", ""},
		{"POST", "/api/hubs/chat/users/%ZZ/:send", "{", "application/x-msgpack"},
		{"GET", "/api/health", "", ""},
		{"POST", "/api/hubs/Chat?application=app1", `{"target":"t","arguments":{}}`, "application/json"},
	} {
		f.Add(s.method, s.path, s.body, s.ctype, true)
	}
	svc := NewService(ServiceOptions{Logger: quietLogger(), MaxMessageSize: 64 << 10, ShutdownTimeout: time.Second})
	f.Cleanup(func() { _ = svc.Close() })
	h := svc.Handler()
	f.Fuzz(func(t *testing.T, method, path, body, ctype string, withToken bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://127.0.0.1:8888"+path, strings.NewReader(body))
		if err != nil {
			return // not a request any client could send
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if withToken {
			u := *req.URL
			u.RawQuery = ""
			tok, err := manage.MintRESTToken(DefaultAccessKey, u.String(), time.Minute)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code >= 500 {
			t.Fatalf("%s %q (%q, %q) answered %d: %s", method, path, body, ctype, rec.Code, rec.Body.String())
		}
	})
}

// FuzzFunctionApp feeds the function app's negotiate, messages and groups
// functions arbitrary bodies, queries and identity headers. The function
// app talks to a real service over loopback, as in production; it must
// answer 2xx or 4xx, never a 5xx (which would mean it sent the service
// something the service refused as malformed, or failed itself), and
// never panic.
func FuzzFunctionApp(f *testing.F) {
	for _, s := range []struct {
		fn          uint8
		query, body string
		user        string
	}{
		{0, "hub=chat", "", "alice"},
		{0, "userId=bob&hub=other", "", ""},
		{1, "", `{"target":"t","arguments":[1]}`, ""},
		{1, "hub=chat", `{"sender":"a","text":"hi","recipient":"bob"}`, ""},
		{1, "", `{"sender":"a","text":"hi","groupname":"g"}`, ""},
		{1, "", `{"Target":"t","UserId":"u","GroupName":"g","ConnectionId":"c","Arguments":null}`, ""},
		{2, "", `{"action":"add","groupName":"g","userId":"u"}`, ""},
		{2, "hub=a&hub=b", `{"action":"removeAll","connectionId":"c"}`, ""},
		{2, "", `{"action":"Remove","groupName":"g","connectionId":"c"}`, ""},
	} {
		f.Add(s.fn, s.query, s.body, s.user)
	}
	svc := NewService(ServiceOptions{Logger: quietLogger(), ShutdownTimeout: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	svc.Start(ln)
	f.Cleanup(func() { _ = svc.Close() })
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	f.Cleanup(tr.CloseIdleConnections)
	port := ln.Addr().(*net.TCPAddr).Port
	fa, err := NewFunctionApp(FunctionAppOptions{
		ConnectionString: "Endpoint=http://127.0.0.1;Port=" + strconv.Itoa(port) + ";AccessKey=" + DefaultAccessKey + ";Version=1.0;",
		Logger:           quietLogger(),
		HTTPClient:       &http.Client{Transport: tr, Timeout: 10 * time.Second},
	})
	if err != nil {
		f.Fatal(err)
	}
	h := fa.Handler()
	fns := []string{"negotiate", "messages", "groups"}
	f.Fuzz(func(t *testing.T, fn uint8, query, body, user string) {
		path := "/api/" + fns[int(fn)%len(fns)]
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:7071"+path+"?"+query, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		if user != "" {
			req.Header["X-Ms-Client-Principal-Id"] = []string{user}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code >= 500 {
			t.Fatalf("%s?%q body %q user %q answered %d: %s", path, query, body, user, rec.Code, rec.Body.String())
		}
	})
}
