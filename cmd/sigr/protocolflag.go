package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/protocol"
)

// protocolFlagUsage is the help of every --protocol flag.
const protocolFlagUsage = "hub protocol: json or messagepack"

// parseProtocolFlag returns the protocol's handshake name for a
// --protocol value; "msgpack" is accepted for messagepack.
func parseProtocolFlag(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", protocol.ProtocolJSON:
		return protocol.ProtocolJSON, nil
	case protocol.ProtocolMessagePack, "msgpack":
		return protocol.ProtocolMessagePack, nil
	}
	return "", fmt.Errorf("--protocol %q: use json or messagepack", shortArg(v))
}

// registerProtocolCompletion completes --protocol values in the shell.
func registerProtocolCompletion(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("protocol", cobra.FixedCompletions([]cobra.Completion{
		cobra.CompletionWithDesc(protocol.ProtocolJSON, "the JSON hub protocol"),
		cobra.CompletionWithDesc(protocol.ProtocolMessagePack, "the MessagePack hub protocol"),
	}, cobra.ShellCompDirectiveNoFileComp))
}
