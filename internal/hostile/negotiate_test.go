package hostile

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
)

// liar is a negotiate endpoint that answers with whatever the row says.
func liar(t *testing.T, h func(w http.ResponseWriter, r *http.Request, self string)) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r, srv.URL)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func startErr(t *testing.T, url string, within time.Duration) error {
	t.Helper()
	c, err := client.New(client.Options{URL: url, Reconnect: client.NoReconnect, HTTPClient: httpc(t)})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	start := time.Now()
	err = c.Start(ctx)
	if time.Since(start) > within+time.Second {
		t.Fatalf("Start took %s", time.Since(start))
	}
	if err == nil {
		t.Fatal("Start succeeded against a lying negotiate")
	}
	return err
}

// noControl fails when an error text would put control characters (an
// escape sequence) on the user's terminal.
func noControl(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Errorf("the error carries control character %U raw: %q", r, s)
			return
		}
	}
}

// negotiateRows make the negotiate chain lie to the client.
func negotiateRows() []row {
	json := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}
	return []row{
		{area: "negotiate", input: "redirect loop: every answer redirects to itself with a new token",
			outcome: "`Negotiate redirection limit exceeded.` after 100 hops, as the official clients; no token sent to another origin",
			check: func(t *testing.T, e *env) {
				srv, hits := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
					json(w, fmt.Sprintf(`{"url":%q,"accessToken":"tok-%d"}`, self+"/api", time.Now().UnixNano()))
				})
				err := startErr(t, srv.URL+"/api", 20*time.Second)
				if !strings.Contains(err.Error(), "Negotiate redirection limit exceeded.") || hits.Load() > 100 {
					t.Fatalf("%v after %d requests", err, hits.Load())
				}
			}},
		{area: "negotiate", input: "redirect to a non-http scheme (`file:///etc/passwd`, `javascript:alert(1)`, `ws://`)",
			outcome: "`the redirect URL ... is not an http(s) URL`, nothing fetched",
			check: func(t *testing.T, e *env) {
				for _, to := range []string{"file:///etc/passwd", "javascript:alert(1)", "ws://127.0.0.1:1/x", "gopher://x"} {
					srv, _ := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
						json(w, fmt.Sprintf(`{"url":%q,"accessToken":"t"}`, to))
					})
					err := startErr(t, srv.URL+"/api", 5*time.Second)
					if !strings.Contains(err.Error(), "is not an http(s) URL") {
						t.Fatalf("redirect to %s: %v", to, err)
					}
				}
			}},
		{area: "negotiate", input: "HTTP 302 loop on negotiate (Location: itself)",
			outcome: "error after Go's 10 HTTP redirects, naming the negotiate URL",
			check: func(t *testing.T, e *env) {
				srv, hits := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
					http.Redirect(w, r, r.URL.String(), http.StatusFound)
				})
				err := startErr(t, srv.URL+"/api", 5*time.Second)
				if !strings.Contains(err.Error(), "redirect") || hits.Load() > 11 {
					t.Fatalf("%v after %d requests", err, hits.Load())
				}
			}},
		{area: "negotiate", input: "huge JSON: a 64 MiB negotiate answer",
			outcome: "read stops at 1 MiB; `the answer is not a valid negotiate response`",
			check: func(t *testing.T, e *env) {
				var sent atomic.Int64
				srv, _ := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, `{"url":"`)
					chunk := strings.Repeat("a", 64<<10)
					for range 1024 {
						n, err := io.WriteString(w, chunk)
						sent.Add(int64(n))
						if err != nil {
							return
						}
					}
				})
				err := startErr(t, srv.URL+"/api", 10*time.Second)
				if !strings.Contains(err.Error(), "not a valid negotiate response") {
					t.Fatalf("%v", err)
				}
				if sent.Load() >= 64<<20 {
					t.Fatal("the client read the whole 64 MiB")
				}
			}},
		{area: "negotiate", input: "deep JSON negotiate answer (`{\"a\":[[[[...` 100 000 deep)",
			outcome: "`the answer is not a valid negotiate response`, no stack exhaustion",
			check: func(t *testing.T, e *env) {
				srv, _ := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
					json(w, `{"a":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`)
				})
				err := startErr(t, srv.URL+"/api", 5*time.Second)
				if !strings.Contains(err.Error(), "negotiate") {
					t.Fatalf("%v", err)
				}
			}},
		{area: "negotiate", input: "negotiate that never answers",
			outcome: "Start returns when its context ends (HTTPTimeout, 100 s by default, bounds it otherwise)",
			check: func(t *testing.T, e *env) {
				srv, _ := liar(t, func(w http.ResponseWriter, r *http.Request, self string) { <-r.Context().Done() })
				err := startErr(t, srv.URL+"/api", 500*time.Millisecond)
				if !strings.Contains(err.Error(), "deadline exceeded") {
					t.Fatalf("%v", err)
				}
			}},
		{area: "negotiate", input: "escape sequences in the negotiate `error` field and in transport names",
			outcome: "the error shows them as visible `\\x1b` text, never raw",
			check: func(t *testing.T, e *env) {
				srv, _ := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
					json(w, `{"error":"\u001b]0;pwned\u0007\u001b[2Jboom"}`)
				})
				noControl(t, startErr(t, srv.URL+"/api", 5*time.Second).Error())
				srv2, _ := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
					json(w, `{"connectionId":"x","negotiateVersion":0,"availableTransports":[{"transport":"\u001b]0;pwned\u0007","transferFormats":["Text"]}]}`)
				})
				noControl(t, startErr(t, srv2.URL+"/api", 5*time.Second).Error())
			}},
		{area: "negotiate", input: "an HTML login page where JSON was expected",
			outcome: "`an HTML page usually means the URL points at a web site or a login page...`",
			check: func(t *testing.T, e *env) {
				srv, _ := liar(t, func(w http.ResponseWriter, r *http.Request, self string) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = io.WriteString(w, "<html><body>Sign in</body></html>")
				})
				if err := startErr(t, srv.URL+"/api", 5*time.Second); !strings.Contains(err.Error(), "HTML page") {
					t.Fatalf("%v", err)
				}
			}},
	}
}
