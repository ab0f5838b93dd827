// Command tuiflood measures sigr's terminal interface under a flood, side
// by side with `sigr watch` on the same stream: each process's CPU time
// and peak RSS, the time from its start to the last message on screen (for
// the TUI, read off a terminal grid replaying what it wrote to a real
// pseudo-terminal), and how long a key press takes to show during the
// flood. interop/tui-flood-bench.sh drives it.
package main
