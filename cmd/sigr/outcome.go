package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// report prints, on w, the status of a send or a group action and where
// it went: what the emulator reported (X-Sigr-* headers), else with a
// connection string what the REST API's existence checks tell, else what
// cannot be known from here.
//
//	202 Accepted: delivered to 0 connections: no connection for user 'Bob'; ...
//	202 Accepted (service REST API, hub chat): not reported by the service; user 'Bob' has no connection to hub 'chat' (existence check), ...
func (s sender) report(ctx context.Context, w io.Writer, out manage.Outcome, check func(context.Context, *manage.RESTClient) (string, error), unknown string) {
	line := out.String()
	if s.rest {
		line += " (service REST API, hub " + textsafe.Clip(strings.ToLower(s.hub), 140) + ")"
	}
	if ex := out.Explain(); ex != "" {
		fmt.Fprintf(w, "%s: %s\n", line, ex)
		return
	}
	if s.rc == nil {
		fmt.Fprintf(w, "%s: %s\n", line, unknown)
		return
	}
	txt, err := check(ctx, s.rc)
	switch {
	case err != nil:
		fmt.Fprintf(w, "%s: not reported by the service, and the existence check failed: %v\n", line, err)
	case txt == "":
		fmt.Fprintln(w, line)
	default:
		fmt.Fprintf(w, "%s: not reported by the service; %s\n", line, txt)
	}
}

// sendUnknown says what a function app that does not report deliveries
// leaves unknown about m, and how to learn it.
func sendUnknown(m manage.Message) string {
	const head = "the function app does not say how many connections got it (sigr's emulator does)"
	sm, err := m.SignalRMessage()
	if err != nil {
		return head
	}
	switch {
	case sm.ConnectionID != "":
		return head + "; with --connection-string, sigr checks that connection " + quoteArg(sm.ConnectionID) + " is connected"
	case sm.UserID != "":
		return head + "; with --connection-string, sigr checks that user " + quoteArg(sm.UserID) + " has a connection"
	case sm.GroupName != "":
		return head + "; with --connection-string, sigr checks that group " + quoteArg(sm.GroupName) + " has connections"
	}
	return head + "; nothing outside the service can tell whether the hub has connections"
}

// groupUnknown is sendUnknown for a group action.
func groupUnknown(a protocol.SignalRGroupAction) string {
	const head = "the function app does not say what the action applied to (sigr's emulator does)"
	if a.UserID != "" {
		return head + "; with --connection-string, sigr checks that user " + quoteArg(a.UserID) + " has a connection"
	}
	return head
}

// quoteArg quotes a name from the command line for a message.
func quoteArg(s string) string { return "'" + textsafe.Clip(s, 64) + "'" }
