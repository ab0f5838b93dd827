package manage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// maxFunctionBody bounds how much of a function's response is read.
const maxFunctionBody = 1 << 20

// FunctionAppOptions configure a FunctionApp. The zero value is usable.
type FunctionAppOptions struct {
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Header is added to every request (an app's own credentials, say).
	// Default: none.
	Header http.Header
	// Query is added to every request's query (e.g. code=<function key>).
	// Default: none.
	Query url.Values
	// User, when set, is sent as x-ms-client-principal-id and
	// x-ms-client-principal-name, as App Service Authentication would.
	// Default: anonymous.
	User string
}

// FunctionApp posts to the HTTP functions of a serverless SignalR app: the
// `messages` and `groups` functions of the chat sample (and the emulator's
// function app), which make it a Sender, and `negotiate`. It carries the
// caller's identity and extra headers and query (e.g. a function key
// `code=`) on every request, and never sends a service token: tokens stay
// with the host they belong to. It is safe for concurrent use.
type FunctionApp struct {
	base *url.URL
	opts FunctionAppOptions
}

// NewFunctionApp returns a FunctionApp for a base URL such as
// http://127.0.0.1:7071/api (the URL a JS client passes to withUrl). The
// base URL's own query, if any, is kept on every request.
func NewFunctionApp(baseURL string, opts FunctionAppOptions) (*FunctionApp, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("function app: URL %q does not parse: %v", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("function app: URL %q must be absolute http(s), like http://127.0.0.1:7071/api", baseURL)
	}
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/negotiate") {
		return nil, fmt.Errorf("function app: URL %q ends in /negotiate; pass the base URL without it (e.g. http://127.0.0.1:7071/api)", baseURL)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = defaultFunctionHTTP
	}
	return &FunctionApp{base: u, opts: opts}, nil
}

// BaseURL returns the base URL as given (with its query).
func (f *FunctionApp) BaseURL() string { return f.base.String() }

// FunctionError is a non-2xx answer from a function, or a web page where
// the function's answer should be.
type FunctionError struct {
	Op     string
	URL    string // without query, so function keys never appear
	Status int
	Body   string
	// HTMLPage is set for an answer that is a web page, whatever its
	// status: a login page, or a site that is not the function app.
	HTMLPage bool
}

// Error says what failed and what to try.
func (e *FunctionError) Error() string {
	var b strings.Builder
	if e.HTMLPage {
		fmt.Fprintf(&b, "%s: POST %s answered %d %s with an HTML page, not the function's answer: %s", e.Op, e.URL, e.Status, http.StatusText(e.Status), protocol.HTMLPageHint)
		return b.String()
	}
	fmt.Fprintf(&b, "%s: POST %s answered %d %s", e.Op, e.URL, e.Status, http.StatusText(e.Status))
	if msg := clip(e.Body, 300); msg != "" {
		fmt.Fprintf(&b, ": %q", msg)
	}
	switch {
	case e.Status == http.StatusNotFound:
		b.WriteString("; check the base URL (it should end in /api) and that the function exists")
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		b.WriteString("; the function needs a key or a login (a function key is code= in the query)")
	case e.Status == http.StatusBadRequest:
		b.WriteString("; check the message body and the names")
	case e.Status >= 500:
		b.WriteString("; the function failed: check its logs, and that it can reach the SignalR service")
	}
	return b.String()
}

// Send implements Sender: it posts m to `{base}/messages[?hub=H]`, a chat
// body as it is (the chat sample's function expects it so), anything else
// as a SignalRMessage. A hub of "" leaves the hub to the function (the
// emulator's default: chat). A non-2xx answer returns the outcome and a
// *FunctionError.
func (f *FunctionApp) Send(ctx context.Context, hub string, m Message) (Outcome, error) {
	if chat, ok := m.ChatMessage(); ok {
		return f.post(ctx, "post message", "messages", hub, chat)
	}
	if m.signalR.Target == "" {
		return Outcome{}, errors.New("post message: the target is empty; name the client method, e.g. newMessage")
	}
	return f.post(ctx, "post message", "messages", hub, m.signalR)
}

// Group implements Sender: it posts a to `{base}/groups[?hub=H]`.
func (f *FunctionApp) Group(ctx context.Context, hub string, a protocol.SignalRGroupAction) (Outcome, error) {
	if err := checkGroupAction(a); err != nil {
		return Outcome{}, err
	}
	return f.post(ctx, "group action", "groups", hub, a)
}

// Negotiate calls `{base}/negotiate[?hub=H]` with POST and returns the
// service URL and token it hands out.
func (f *FunctionApp) Negotiate(ctx context.Context, hub string) (ClientAccess, error) {
	resp, err := f.post(ctx, "negotiate", "negotiate", hub, nil)
	if err != nil {
		return ClientAccess{}, err
	}
	n, err := protocol.ParseNegotiateResponse(resp.Body)
	if err != nil {
		return ClientAccess{}, fmt.Errorf("negotiate: %w", err)
	}
	if n.Error != "" {
		return ClientAccess{}, fmt.Errorf("negotiate: the server refused: %q", n.Error)
	}
	if n.URL == "" {
		return ClientAccess{}, errors.New("negotiate: the answer has no url; is this a serverless (Azure SignalR) negotiate function?")
	}
	return ClientAccess{URL: n.URL, AccessToken: n.AccessToken}, nil
}

func (f *FunctionApp) post(ctx context.Context, op, function, hub string, body any) (Outcome, error) {
	u := *f.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + function
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/") + "/" + function
	}
	q := u.Query()
	for k, vs := range f.opts.Query {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	if hub != "" {
		q.Set("hub", hub)
	}
	u.RawQuery = q.Encode()
	shown := u
	shown.RawQuery = ""

	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return Outcome{}, fmt.Errorf("%s: encoding the body: %w", op, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), rd)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: building the request: %w", op, err)
	}
	for k, vs := range f.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.opts.User != "" {
		req.Header.Set("x-ms-client-principal-id", f.opts.User)
		req.Header.Set("x-ms-client-principal-name", f.opts.User)
	}
	resp, err := f.opts.HTTPClient.Do(req)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: POST %s failed: %w; check that the function app is running (func start, or sigr emulator) and the URL", op, shown.String(), textsafe.WithoutURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFunctionBody))
	out := Outcome{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if err != nil {
		return out, fmt.Errorf("%s: reading the answer of POST %s: %w", op, shown.String(), textsafe.WithoutURL(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return out, &FunctionError{Op: op, URL: shown.String(), Status: resp.StatusCode, Body: string(data)}
	}
	// A 2xx web page is a login page or another site: the function never
	// saw the request, so reporting its status as success would mislead.
	if protocol.IsHTMLPage(resp.Header.Get("Content-Type"), data) {
		return out, &FunctionError{Op: op, URL: shown.String(), Status: resp.StatusCode, HTMLPage: true}
	}
	return out, nil
}

var defaultFunctionHTTP = &http.Client{Timeout: 30 * time.Second}
