package textsafe

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://127.0.0.1:7071/api", "http://127.0.0.1:7071/api"},
		{"https://app.example/api?code=K3Y&hub=chat", "https://app.example/api?code=…&hub=chat"},
		{"wss://x.service.signalr.net/client/?hub=chat&id=tok&access_token=eyJ.a.b", "wss://x.service.signalr.net/client/?hub=chat&id=…&access_token=…"},
		{"http://h/p?Code=1&TOKEN=2&sig=3&key=4&apikey=5&api_key=6&keep=7", "http://h/p?Code=…&TOKEN=…&sig=…&key=…&apikey=…&api_key=…&keep=7"},
		{"http://h/p?acc%65ss_token=x", "http://h/p?acc%65ss_token=…"},
		{"http://h/p?code", "http://h/p?code"},
		{"https://user:pass@h/api", "https://%E2%80%A6@h/api"},
		{"http://[::1", "http://[::1"},
		{"%zz" + strings.Repeat("x", 60), "%zz" + strings.Repeat("x", 37) + "…"},
	}
	for _, c := range cases {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedactToken(t *testing.T) {
	long := "eyJhbGciOiJIUzI1NiJ9." + strings.Repeat("x", 100)
	cases := map[string]string{
		"":                 "(empty)",
		"a":                "a…(1 chars)",
		"abcdefgh":         "ab…(8 chars)",
		"abcdefghijklmnop": "ab…(16 chars)",
		long:               "eyJhbGci…(121 chars)",
	}
	for in, want := range cases {
		if got := RedactToken(in); got != want {
			t.Errorf("RedactToken(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWithoutURL checks that an HTTP client's error loses the URL, and
// with it any key in the query, and that other errors pass unchanged.
func TestWithoutURL(t *testing.T) {
	refused := errors.New("connection refused")
	// What http.Client.Do returns for a failed request.
	var err error = &url.Error{Op: http.MethodPost, URL: "http://127.0.0.1:7071/api/messages?code=SECRET", Err: refused}
	if !strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("the request's error %v does not hold the URL", err)
	}
	if got := WithoutURL(err); got != refused {
		t.Fatalf("WithoutURL = %v", got)
	}
	other := errors.New("other")
	if WithoutURL(other) != other || WithoutURL(nil) != nil {
		t.Fatal("WithoutURL changed an error that is not a *url.Error")
	}
}
