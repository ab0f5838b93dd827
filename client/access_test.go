package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestAccess checks Options.Access: asked on every connect for its hub
// (default chat) and user, its token goes to its URL's negotiate, and the
// function app's headers, query and principal never do. A 401 to that
// token is ErrTokenRefused; a 401 to the app is ErrCredentialsRefused.
func TestAccess(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		http.Error(w, "signature invalid", http.StatusUnauthorized)
	}))
	defer srv.Close()

	type ask struct{ hub, user string }
	var asked []ask
	o := testOptions("")
	o.UserID = "alice"
	o.Header = http.Header{"X-App": {"secret"}}
	o.Query = url.Values{"code": {"key"}}
	o.Access = func(_ context.Context, hub, user string) (string, string, error) {
		asked = append(asked, ask{hub, user})
		return srv.URL + "/client/?hub=" + hub, "tok-" + user, nil
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Start(context.Background())
	if !errors.Is(err, ErrTokenRefused) || errors.Is(err, ErrCredentialsRefused) || !strings.Contains(err.Error(), "signature invalid") {
		t.Fatalf("Start = %v, want the token refused", err)
	}
	if len(asked) != 1 || asked[0] != (ask{"chat", "alice"}) || c.Hub() != "chat" {
		t.Fatalf("Access asked %+v, hub %q", asked, c.Hub())
	}
	mu.Lock()
	r := seen[0]
	mu.Unlock()
	if r.URL.Path != "/client/negotiate" || r.URL.Query().Get("hub") != "chat" || r.Header.Get("Authorization") != "Bearer tok-alice" {
		t.Fatalf("negotiate %s with %q", r.URL, r.Header.Get("Authorization"))
	}
	if r.Header.Get("X-App") != "" || r.URL.Query().Get("code") != "" || r.Header.Get("x-ms-client-principal-id") != "" {
		t.Fatalf("the function app's credentials reached the service: %s %v", r.URL, r.Header)
	}

	// The same 401 from a function app is about the app's credentials.
	c2, err := New(testOptions(srv.URL + "/api"))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Start(context.Background()); !errors.Is(err, ErrCredentialsRefused) || errors.Is(err, ErrTokenRefused) {
		t.Fatalf("Start = %v, want the credentials refused", err)
	}
}

// TestAccessFailures checks that an Access that fails, or hands out a URL
// that cannot be negotiated, fails the connect for good with its reason.
func TestAccessFailures(t *testing.T) {
	boom := errors.New("no key")
	for name, f := range map[string]AccessFunc{
		"error":    func(context.Context, string, string) (string, string, error) { return "", "", boom },
		"relative": func(context.Context, string, string) (string, string, error) { return "/client/?hub=chat", "t", nil },
		"scheme": func(context.Context, string, string) (string, string, error) {
			return "ws://h/client/?hub=chat", "t", nil
		},
	} {
		o := testOptions("")
		o.Access = f
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Start(context.Background())
		c.Close()
		if !isPermanent(err) || (name == "error") != errors.Is(err, boom) {
			t.Errorf("%s: Start = %v", name, err)
		}
	}
}
