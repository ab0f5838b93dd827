package hostile

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// extensionRows attack the emulator's own endpoints (live state and
// trace) and its delivery outcome headers.
func extensionRows() []row {
	return []row{
		{area: "emulator extensions", input: "the live state and trace (`/_sigr/v1/...`) asked with no token, a client token, a REST token for another path, another key; and an unknown `/_sigr/` path",
			outcome: "401 with `WWW-Authenticate: Bearer` on every `/_sigr/` path, before anything else: a caller without the key learns nothing, not even which paths exist",
			check: func(t *testing.T, e *env) {
				st := e.stack()
				ca, err := manage.MintClientAccess(connString(t, st), "chat", "mallory", time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				other, _ := manage.MintRESTToken(emulator.DefaultAccessKey, st.ServiceURL+"/api/hubs/chat", time.Minute)
				for _, path := range []string{protocol.PathHubs, protocol.PathHubs + "/chat", protocol.PathTrace, "/_sigr/v1/secret"} {
					wrongKey, _ := manage.MintRESTToken("not the service's key at all, mallory's own", st.ServiceURL+path, time.Minute)
					for name, tok := range map[string]string{"none": "", "client": ca.AccessToken, "other path": other, "wrong key": wrongKey} {
						req, _ := http.NewRequest(http.MethodGet, st.ServiceURL+path, nil)
						if tok != "" {
							req.Header.Set("Authorization", "Bearer "+tok)
						}
						status, h, _ := do(t, req)
						if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
							t.Fatalf("%s token on %s: %d", name, path, status)
						}
					}
				}
			}},
		{area: "emulator extensions", input: "a send to a user id, a group and a connection id full of escape sequences, bidi overrides and a header line break, 1 000 bytes long, where nobody is connected",
			outcome: "202 with `X-Sigr-Undelivered` on one line of printable ASCII, every name escaped (`\\x1b`, `\\u202e`) and cut at 64 bytes; the trace carries the names as JSON data",
			check: func(t *testing.T, e *env) {
				st := e.stack()
				evil := "\x1b]0;pwned\x07\u202e\r\nX-Injected: 1" + strings.Repeat("A", 1000-34)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				got := make(chan protocol.TraceEvent, 1024)
				tctx, stop := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() {
					done <- manage.Trace(tctx, manage.Inspect{Endpoint: st.ServiceURL, AccessKey: emulator.DefaultAccessKey}, "chat",
						func(ev protocol.TraceEvent) error { got <- ev; return nil })
				}()
				defer func() { stop(); <-done }()
				send := []byte(`{"target":"x","arguments":[1]}`)
				// The trace sees only what happens after it subscribed: send
				// a marker until one of its events arrives.
				for ready := false; !ready; {
					restCall(t, st, http.MethodPost, "/api/hubs/chat/users/marker/:send", send, "application/json")
					select {
					case <-got:
						ready = true
					case <-time.After(50 * time.Millisecond):
					case <-ctx.Done():
						t.Fatal("the trace never started")
					}
				}
				for _, path := range []string{"/users/", "/groups/", "/connections/"} {
					status, h, body := restCall(t, st, http.MethodPost, "/api/hubs/chat"+path+url.PathEscape(evil)+"/:send", send, "application/json")
					why := h.Get(protocol.HeaderUndelivered)
					if status != http.StatusAccepted || h.Get(protocol.HeaderDelivered) != "0" || why == "" || h.Get("X-Injected") != "" {
						t.Fatalf("%s: %d %q %v", path, status, body, h)
					}
					for i := 0; i < len(why); i++ {
						if why[i] < 0x20 || why[i] > 0x7e {
							t.Fatalf("%s: reason %q has byte %#x", path, why, why[i])
						}
					}
					if !strings.Contains(why, `\x1b]0;pwned\a\u202e\r\nX-Injected: 1AAA`) || len(why) > 1024 {
						t.Fatalf("%s: reason %q", path, why)
					}
				}
				// The trace's events came in as JSON data: the name whole.
				for {
					select {
					case ev := <-got:
						if ev.Kind == protocol.TraceDelivered && strings.HasSuffix(ev.Route, evil) {
							return
						}
					case err := <-done:
						done <- err
						t.Fatalf("the trace ended: %v", err)
					case <-ctx.Done():
						t.Fatal(errors.New("no delivered event with the name"))
					}
				}
			}},
	}
}
