package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
	"github.com/sigr-dev/sigr/tui"
)

// tuiFlags are the flags of the commands that open the terminal interface:
// the identity flags plus the history size and the service's access key.
type tuiFlags struct {
	id        *identityFlags
	conn      *connFlags
	history   int
	accessKey string
}

func addTUIFlags(cmd *cobra.Command) *tuiFlags {
	f := &tuiFlags{id: addIdentityFlags(cmd), conn: addConnFlags(cmd)}
	cmd.Flags().IntVar(&f.history, "history", tui.DefaultHistory, "how many messages the stream keeps")
	cmd.Flags().StringVar(&f.accessKey, "access-key", "", "the service's access key: checks token signatures in the token inspector and reads the emulator's live state and trace (default: the connection string's; for a service on this machine the emulator's well-known key is tried too)")
	return f
}

func newConnectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connect URL",
		Short: "Open the live monitor and chat client on a function app (also: sigr URL)",
		Long: `connect negotiates with a function app (the URL a JavaScript client passes to
withUrl, such as http://127.0.0.1:7071/api) or any ASP.NET Core hub, connects,
and opens the terminal interface: every message that arrives, per
connection, with the route it took; a composer that sends through the app's
messages function (or the service REST API with --connection-string), or
invokes a hub method over the selected connection (to: invoke or stream;
the default on a plain hub, which has no function app); n opens more
connections as other identities. Press ? inside for the keys.`,
		Example: `  sigr http://127.0.0.1:7071/api --user alice
  sigr connect https://myapp.azurewebsites.net/api --user alice --query code=KEY
  sigr connect --connection-string "$AzureSignalRConnectionString" --user alice
  sigr http://localhost:5000/chathub --user alice`,
		Args: cobra.MaximumNArgs(1),
	}
	f := addTUIFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return runConnect(cmd, args, f) }
	return cmd
}

// runConnect runs the terminal interface for `sigr URL` and `sigr connect
// URL`, with the flags of the one that ran.
func runConnect(cmd *cobra.Command, args []string, f *tuiFlags) error {
	baseURL, cs, err := f.id.resolve(args)
	if err != nil {
		return err
	}
	if err := requireTerminal(cmd.OutOrStdout(), cmd.CommandPath()+" URL", "to print each event as a line, run sigr watch with the same URL and flags"); err != nil {
		return err
	}
	opts, err := f.id.clientOptions(baseURL, cs, f.conn)
	if err != nil {
		return err
	}
	// No hub is invented: a function app picks its default, and a plain
	// hub, whose URL is the hub, needs none. Only a connection string
	// needs one to mint a token for.
	setup := tuiSetup{base: opts, history: f.history, hub: opts.Hub, as: opts.UserID, accessKey: f.accessKey}
	if cs != "" {
		setup.hub = f.id.restHub()
		if setup.accessKey == "" {
			c, err := protocol.ParseConnectionString(cs)
			if err != nil {
				return err
			}
			setup.accessKey = c.AccessKey
		}
	}
	s, err := f.id.sender(baseURL, cs)
	if err != nil {
		return err
	}
	setup.sender, setup.url = &tui.ClientSender{Via: s.Sender}, s.url
	setup.specs = []tui.ConnSpec{{Hub: setup.hub, User: opts.UserID}}
	csFrom := "--connection-string"
	if f.id.connectionString == "" {
		csFrom = "$" + connectionStringEnv
	}
	setup.inspect = inspectSource{url: baseURL, connectionString: cs, csFrom: csFrom, accessKey: f.accessKey, hub: f.id.hub}
	return runTUI(cmd.Context(), setup)
}

// findTimeout bounds the search for the service's view, so that a
// service that does not answer leaves the sidebar to the screen's own
// bookkeeping soon.
const findTimeout = 10 * time.Second

// finder finds the service's view for the TUI as `sigr trace` does: the
// emulator's extensions, with the first key they accept.
func finder(src inspectSource) tui.FindInspector {
	return func(ctx context.Context) (tui.ServiceFound, error) {
		ctx, cancel := context.WithTimeout(ctx, findTimeout)
		defer cancel()
		t, err := resolveInspect(ctx, src)
		if err != nil {
			return tui.ServiceFound{}, err
		}
		return tui.ServiceFound{Inspector: &tui.ClientInspector{Inspect: t.Inspect}, From: textsafe.RedactURL(t.Endpoint) + ", " + t.keyFrom,
			AccessKey: t.AccessKey}, nil
	}
}

// tuiSetup is what runTUI needs: how to connect, who to connect as first,
// and how to send.
type tuiSetup struct {
	base    client.Options
	specs   []tui.ConnSpec
	sender  tui.Sender
	url     string // shown in the status line
	hub     string
	history int
	notice  string
	groups  []tui.GroupMember // memberships made before the screen starts
	// as is who the composer sends as at first ("" is tui.DefaultSender);
	// accessKey, when known, checks token signatures.
	as, accessKey string
	// inspect is where the service's own view may be found.
	inspect inspectSource
}

// runTUI opens the connections and runs the interface until q or ctrl+c,
// then closes every connection and waits for them.
func runTUI(ctx context.Context, s tuiSetup) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The interface owns the terminal: logs written to stderr would tear
	// the screen, and every failure shows in the error panel instead.
	s.base.Logger = slog.New(slog.DiscardHandler)
	sess := tui.NewClientSession(s.base)
	feed := tui.NewFeed(sess.Conns(), 0, s.history)
	view := tui.NewServiceView(ctx, finder(s.inspect), 0)
	defer view.Stop()
	m := tui.New(tui.Config{
		Context: ctx, Session: sess, Sender: s.sender, Feed: feed,
		URL: s.url, Hub: s.hub, History: s.history, Notice: s.notice, Groups: s.groups,
		As: s.as, AccessKey: s.accessKey, Service: view, Initial: len(s.specs),
	})
	var openErr error
	for _, spec := range s.specs {
		if err := sess.Open(ctx, spec); err != nil {
			openErr = err
			break
		}
	}
	if openErr == nil {
		_, openErr = tea.NewProgram(m, tea.WithContext(ctx)).Run()
		if errors.Is(openErr, tea.ErrInterrupted) {
			openErr = nil
		}
	}
	feed.Stop()
	closeErr := sess.Close()
	if openErr != nil {
		return openErr
	}
	if closeErr != nil {
		slog.Debug("closing connections", "error", closeErr)
	}
	return nil
}
