package loadtest

import (
	"net"
	"net/url"
	"strings"

	"github.com/sigr-dev/sigr/protocol"
)

// Hosts returns the host names a run with opts will reach: the function
// app's and, when sends or connections use it, the connection string's
// endpoints.
func Hosts(opts Options) ([]string, error) {
	var hosts []string
	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, u.Hostname())
	}
	if opts.ConnectionString != "" {
		cs, err := protocol.ParseConnectionString(opts.ConnectionString)
		if err != nil {
			return nil, err
		}
		for _, e := range []string{cs.Endpoint, cs.ServerEndpoint, cs.ClientEndpoint} {
			if e == "" {
				continue
			}
			if u, err := url.Parse(e); err == nil {
				hosts = append(hosts, u.Hostname())
			}
		}
	}
	return hosts, nil
}

// IsLoopback reports whether host names this machine: localhost, a name
// under .localhost, or a loopback address. Names are not resolved, so a
// name that happens to resolve to 127.0.0.1 still counts as remote; the
// safe side for a tool that opens thousands of connections.
func IsLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}
