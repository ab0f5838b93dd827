//go:build unix

package emulator

import (
	"net"
	"syscall"
)

// socketFD returns conn's descriptor for direct writes, or -1 when it is
// no plain socket (TLS, a pipe).
func socketFD(conn net.Conn) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if err := raw.Control(func(s uintptr) { fd = int(s) }); err != nil {
		return -1
	}
	return fd
}

// writeNow is one write(2) on a non-blocking socket (Go keeps every socket
// non-blocking for its poller): what the socket takes now, 0 when full.
func writeNow(fd int, p []byte) (int, error) {
	n, err := syscall.Write(fd, p)
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}
