package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/protocol"
)

// emulatorFlags are the flags of `sigr emulator`.
type emulatorFlags struct {
	functionsAddr  string
	serviceAddr    string
	accessKey      string
	cors           []string
	settings       string
	clientEndpoint string
	logFormat      string

	upstream         []string
	upstreamSettings string
	serviceOnly      bool
}

func newEmulatorCmd() *cobra.Command {
	var f emulatorFlags
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run the local serverless stack: Azure SignalR Service emulator and a function app",
		Long: `Run a local stand-in for Azure SignalR Service in serverless mode (client
negotiate, WebSockets, Server-Sent Events, long polling, the REST API) and
the function app of the serverless samples (/api/negotiate, /api/messages,
/api/groups, and the bidirectional chat hub at /runtime/webhooks/signalr),
in the foreground. Ctrl-C closes every client with a Close message that
allows reconnecting, then exits.

Client invocations and connected/disconnected events go upstream, as Azure
SignalR Service sends them to SignalRTrigger functions: by default to the
built-in function app; --upstream and --upstream-settings send them
elsewhere. Every upstream call is logged with its URL, event, status,
latency and, when it failed, the first line of the answer.

--service-only runs the service alone, a drop-in for the official emulator
in front of a real 'func start': put the printed connection string in
local.settings.json as Values.AzureSignalRConnectionString and give
--upstream http://127.0.0.1:7071/runtime/webhooks/signalr.

Flags win over --settings (a Functions local.settings.json: the key from
Values.AzureSignalRConnectionString, Host.CORS, Host.CORSCredentials and
Host.LocalHttpPort).`,
		Example: `  sigr emulator
  sigr emulator --cors http://localhost:8080
  sigr emulator --settings local.settings.json --log-format json
  sigr emulator --service-only --upstream http://127.0.0.1:7071/runtime/webhooks/signalr
  sigr emulator --service-only --upstream-settings settings.json
  sigr emulator --upstream 'http://127.0.0.1:9000/{hub}/{category}/{event}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulator(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.functionsAddr, "functions-addr", emulator.DefaultFunctionsAddr, "host:port of the function app")
	fl.StringVar(&f.serviceAddr, "service-addr", emulator.DefaultServiceAddr, "host:port of the SignalR service")
	fl.StringVar(&f.accessKey, "access-key", emulator.DefaultAccessKey, "access key that signs and checks tokens")
	fl.StringArrayVar(&f.cors, "cors", nil, "browser origin allowed by the function app (repeatable): a named origin with credentials, '*' any origin without them")
	fl.StringVar(&f.settings, "settings", "", "a Functions local.settings.json to read the key, CORS and port from")
	fl.StringVar(&f.clientEndpoint, "client-endpoint", "", "service URL handed to clients by negotiate (e.g. a proxy); default the service itself")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringArrayVar(&f.upstream, "upstream", nil, "upstream URL template for client invocations and connection events, with {hub}, {category}, {event} (repeatable, first match wins; default the built-in function app, none with --service-only)")
	fl.StringVar(&f.upstreamSettings, "upstream-settings", "", "the official emulator's settings.json (UpstreamSettings.Templates), re-read when it changes")
	fl.BoolVar(&f.serviceOnly, "service-only", false, "run the SignalR service alone, without the function app, in front of a real 'func start'")
	return cmd
}

// localSettings is the part of local.settings.json the emulator reads.
type localSettings struct {
	Values map[string]string `json:"Values"`
	Host   struct {
		LocalHTTPPort   json.Number `json:"LocalHttpPort"`
		CORS            string      `json:"CORS"`
		CORSCredentials *bool       `json:"CORSCredentials"`
	} `json:"Host"`
}

func runEmulator(cmd *cobra.Command, f emulatorFlags) error {
	var handler slog.Handler
	switch f.logFormat {
	case "text":
		handler = slog.NewTextHandler(cmd.ErrOrStderr(), nil)
	case "json":
		handler = slog.NewJSONHandler(cmd.ErrOrStderr(), nil)
	default:
		return fmt.Errorf("emulator: --log-format %q: use text or json", f.logFormat)
	}
	opts, err := stackOptions(cmd, f)
	if err != nil {
		return err
	}
	opts.Logger = slog.New(handler)

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := emulator.StartStack(ctx, opts)
	if err != nil {
		return err
	}
	printBanner(cmd.OutOrStdout(), st, opts)
	<-ctx.Done()
	fmt.Fprintln(cmd.ErrOrStderr(), "sigr emulator: shutting down, closing every client with allowReconnect")
	return st.Close()
}

// stackOptions turns the flags and the --settings file into the stack's
// options. --cors allows credentials for the named origins; "*" never
// carries them (the function app answers it with a literal "*").
func stackOptions(cmd *cobra.Command, f emulatorFlags) (emulator.StackOptions, error) {
	opts := emulator.StackOptions{
		ServiceAddr:     f.serviceAddr,
		FunctionsAddr:   f.functionsAddr,
		AccessKey:       f.accessKey,
		ClientEndpoint:  f.clientEndpoint,
		CORSOrigins:     f.cors,
		CORSCredentials: len(f.cors) > 0,
		ServiceOnly:     f.serviceOnly,
	}
	if f.settings != "" {
		if err := applySettings(cmd, f.settings, &opts); err != nil {
			return opts, err
		}
	}
	if err := applyUpstream(cmd, f, &opts); err != nil {
		return opts, err
	}
	if opts.AccessKey == "" {
		return opts, errors.New("emulator: the access key is empty; pass --access-key or leave the default")
	}
	return opts, nil
}

// applySettings reads local.settings.json into opts for every flag the
// user did not set.
func applySettings(cmd *cobra.Command, path string, opts *emulator.StackOptions) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("emulator: reading --settings: %w", err)
	}
	var ls localSettings
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&ls); err != nil {
		return fmt.Errorf("emulator: %s is not a local.settings.json: %v", path, err)
	}
	changed := cmd.Flags().Changed
	if s := ls.Values["AzureSignalRConnectionString"]; s != "" {
		cs, err := protocol.ParseConnectionString(s)
		if err != nil {
			return fmt.Errorf("emulator: %s: Values.AzureSignalRConnectionString: %w", path, err)
		}
		if !changed("access-key") && cs.AccessKey != "" {
			opts.AccessKey = cs.AccessKey
		}
		if !changed("client-endpoint") && cs.ClientEndpoint != "" {
			opts.ClientEndpoint = cs.ClientEndpoint
		}
	}
	if !changed("cors") && ls.Host.CORS != "" {
		opts.CORSOrigins = nil
		for _, o := range strings.Split(ls.Host.CORS, ",") {
			if o = strings.TrimSpace(o); o != "" {
				opts.CORSOrigins = append(opts.CORSOrigins, o)
			}
		}
		// Absent means false, as in Functions Core Tools.
		opts.CORSCredentials = ls.Host.CORSCredentials != nil && *ls.Host.CORSCredentials
	}
	if !changed("functions-addr") && ls.Host.LocalHTTPPort != "" {
		port, err := strconv.Atoi(ls.Host.LocalHTTPPort.String())
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("emulator: %s: Host.LocalHttpPort %q is not a port number", path, ls.Host.LocalHTTPPort)
		}
		host, _, err := net.SplitHostPort(opts.FunctionsAddr)
		if err != nil {
			host = "127.0.0.1"
		}
		opts.FunctionsAddr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	return nil
}

// applyUpstream checks the upstream flags before anything listens, so a
// typo fails at once instead of in the log of the first call.
func applyUpstream(cmd *cobra.Command, f emulatorFlags, opts *emulator.StackOptions) error {
	for _, raw := range f.upstream {
		t := emulator.UpstreamTemplate{URLTemplate: raw}
		if err := t.Validate(); err != nil {
			return fmt.Errorf("emulator: --upstream: %w", err)
		}
		opts.Service.Upstream = append(opts.Service.Upstream, t)
	}
	if f.upstreamSettings != "" {
		_, warns, err := emulator.LoadUpstreamSettings(f.upstreamSettings)
		if err != nil {
			return fmt.Errorf("emulator: --upstream-settings: %w", err)
		}
		for _, w := range warns {
			fmt.Fprintf(cmd.ErrOrStderr(), "sigr emulator: %s: %s\n", f.upstreamSettings, w)
		}
		opts.Service.UpstreamSettingsFile = f.upstreamSettings
	}
	return nil
}

// traceCommand is the sigr trace command line for the stack: the key is
// the well-known one unless the emulator runs with its own.
func traceCommand(st *emulator.Stack, opts emulator.StackOptions) string {
	if opts.AccessKey == "" || opts.AccessKey == emulator.DefaultAccessKey {
		return "sigr trace " + st.ServiceURL
	}
	return "sigr trace --connection-string '" + st.ConnectionString + "'"
}

func printBanner(w io.Writer, st *emulator.Stack, opts emulator.StackOptions) {
	if st.FunctionApp == nil {
		fmt.Fprintf(w, "sigr emulator: Azure SignalR Service (serverless) at %s, service only (no function app)\n", st.ServiceURL)
		fmt.Fprintf(w, "  connection string: %s\n", st.ConnectionString)
		fmt.Fprintln(w, "  func start:        put it in local.settings.json as Values.AzureSignalRConnectionString")
		fmt.Fprintf(w, "  trace:             %s\n", traceCommand(st, opts))
		printUpstream(w, st, opts)
		fmt.Fprintln(w, "Ctrl-C stops it.")
		return
	}
	fmt.Fprintf(w, "sigr emulator: Azure SignalR Service (serverless) at %s, function app at %s\n", st.ServiceURL, st.FunctionsURL)
	fmt.Fprintf(w, "  connection string: %s\n", st.ConnectionString)
	fmt.Fprintf(w, "  negotiate URL:     %s\n", st.NegotiateURL())
	if len(opts.CORSOrigins) > 0 {
		creds := "without credentials"
		if opts.CORSCredentials {
			creds = "named origins with credentials, * without"
		}
		fmt.Fprintf(w, "  CORS origins:      %s (%s)\n", strings.Join(opts.CORSOrigins, ", "), creds)
	}
	fmt.Fprintf(w, "  try:               curl -i -X POST '%s/messages' -H 'Content-Type: application/json' -d '{\"target\":\"newMessage\",\"arguments\":[\"hello\"]}'\n", st.FunctionsURL)
	fmt.Fprintf(w, "  watch:             sigr watch %s --user alice\n", st.FunctionsURL)
	fmt.Fprintf(w, "  trace:             %s\n", traceCommand(st, opts))
	printUpstream(w, st, opts)
	fmt.Fprintln(w, "Ctrl-C stops it.")
}

// printUpstream says where client invocations go, and when nowhere,
// which flag sends them somewhere.
func printUpstream(w io.Writer, st *emulator.Stack, opts emulator.StackOptions) {
	tpls := st.Service.UpstreamTemplates()
	for i, t := range tpls {
		label := "  upstream:          "
		if i > 0 {
			label = "                     "
		}
		fmt.Fprintf(w, "%s%s\n", label, t)
	}
	if opts.Service.UpstreamSettingsFile != "" {
		fmt.Fprintf(w, "  upstream settings: %s (re-read when it changes)\n", opts.Service.UpstreamSettingsFile)
	}
	if len(tpls) > 0 {
		return
	}
	fmt.Fprintln(w, "  upstream:          none: client invocations are dropped and connected/disconnected go nowhere")
	host, port, err := net.SplitHostPort(opts.FunctionsAddr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" || port == "0" {
		host, port = "127.0.0.1", "7071"
	}
	fmt.Fprintf(w, "                     for a func start, add --upstream http://%s%s\n", net.JoinHostPort(host, port), emulator.WebhookPath)
	if opts.Service.UpstreamSettingsFile == "" {
		if _, err := os.Stat("settings.json"); err == nil {
			fmt.Fprintln(w, "                     or use the official emulator's ./settings.json: --upstream-settings settings.json")
		}
	}
}
