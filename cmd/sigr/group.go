package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

type groupFlags struct {
	id           *identityFlags
	group        string
	toUser       string
	toConnection string
}

func newGroupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Add a user or connection to a group, or remove it",
		Long: `group changes group membership through the function app's groups function
(a SignalRGroupAction body), or with --connection-string through the service
REST API. It prints on standard error the status and, from sigr's emulator,
how many connections the action applied to now (a user's membership also
applies to the connections it opens later), with the reason when none.`,
	}
	for _, action := range []string{"add", "remove"} {
		cmd.AddCommand(newGroupActionCmd(action))
	}
	return cmd
}

func newGroupActionCmd(action string) *cobra.Command {
	gf := &groupFlags{}
	verb := map[string]string{"add": "Add a user or connection to a group", "remove": "Remove a user or connection from a group"}[action]
	cmd := &cobra.Command{
		Use:   action + " [URL]",
		Short: verb,
		Example: fmt.Sprintf(`  sigr group %s http://127.0.0.1:7071/api --group room1 --to-user alice
  sigr group %s --connection-string "$CS" --hub chat --group room1 --to-connection <id>`, action, action),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), sendTimeout)
			defer cancel()
			return runGroup(ctx, cmd.ErrOrStderr(), action, args, gf)
		},
	}
	gf.id = addIdentityFlags(cmd)
	fs := cmd.Flags()
	fs.StringVar(&gf.group, "group", "", "group name (required)")
	fs.StringVar(&gf.toUser, "to-user", "", "the user to "+action)
	fs.StringVar(&gf.toConnection, "to-connection", "", "the connection id to "+action)
	return cmd
}

// runGroup changes a membership and reports the outcome on w (standard
// error).
func runGroup(ctx context.Context, w io.Writer, action string, args []string, gf *groupFlags) error {
	if gf.group == "" {
		return errors.New("--group is required")
	}
	if !protocol.ValidGroupName(gf.group) {
		return fmt.Errorf("invalid group name %q", gf.group)
	}
	if (gf.toUser == "") == (gf.toConnection == "") {
		return errors.New("give exactly one of --to-user and --to-connection")
	}
	baseURL, cs, err := gf.id.resolve(args)
	if err != nil {
		return err
	}
	s, err := gf.id.sender(baseURL, cs)
	if err != nil {
		return err
	}
	a := protocol.SignalRGroupAction{
		Action:       action,
		GroupName:    gf.group,
		UserID:       gf.toUser,
		ConnectionID: gf.toConnection,
	}
	out, err := s.Group(ctx, s.hub, a)
	if err != nil {
		return withUnapplied(err, out)
	}
	s.report(ctx, w, out, func(ctx context.Context, rc *manage.RESTClient) (string, error) {
		return rc.CheckGroup(ctx, s.hub, a)
	}, groupUnknown(a))
	return nil
}

// withUnapplied puts the emulator's reason in place of the error of a
// refused group action, which says less: "404 Not Found: applied to 0
// connections: no connection 'carol'; 'carol' is a user id, not a
// connection id". errors.As still finds the error.
func withUnapplied(err error, out manage.Outcome) error {
	if out.Unapplied() == "" {
		return err
	}
	return refused{err: err, text: out.String() + ": " + out.Explain()}
}

type refused struct {
	err  error
	text string
}

func (r refused) Error() string { return r.text }
func (r refused) Unwrap() error { return r.err }
