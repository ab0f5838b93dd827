package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
	"github.com/sigr-dev/sigr/tui"
)

// sendTimeout bounds one send, HTTP round trip included.
const sendTimeout = 30 * time.Second

type sendFlags struct {
	id           *identityFlags
	target       string
	text         string
	toUser       string
	toGroup      string
	toConnection string
	argsFile     string
	stdin        io.Reader // what --args-file - reads; nil: os.Stdin
}

func newSendCmd() *cobra.Command {
	sf := &sendFlags{}
	cmd := &cobra.Command{
		Use:   "send [URL] [ARG...]",
		Short: "Send a message through the function app (or the service REST API)",
		Long: `send posts a message to the function app's messages function, to everyone or
to one user, group or connection. Each ARG is a JSON value; a bare word that
is not JSON is taken as a string, while a word that starts like JSON ({, [
or ") but does not parse is an error. --args-file reads one JSON array of
arguments from a file, or from standard input with -: no size limit of the
command line. --text posts the serverless chat sample's body instead
({sender, text, recipient|groupname}), with --user as sender ("anon"
without one, as in the TUI).

With --connection-string (or $AzureSignalRConnectionString and no URL) it goes
straight to the Azure SignalR Service REST API, as a function's output
binding would.

It prints on standard error the HTTP status and where the message went:
sigr's emulator says to how many connections it was written and, for none,
why ("delivered to 0 connections: no connection for user 'Bob'; user ids are
case-sensitive; connected users: alice, bob"). Azure does not say; with
--connection-string sigr then asks the REST API's existence checks whether
anybody was there to get it. On failure it prints the status and the
response body.`,
		Example: `  sigr send http://127.0.0.1:7071/api --to-user alice --target newMessage '{"text":"hi"}'
  sigr send http://127.0.0.1:7071/api --user bob --to-group room1 --text "hello room"
  sigr send --connection-string "$CS" --hub chat --target notify hello 42
  jq -c '[.]' big.json | sigr send http://127.0.0.1:7071/api --target load --args-file -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), sendTimeout)
			defer cancel()
			sf.stdin = cmd.InOrStdin()
			return runSend(ctx, cmd.ErrOrStderr(), args, sf)
		},
	}
	sf.id = addIdentityFlags(cmd)
	fs := cmd.Flags()
	fs.StringVar(&sf.target, "target", "", "client method to invoke, e.g. newMessage")
	fs.StringVar(&sf.text, "text", "", "send the chat sample body with this text (target newMessage)")
	fs.StringVar(&sf.toUser, "to-user", "", "send to every connection of this user")
	fs.StringVar(&sf.toGroup, "to-group", "", "send to every connection in this group")
	fs.StringVar(&sf.toConnection, "to-connection", "", "send to this connection id")
	fs.StringVar(&sf.argsFile, "args-file", "", "read the arguments from this file as one JSON array (- reads standard input)")
	return cmd
}

// chatSender is the sender of a chat body: the user, else the name the
// TUI sends as without one, so that both say the same.
func chatSender(user string) string {
	if user == "" {
		return tui.DefaultSender
	}
	return user
}

// runSend sends and reports the outcome on w (standard error).
func runSend(ctx context.Context, w io.Writer, args []string, sf *sendFlags) error {
	urlArgs, words := splitURLArg(sf.id, args)
	baseURL, cs, err := sf.id.resolve(urlArgs)
	if err != nil {
		return err
	}
	n := 0
	for _, s := range []string{sf.toUser, sf.toGroup, sf.toConnection} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return errors.New("give at most one of --to-user, --to-group, --to-connection")
	}
	if sf.text != "" {
		if len(words) > 0 || sf.argsFile != "" || (sf.target != "" && sf.target != protocol.ChatTarget) {
			return errors.New("--text sends the chat sample body; it takes no --target and no arguments")
		}
		if sf.toConnection != "" {
			return errors.New("--text reaches a user (--to-user) or a group (--to-group), as the chat sample does; use --target for --to-connection")
		}
	} else if sf.target == "" {
		return errors.New("--target is required (the client method, e.g. newMessage), or use --text")
	}

	var hubArgs []byte
	if sf.text == "" {
		if hubArgs, err = readArgs(sf.stdin, words, sf.argsFile); err != nil {
			return err
		}
	}
	s, err := sf.id.sender(baseURL, cs)
	if err != nil {
		return err
	}
	m := manage.SignalR(protocol.SignalRMessage{
		Target:       sf.target,
		Arguments:    hubArgs,
		UserID:       sf.toUser,
		GroupName:    sf.toGroup,
		ConnectionID: sf.toConnection,
	})
	if sf.text != "" {
		m = manage.Chat(protocol.ChatMessage{Sender: chatSender(sf.id.user), Text: sf.text, Recipient: sf.toUser, GroupName: sf.toGroup})
	}
	out, err := s.Send(ctx, s.hub, m)
	if err != nil {
		return err
	}
	s.report(ctx, w, out, func(ctx context.Context, rc *manage.RESTClient) (string, error) {
		return rc.CheckSend(ctx, s.hub, m)
	}, sendUnknown(m))
	return nil
}
