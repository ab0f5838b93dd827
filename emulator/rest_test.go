package emulator

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/manage"
)

// restDo sends one REST call with a REST token minted for its URL.
func restDo(t *testing.T, st *Stack, method, path string, body string) (int, string, string) {
	t.Helper()
	u := st.ServiceURL + path
	tok, err := manage.MintRESTToken(DefaultAccessKey, u, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	resp, data := doReq(t, method, u, tok, b, map[string]string{"Content-Type": "application/json"})
	return resp.StatusCode, resp.Header.Get("x-ms-error-code"), string(data)
}

func TestRESTStatusTables(t *testing.T) {
	st := startStack(t, nil)
	c := connectWS(t, st, "chat", "alice")
	id := url.PathEscape(c.id)
	msg := `{"Target":"t","Arguments":[1]}` // PascalCase, as the SDK writes
	type row struct {
		method, path, body string
		status             int
		code               string
	}
	// Paths without the family prefix; each table adds it.
	common := []row{
		{"POST", "/hubs/chat", msg, 202, ""},
		{"POST", "/hubs/chat/:send?excluded=a&excluded=b", msg, 202, ""},
		{"POST", "/hubs/chat/users/alice/:send", msg, 202, ""},
		{"POST", "/hubs/chat/users/nobody", msg, 202, ""},
		{"POST", "/hubs/chat/groups/g1/:send", msg, 202, ""},
		{"POST", "/hubs/chat/connections/" + id + "/:send", msg, 202, ""},
		{"POST", "/hubs/chat/connections/unknown", msg, 202, ""},
		{"POST", "/hubs/chat/:send", `{"arguments":[]}`, 400, "Error.Request.Invalid"},
		{"POST", "/hubs/chat/:send", `{"target":"t","arguments":{}}`, 400, "Error.Request.Invalid"},
		{"POST", "/hubs/chat/:send", `not json`, 400, "Error.Request.Invalid"},
		{"POST", "/hubs/li-hub/:send", msg, 400, "Error.Request.Invalid"},
		{"HEAD", "/hubs/chat/connections/" + id, "", 200, ""},
		{"GET", "/hubs/chat/connections/unknown", "", 404, codeConnNotExisted},
		{"HEAD", "/hubs/chat/users/alice", "", 200, ""},
		{"HEAD", "/hubs/chat/users/nobody", "", 404, codeUserNotExisted},
		{"HEAD", "/hubs/chat/groups/g1", "", 404, codeGroupNotExisted},
		{"PUT", "/hubs/chat/groups/g1/connections/" + id, "", 200, ""},
		{"HEAD", "/hubs/chat/groups/g1", "", 200, ""},
		{"PUT", "/hubs/chat/groups/g1/connections/unknown", "", 404, codeConnNotExistedErr},
		{"DELETE", "/hubs/chat/connections/" + id + "/groups/g1", "", 200, ""},
		{"DELETE", "/hubs/chat/groups/g1/connections/unknown", "", 404, codeConnNotExistedErr},
		{"PUT", "/hubs/chat/connections/" + id + "/groups/" + url.PathEscape("odd name/é\t"), "", 200, ""},
		{"HEAD", "/hubs/chat/groups/" + url.PathEscape("odd name/é\t"), "", 200, ""},
		{"DELETE", "/hubs/chat/connections/" + id + "/groups", "", 200, ""},
		{"HEAD", "/hubs/chat/groups/" + url.PathEscape("odd name/é\t"), "", 404, codeGroupNotExisted},
		{"PUT", "/hubs/chat/groups/%20%20", "", 400, "Error.Request.Invalid"},
		{"GET", "/hubs/chat/users/alice/groups/g2", "", 404, codeUserNotInGroup},
		{"PUT", "/hubs/chat/users/alice/groups/g2?ttl=x", "", 400, "Error.Request.Invalid"},
		{"PATCH", "/hubs/chat", "", 405, ""},
	}
	v2022 := []row{
		{"PUT", "/hubs/chat/users/alice/groups/g2", "", 200, ""},
		{"HEAD", "/hubs/chat/groups/g2/users/alice", "", 200, ""},
		{"DELETE", "/hubs/chat/users/alice/groups/g2", "", 204, ""},
		{"PUT", "/hubs/chat/groups/g2/users/" + url.PathEscape("ödd user/1"), "", 200, ""},
		{"DELETE", "/hubs/chat/users/" + url.PathEscape("ödd user/1") + "/groups", "", 204, ""},
		{"DELETE", "/hubs/chat/connections/unknown", "", 404, codeConnNotExisted},
		{"POST", "/hubs/chat/users/bob/:closeConnections", "", 204, ""},
	}
	v1 := []row{
		{"PUT", "/hubs/chat/groups/g2/users/alice", "", 202, ""},
		{"GET", "/hubs/chat/users/alice/groups/g2", "", 200, ""},
		{"DELETE", "/hubs/chat/groups/g2/users/alice", "", 202, ""},
		{"DELETE", "/hubs/chat/users/alice/groups", "", 200, ""},
		{"DELETE", "/hubs/chat/connections/unknown", "", 202, ""},
	}
	run := func(prefix string, rows []row) {
		for _, r := range rows {
			status, code, body := restDo(t, st, r.method, prefix+r.path, r.body)
			if status != r.status || code != r.code {
				t.Errorf("%s %s%s: %d %q %s, want %d %q", r.method, prefix, r.path, status, code, body, r.status, r.code)
			}
		}
	}
	run("/api", append(common, v2022...))
	run("/api/v1", append(common, v1...))
	run("/api", []row{{"PUT", "/hubs/chat/users/alice/groups/g3?api-version=2022-06-01&application=App", "", 200, ""}})
	if !st.Service.userInGroup("app_chat", "alice", "g3") {
		t.Error("application=App did not scope the hub to app_chat")
	}

	// Health needs no token; the `application` scoped hub, and closing.
	for _, p := range []string{"/api/health", "/api/v1/health"} {
		resp, _ := doReq(t, "GET", st.ServiceURL+p, "", nil, nil)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	status, _, _ := restDo(t, st, "DELETE", "/api/hubs/chat/connections/"+id+"?reason=bye", "")
	if status != 200 {
		t.Fatalf("close connection: %d", status)
	}
	for {
		m, ok := c.next(5 * time.Second)
		if !ok {
			t.Fatal("no Close after the REST close")
		}
		if m.Type == 7 {
			if m.Error != "bye" || !m.AllowReconnect {
				t.Fatalf("Close %+v: want error bye and allowReconnect", m)
			}
			break
		}
	}
}

func TestRESTRefusesClientTokensAndWrongAudience(t *testing.T) {
	st := startStack(t, nil)
	u := st.ServiceURL + "/api/hubs/chat/:send?api-version=2022-06-01"
	body := []byte(`{"target":"t","arguments":[]}`)
	rest := func(aud string) string {
		tok, err := manage.MintRESTToken(DefaultAccessKey, aud, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"client token", clientToken(t, st, "chat", "alice"), 401},
		{"aud of the hub, not the :send path", rest(st.ServiceURL + "/api/hubs/chat"), 401},
		{"aud of another hub", rest(st.ServiceURL + "/api/hubs/other/:send"), 401},
		{"port-less aud with the query, as the SDK mints it", rest("http://127.0.0.1/api/hubs/chat/:send?api-version=2022-06-01"), 202},
		{"exact aud", rest(u), 202},
	}
	for _, tc := range cases {
		resp, data := doReq(t, "POST", u, tc.token, body, nil)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, data, tc.status)
		}
		if tc.status == 401 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "The audience is invalid") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// TestRESTPathAndMethodErrors checks the router's own answers: 405 with
// Allow, 404 for unknown paths, both in the API's JSON error shape, the
// token checked before either below a hub, and one trailing slash taken.
func TestRESTPathAndMethodErrors(t *testing.T) {
	st := startStack(t, nil)
	type row struct {
		method, path string
		token        bool
		status       int
		allow, text  string
	}
	for _, r := range []row{
		{"GET", "/api/hubs/chat/:send", true, 405, "POST", "does not take GET; it takes POST."},
		{"PATCH", "/api/v1/hubs/chat/users/alice", true, 405, "POST, GET, HEAD", "does not take PATCH"},
		{"POST", "/api/hubs/chat/groups/g/connections/c", true, 405, "PUT, DELETE", "it takes PUT, DELETE."},
		{"DELETE", "/api/hubs/chat/users/alice/groups/g", false, 401, "", "No access token"},
		{"POST", "/api/health", false, 405, "GET, HEAD", "health takes GET or HEAD"},
		{"HEAD", "/api/v1/health", false, 200, "", ""},
		{"POST", "/api/hubs/chat/users/alice/x", true, 404, "", `"message":"No such REST API path."`},
		{"POST", "/api/hubs/chat/users/alice/x", false, 401, "", "No access token"},
		{"GET", "/api/nothing", false, 404, "", "use /api/hubs/{hub}/..."},
		{"POST", "/api/hubs/chat/", true, 202, "", ""},
		{"POST", "/api/v1/hubs/chat/groups/g/", true, 202, "", ""},
	} {
		tok := ""
		if r.token {
			var err error
			if tok, err = manage.MintRESTToken(DefaultAccessKey, st.ServiceURL+r.path, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		resp, data := doReq(t, r.method, st.ServiceURL+r.path, tok, []byte(`{"target":"t","arguments":[]}`), map[string]string{"Content-Type": "application/json"})
		status, allow, body := resp.StatusCode, resp.Header.Get("Allow"), string(data)
		if status != r.status || allow != r.allow || !strings.Contains(body, r.text) {
			t.Errorf("%s %s: %d Allow %q %s, want %d Allow %q with %q", r.method, r.path, status, allow, body, r.status, r.allow, r.text)
		}
		if status >= 400 && status != 401 && resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q, want the API's JSON error", r.method, r.path, resp.Header.Get("Content-Type"))
		}
	}
}
