package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// maxRedirects is the official clients' limit on negotiate redirects.
const maxRedirects = 100

// maxNegotiateBody bounds how much of a negotiate answer is read; real
// answers are a few hundred bytes, an HTML error page a few kilobytes.
const maxNegotiateBody = 1 << 20

// userAgent is sent on every HTTP request and the WebSocket upgrade.
const userAgent = "sigr (Go; +https://github.com/sigr-dev/sigr)"

// negotiation is the outcome of a negotiate chain: where to connect and
// with which token.
type negotiation struct {
	base  string // the endpoint base URL (after redirects)
	token string // bearer token for base, "" when none
	// tokenOrigin is the scheme://host:port the token was issued for; the
	// token is sent only there.
	tokenOrigin string
	resp        protocol.NegotiateResponse
	// hub is the hub= of the service URL when the chain ended at Azure
	// SignalR Service (Options.Access, or a redirect with an access token),
	// which names the hub there; "" for a plain hub, which names none.
	hub string

	// Set by openTransport: the transport opened and where, which a
	// stateful-reconnect resume dials again.
	transport string
	target    dialTarget
}

// Error is the error type of connection failures that sigr can explain.
// Permanent marks errors that retrying cannot fix (a 401, a 404, an HTML
// page, a negotiate error), which fail a first connect even when
// Options.RetryFirstConnect is set.
type Error struct {
	Op        string // "negotiate", "connect", "handshake"
	URL       string // redacted
	Status    int    // HTTP status when there was one
	Msg       string
	Permanent bool
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.URL != "" {
		b.WriteString(" ")
		b.WriteString(e.URL)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	// Parts of the message come from the network (server texts, wrapped
	// errors quoting answers); none may reach a terminal raw.
	return textsafe.Line(b.String())
}

func (e *Error) Unwrap() error { return e.Err }

// Why a negotiate was refused with 401 or 403, wrapped by its Error so
// that a caller can name the setting to check.
var (
	// ErrTokenRefused: the service refused the access token a function
	// app or Options.Access handed out (expired, for another URL, or
	// signed with another key).
	ErrTokenRefused = errors.New("the service refused the access token")
	// ErrCredentialsRefused: the function app refused the request's own
	// credentials (Options.Header, a function key in Options.Query).
	ErrCredentialsRefused = errors.New("the server refused the credentials")
)

// isPermanent reports whether err is an Error marked Permanent.
func isPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// origin returns scheme://host[:port] of u, lower-cased, the unit that
// credentials are bound to.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// negotiateURL builds the negotiate URL from a base URL the way the
// official client does: "negotiate" appended to the path, the query kept,
// negotiateVersion=1 added unless the query already has it.
func negotiateURL(base *url.URL) *url.URL {
	u := *base
	u.Fragment = ""
	p := u.Path
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	u.Path = p + "negotiate"
	u.RawPath = ""
	if !hasQueryKey(u.RawQuery, "negotiateVersion") {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "negotiateVersion=1"
	}
	return &u
}

func hasQueryKey(rawQuery, key string) bool {
	for p := range strings.SplitSeq(rawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		if k == key {
			return true
		}
	}
	return false
}

// appBaseURL returns Options.URL with Hub and Query applied.
func (o *Options) appBaseURL() (*url.URL, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, &Error{Op: "negotiate", Msg: "invalid URL", Permanent: true, Err: err}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(o.URL), Msg: "the URL must start with http:// or https:// (the function app base URL, e.g. http://127.0.0.1:7071/api)", Permanent: true}
	}
	if u.Host == "" {
		return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(o.URL), Msg: "the URL has no host", Permanent: true}
	}
	var extra []string
	if o.Hub != "" && !hasQueryKey(u.RawQuery, "hub") {
		extra = append(extra, "hub="+url.QueryEscape(o.Hub))
	}
	if len(o.Query) > 0 {
		extra = append(extra, o.Query.Encode())
	}
	if len(extra) > 0 {
		q := strings.Join(extra, "&")
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
	return u, nil
}

// negotiate runs the negotiate chain from the function app (or, with
// Options.Access, from the service) and returns where to connect.
//
// Credentials are bound to hosts: the function app's headers go only to the
// function app's origin, and a redirect's access token only to the origin of
// the URL it came with. That is what keeps the service JWT away from the
// function app (the official JS client's bug dotnet/aspnetcore#65620) and
// the app's own credentials away from the service.
func (c *Conn) negotiate(ctx context.Context) (*negotiation, error) {
	o := &c.opts
	var (
		base        *url.URL
		appOrigin   string
		token       string
		tokenOrigin string
		service     bool // base came from Access or an Azure redirect
	)
	if o.Access != nil {
		// Asked afresh on every connect, so a reconnect never reuses an
		// expired token.
		u, tok, err := o.Access(ctx, o.Hub, o.UserID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &Error{Op: "negotiate", Msg: "service access", Permanent: true, Err: err}
		}
		base, err = url.Parse(u)
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(u), Msg: "the service URL must be an absolute http(s) URL", Permanent: true, Err: err}
		}
		token, tokenOrigin, service = tok, origin(base), true
	} else {
		var err error
		base, err = o.appBaseURL()
		if err != nil {
			return nil, err
		}
		appOrigin = origin(base)
	}

	for redirects := 0; ; redirects++ {
		nu := negotiateURL(base)
		if o.StatefulReconnect && !hasQueryKey(nu.RawQuery, "useStatefulReconnect") {
			// Asked on every hop, as the official client does: the function
			// app ignores it, the service answers it.
			nu.RawQuery += "&useStatefulReconnect=true"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, nu.String(), http.NoBody)
		if err != nil {
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Msg: "cannot build request", Permanent: true, Err: err}
		}
		o2 := origin(nu)
		if o2 == appOrigin {
			for k, vs := range o.Header {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			if o.UserID != "" {
				req.Header.Set("x-ms-client-principal-id", o.UserID)
				req.Header.Set("x-ms-client-principal-name", o.UserID)
			}
		}
		if token != "" && o2 == tokenOrigin {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("User-Agent", userAgent)
		c.log.Debug("negotiate", "url", textsafe.RedactURL(nu.String()), "hop", redirects)

		resp, err := c.opts.HTTPClient.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Msg: "request failed (is the server running and the URL right?)", Err: textsafe.WithoutURL(err)}
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxNegotiateBody))
		resp.Body.Close()
		if rerr != nil {
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Status: resp.StatusCode, Msg: "reading the answer failed", Err: rerr}
		}
		sentToken := req.Header.Get("Authorization") != ""
		nr, err := checkNegotiateAnswer(nu, resp, body, sentToken)
		if err != nil {
			return nil, err
		}
		if nr.Error != "" {
			// Shown as the server wrote it, with control characters made
			// visible: the text is untrusted and ends up on a terminal.
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Status: resp.StatusCode, Msg: textsafe.Line(nr.Error), Permanent: true}
		}
		if nr.ProtocolVersion != "" {
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Msg: "Detected a connection attempt to an ASP.NET SignalR Server. This client only supports connecting to an ASP.NET Core SignalR Server. See https://aka.ms/signalr-core-differences for details.", Permanent: true}
		}
		if nr.URL == "" {
			if nr.UseStatefulReconnect && !o.StatefulReconnect {
				return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Msg: "Client didn't negotiate Stateful Reconnect but the server did.", Permanent: true}
			}
			n := &negotiation{base: base.String(), token: token, tokenOrigin: tokenOrigin, resp: nr}
			if service {
				n.hub = hubOf(n.base)
			}
			return n, nil
		}
		if redirects+1 >= maxRedirects {
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Msg: "Negotiate redirection limit exceeded.", Permanent: true}
		}
		next, err := nu.Parse(nr.URL)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return nil, &Error{Op: "negotiate", URL: textsafe.RedactURL(nu.String()), Msg: fmt.Sprintf("the redirect URL %q is not an http(s) URL", textsafe.RedactURL(nr.URL)), Permanent: true}
		}
		base = next
		// An Azure redirect (url and accessToken) names the hub in its URL;
		// a bare url is some other proxy, which names none.
		service = nr.AccessToken != ""
		if service {
			token, tokenOrigin = nr.AccessToken, origin(next)
		}
	}
}

// checkNegotiateAnswer turns an HTTP answer into a negotiate response, or
// into an error that says what the server answered and what probably went
// wrong. sentToken says whether the request carried an access token, which
// decides whether a 401 is about the token or the app's own credentials.
func checkNegotiateAnswer(nu *url.URL, resp *http.Response, body []byte, sentToken bool) (protocol.NegotiateResponse, error) {
	shown := textsafe.RedactURL(nu.String())
	status := resp.StatusCode
	fail := func(msg string, permanent bool) (protocol.NegotiateResponse, error) {
		return protocol.NegotiateResponse{}, &Error{Op: "negotiate", URL: shown, Status: status, Msg: msg, Permanent: permanent}
	}
	doubled := strings.HasSuffix(strings.TrimSuffix(nu.Path, "/"), "/negotiate/negotiate")
	const doubledHint = "the URL already ends in /negotiate; pass the base URL (e.g. http://127.0.0.1:7071/api), sigr appends /negotiate itself"
	if status < 200 || status > 299 {
		st := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		switch {
		case status == http.StatusNotFound && doubled:
			return fail(st+": "+doubledHint, true)
		case status == http.StatusNotFound:
			return fail(st+": Either this is not a SignalR endpoint or there is a proxy blocking the connection; check the path (a function app's base URL ends in /api)", true)
		case (status == http.StatusUnauthorized || status == http.StatusForbidden) && sentToken:
			return protocol.NegotiateResponse{}, &Error{Op: "negotiate", URL: shown, Status: status, Msg: st, Permanent: true,
				Err: fmt.Errorf("%w; check the AccessKey of the connection string that minted it%s", ErrTokenRefused, bodyHint(body))}
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return protocol.NegotiateResponse{}, &Error{Op: "negotiate", URL: shown, Status: status, Msg: st, Permanent: true,
				Err: fmt.Errorf("%w; check the request's headers and the function key (code= in the query)%s", ErrCredentialsRefused, bodyHint(body))}
		case status == http.StatusMethodNotAllowed:
			return fail(st+": the negotiate endpoint must accept POST (add \"post\" to the function's methods)", true)
		case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout:
			return fail(st+": the server is busy; try again later"+bodyHint(body), false)
		case status >= 500:
			return fail(st+": the server failed; check its logs"+bodyHint(body), false)
		case status >= 400:
			return fail(st+bodyHint(body), true)
		default:
			return fail(fmt.Sprintf("Unexpected status code returned from negotiate '%d'", status), true)
		}
	}
	if status != http.StatusOK {
		return fail(fmt.Sprintf("Unexpected status code returned from negotiate '%d'", status), true)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		ct := resp.Header.Get("Content-Type")
		mt, _, _ := mime.ParseMediaType(ct)
		what := "a body that is not JSON"
		if mt != "" {
			what = "a " + mt + " body, not JSON"
		}
		if len(trimmed) == 0 {
			what = "an empty body, not JSON"
		}
		hint := "this is not a SignalR negotiate endpoint; pass the function app base URL (e.g. http://127.0.0.1:7071/api)"
		switch {
		case doubled:
			hint = doubledHint
		case protocol.IsHTMLPage(ct, trimmed):
			hint = protocol.HTMLPageHint
		}
		return fail(fmt.Sprintf("HTTP %d with %s: %s", status, what, hint), true)
	}
	nr, err := protocol.ParseNegotiateResponse(body)
	if err != nil {
		return protocol.NegotiateResponse{}, &Error{Op: "negotiate", URL: shown, Status: status, Msg: "the answer is not a valid negotiate response", Permanent: true, Err: err}
	}
	return nr, nil
}

// bodyHint returns a short, single-line, printable excerpt of an error
// body, or "" when there is nothing useful to show.
func bodyHint(body []byte) string {
	s := textsafe.Clip(strings.TrimSpace(string(body)), 200)
	if s == "" || strings.HasPrefix(s, "<") {
		return ""
	}
	return " (server said: " + s + ")"
}
