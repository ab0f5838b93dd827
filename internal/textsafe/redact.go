package textsafe

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// secretQueryKeys are query parameters whose values are credentials or
// connection secrets: they are elided wherever a URL is shown.
var secretQueryKeys = map[string]bool{
	"code":         true, // Azure Functions key
	"access_token": true,
	"id":           true, // connection token
	"token":        true,
	"sig":          true,
	"key":          true,
	"apikey":       true,
	"api_key":      true,
}

// RedactURL returns raw fit for logs and errors: credentials in the user
// info and secret query values (code=, access_token=, id=, ...) replaced by
// "…". A string that is not a URL comes back cut to a short prefix.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return shorten(raw, 40)
	}
	if u.User != nil {
		u.User = url.User("…")
	}
	if u.RawQuery == "" {
		return u.String()
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if hasValue && secretQueryKeys[strings.ToLower(name)] {
			parts[i] = k + "=…"
		}
	}
	u.RawQuery = strings.Join(parts, "&")
	return u.String()
}

// RedactToken returns a token fit for logs and errors: a short prefix and
// its length, e.g. "eyJhbGci…(812 chars)". Tokens are never shown whole.
func RedactToken(tok string) string {
	if tok == "" {
		return "(empty)"
	}
	n := 8
	if len(tok) <= 16 {
		n = 2
	}
	if n > len(tok) {
		n = len(tok)
	}
	return tok[:n] + "…(" + strconv.Itoa(len(tok)) + " chars)"
}

// WithoutURL drops the *url.Error wrapper of an HTTP client's error, whose
// text repeats the request URL with its query (and any key in it); the
// caller names the URL itself, redacted.
func WithoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
