package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

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
REST API.`,
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
			return runGroup(ctx, cmd.OutOrStdout(), action, args, gf)
		},
	}
	gf.id = addIdentityFlags(cmd)
	fs := cmd.Flags()
	fs.StringVar(&gf.group, "group", "", "group name (required)")
	fs.StringVar(&gf.toUser, "to-user", "", "the user to "+action)
	fs.StringVar(&gf.toConnection, "to-connection", "", "the connection id to "+action)
	return cmd
}

func runGroup(ctx context.Context, stdout io.Writer, action string, args []string, gf *groupFlags) error {
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
	out, err := s.Group(ctx, s.hub, protocol.SignalRGroupAction{
		Action:       action,
		GroupName:    gf.group,
		UserID:       gf.toUser,
		ConnectionID: gf.toConnection,
	})
	if err != nil {
		return err
	}
	if s.rest {
		fmt.Fprintf(stdout, "2xx: accepted by the service REST API (hub %s)\n", strings.ToLower(s.hub))
		return nil
	}
	fmt.Fprintln(stdout, out)
	return nil
}
