// Package hostile holds sigr's bad-input and fault campaign: one table of
// hostile inputs (table_test.go), each row naming what it sends, what
// sigr must do, and the check that proves it. The package has no code of
// its own; it tests emulator, client, protocol and tui from the outside,
// through their exported APIs and real loopback sockets.
package hostile
