package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"
)

// exitUsage is the exit status of a command line that cannot run as
// written: an unknown command or flag, a wrong number of arguments, a URL
// that is not one, or a full-screen command without a terminal.
const exitUsage = 2

// urlError is a URL argument that is not an absolute http(s) URL. It
// says what is wrong and, when it can tell, the URL that was meant.
type urlError struct {
	input string // as given, query cut off: it may hold a function key
	why   string
	fixed string // the URL probably meant, redacted, or ""
	bare  bool   // a bare word: no scheme, host, port or path
}

func (e *urlError) Error() string {
	if e.bare {
		return fmt.Sprintf("\"%s\" is not a URL: %s", e.input, e.why)
	}
	msg := fmt.Sprintf("URL \"%s\" %s", e.input, e.why)
	if e.fixed != "" {
		msg += "; did you mean " + e.fixed + "?"
	}
	return msg
}

func (e *urlError) ExitCode() int { return exitUsage }

// checkURL returns nil when s is an absolute http or https URL with a
// host, as negotiate needs, and otherwise a *urlError. It is the one URL
// check of every command that takes a URL, so that `watch
// 127.0.0.1:7071/api` and `send localhost:7071/api` both say that the
// scheme is missing and show the URL with it, rather than Go's parse error
// (`first path segment in URL cannot contain colon`) or a complaint about
// a scheme called localhost.
func checkURL(s string) error {
	s = strings.TrimSpace(s)
	ue := &urlError{input: shownURL(s)}
	lower := strings.ToLower(s)
	scheme, rest, hasScheme := strings.Cut(lower, ":")
	switch {
	case s == "":
		ue.why = "is empty: give the function app base URL, e.g. http://127.0.0.1:7071/api"
		return ue
	case hasScheme && (scheme == "http" || scheme == "https") && !strings.HasPrefix(rest, "//"):
		// http:127.0.0.1:7071/api, https:/myapp.azurewebsites.net/api
		ue.why = "needs // after " + scheme + ":"
		ue.fixed = fixedURL(scheme + "://" + strings.TrimLeft(s[len(scheme)+1:], "/"))
		return ue
	case !strings.Contains(s, "://"):
		if !hostLike(s) {
			ue.bare, ue.why = true, "a URL starts with http:// or https://, e.g. http://127.0.0.1:7071/api"
			return ue
		}
		ue.why = "is missing its scheme (http:// or https://)"
		ue.fixed = fixedURL(guessScheme(s) + "://" + s)
		return ue
	}
	u, err := url.Parse(s)
	if err != nil {
		var pe *url.Error
		if errors.As(err, &pe) {
			err = pe.Err // its text repeats the URL, query included
		}
		ue.why = "does not parse: " + textsafe.Line(err.Error())
		return ue
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "ws", "wss":
		// A hub URL a browser's dev tools show: sigr negotiates over
		// HTTP first, as the official client does.
		ue.why = "is a WebSocket URL; sigr negotiates over HTTP first, then upgrades"
		fixed := *u
		fixed.Scheme = map[string]string{"ws": "http", "wss": "https"}[strings.ToLower(u.Scheme)]
		ue.fixed = fixedURL(fixed.String())
		return ue
	default:
		ue.why = "must start with http:// or https://"
		return ue
	}
	if u.Host == "" {
		ue.why = "has no host, e.g. http://127.0.0.1:7071/api"
		return ue
	}
	return nil
}

// fixedURL is the URL the error suggests, fit to show: one line, secrets
// in its query elided.
func fixedURL(s string) string { return textsafe.Line(textsafe.RedactURL(s)) }

// shownURL is s fit for an error message: one line, its query (which may
// hold a function key) cut off.
func shownURL(s string) string {
	if base, _, ok := strings.Cut(s, "?"); ok {
		s = base + "?…"
	}
	return textsafe.Clip(s, 120)
}

// hostLike reports whether s, which has no scheme, reads as a host with
// perhaps a port and a path (127.0.0.1:7071/api, localhost,
// myapp.azurewebsites.net/api) rather than a bare word such as a
// mistyped command.
func hostLike(s string) bool {
	if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return false // spaces and control characters are in no URL
	}
	host, _, hasPath := strings.Cut(s, "/")
	return hasPath || strings.HasPrefix(host, "[") || strings.ContainsAny(host, ".:") || strings.EqualFold(host, "localhost")
}

// guessScheme picks the scheme for a URL given without one: http for
// loopback and plain ports (func start, sigr emulator), https for a host
// on the internet (an Azure Functions app).
func guessScheme(s string) string {
	hostport, _, _ := strings.Cut(s, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	if ip := net.ParseIP(host); (ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified())) ||
		strings.EqualFold(host, "localhost") || (port != "" && port != "443") {
		return "http"
	}
	return "https"
}
