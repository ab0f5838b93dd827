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
}

func newEmulatorCmd() *cobra.Command {
	var f emulatorFlags
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run the local serverless stack: Azure SignalR Service emulator and a function app",
		Long: `Run a local stand-in for Azure SignalR Service in serverless mode (client
negotiate, WebSockets, Server-Sent Events, long polling, the REST API) and
the function app of the serverless samples (/api/negotiate, /api/messages,
/api/groups), in the foreground. Ctrl-C closes every client with a Close
message that allows reconnecting, then exits.

Flags win over --settings (a Functions local.settings.json: the key from
Values.AzureSignalRConnectionString, Host.CORS, Host.CORSCredentials and
Host.LocalHttpPort).`,
		Example: `  sigr emulator
  sigr emulator --cors http://localhost:8080
  sigr emulator --settings local.settings.json --log-format json`,
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
	}
	if f.settings != "" {
		if err := applySettings(cmd, f.settings, &opts); err != nil {
			return opts, err
		}
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

func printBanner(w io.Writer, st *emulator.Stack, opts emulator.StackOptions) {
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
	fmt.Fprintln(w, "Ctrl-C stops it.")
}
