package manage

import (
	"strconv"
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// maxReasonShown bounds a server's reason as sigr shows it.
const maxReasonShown = 1024

// Delivered returns how many connections the server wrote a message to,
// from the X-Sigr-Delivered header that sigr's emulator (and its function
// app) send; known is false when the answer has none, as Azure's.
func (o Outcome) Delivered() (n int, known bool) {
	return headerCount(o, protocol.HeaderDelivered)
}

// Undelivered returns why a message reached no connection
// (X-Sigr-Undelivered), fit to print, or "".
func (o Outcome) Undelivered() string {
	return headerText(o, protocol.HeaderUndelivered)
}

// Applied returns how many connections a group action applied to now,
// from the X-Sigr-Applied header of sigr's emulator; known is false when
// the answer has none.
func (o Outcome) Applied() (n int, known bool) {
	return headerCount(o, protocol.HeaderApplied)
}

// Unapplied returns why a group action applied to no connection
// (X-Sigr-Unapplied), fit to print, or "".
func (o Outcome) Unapplied() string {
	return headerText(o, protocol.HeaderUnapplied)
}

// Explain says what the server reported about where a send or a group
// action went: "delivered to 2 connections", "delivered to 0 connections:
// <reason>", "applied to 1 connection", or "" when it reported nothing.
// Commands and the TUI print it after the status.
func (o Outcome) Explain() string {
	if n, ok := o.Delivered(); ok {
		return counted("delivered to", n, o.Undelivered())
	}
	if n, ok := o.Applied(); ok {
		return counted("applied to", n, o.Unapplied())
	}
	return ""
}

func counted(verb string, n int, reason string) string {
	s := verb + " " + strconv.Itoa(n) + " connection"
	if n != 1 {
		s += "s"
	}
	if n == 0 && reason != "" {
		s += ": " + reason
	}
	return s
}

// headerCount reads a count header; a value that is not a count is
// treated as absent.
func headerCount(o Outcome, name string) (int, bool) {
	v := strings.TrimSpace(o.Header.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// headerText reads a reason header. The emulator sends printable ASCII,
// but any server may answer, so it is made safe to print here.
func headerText(o Outcome, name string) string {
	return textsafe.Clip(strings.TrimSpace(o.Header.Get(name)), maxReasonShown)
}
