package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
)

// connectionStringEnv is the app setting the Functions SignalR extension
// reads, so a shell that already exports it for `func start` works as is.
const connectionStringEnv = "AzureSignalRConnectionString"

// identityFlags are the flags that say who I am and how to reach the hub,
// shared by connect (the TUI), watch, invoke and send.
type identityFlags struct {
	hub              string
	user             string
	headers          []string
	query            []string
	connectionString string
}

// addIdentityFlags registers the identity flags on cmd.
func addIdentityFlags(cmd *cobra.Command) *identityFlags {
	f := &identityFlags{}
	fs := cmd.Flags()
	fs.StringVar(&f.hub, "hub", "", "hub name (added to negotiate's query as hub=, for a function app; a plain hub's URL is the hub; with a connection string, default \"chat\")")
	fs.StringVar(&f.user, "user", "", "who I am: sent as x-ms-client-principal-id/-name to the function app, or the token's user id with a connection string")
	fs.StringArrayVar(&f.headers, "header", nil, "extra header for the function app, \"Name: value\" (repeatable; never sent to the service)")
	fs.StringArrayVar(&f.query, "query", nil, "extra query parameter for the function app, \"name=value\", e.g. code=<function key> (repeatable)")
	fs.StringVar(&f.connectionString, "connection-string", "", "Azure SignalR connection string: skip the function app and talk to the service directly (default $"+connectionStringEnv+" when no URL is given)")
	return f
}

// resolve decides between a function app URL and a connection string. An
// explicit --connection-string with a URL is an error; the environment
// variable is used only when no URL is given.
func (f *identityFlags) resolve(args []string) (baseURL, connString string, err error) {
	// The user id travels in HTTP headers, where control characters are
	// refused; say so here rather than as a failed request later.
	if strings.IndexFunc(f.user, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "", "", fmt.Errorf("--user %s contains control characters, which cannot be sent in the x-ms-client-principal-id header", strconv.Quote(f.user))
	}
	if len(args) > 0 {
		baseURL = strings.TrimSpace(args[0])
	}
	switch {
	case baseURL != "" && f.connectionString != "":
		return "", "", errors.New("give a function app URL or --connection-string, not both")
	case baseURL != "":
		return baseURL, "", checkURL(baseURL)
	case f.connectionString != "":
		return "", f.connectionString, nil
	case os.Getenv(connectionStringEnv) != "":
		return "", os.Getenv(connectionStringEnv), nil
	}
	return "", "", errors.New("a URL is required, e.g. http://127.0.0.1:7071/api (or --connection-string, or $" + connectionStringEnv + ")")
}

// header parses --header values ("Name: value", or "Name=value").
func (f *identityFlags) header() (http.Header, error) {
	if len(f.headers) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, kv := range f.headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			k, v, ok = strings.Cut(kv, "=")
		}
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--header %q: use \"Name: value\"", shortArg(kv))
		}
		h.Add(k, strings.TrimSpace(v))
	}
	return h, nil
}

// queryValues parses --query values ("name=value").
func (f *identityFlags) queryValues() (url.Values, error) {
	if len(f.query) == 0 {
		return nil, nil
	}
	q := url.Values{}
	for _, kv := range f.query {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--query %q: use name=value", shortArg(kv))
		}
		q.Add(k, v)
	}
	return q, nil
}

// clientOptions builds the hub connection options for a function app (or
// a hub) at baseURL, or with a connection string cs straight to the
// service, travelling as conn says. The caller adds timeouts, reconnect
// policy and logger.
func (f *identityFlags) clientOptions(baseURL, cs string, conn *connFlags) (client.Options, error) {
	h, err := f.header()
	if err != nil {
		return client.Options{}, err
	}
	q, err := f.queryValues()
	if err != nil {
		return client.Options{}, err
	}
	o := client.Options{URL: baseURL, Hub: f.hub, UserID: f.user, Header: h, Query: q}
	if cs != "" {
		if o.Access, err = manage.ConnectionStringAccess(cs); err != nil {
			return client.Options{}, err
		}
	}
	if err := conn.apply(&o); err != nil {
		return client.Options{}, err
	}
	return o, nil
}

// sender is how send, group and the TUI reach the app: the function app's
// messages and groups functions at the URL, or with a connection string
// the service REST API, as a function's output binding would.
type sender struct {
	manage.Sender
	hub  string // the hub each call names: "" leaves it to the function app
	rest bool   // the service REST API, not the function app
	url  string // where the calls go, fit to show
	// rc is the REST client when rest is set: its existence checks explain
	// a send that Azure, which reports no deliveries, may have dropped.
	rc *manage.RESTClient
}

// sender returns the sender for baseURL or cs (see resolve), with my
// identity, headers and query on every function app request.
func (f *identityFlags) sender(baseURL, cs string) (sender, error) {
	if cs != "" {
		rc, err := manage.NewRESTClient(cs, manage.RESTOptions{})
		if err != nil {
			return sender{}, err
		}
		return sender{Sender: rc, hub: f.restHub(), rest: true, url: rc.Endpoint(), rc: rc}, nil
	}
	h, err := f.header()
	if err != nil {
		return sender{}, err
	}
	q, err := f.queryValues()
	if err != nil {
		return sender{}, err
	}
	fa, err := manage.NewFunctionApp(baseURL, manage.FunctionAppOptions{Header: h, Query: q, User: f.user})
	if err != nil {
		return sender{}, err
	}
	return sender{Sender: fa, hub: f.hub, url: textsafe.RedactURL(baseURL)}, nil
}

// restHub is the hub for REST calls with a connection string.
func (f *identityFlags) restHub() string {
	if f.hub != "" {
		return f.hub
	}
	return client.DefaultHub
}

// label names a connection in event lines, "alice@chat", or "" when
// anonymous.
func (f *identityFlags) label(hub string) string {
	if f.user == "" {
		return ""
	}
	if hub == "" {
		return f.user
	}
	// The service lower-cases hub names, so --hub Chat is hub chat.
	return f.user + "@" + strings.ToLower(hub)
}

// stderrLogger logs to standard error, so standard output holds only event
// lines; verbose turns on debug logs.
func stderrLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// shortArg cuts a flag value for an error message, since it may hold a
// secret (a header with a token, a function key).
func shortArg(s string) string {
	if len(s) > 24 {
		return s[:12] + "…"
	}
	return s
}
