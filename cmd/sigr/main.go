package main

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; a
// plain `go install` falls back to the module version.
var version = ""

// newRootCmd returns the whole `sigr` command tree. Each subcommand's
// constructor lives in the file named after it; this is the one place
// they are put together, so main and tests build the same tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "sigr [URL]",
		Short: "A terminal client and live monitor for SignalR and Azure SignalR Service",
		Long: `sigr calls a SignalR negotiate endpoint (an Azure Functions app, the service,
or any ASP.NET Core hub), connects with the JSON hub protocol, and shows every
message that arrives. It ships a local emulator of Azure SignalR Service in
serverless mode with a small function app, so everything runs with no cloud.

Start with:  sigr demo`,
		Example: `  sigr demo
  sigr emulator
  sigr http://127.0.0.1:7071/api --user alice
  sigr watch http://127.0.0.1:7071/api --user alice
  sigr send http://127.0.0.1:7071/api --to-user alice --target newMessage '"hi"'
  sigr invoke http://localhost:5000/chathub --target SendMessage alice '"hello"'`,
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	// `sigr URL` is `sigr connect URL`: the root takes the TUI's flags.
	tf := addTUIFlags(root)
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return runConnect(cmd, args, tf)
	}
	root.AddCommand(
		newConnectCmd(),
		newWatchCmd(),
		newSendCmd(),
		newInvokeCmd(),
		newGroupCmd(),
		newTraceCmd(),
		newTokenCmd(),
		newDecodeCmd(time.Now),
		newReplayCmd(),
		newEmulatorCmd(),
		newDemoCmd(),
		newBenchCmd(),
	)
	setUsageRules(root)
	return root
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "devel"
}

func main() {
	stop := startProfile()
	code := execute(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitCoder is an error that carries its own exit status, such as decode's
// "some records failed" (status 1 with nothing more to say).
type exitCoder interface {
	error
	ExitCode() int
}

// exitError is an exitCoder with an optional message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
func (e exitError) ExitCode() int { return e.code }
