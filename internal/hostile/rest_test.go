package hostile

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/manage"
)

// restRows abuse the service's REST API and the function app.
func restRows() []row {
	expect := func(t *testing.T, status int, body string, want int, text string) {
		t.Helper()
		if status != want || !strings.Contains(body, text) {
			t.Fatalf("status %d body %q, want %d with %q", status, body, want, text)
		}
	}
	send := []byte(`{"target":"x","arguments":[1]}`)
	return []row{
		{area: "REST", input: "a client token (aud = the client URL) on the REST API", outcome: "401 `The audience is invalid`",
			check: func(t *testing.T, e *env) {
				st := e.stack()
				ca, err := manage.MintClientAccess(connString(t, st), "chat", "mallory", time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				status, _, body := restCallWith(t, http.MethodPost, st.ServiceURL+"/api/hubs/chat/:send", ca.AccessToken, send, "application/json")
				expect(t, status, body, http.StatusUnauthorized, "audience is invalid")
			}},
		{area: "REST", input: "a REST token minted for one path used on another (broadcast token on a user send)", outcome: "401 `The audience is invalid`",
			check: func(t *testing.T, e *env) {
				st := e.stack()
				tok, _ := manage.MintRESTToken("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH", st.ServiceURL+"/api/hubs/chat/:send", time.Minute)
				status, _, body := restCallWith(t, http.MethodPost, st.ServiceURL+"/api/hubs/chat/users/alice/:send", tok, send, "application/json")
				expect(t, status, body, http.StatusUnauthorized, "audience is invalid")
			}},
		{area: "REST", input: "REST call with no token", outcome: "401 with `WWW-Authenticate: Bearer`",
			check: func(t *testing.T, e *env) {
				req, _ := http.NewRequest(http.MethodPost, e.stack().ServiceURL+"/api/hubs/chat/:send", bytes.NewReader(send))
				status, h, _ := do(t, req)
				if status != http.StatusUnauthorized || h.Get("WWW-Authenticate") != "Bearer" {
					t.Fatalf("status %d, %q", status, h.Get("WWW-Authenticate"))
				}
			}},
		{area: "REST", input: "send to a hub nobody is connected to", outcome: "202, delivered to nobody, no hub created",
			check: func(t *testing.T, e *env) {
				status, _, body := restCall(t, e.stack(), http.MethodPost, "/api/hubs/nobodyhere/:send", send, "application/json")
				expect(t, status, body, http.StatusAccepted, "")
			}},
		{area: "REST", input: "invalid hub name (`bad hub!`, `../x`, 129 characters)", outcome: "400 `Invalid hub name...`",
			check: func(t *testing.T, e *env) {
				for _, h := range []string{"bad%20hub!", "..%2Fx", "a" + strings.Repeat("b", 128)} {
					status, _, body := restCall(t, e.stack(), http.MethodPost, "/api/hubs/"+h+"/:send", send, "application/json")
					if status != http.StatusBadRequest && status != http.StatusNotFound {
						t.Fatalf("hub %q: %d %q", h, status, body)
					}
				}
			}},
		{area: "REST", input: "bad group names: 1 025 characters, only white space", outcome: "400 `Invalid group name...`",
			check: func(t *testing.T, e *env) {
				for _, g := range []string{strings.Repeat("g", 1025), "%20%20"} {
					status, _, body := restCall(t, e.stack(), http.MethodPost, "/api/hubs/chat/groups/"+g+"/:send", send, "application/json")
					expect(t, status, body, http.StatusBadRequest, "Invalid group name")
				}
			}},
		{area: "REST", input: "huge body: 2 MiB JSON against the 1 MiB limit", outcome: "413 `The body exceeds the limit of 1048576 bytes.`, read stops at the limit",
			check: func(t *testing.T, e *env) {
				big := []byte(`{"target":"x","arguments":["` + strings.Repeat("a", 2<<20) + `"]}`)
				status, _, body := restCall(t, e.stack(), http.MethodPost, "/api/hubs/chat/:send", big, "application/json")
				expect(t, status, body, http.StatusRequestEntityTooLarge, "exceeds the limit")
			}},
		{area: "REST", input: "bodies that lie: not JSON, arguments not an array, no target, MessagePack content type", outcome: "400 / 400 / 400 / 415, each saying which",
			check: func(t *testing.T, e *env) {
				st := e.stack()
				for _, c := range []struct {
					body, ctype string
					want        int
					text        string
				}{
					{`nope`, "application/json", 400, "not a JSON object"},
					{`{"target":"x","arguments":{"a":1}}`, "application/json", 400, "must be a JSON array"},
					{`{"arguments":[]}`, "application/json", 400, "'target' is required"},
					{`{"target":"x"}`, "application/x-msgpack", 415, "Only application/json"},
				} {
					status, _, body := restCall(t, st, http.MethodPost, "/api/hubs/chat/:send", []byte(c.body), c.ctype)
					expect(t, status, body, c.want, c.text)
				}
			}},
		{area: "REST", input: "REST token signed with `alg: none` for the exact URL", outcome: "401",
			check: func(t *testing.T, e *env) {
				st := e.stack()
				u := st.ServiceURL + "/api/hubs/chat/:send"
				tok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"aud": u, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
				status, _, body := restCallWith(t, http.MethodPost, u, tok, send, "application/json")
				expect(t, status, body, http.StatusUnauthorized, "")
			}},
		{area: "function app", input: "function app abuse: 2 MiB body, non-JSON body, two hub parameters, group action naming nobody",
			outcome: "413 / 400 / 400 `Invalid value of 'hub'.` / 400 `ConnectionId and UserId cannot be null or empty together`",
			check: func(t *testing.T, e *env) {
				fa := e.stack().FunctionsURL
				post := func(path, body string) (int, string) {
					req, _ := http.NewRequest(http.MethodPost, fa+path, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					s, _, b := do(t, req)
					return s, b
				}
				s, b := post("/messages", `{"target":"x","arguments":["`+strings.Repeat("a", 2<<20)+`"]}`)
				expect(t, s, b, http.StatusRequestEntityTooLarge, "1 MiB")
				s, b = post("/messages", `<html>`)
				expect(t, s, b, http.StatusBadRequest, "not a JSON object")
				s, b = post("/messages?hub=a&hub=b", `{"target":"x"}`)
				expect(t, s, b, http.StatusBadRequest, "Invalid value of 'hub'.")
				s, b = post("/groups", `{"action":"add","groupName":"g"}`)
				expect(t, s, b, http.StatusBadRequest, "cannot be null or empty together")
			}},
		{area: "function app", input: "negotiate with a user id full of escape sequences and 8 KiB long (`userId=` query)",
			outcome: "200; the token carries the id as data and the emulator's log line shows it escaped and cut to 200 bytes",
			check: func(t *testing.T, e *env) {
				u := e.stack().FunctionsURL + "/negotiate?userId=" + strings.Repeat("%1b%5d0%3bpwn%07", 600)
				req, _ := http.NewRequest(http.MethodPost, u, nil)
				status, _, body := do(t, req)
				if status != http.StatusOK || !strings.Contains(body, "accessToken") {
					t.Fatalf("%d %q", status, body)
				}
			}},
	}
}
