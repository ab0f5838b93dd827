package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// defaultInvokeTimeout is how long invoke waits for an answer.
const defaultInvokeTimeout = 30 * time.Second

// exitInterrupted is the shell's status for a command ended by Ctrl-C.
const exitInterrupted = 130

type invokeFlags struct {
	id        *identityFlags
	conn      *connFlags
	target    string
	stream    bool
	noWait    bool
	timeout   time.Duration
	argsFile  string
	raw       bool
	readLimit int64
	verbose   bool
}

func newInvokeCmd() *cobra.Command {
	f := &invokeFlags{}
	cmd := &cobra.Command{
		Use:   "invoke [URL] --target METHOD [ARG...]",
		Short: "Call a hub method over a connection and print its answer",
		Long: `invoke connects like watch, calls one hub method over the connection, prints
what comes back as event lines on standard output, and exits. It works on any
ASP.NET Core hub (the URL is the hub's, e.g. http://localhost:5000/chathub),
and on Azure SignalR Service in serverless mode when the hub has an upstream
(sigr emulator has one by default).

Each ARG is a JSON value; a bare word that is not JSON is taken as a string,
while a word that starts like JSON ({, [ or ") but does not parse is an
error. --args-file reads one JSON array of arguments from a file, or from
standard input with -.

By default it sends an Invocation and prints its completion line: exit 0
with a result or from a void method, exit 1 with the hub's error. --stream
sends a StreamInvocation and prints each streamItem line, then the
completion; Ctrl-C cancels the stream (CancelInvocation) and exits 0.
--no-wait sends an Invocation without an id (the client's send): no answer
comes, and it exits 0 once the message is written.

--timeout bounds the wait, connecting included, for the completion (for
--stream, for the first item or the completion); 0 waits for ever. When it
passes, the exit status is 1 with the likely cause. Ctrl-C before the
completion of a plain invocation exits 130.`,
		Example: `  sigr invoke http://localhost:5000/chathub --target SendMessage alice '"hello"'
  sigr invoke http://127.0.0.1:7071/api --user alice --target echo '{"x":1}'
  sigr invoke http://localhost:5000/hub --stream --target Counter 10 500
  echo '["alice", "hi"]' | sigr invoke http://localhost:5000/chathub --target SendMessage --args-file -
  sigr invoke --connection-string "$AzureSignalRConnectionString" --hub chat --target broadcast hi`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runInvoke(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), args, f)
		},
	}
	f.id = addIdentityFlags(cmd)
	f.conn = addConnFlags(cmd)
	fs := cmd.Flags()
	fs.StringVar(&f.target, "target", "", "the hub method to invoke")
	fs.BoolVar(&f.stream, "stream", false, "send a StreamInvocation and print its items until the completion (Ctrl-C cancels)")
	fs.BoolVar(&f.noWait, "no-wait", false, "send an Invocation without an id and exit once it is written: no answer is asked for")
	fs.DurationVar(&f.timeout, "timeout", defaultInvokeTimeout, "how long to wait, connecting included, for the completion (with --stream, the first item); 0: for ever")
	fs.StringVar(&f.argsFile, "args-file", "", "read the arguments from this file as one JSON array (- reads standard input)")
	fs.BoolVar(&f.raw, "raw", false, "add each raw record (raw, or rawBase64 when not UTF-8) to its line")
	fs.Int64Var(&f.readLimit, "read-limit", client.DefaultReadLimit, "largest message accepted, in bytes (-1: no limit)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "debug logs on standard error")
	return cmd
}

func runInvoke(ctx context.Context, stdin io.Reader, stdout io.Writer, args []string, f *invokeFlags) error {
	urlArgs, words := splitURLArg(f.id, args)
	baseURL, cs, err := f.id.resolve(urlArgs)
	if err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(f.target) == "":
		return errors.New("--target is required: the hub method to invoke, e.g. --target echo")
	case f.stream && f.noWait:
		return errors.New("--stream and --no-wait do not go together: a stream's answer is its items")
	case f.timeout < 0:
		return errors.New("--timeout must be 0 (wait for ever) or more")
	}
	hubArgs, err := readArgs(stdin, words, f.argsFile)
	if err != nil {
		return err
	}
	o, err := f.id.clientOptions(baseURL, cs, f.conn)
	if err != nil {
		return err
	}
	// One call: a lost connection loses its answer, so reconnecting would
	// only hide why.
	o.Reconnect = client.NoReconnect
	o.ReadLimit = f.readLimit
	o.Logger = stderrLogger(f.verbose)
	c, err := client.New(o)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	inv := &invocation{f: f, c: c, out: out, args: hubArgs,
		w: newLineWriter(out, f.raw, c.Hub(), f.id)}
	inv.service = cs != ""
	err = inv.run(ctx)
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// invocation is one run of `sigr invoke`: the connection, the call on it,
// and what has been seen of its answer.
type invocation struct {
	f    *invokeFlags
	c    *client.Conn
	out  *bufio.Writer
	w    *lineWriter
	args json.RawMessage

	id      string // the invocation id, once written
	service bool   // Azure SignalR Service (a redirect or a connection string)
	last    client.Event
}

// run connects, invokes and waits for the answer; it closes the connection
// and waits for it whatever happens.
func (iv *invocation) run(ctx context.Context) (err error) {
	c := iv.c
	startErr := make(chan error, 1)
	go func() { startErr <- c.Start(ctx) }()
	var serr error
	started := false
	defer func() {
		c.Close()
		if !started {
			serr = <-startErr
		}
		for range c.Events() {
		}
		if err == nil && serr != nil && ctx.Err() == nil && !errors.Is(serr, client.ErrClosed) {
			err = serr
		}
	}()
	var expire <-chan time.Time
	if iv.f.timeout > 0 {
		t := time.NewTimer(iv.f.timeout)
		defer t.Stop()
		expire = t.C
	}
	events := c.Events()

	// Connect: Start ends with the connection up, or with why not.
	for !started {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil // Start is about to say why
				continue
			}
			iv.see(ev)
		case serr = <-startErr:
			started = true
			if serr != nil {
				return serr
			}
		case <-ctx.Done():
			return exitError{code: exitInterrupted, msg: "interrupted while connecting"}
		case <-expire:
			return iv.connectTimeout()
		}
	}

	target := iv.f.target
	var st *client.Stream
	switch {
	case iv.f.noWait:
		return c.Send(ctx, target, iv.args)
	case iv.f.stream:
		s, err := c.Stream(ctx, target, iv.args)
		if err != nil {
			return err
		}
		st, iv.id = s, s.ID()
		// Items are printed from the events; the stream's own channel
		// must still be read, or the connection waits for its reader.
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for {
				if _, err := st.Next(context.Background()); err != nil {
					return
				}
			}
		}()
		defer func() {
			st.Close()
			<-drained
		}()
	default:
		cl, err := c.Call(ctx, target, iv.args)
		if err != nil {
			return err
		}
		iv.id = cl.ID()
	}

	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return iv.lost()
			}
			iv.see(ev)
			if ev.Kind != client.EventMessage || ev.Message.InvocationID != iv.id {
				continue
			}
			switch ev.Message.Type {
			case protocol.TypeStreamItem:
				iv.w.write(ev)
				expire = nil // the stream has answered; it runs until its end
				if len(events) > 0 {
					continue // flushed with the next line
				}
				if err := iv.out.Flush(); err != nil {
					return err
				}
			case protocol.TypeCompletion:
				iv.w.write(ev)
				if ev.Message.Has(protocol.FieldError) {
					return exitError{code: 1, msg: "invoke " + textsafe.Line(target) + ": " + textsafe.Line(ev.Message.Error)}
				}
				return nil
			}
		case <-ctx.Done():
			if st != nil {
				// The deferred Close writes the CancelInvocation.
				return nil
			}
			return exitError{code: exitInterrupted, msg: "interrupted before the completion of " + textsafe.Line(target) + " arrived"}
		case <-expire:
			return iv.answerTimeout()
		}
	}
}

// see notes an event: the hub the service names, and the last state.
func (iv *invocation) see(ev client.Event) {
	iv.w.track(ev)
	if ev.Kind == client.EventState {
		iv.last = ev
		if ev.Hub != "" {
			iv.service = true
		}
	}
}

// lost says why the connection ended before the answer.
func (iv *invocation) lost() error {
	why := "the server closed it"
	if iv.last.Err != nil {
		why = iv.last.Err.Error() + flagHint(iv.last.Err)
	}
	return fmt.Errorf("the connection ended before the completion of %s arrived: %s", textsafe.Line(iv.f.target), why)
}

func (iv *invocation) connectTimeout() error {
	msg := fmt.Sprintf("could not connect within %s (--timeout)", iv.f.timeout)
	if iv.last.Err != nil {
		msg += ": " + iv.last.Err.Error() + flagHint(iv.last.Err)
	}
	return errors.New(msg)
}

// answerTimeout names the likely cause of a missing answer, which depends
// on what is at the other end.
func (iv *invocation) answerTimeout() error {
	what := "no completion"
	if iv.f.stream {
		what = "no stream item and no completion"
	}
	msg := fmt.Sprintf("%s for %s within %s: ", what, textsafe.Line(iv.f.target), iv.f.timeout)
	if iv.service {
		msg += "Azure SignalR Service in serverless mode drops a client's invocations unless the hub has an upstream " +
			"(the portal's Settings → Upstream, a URL template pointing at the function app's /runtime/webhooks/signalr); " +
			"sigr emulator sends them to its function app unless started with --service-only, which needs --upstream"
	} else {
		msg += "the hub may have no method " + textsafe.Line(iv.f.target) +
			" (ASP.NET Core answers an unknown method with an error, other servers may stay silent), or it is still running: raise --timeout"
	}
	return errors.New(msg)
}
