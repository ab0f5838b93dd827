package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

type traceFlags struct {
	connectionString string
	accessKey        string
	hub              string
	count            int
}

func newTraceCmd() *cobra.Command {
	tf := &traceFlags{}
	cmd := &cobra.Command{
		Use:   "trace [URL]",
		Short: "Print the emulator's live trace: connects, disconnects, deliveries, REST and upstream calls",
		Long: `trace prints what sigr's emulator sees, as it happens, one event line per
event on standard output ("event":"trace", with its "kind"):

  connected     a connection finished its handshake (connectionId, user, transport)
  disconnected  a connection ended, with the reason
  delivered     a message was written to N connections (target, route, recipients),
                with the reason when N is 0
  rest          a REST API call (method, path, status, delivered)
  upstream      a call to the upstream (url, upstreamEvent, status, latencyMs)
  expired       a user-group membership ran out
  dropped       this reader fell behind and missed count events there

URL is the service (http://127.0.0.1:8888) or a function app
(http://127.0.0.1:7071/api), whose negotiate leads to its service. The
requests are signed with the access key from --access-key or
--connection-string (default $AzureSignalRConnectionString when no URL is
given); for a service on this machine sigr also tries the emulator's
well-known key. Standard error says which key it used.

This is an extension of sigr's emulator. Azure SignalR Service has its own
Live Trace tool: in the Azure portal, open the SignalR resource, Monitoring →
Live trace settings.

It runs until Ctrl-C (exit 0), --count events, or the service ends the
stream (exit 1).`,
		Example: `  sigr trace http://127.0.0.1:8888
  sigr trace http://127.0.0.1:7071/api --hub chat
  sigr trace --connection-string "$AzureSignalRConnectionString" | jq 'select(.kind=="delivered")'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runTrace(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args, tf)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&tf.connectionString, "connection-string", "", "the service and its key as a connection string (default $"+connectionStringEnv+" when no URL is given)")
	fs.StringVar(&tf.accessKey, "access-key", "", "the service's access key, which signs the requests")
	fs.StringVar(&tf.hub, "hub", "", "only this hub's events (with a function app URL, also the hub its negotiate is asked for)")
	fs.IntVar(&tf.count, "count", 0, "exit after this many events (0: until Ctrl-C)")
	return cmd
}

// errEnough ends the trace after --count events.
var errEnough = errors.New("enough events")

func runTrace(ctx context.Context, stdout, stderr io.Writer, args []string, tf *traceFlags) error {
	if tf.hub != "" && !protocol.ValidHubName(tf.hub) {
		return fmt.Errorf("--hub %q is not a valid hub name", textsafe.Clip(tf.hub, 140))
	}
	src := inspectSource{connectionString: tf.connectionString, csFrom: "--connection-string", accessKey: tf.accessKey, hub: tf.hub}
	if len(args) > 0 {
		src.url = args[0]
	} else if src.connectionString == "" {
		src.connectionString, src.csFrom = os.Getenv(connectionStringEnv), "$"+connectionStringEnv
	}
	t, err := resolveInspect(ctx, src)
	if err != nil {
		return err
	}
	which := "every hub"
	if tf.hub != "" {
		which = "hub " + textsafe.Clip(tf.hub, 140)
	}
	fmt.Fprintf(stderr, "sigr: tracing %s at %s, signed with %s\n", which, textsafe.RedactURL(t.Endpoint), t.keyFrom)
	out := bufio.NewWriter(stdout)
	var buf []byte
	n := 0
	err = manage.Trace(ctx, t.Inspect, tf.hub, func(e protocol.TraceEvent) error {
		buf = protocol.AppendTraceEvent(buf[:0], &e)
		if _, err := out.Write(buf); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		n++
		if tf.count > 0 && n >= tf.count {
			return errEnough
		}
		return nil
	})
	switch {
	case errors.Is(err, errEnough), ctx.Err() != nil:
		return nil
	}
	return err
}
