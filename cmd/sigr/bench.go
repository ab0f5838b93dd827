package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/loadtest"
)

// benchFlags are the flags of `sigr bench`.
type benchFlags struct {
	connectionString string
	hub              string
	headers          []string
	query            []string
	userPrefix       string

	connections int
	groups      int
	mode        string
	via         string
	rate        float64
	duration    time.Duration
	payloadSize int
	concurrency int
	settle      time.Duration

	json     bool
	quiet    bool
	yes      bool
	emulator bool
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench [URL]",
		Short: "Load-test a SignalR stack: many connections, traffic at a set rate, latency and losses",
		Long: `bench opens N connections (one user each, bench-<run>-0 ... -N-1, spread over
--groups groups if set) through the function app URL or a connection string,
sends messages at --rate per second for --duration through the function app
(--via functions) or the service REST API (--via rest), to everyone, to one
user at a time or to one group at a time (--to), and reports:

  connect time      p50, p90, p99, max of negotiate + WebSocket + handshake
  latency           p50, p90, p99, max from the send timestamp in each payload
                    to its arrival on a connection (one clock: this process)
  throughput        messages delivered per second
  emulator cost     with a connection string to sigr's emulator: the CPU time
                    and heap allocations of the emulator's process per
                    delivery, over the send phase (GET /_sigr/v1/process)
  errors, lost      failed connects and sends, dropped connections, and
                    deliveries that never arrived within --settle

A progress bar runs on standard error; --json prints the result as one JSON
object for machines. Against anything but this machine (loopback), bench says
how many connections it is about to open and needs --yes: it is a load
generator, so point it only at services you own. --emulator runs the whole
thing against an emulator it starts in a child process ('sigr emulator' on
free loopback ports), so that the emulator's cost is its own.`,
		Example: `  sigr bench --emulator -n 1000 --rate 1 --duration 30s
  sigr bench http://127.0.0.1:7071/api -n 200 --groups 10 --to group --rate 50
  sigr bench --connection-string "$CS" --via rest -n 500 --to user --json
  sigr bench https://myapp.azurewebsites.net/api --query code=KEY -n 100 --yes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runBench(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.connectionString, "connection-string", "", "Azure SignalR connection string: connect with minted tokens (without a URL) and send through the REST API (default $"+connectionStringEnv+" when no URL is given)")
	fs.StringVar(&f.hub, "hub", "", "hub name (default \"chat\")")
	fs.StringArrayVar(&f.headers, "header", nil, "extra header for the function app, \"Name: value\" (repeatable)")
	fs.StringArrayVar(&f.query, "query", nil, "extra query parameter for the function app, e.g. code=<function key> (repeatable)")
	fs.StringVar(&f.userPrefix, "user-prefix", "", "prefix of the user ids and group names (default bench-<random>)")
	fs.IntVarP(&f.connections, "connections", "n", 100, "connections to open, one user each")
	fs.IntVar(&f.groups, "groups", 0, "spread the users over this many groups (user i joins group i mod G)")
	fs.StringVar(&f.mode, "to", "broadcast", "who each message goes to: broadcast, user (round robin) or group (round robin)")
	fs.StringVar(&f.via, "via", "", "send path: functions (the function app's messages endpoint) or rest (the service REST API); default functions with a URL, rest with a connection string only")
	fs.Float64Var(&f.rate, "rate", 10, "messages sent per second")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long to send")
	fs.IntVar(&f.payloadSize, "payload-size", 0, "pad each message to about this many bytes (default: about 80)")
	fs.IntVar(&f.concurrency, "connect-concurrency", 64, "connects in flight at once")
	fs.DurationVar(&f.settle, "settle", 5*time.Second, "longest wait after the last send before missing messages count as lost")
	fs.BoolVar(&f.json, "json", false, "print the result as one JSON object")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	fs.BoolVar(&f.yes, "yes", false, "confirm a run against a host that is not this machine")
	fs.BoolVar(&f.emulator, "emulator", false, "run against an emulator started in a child process on free loopback ports")
	return cmd
}

func runBench(ctx context.Context, stdout, stderr io.Writer, args []string, f *benchFlags) error {
	o, cleanup, err := f.options(ctx, stderr, args)
	if err != nil {
		return err
	}
	defer cleanup()
	hosts, err := loadtest.Hosts(o)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	var remote []string
	for _, h := range hosts {
		if !loadtest.IsLoopback(h) {
			remote = append(remote, h)
		}
	}
	if len(remote) > 0 {
		plan := fmt.Sprintf("sigr bench will open %d connections to %s and send %.4g messages/s for %s (%s, via %s)",
			o.Connections, strings.Join(dedupe(remote), ", "), o.Rate, o.Duration, o.Mode, viaName(o))
		if !f.yes {
			return errors.New("bench: " + plan + "; that is not this machine, so rerun with --yes if you own that service")
		}
		fmt.Fprintln(stderr, plan+".")
	}
	if !f.quiet {
		o.Progress = loadtest.ProgressBar(stderr, isTerminal(stderr))
	}
	res, err := loadtest.Run(ctx, o)
	if err != nil {
		// The hint goes on now: the new error no longer wraps err.
		return errors.New("bench: " + strings.TrimPrefix(withFlagHint(err).Error(), "loadtest: "))
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	return res.WriteText(stdout)
}

func viaName(o loadtest.Options) string {
	if o.Via != "" {
		return string(o.Via)
	}
	if o.URL != "" {
		return string(loadtest.ViaFunctions)
	}
	return string(loadtest.ViaREST)
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// options turns the flags into loadtest options; with --emulator it
// starts the emulator in a child process, which cleanup stops.
func (f *benchFlags) options(ctx context.Context, stderr io.Writer, args []string) (loadtest.Options, func(), error) {
	nothing := func() {}
	o := loadtest.Options{
		Hub: f.hub, Connections: f.connections, Groups: f.groups, UserPrefix: f.userPrefix,
		Mode: loadtest.Mode(f.mode), Via: loadtest.Via(f.via), Rate: f.rate, Duration: f.duration,
		PayloadSize: f.payloadSize, ConnectConcurrency: f.concurrency, Settle: f.settle,
	}
	if f.connections <= 0 || f.rate <= 0 || f.duration <= 0 {
		return o, nothing, errors.New("bench: --connections, --rate and --duration must be more than 0")
	}
	if f.groups < 0 {
		return o, nothing, errors.New("bench: --groups cannot be negative")
	}
	id := identityFlags{headers: f.headers, query: f.query}
	h, err := id.header()
	if err != nil {
		return o, nothing, fmt.Errorf("bench: %w", err)
	}
	q, err := id.queryValues()
	if err != nil {
		return o, nothing, fmt.Errorf("bench: %w", err)
	}
	o.Header, o.Query = h, q
	if len(args) > 0 {
		o.URL = strings.TrimSpace(args[0])
	}
	o.ConnectionString = f.connectionString
	if f.emulator {
		if o.URL != "" || o.ConnectionString != "" {
			return o, nothing, errors.New("bench: --emulator starts its own stack; give no URL and no --connection-string with it")
		}
		addrs, stop, err := startBenchChild(ctx, stderr)
		if err != nil {
			return o, nothing, fmt.Errorf("bench: %w", err)
		}
		o.URL, o.ConnectionString = addrs.FunctionsURL, addrs.ConnectionString
		return o, stop, nil
	}
	if o.URL == "" && o.ConnectionString == "" {
		o.ConnectionString = os.Getenv(connectionStringEnv)
	}
	if o.URL == "" && o.ConnectionString == "" {
		return o, nothing, errors.New("bench: a function app URL is required, e.g. http://127.0.0.1:7071/api (or --connection-string, or $" + connectionStringEnv + ", or --emulator)")
	}
	if o.URL != "" {
		if err := checkURL(o.URL); err != nil {
			return o, nothing, fmt.Errorf("bench: %w", err)
		}
	}
	// Many sends share few hosts: keep enough idle connections per host
	// that a steady rate does not open a new TCP connection per send.
	o.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
	return o, nothing, nil
}
