// Command sigr is a terminal client and live monitor for SignalR, built first
// for Azure Functions with Azure SignalR Service in serverless mode.
//
// What each command does is in the README (Usage) and in docs/commands.md,
// which lists every command and flag and is generated from this command
// tree (TestCommandsDoc keeps the two equal). The JSON lines that watch and
// decode print are documented in docs/events.md.
//
// newRootCmd builds the whole tree; each subcommand's constructor and run
// function live in the file named after it. Flags that several commands
// share are registered by helpers (identity.go: who I am and how to reach
// the app; connflags.go: transport and stateful reconnect), so they read
// the same everywhere. The packages below say what failed in their own
// terms; hints.go adds the flag that mends an error, and execute (which
// main and the CLI tests run) prints it as one line on standard error,
// with exit status 1 unless the error carries its own (exitCoder).
// suggest.go holds the rules for a command line that cannot run (exit
// status 2): unknown commands with suggestions, flag and argument errors;
// urlcheck.go is the one check of every URL argument.
package main
