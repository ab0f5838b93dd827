// Command tuiflood measures sigr's terminal interface under a flood, side
// by side with `sigr watch` on the same stream: each process's CPU time
// and peak RSS, the time from its start to the last message on screen (for
// the TUI, read off a terminal grid replaying what it wrote to a real
// pseudo-terminal), and how long a key press takes to show during the
// flood. interop/tui-flood-bench.sh drives it.
//
// When a run goes wrong: TUIFLOOD_DEBUG=1 prints the screen as the grid
// last showed it, TUIFLOOD_RAW=FILE keeps a copy of everything the TUI
// wrote, and TUIFLOOD_STDERR=FILE sends the TUI's standard error to FILE
// instead of the terminal, with a goroutine dump if q does not end it.
package main
