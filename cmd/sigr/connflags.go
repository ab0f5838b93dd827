package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// connFlags choose how a hub connection travels: the transport, the hub
// protocol and stateful reconnect. Shared by connect (the TUI), watch and
// invoke.
type connFlags struct {
	transport string
	protocol  string
	stateful  bool
}

func addConnFlags(cmd *cobra.Command) *connFlags {
	f := &connFlags{}
	fs := cmd.Flags()
	fs.StringVar(&f.transport, "transport", "", "force one transport: websockets, sse or longpolling (default: the server's order, falling back when one fails to start)")
	_ = cmd.RegisterFlagCompletionFunc("transport", cobra.FixedCompletions([]cobra.Completion{
		cobra.CompletionWithDesc("websockets", "WebSockets"),
		cobra.CompletionWithDesc("sse", "Server-Sent Events"),
		cobra.CompletionWithDesc("longpolling", "long polling"),
	}, cobra.ShellCompDirectiveNoFileComp))
	fs.StringVar(&f.protocol, "protocol", protocol.ProtocolJSON, protocolFlagUsage+" (messagepack travels over WebSockets and long polling only)")
	registerProtocolCompletion(cmd)
	fs.BoolVar(&f.stateful, "stateful-reconnect", false, "ask for stateful reconnect: a dropped WebSocket resumes the same connection, replaying unacknowledged messages, before any full reconnect")
	return f
}

// transportNames maps --transport values to the protocol's names. The
// protocol's own spellings are accepted too, in any case.
var transportNames = map[string]string{
	"websockets":       protocol.TransportWebSockets,
	"websocket":        protocol.TransportWebSockets,
	"ws":               protocol.TransportWebSockets,
	"sse":              protocol.TransportServerSentEvents,
	"serversentevents": protocol.TransportServerSentEvents,
	"longpolling":      protocol.TransportLongPolling,
	"lp":               protocol.TransportLongPolling,
}

// apply sets the transport and stateful-reconnect options on o. A nil
// f (a command built without these flags) changes nothing.
func (f *connFlags) apply(o *client.Options) error {
	if f == nil {
		return nil
	}
	if f.transport != "" {
		name, ok := transportNames[strings.ToLower(strings.TrimSpace(f.transport))]
		if !ok {
			return fmt.Errorf("--transport %q: use websockets, sse or longpolling", shortArg(f.transport))
		}
		o.Transports = []string{name}
	}
	proto, err := parseProtocolFlag(f.protocol)
	if err != nil {
		return err
	}
	if proto == protocol.ProtocolMessagePack && len(o.Transports) == 1 && o.Transports[0] == protocol.TransportServerSentEvents {
		return fmt.Errorf("--transport sse carries only text and --protocol messagepack is binary: use websockets or longpolling")
	}
	o.Protocol = proto
	o.StatefulReconnect = f.stateful
	return nil
}
