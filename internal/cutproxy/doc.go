// Package cutproxy is a TCP proxy on loopback for tests of dropped
// connections: it forwards to a target and can reset every open
// connection at once, as a network drop would, while it keeps accepting.
package cutproxy
