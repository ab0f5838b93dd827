// Command watch-bench-server is the loopback SignalR server of
// interop/watch-bench.sh. It answers negotiate with a WebSocket-only
// connection and, on every WebSocket connection, answers the handshake and
// then writes -count chat invocations, one record per WebSocket message.
//
// It speaks WebSocket itself and writes all frames, pre-encoded, in one
// large write, so the sender is never the bottleneck of the comparison: what
// is measured is the receiving client.
//
// With -rate it paces the frames instead, for a flood that lasts: the
// terminal interface's benchmark (interop/tui-flood-bench.sh) presses keys
// during one.
//
// It prints its base URL on the first line of standard output and runs
// until standard input closes or it gets SIGINT/SIGTERM.
package main
