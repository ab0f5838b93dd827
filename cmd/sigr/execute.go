package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// execute runs sigr with args (without the program's name) on the given
// standard streams and returns the exit status: 0, 1 for a failure,
// exitUsage (2) for a command line that cannot run, or what an exitCoder
// says (130 for Ctrl-C). Errors go to stderr on one line after "sigr:".
// main and the tests run the same code.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	if args == nil {
		args = []string{} // cobra reads nil as "use os.Args"
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Added now, with the output set, since its commands keep the writer.
	root.InitDefaultCompletionCmd(args...)
	if comp, _, err := root.Find([]string{"completion"}); err == nil && comp != root {
		checkArgs(comp)
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	err = withFlagHint(err)
	code := 1
	var ec exitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "sigr:", msg)
	}
	return code
}
