package main

import (
	"io"
	"os"

	"github.com/charmbracelet/x/term"
)

// terminalWriter is an output that knows whether it is a terminal. The
// commands ask through isTerminal, so a test can stand in for one with a
// buffer that says it is.
type terminalWriter interface {
	io.Writer
	IsTerminal() bool
}

// isTerminal reports whether w is a terminal: a terminalWriter that says
// so, or a file whose descriptor is a terminal. Pipes, files and buffers
// are not.
func isTerminal(w io.Writer) bool {
	switch t := w.(type) {
	case terminalWriter:
		return t.IsTerminal()
	case *os.File:
		return term.IsTerminal(t.Fd())
	}
	return false
}

// terminalWidth returns the width of the terminal w writes to, or 0 when
// it is not one or its size is unknown.
func terminalWidth(w io.Writer) int {
	switch t := w.(type) {
	case interface{ Width() int }:
		return t.Width()
	case *os.File:
		if wd, _, err := term.GetSize(t.Fd()); err == nil {
			return wd
		}
	}
	return 0
}

// requireTerminal refuses to start a full-screen command whose standard
// output is not a terminal: piped or redirected, the screen would be
// blank and the file full of escape codes. what names the command,
// instead says what to run for output fit for a pipe.
func requireTerminal(w io.Writer, what, instead string) error {
	if isTerminal(w) {
		return nil
	}
	return exitError{code: exitUsage, msg: what + " opens a full-screen interface, and standard output is not a terminal; " + instead}
}
