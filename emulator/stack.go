package emulator

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// StackOptions configure a Stack. Zero values take the defaults named on
// each field.
type StackOptions struct {
	// ServiceAddr is where the service listens. Default 127.0.0.1:8888; tests
	// use 127.0.0.1:0.
	ServiceAddr string
	// FunctionsAddr is where the function app listens. Default 127.0.0.1:7071.
	FunctionsAddr string
	// AccessKey is the service key. Default DefaultAccessKey.
	AccessKey string
	// ClientEndpoint, when set, is the service URL negotiate hands to
	// clients (e.g. a proxy in front of the service). Default: the service.
	ClientEndpoint string
	// CORSOrigins and CORSCredentials configure the function app's CORS.
	// Default: none.
	CORSOrigins     []string
	CORSCredentials bool
	// Logger is shared by both servers. Default slog.Default().
	Logger *slog.Logger
	// HTTP bounds each listener's HTTP connections (see HTTPLimits).
	HTTP HTTPLimits
	// Service tunes the service; its AccessKey, Endpoint, ClientEndpoint,
	// Logger and HTTP are set from the fields above. Its Upstream defaults
	// to the function app's /runtime/webhooks/signalr when the stack runs
	// the function app and neither Upstream nor UpstreamSettingsFile is set.
	Service ServiceOptions
	// ServiceOnly runs the service alone, without the function app: a
	// drop-in for the official emulator in front of a real `func start`.
	// There is no upstream unless Service.Upstream or
	// Service.UpstreamSettingsFile configure one. Default false.
	ServiceOnly bool
	// AnnounceConnections makes the function app's connected handler
	// broadcast newConnection {"connectionId"} to the hub, as the
	// bidirectional chat sample does. Default false: no client gets a
	// target it did not ask for.
	AnnounceConnections bool
}

// Stack is the emulated serverless pair, both servers running, or the
// service alone with StackOptions.ServiceOnly.
type Stack struct {
	Service *Service
	// FunctionApp is nil with ServiceOnly.
	FunctionApp *FunctionApp
	// ServiceURL is the service's base URL, e.g. http://127.0.0.1:8888.
	ServiceURL string
	// FunctionsURL is the function app's base URL, the one a client passes
	// to withUrl, e.g. http://127.0.0.1:7071/api; "" with ServiceOnly.
	FunctionsURL string
	// ConnectionString names the service and key, e.g.
	// Endpoint=http://127.0.0.1;Port=8888;AccessKey=...;Version=1.0;
	ConnectionString string
}

// ListenError is StartStack's failure to listen on one of its addresses
// (taken, or not this machine's); StackOptions.ServiceAddr or
// FunctionsAddr picks another.
type ListenError struct {
	Server string // "service" or "function app"
	Addr   string
	Err    error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("start emulator: the %s cannot listen on %s: %v; pick another address", e.Server, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// StartStack listens on both addresses and starts the service and the
// function app. Close stops both.
func StartStack(ctx context.Context, opts StackOptions) (*Stack, error) {
	if opts.ServiceAddr == "" {
		opts.ServiceAddr = DefaultServiceAddr
	}
	if opts.FunctionsAddr == "" {
		opts.FunctionsAddr = DefaultFunctionsAddr
	}
	if opts.AccessKey == "" {
		opts.AccessKey = DefaultAccessKey
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ClientEndpoint != "" {
		u, err := url.Parse(opts.ClientEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("start emulator: client endpoint %q is not an absolute http(s) URL", opts.ClientEndpoint)
		}
		opts.ClientEndpoint = strings.TrimRight(opts.ClientEndpoint, "/")
	}
	var lc net.ListenConfig
	sln, err := lc.Listen(ctx, "tcp", opts.ServiceAddr)
	if err != nil {
		return nil, &ListenError{Server: "service", Addr: opts.ServiceAddr, Err: err}
	}
	var fln net.Listener
	functionsBase := ""
	if !opts.ServiceOnly {
		fln, err = lc.Listen(ctx, "tcp", opts.FunctionsAddr)
		if err != nil {
			_ = sln.Close()
			return nil, &ListenError{Server: "function app", Addr: opts.FunctionsAddr, Err: err}
		}
		faddr := fln.Addr().(*net.TCPAddr)
		fhost := faddr.IP.String()
		if faddr.IP.IsUnspecified() {
			fhost = "127.0.0.1"
		}
		functionsBase = "http://" + net.JoinHostPort(fhost, fmt.Sprint(faddr.Port))
	}
	saddr := sln.Addr().(*net.TCPAddr)
	host := saddr.IP.String()
	if saddr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	serviceURL := "http://" + net.JoinHostPort(host, fmt.Sprint(saddr.Port))
	cs := protocol.ConnectionString{
		Endpoint:       serviceURL,
		AccessKey:      opts.AccessKey,
		Version:        "1.0",
		ClientEndpoint: opts.ClientEndpoint,
	}
	so := opts.Service
	so.AccessKey, so.Endpoint, so.ClientEndpoint, so.Logger, so.HTTP = opts.AccessKey, serviceURL, opts.ClientEndpoint, opts.Logger, opts.HTTP
	for i, t := range so.Upstream {
		if err := t.Validate(); err != nil {
			_ = sln.Close()
			if fln != nil {
				_ = fln.Close()
			}
			return nil, fmt.Errorf("start emulator: upstream %d: %w", i+1, err)
		}
	}
	if !opts.ServiceOnly && len(so.Upstream) == 0 && so.UpstreamSettingsFile == "" {
		so.Upstream = []UpstreamTemplate{{URLTemplate: functionsBase + WebhookPath}}
	}
	svc := NewService(so)
	st := &Stack{Service: svc, ServiceURL: serviceURL, ConnectionString: cs.String()}
	if !opts.ServiceOnly {
		fa, err := NewFunctionApp(FunctionAppOptions{
			ConnectionString:    cs.String(),
			CORSOrigins:         opts.CORSOrigins,
			CORSCredentials:     opts.CORSCredentials,
			Logger:              opts.Logger,
			HTTP:                opts.HTTP,
			HTTPClient:          &http.Client{Timeout: 30 * time.Second},
			AnnounceConnections: opts.AnnounceConnections,
		})
		if err != nil {
			_ = sln.Close()
			_ = fln.Close()
			_ = svc.Close()
			return nil, fmt.Errorf("start emulator: %w", err)
		}
		st.FunctionApp, st.FunctionsURL = fa, functionsBase+"/api"
		fa.Start(fln)
	}
	svc.Start(sln)
	return st, nil
}

// NegotiateURL is the function app's negotiate endpoint, "" with
// ServiceOnly.
func (s *Stack) NegotiateURL() string {
	if s.FunctionApp == nil {
		return ""
	}
	return s.FunctionsURL + "/negotiate"
}

// Close closes the service (every client gets a Close message with
// allowReconnect:true, and the function app their disconnected events),
// then stops the function app, and waits for both.
func (s *Stack) Close() error {
	err := s.Service.Close()
	if s.FunctionApp != nil {
		_ = s.FunctionApp.Close()
	}
	return err
}
