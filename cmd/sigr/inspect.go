package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// liveTraceHint points a user of Azure SignalR Service, which has none of
// the emulator's extensions, at the service's own tool.
const liveTraceHint = "the live trace and hub state are extensions of sigr's emulator, which Azure SignalR Service does not have; " +
	"on Azure use its Live Trace tool: in the Azure portal, open the SignalR resource, Monitoring → Live trace settings, enable it and open the Live Trace tool"

// inspectSource is what a command knows about where the emulator's
// extensions are and which key signs requests to them: `sigr trace`'s
// arguments and flags, and the TUI's.
type inspectSource struct {
	url              string // a service URL (no path) or a function app URL, or ""
	connectionString string // names the service and its key
	csFrom           string // how the connection string came, for messages
	accessKey        string // --access-key
	hub              string // the hub for a function app's negotiate ("" its default)
}

// inspectTarget is a service whose extensions answered, with the key that
// worked.
type inspectTarget struct {
	manage.Inspect
	keyFrom string // e.g. "--access-key", "the emulator's well-known key"
}

// resolveInspect finds the service and a key it accepts. A function app
// URL leads to its service through negotiate (the redirect URL's origin).
// The keys are tried in order: --access-key, the connection string's,
// and for a service on this machine the emulator's well-known key. The
// first the service accepts on GET /_sigr/v1/hubs wins; keyFrom says
// which. A service that answers 404, or one elsewhere that does not
// answer, is not the emulator: the error says so and points at Azure's
// Live Trace.
func resolveInspect(ctx context.Context, src inspectSource) (inspectTarget, error) {
	endpoint, csKey, err := src.endpoint(ctx)
	if err != nil {
		return inspectTarget{}, err
	}
	local := isLoopbackURL(endpoint)
	type key struct{ key, from string }
	var keys []key
	add := func(k, from string) {
		for _, have := range keys {
			if have.key == k {
				return
			}
		}
		if k != "" {
			keys = append(keys, key{k, from})
		}
	}
	add(src.accessKey, "--access-key")
	add(csKey, src.csFrom)
	if local {
		add(emulator.DefaultAccessKey, "the emulator's well-known key")
	}
	shown := textsafe.RedactURL(endpoint)
	if len(keys) == 0 {
		return inspectTarget{}, fmt.Errorf("no access key for %s: pass --access-key or --connection-string (the emulator's well-known key is tried only for a service on this machine); if it is Azure SignalR Service, %s", shown, liveTraceHint)
	}
	var tried []string
	for _, k := range keys {
		in := manage.Inspect{Endpoint: endpoint, AccessKey: k.key}
		_, err := manage.Hubs(ctx, in)
		if err == nil {
			return inspectTarget{Inspect: in, keyFrom: k.from}, nil
		}
		var ee *manage.ExtensionError
		switch {
		case errors.As(err, &ee) && ee.NotEmulator():
			return inspectTarget{}, fmt.Errorf("%s answered 404 to %s: %s", shown, protocol.PathHubs, liveTraceHint)
		case errors.As(err, &ee) && ee.Status == 401:
			tried = append(tried, k.from)
		case !local:
			return inspectTarget{}, fmt.Errorf("%w; if %s is Azure SignalR Service, %s", err, shown, liveTraceHint)
		default:
			return inspectTarget{}, err
		}
	}
	return inspectTarget{}, fmt.Errorf("%s refused every key tried (%s): pass the key it runs with, --access-key KEY or --connection-string", shown, strings.Join(tried, ", "))
}

// endpoint returns the service's base URL, and the connection string's
// key when there is one.
func (src inspectSource) endpoint(ctx context.Context) (string, string, error) {
	if src.url != "" {
		if err := checkURL(src.url); err != nil {
			return "", "", err
		}
		u, err := url.Parse(strings.TrimSpace(src.url))
		if err != nil {
			return "", "", err // checkURL has parsed it already
		}
		key := ""
		if src.connectionString != "" {
			cs, err := protocol.ParseConnectionString(src.connectionString)
			if err != nil {
				return "", "", err
			}
			key = cs.AccessKey
		}
		if strings.Trim(u.Path, "/") == "" {
			return u.Scheme + "://" + u.Host, key, nil
		}
		svc, err := serviceOf(ctx, src.url, src.hub)
		return svc, key, err
	}
	if src.connectionString == "" {
		return "", "", errors.New("a URL is required: the service's (e.g. http://127.0.0.1:8888) or the function app's (e.g. http://127.0.0.1:7071/api); or --connection-string, or $" + connectionStringEnv)
	}
	cs, err := protocol.ParseConnectionString(src.connectionString)
	if err != nil {
		return "", "", err
	}
	return strings.TrimRight(cs.RESTBase(), "/"), cs.AccessKey, nil
}

// serviceOf finds the service behind a function app: the origin of the
// URL its negotiate redirects to, with any path before /client (a
// service behind a proxy).
func serviceOf(ctx context.Context, appURL, hub string) (string, error) {
	fa, err := manage.NewFunctionApp(appURL, manage.FunctionAppOptions{})
	if err != nil {
		return "", err
	}
	ca, err := fa.Negotiate(ctx, hub)
	if err != nil {
		return "", fmt.Errorf("finding the service behind %s: %w; or give the service's URL (e.g. http://127.0.0.1:8888)", textsafe.RedactURL(appURL), err)
	}
	u, err := url.Parse(ca.URL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("finding the service behind %s: negotiate redirects to %q, which is not a URL", textsafe.RedactURL(appURL), textsafe.RedactURL(ca.URL))
	}
	p, _, _ := strings.Cut(u.Path, "/client")
	return u.Scheme + "://" + u.Host + strings.TrimRight(p, "/"), nil
}

// isLoopbackURL reports whether the URL's host is this machine.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
