package client

import (
	"context"
	"fmt"
	"net/url"

	"github.com/sigr-dev/sigr/protocol"
)

// TestTransport lets the package's external tests drive a transport
// directly, below the hub connection.
type TestTransport = transport

// DialTransportForTest negotiates with c's options and opens the named
// transport, returning it and the connection id, so that each transport
// can be checked against the emulator on its own.
func DialTransportForTest(ctx context.Context, c *Conn, name string) (TestTransport, string, error) {
	n, err := c.negotiate(ctx)
	if err != nil {
		return nil, "", err
	}
	base, err := url.Parse(n.base)
	if err != nil {
		return nil, "", err
	}
	t := dialTarget{base: base, connectURL: connectURL(base, n.resp.ConnectionToken), token: n.token, tokenOrigin: n.tokenOrigin}
	var d dialFunc
	switch name {
	case protocol.TransportServerSentEvents:
		d = dialSSE
	case protocol.TransportLongPolling:
		d = dialLongPolling
	case protocol.TransportWebSockets:
		d = dialWebSocket
	default:
		return nil, "", fmt.Errorf("no transport %q", name)
	}
	tr, err := d(ctx, c, t)
	return tr, n.resp.ConnectionID, err
}

// HasInherentKeepAlive reports whether t keeps the connection alive by
// itself (long polling), so the hub connection must not ping.
func HasInherentKeepAlive(t TestTransport) bool {
	k, ok := t.(interface{ inherentKeepAlive() bool })
	return ok && k.inherentKeepAlive()
}
