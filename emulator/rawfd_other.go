//go:build !unix

package emulator

import (
	"errors"
	"net"
)

// socketFD reports no descriptor: a fan-out leaves every write to the
// connection's writer here.
func socketFD(net.Conn) int { return -1 }

func writeNow(int, []byte) (int, error) { return 0, errors.ErrUnsupported }
