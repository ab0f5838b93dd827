package main

import (
	"context"
	"errors"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/tui"
)

func newReplayCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "replay FILE",
		Short: "Open saved event lines in the terminal interface, read-only",
		Long: `replay opens a file of event lines in the terminal interface: what w saved
from the TUI (sigr-YYYYMMDD-HHMMSS.jsonl), or what sigr watch or sigr decode
printed. Every view works (the stream, the chat, the routing matrix, details,
filters); nothing is sent, and the composer is disabled.`,
		Example: `  sigr replay sigr-20261130-120103.jsonl
  sigr watch http://127.0.0.1:7071/api --user alice > alice.jsonl   # later: sigr replay alice.jsonl
  sigr decode capture.har > capture.jsonl && sigr replay capture.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireTerminal(cmd.OutOrStdout(), "sigr replay", "to read the lines as they are, open the file itself"); err != nil {
				return err
			}
			r, err := loadReplay(args[0])
			if err != nil {
				return err
			}
			return runReplay(cmd.Context(), r)
		},
	}
}

// loadReplay reads the file replay opens.
func loadReplay(name string) (*tui.Replay, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, errors.New("replay: " + err.Error())
	}
	defer f.Close()
	conns, evs, err := tui.ReadEventLines(f)
	if err != nil {
		return nil, errors.New(err.Error() + " (replay opens what w saved, or sigr watch or sigr decode printed)")
	}
	return &tui.Replay{Name: name, Conns: conns, Events: evs}, nil
}

// runReplay shows r until q or ctrl+c; it opens no connection.
func runReplay(ctx context.Context, r *tui.Replay) error {
	m := tui.New(tui.Config{Context: ctx, Replay: r, URL: "replay " + r.Name})
	_, err := tea.NewProgram(m, tea.WithContext(ctx)).Run()
	if errors.Is(err, tea.ErrInterrupted) {
		return nil
	}
	return err
}
