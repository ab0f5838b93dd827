package client

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

	"github.com/sigr-dev/sigr/protocol"
)

// maxFunctionBody bounds how much of a function's response is read.
const maxFunctionBody = 1 << 20

// FunctionApp posts to the HTTP functions of a serverless SignalR app: the
// `messages` and `groups` functions of the chat sample (and the emulator's
// function app). It carries the caller's identity and extra headers and
// query (e.g. a function key `code=`) on every request, and never sends a
// service token: tokens stay with the host they belong to.
type FunctionApp struct {
	base *url.URL
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Header is added to every request (e.g. from --header). Default: none.
	Header http.Header
	// Query is added to every request's query (e.g. code=<function key>).
	// Default: none.
	Query url.Values
	// User, when set, is sent as x-ms-client-principal-id and
	// x-ms-client-principal-name, as App Service Authentication would.
	User string
}

// NewFunctionApp returns a FunctionApp for a base URL such as
// http://127.0.0.1:7071/api (the URL a JS client passes to withUrl). The
// base URL's own query, if any, is kept on every request.
func NewFunctionApp(baseURL string) (*FunctionApp, error) {
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
	return &FunctionApp{base: u}, nil
}

// BaseURL returns the base URL as given (with its query).
func (f *FunctionApp) BaseURL() string { return f.base.String() }

// FunctionResponse is a function's answer: its status and body (at most
// 1 MiB).
type FunctionResponse struct {
	Status int
	Body   []byte
}

// FunctionError is a non-2xx answer from a function.
type FunctionError struct {
	Op     string
	URL    string // without query, so function keys never appear
	Status int
	Body   string
}

// Error says what failed and what to try.
func (e *FunctionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: POST %s answered %d %s", e.Op, e.URL, e.Status, http.StatusText(e.Status))
	if msg := clip(e.Body, 300); msg != "" {
		fmt.Fprintf(&b, ": %q", msg)
	}
	switch {
	case e.Status == http.StatusNotFound:
		b.WriteString("; check the base URL (it should end in /api) and that the function exists")
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		b.WriteString("; the function needs a key or a login: pass --query code=<function key> or --header")
	case e.Status == http.StatusBadRequest:
		b.WriteString("; check the message body and the names")
	case e.Status >= 500:
		b.WriteString("; the function failed: check its logs, and that it can reach the SignalR service")
	}
	return b.String()
}

// PostMessage posts body to `{base}/messages[?hub=H]`. body is normally a
// protocol.SignalRMessage or a protocol.ChatMessage; it is sent as JSON. A
// hub of "" leaves the hub to the function (the emulator's default: chat).
// A non-2xx answer returns the response and a *FunctionError.
func (f *FunctionApp) PostMessage(ctx context.Context, hub string, body any) (FunctionResponse, error) {
	switch m := body.(type) {
	case protocol.SignalRMessage:
		if m.Target == "" {
			return FunctionResponse{}, errors.New("post message: the target is empty; name the client method, e.g. newMessage")
		}
	case *protocol.SignalRMessage:
		if m == nil || m.Target == "" {
			return FunctionResponse{}, errors.New("post message: the target is empty; name the client method, e.g. newMessage")
		}
	}
	return f.post(ctx, "post message", "messages", hub, body)
}

// GroupAction posts a SignalRGroupAction (add, remove, removeAll) to
// `{base}/groups[?hub=H]`.
func (f *FunctionApp) GroupAction(ctx context.Context, hub string, a protocol.SignalRGroupAction) (FunctionResponse, error) {
	switch strings.ToLower(a.Action) {
	case "add", "remove", "removeall":
	default:
		return FunctionResponse{}, fmt.Errorf("group action: action %q is not one of add, remove, removeAll", a.Action)
	}
	if a.UserID == "" && a.ConnectionID == "" {
		return FunctionResponse{}, errors.New("group action: name a user or a connection (--to-user or --to-connection)")
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

func (f *FunctionApp) post(ctx context.Context, op, function, hub string, body any) (FunctionResponse, error) {
	u := *f.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + function
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/") + "/" + function
	}
	q := u.Query()
	for k, vs := range f.Query {
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
			return FunctionResponse{}, fmt.Errorf("%s: encoding the body: %w", op, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), rd)
	if err != nil {
		return FunctionResponse{}, fmt.Errorf("%s: building the request: %w", op, err)
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.User != "" {
		req.Header.Set("x-ms-client-principal-id", f.User)
		req.Header.Set("x-ms-client-principal-name", f.User)
	}
	hc := f.HTTPClient
	if hc == nil {
		hc = defaultFunctionHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return FunctionResponse{}, fmt.Errorf("%s: POST %s failed: %w; check that the function app is running (func start, or sigr emulator) and the URL", op, shown.String(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxFunctionBody))
	out := FunctionResponse{Status: resp.StatusCode, Body: data}
	if err != nil {
		return out, fmt.Errorf("%s: reading the answer of POST %s: %w", op, shown.String(), unwrapURLError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return out, &FunctionError{Op: op, URL: shown.String(), Status: resp.StatusCode, Body: string(data)}
	}
	return out, nil
}

var defaultFunctionHTTP = &http.Client{Timeout: 30 * time.Second}
