package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
	"github.com/sigr-dev/sigr/tui"
)

type demoFlags struct {
	functionsAddr string
	serviceAddr   string
	history       int
	every         time.Duration
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start the local emulator with simulated chat users and open the live monitor on it",
		Long: `demo starts the emulator in-process on free loopback ports (the function app
and the service), connects the terminal interface as alice (twice) and bob (in
group devs) over real connections, and runs simulated chat users about once a
second: carol and erin post through the function app (to everyone, to a user,
to the group); dave has a connection of his own and chats by invoking the hub
method broadcast over it, which the service sends upstream to the function
app's bidirectional chat hub. Every new connection is announced with
newConnection, as in that sample. The status line shows the function app URL,
so that 'sigr send URL --text hi' from another terminal lands on the screen.
q or ctrl+c stops everything.`,
		Example: `  sigr demo
  sigr demo --functions-addr 127.0.0.1:7071 --service-addr 127.0.0.1:8888`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireTerminal(cmd.OutOrStdout(), "sigr demo", "to run its pieces without one, start sigr emulator, then sigr watch and sigr send on http://127.0.0.1:7071/api"); err != nil {
				return err
			}
			return runDemo(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.functionsAddr, "functions-addr", "127.0.0.1:0", "host:port of the function app (port 0: a free one)")
	fl.StringVar(&f.serviceAddr, "service-addr", "127.0.0.1:0", "host:port of the service (port 0: a free one)")
	fl.IntVar(&f.history, "history", tui.DefaultHistory, "how many messages the stream keeps")
	fl.DurationVar(&f.every, "every", time.Second, "mean time between two simulated chat messages")
	return cmd
}

func runDemo(ctx context.Context, f demoFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.every <= 0 {
		return fmt.Errorf("demo: --every %v: give a positive duration such as 1s", f.every)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	st, err := emulator.StartStack(ctx, emulator.StackOptions{
		FunctionsAddr: f.functionsAddr, ServiceAddr: f.serviceAddr, Logger: quiet,
		AnnounceConnections: true,
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer func() { _ = st.Close() }()

	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// bob joins devs before connecting: a user's membership applies to
	// the connections it opens later.
	if _, err := fa.Group(ctx, "chat", protocol.SignalRGroupAction{Action: protocol.GroupAdd, GroupName: "devs", UserID: "bob"}); err != nil {
		return fmt.Errorf("demo: put bob in group devs: %w", err)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	dave, err := connectDemoUser(ctx, st.FunctionsURL, "dave", &wg)
	if err != nil {
		return err
	}
	defer func() { _ = dave.Close() }()
	defer cancel()
	wg.Go(func() { simulateChat(ctx, fa, dave, f.every) })

	cs, err := protocol.ParseConnectionString(st.ConnectionString)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return runTUI(ctx, tuiSetup{
		as:        "alice",
		accessKey: cs.AccessKey,
		inspect:   inspectSource{url: st.ServiceURL, connectionString: st.ConnectionString, csFrom: "the demo's key"},
		base:      client.Options{URL: st.FunctionsURL},
		specs:     []tui.ConnSpec{{Hub: "chat", User: "alice"}, {Hub: "chat", User: "bob"}, {Name: "alice#2@chat", Hub: "chat", User: "alice"}},
		sender:    &tui.ClientSender{Via: fa},
		url:       st.FunctionsURL,
		hub:       "chat",
		history:   f.history,
		groups:    []tui.GroupMember{{Hub: "chat", Group: "devs", Member: "bob"}},
		notice:    fmt.Sprintf("demo: try  sigr send %s --text hi  from another terminal; r shows routing, ? the keys", st.FunctionsURL),
	})
}

// demoLines are what the simulated users say.
var demoLines = []string{
	"morning all", "the build is green again", "who has the release notes?", "deploying to staging",
	"lunch in 10?", "PR #42 is ready for review", "rolling back, one sec", "looks good to me",
	"can someone check the dashboard?", "coffee ☕", "naïve café test: 漢字 ok", "brb",
}

// connectDemoUser connects a simulated user of the demo over the hub and
// drains its events on wg until the connection is closed.
func connectDemoUser(ctx context.Context, functionsURL, user string, wg *sync.WaitGroup) (*client.Conn, error) {
	c, err := client.New(client.Options{URL: functionsURL, UserID: user})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := c.Start(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("demo: connect the simulated user %s: %w", user, err)
	}
	wg.Go(func() {
		for range c.Events() { // the receive path waits for a reader
		}
	})
	return c, nil
}

// simulateChat chats about every `every`, until ctx ends: carol and erin
// post a chat message through s (the function app), to everyone, to alice,
// to bob, or to the group devs; dave invokes the hub's broadcast method
// over his own connection (the serverless upstream).
func simulateChat(ctx context.Context, s manage.Sender, dave *client.Conn, every time.Duration) {
	senders := []string{"carol", "dave", "erin"}
	for {
		d := every/2 + rand.N(every)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		msg := protocol.ChatMessage{Sender: senders[rand.N(len(senders))], Text: demoLines[rand.N(len(demoLines))]}
		if msg.Sender == "dave" {
			args, _ := json.Marshal([]string{msg.Text}) // a string slice always encodes
			ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
			// A failed invocation shows as silence on screen, as a failed post.
			_, _ = dave.Invoke(ictx, "broadcast", args)
			cancel()
			continue
		}
		switch rand.N(6) {
		case 0:
			msg.Recipient = "alice"
		case 1:
			msg.Recipient = "bob"
		case 2:
			msg.GroupName = "devs"
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		// A failed post shows as silence on screen; the demo carries on.
		_, _ = s.Send(pctx, "chat", manage.Chat(msg))
		cancel()
	}
}
