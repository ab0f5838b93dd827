// Command watch-bench-bare is the floor of interop/watch-bench.sh: the
// least a process must do to receive what `sigr watch` receives. It
// negotiates, dials the WebSocket with coder/websocket, sends the
// handshake, reads each message whole into one reused buffer and splits it
// into records (0x1E-separated JSON, or length-prefixed MessagePack), and
// exits once -count records have arrived. It decodes nothing and writes
// nothing.
//
//	watch-bench-bare -count 200000 [-protocol messagepack] URL
package main
