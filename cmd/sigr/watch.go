package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

type watchFlags struct {
	id        *identityFlags
	conn      *connFlags
	count     int
	pings     bool
	raw       bool
	retry     bool
	forever   bool
	readLimit int64
	verbose   bool
	format    string
}

func newWatchCmd() *cobra.Command {
	wf := &watchFlags{}
	cmd := &cobra.Command{
		Use:   "watch [URL]",
		Short: "Print every event of a hub connection as a line: JSON, or text on a terminal",
		Long: `watch connects like the official JavaScript client (negotiate at URL, follow
the redirect to the service, WebSockets, else Server-Sent Events, else long
polling, JSON hub protocol) and writes one line on standard output for every
message and every state change: a JSON object (--format json, the default
when standard output is a pipe or a file), or aligned text in the columns of
the live monitor's stream, coloured unless NO_COLOR is set (--format text,
the default on a terminal). Logs go to standard error. It reconnects on its
own (0, 2, 10, 30 s).

It exits 0 after --count invocations or on Ctrl-C, and 1 with a one-line
reason when the connection cannot be made or is closed for good.`,
		Example: `  sigr watch http://127.0.0.1:7071/api --user alice
  sigr watch https://myapp.azurewebsites.net/api --query code=$KEY --count 10
  sigr watch --connection-string "$AzureSignalRConnectionString" --hub chat --user bob
  sigr watch http://127.0.0.1:7071/api --transport longpolling
  sigr watch http://127.0.0.1:7071/api --stateful-reconnect
  sigr watch http://127.0.0.1:7071/api --format json | jq .`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runWatch(ctx, cmd.OutOrStdout(), args, wf)
		},
	}
	wf.id = addIdentityFlags(cmd)
	wf.conn = addConnFlags(cmd)
	fs := cmd.Flags()
	fs.IntVar(&wf.count, "count", 0, "exit after this many invocations (0: run until Ctrl-C)")
	fs.BoolVar(&wf.pings, "pings", false, "also print ping lines")
	fs.BoolVar(&wf.raw, "raw", false, "add each raw record (raw, or rawBase64 when not UTF-8) and the handshake response")
	fs.BoolVar(&wf.retry, "retry", false, "retry the first connect with the reconnect policy instead of failing at once")
	fs.BoolVar(&wf.forever, "forever", false, "never stop reconnecting (repeat the last delay, 30 s)")
	fs.Int64Var(&wf.readLimit, "read-limit", client.DefaultReadLimit, "largest message accepted, in bytes (-1: no limit)")
	fs.BoolVarP(&wf.verbose, "verbose", "v", false, "debug logs on standard error")
	fs.StringVar(&wf.format, "format", "", "json (one JSON object per line) or text (aligned columns); default text on a terminal, json otherwise")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]cobra.Completion{
		cobra.CompletionWithDesc(formatJSON, "one JSON object per line, for programs"),
		cobra.CompletionWithDesc(formatText, "aligned columns, coloured on a terminal"),
	}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// watchFlushSize is the output buffer: large enough that a burst of lines
// costs few write system calls, flushed whenever no event is waiting.
const watchFlushSize = 64 << 10

func runWatch(ctx context.Context, stdout io.Writer, args []string, wf *watchFlags) error {
	baseURL, cs, err := wf.id.resolve(args)
	if err != nil {
		return err
	}
	format, err := watchFormat(wf.format, wf.raw, stdout)
	if err != nil {
		return err
	}
	o, err := wf.id.clientOptions(baseURL, cs, wf.conn)
	if err != nil {
		return err
	}
	o.Pings = wf.pings
	o.ReadLimit = wf.readLimit
	o.RetryFirstConnect = wf.retry
	if wf.forever {
		o.Reconnect = client.Backoff{Delays: client.OfficialDelays, Jitter: 0.2, Forever: true}
	}
	o.Logger = stderrLogger(wf.verbose)
	c, err := client.New(o)
	if err != nil {
		return err
	}

	startErr := make(chan error, 1)
	go func() { startErr <- c.Start(ctx) }()

	out := bufio.NewWriterSize(stdout, watchFlushSize)
	lw := newLineWriter(out, wf.raw, c.Hub(), wf.id)
	var w eventWriter = lw
	if format == formatText {
		w = newTextWriter(lw, stdout)
	}
	events := c.Events()
	invocations := 0
	var last client.Event
	finish := func(err error) error {
		c.Close()
		serr := <-startErr
		// Print what is left: the final state line, nothing more from the
		// wire once --count is reached.
		for ev := range events {
			if ev.Kind == client.EventState {
				w.write(ev)
			}
		}
		if ferr := out.Flush(); ferr != nil && err == nil {
			err = ferr
		}
		if err == nil && serr != nil && ctx.Err() == nil && !errors.Is(serr, client.ErrClosed) {
			err = serr
		}
		return err
	}
	done := ctx.Done()
	for {
		// Two receives that do not wait, rather than one select over both
		// channels, which locks both for every event of a flood.
		select {
		case <-done:
			return finish(nil)
		default:
		}
		var ev client.Event
		var ok bool
		select {
		case ev, ok = <-events:
		default:
			// Nothing waiting: a good moment to show what we have.
			if err := out.Flush(); err != nil {
				return finish(err)
			}
			select {
			case ev, ok = <-events:
			case <-done:
				return finish(nil)
			}
		}
		if !ok {
			break
		}
		last = ev
		w.write(ev)
		if ev.Kind == client.EventMessage && ev.Message.Type == protocol.TypeInvocation {
			invocations++
			if wf.count > 0 && invocations >= wf.count {
				if err := out.Flush(); err != nil {
					return finish(err)
				}
				return finish(nil)
			}
		}
	}
	// The connection ended on its own: Start failed, the server closed it
	// for good, or reconnecting gave up.
	if err := out.Flush(); err != nil {
		return err
	}
	serr := <-startErr
	if serr != nil {
		return serr
	}
	if last.Err != nil {
		return fmt.Errorf("connection closed: %w", last.Err)
	}
	return nil
}

// eventWriter writes an event to watch's output, in one format or another.
type eventWriter interface {
	write(ev client.Event)
}

// lineWriter turns events into event lines (docs/events.md).
type lineWriter struct {
	out   *bufio.Writer
	buf   []byte
	raw   bool
	hub   string
	label string
	id    *identityFlags
}

// newLineWriter returns a lineWriter on out for a connection to hub, as
// id names it; the hub is lower case, as the service and the label have
// it.
func newLineWriter(out *bufio.Writer, raw bool, hub string, id *identityFlags) *lineWriter {
	hub = strings.ToLower(hub)
	return &lineWriter{out: out, raw: raw, hub: hub, label: id.label(hub), id: id}
}

// track learns the hub from ev: a redirect to Azure SignalR names it on
// the handshake and Connected events.
func (w *lineWriter) track(ev client.Event) {
	if ev.Hub != "" && ev.Hub != w.hub {
		w.hub, w.label = ev.Hub, w.id.label(ev.Hub)
	}
}

func (w *lineWriter) write(ev client.Event) {
	b := w.buf[:0]
	// Negotiate has told the hub: the handshake line already gets it.
	w.track(ev)
	ectx := protocol.EventContext{Connection: w.label, Hub: w.hub}
	switch ev.Kind {
	case client.EventMessage:
		if w.raw {
			ectx.Raw = ev.Raw
		}
		b = protocol.AppendMessageEvent(b, ev.Time, &ev.Message, ectx)
	case client.EventState:
		se := protocol.StateEvent{
			Connection:   w.label,
			Hub:          w.hub,
			State:        ev.State.String(),
			Transport:    ev.Transport,
			ConnectionID: ev.ConnectionID,
			Attempt:      ev.Attempt,
			RetryIn:      ev.RetryIn,
			Resumed:      ev.Resumed,
		}
		if ev.Err != nil {
			se.Error = ev.Err.Error() + flagHint(ev.Err)
		}
		b = protocol.AppendStateEvent(b, ev.Time, se)
	case client.EventError:
		ectx.Raw = ev.Raw
		b = protocol.AppendErrorEvent(b, ev.Time, ev.Err.Error(), ectx)
	case client.EventHandshake:
		if !w.raw {
			return
		}
		hr, err := protocol.ParseHandshakeResponse(ev.Raw)
		if err != nil {
			return
		}
		ectx.Raw = ev.Raw
		b = protocol.AppendHandshakeResponseEvent(b, ev.Time, hr, ectx)
	default:
		return
	}
	w.buf = b
	_, _ = w.out.Write(b)
}
