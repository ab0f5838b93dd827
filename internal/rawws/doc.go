// Package rawws is the minimum of a WebSocket server written by hand: the
// upgrade, unmasked text frames out, masked frames in. The receive
// benchmarks use it to write pre-encoded frames in one write, so that the
// sender is never what is measured; real servers use coder/websocket.
package rawws
