package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/sigr-dev/sigr/protocol"
)

// transport moves hub protocol payloads. The hub connection above it does
// framing, handshake, keep-alive and dispatch, so a transport only has to
// carry bytes: WebSockets today, Server-Sent Events and long polling later.
type transport interface {
	// Name is the protocol's spelling of the transport ("WebSockets").
	Name() string
	// Read returns the next payload: one WebSocket message, one SSE event,
	// one poll body. It may hold several records or part of one. The slice
	// is valid until the next Read. Read blocks without a deadline; Close
	// unblocks it. Only one goroutine may call Read.
	Read() ([]byte, error)
	// Write sends one payload. It is safe for concurrent use.
	Write(ctx context.Context, p []byte) error
	// Close ends the transport and unblocks Read. It is idempotent.
	Close() error
}

// ErrReadLimit is wrapped by the error that ends a connection which
// received more than Options.ReadLimit bytes at once, so that a caller
// can say how it lets the limit be raised.
var ErrReadLimit = errors.New("read limit exceeded")

// limitError is what a transport's Read returns for a payload over
// the read limit: msg says what was too large, and what to raise.
type limitError struct {
	msg   string
	cause error
}

func readLimitError(msg string, cause error) error { return &limitError{msg: msg, cause: cause} }

func (e *limitError) Error() string {
	if e.cause != nil {
		return e.msg + " (raise Options.ReadLimit): " + e.cause.Error()
	}
	return e.msg + " (raise Options.ReadLimit)"
}

func (e *limitError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrReadLimit, e.cause}
	}
	return []error{ErrReadLimit}
}

// dialTarget is what a transport needs to connect.
type dialTarget struct {
	base        *url.URL // endpoint base URL, before id=
	connectURL  string   // base plus id=<connectionToken>, http(s) scheme
	token       string   // bearer token, "" for none
	tokenOrigin string
}

// dialFunc opens a transport.
type dialFunc func(ctx context.Context, c *Conn, t dialTarget) (transport, error)

// dialers maps transport names to their implementations. Transports missing
// here are skipped when the server offers them.
var dialers = map[string]dialFunc{
	protocol.TransportWebSockets:       dialWebSocket,
	protocol.TransportServerSentEvents: dialSSE,
	protocol.TransportLongPolling:      dialLongPolling,
}

// inherentKeepAlive reports whether t keeps the connection alive by itself
// (long polling: every poll is a round trip), in which case the hub
// connection neither pings nor runs the server timeout, as the official
// clients do.
func inherentKeepAlive(t transport) bool {
	k, ok := t.(interface{ inherentKeepAlive() bool })
	return ok && k.inherentKeepAlive()
}

// candidateTransports returns the transports to try, in the server's order,
// keeping those sigr implements, the user allows, and that carry the
// protocol's transfer format.
func (c *Conn) candidateTransports(nr protocol.NegotiateResponse) []string {
	var out []string
	for _, at := range nr.AvailableTransports {
		if _, ok := dialers[at.Transport]; !ok {
			continue
		}
		if len(c.opts.Transports) > 0 && !slices.Contains(c.opts.Transports, at.Transport) {
			continue
		}
		// Server-Sent Events carry only text, so a MessagePack connection
		// skips them, as the official clients do.
		if !slices.Contains(at.TransferFormats, c.wp.transferFormat()) {
			continue
		}
		out = append(out, at.Transport)
	}
	return out
}

// connectURL appends id=<token> to base, percent-encoded (the official TS
// client leaves it raw, which breaks tokens holding '+' or '&').
func connectURL(base *url.URL, connToken string) string {
	u := *base
	if connToken != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "id=" + url.QueryEscape(connToken)
	}
	return u.String()
}

// hubOf returns the hub= query value of an endpoint URL, or "".
func hubOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Query().Get("hub")
}

// openTransport negotiates and opens the first transport that works, in
// server order, negotiating again before each further try because a
// connection token is good for one attempt only.
func (c *Conn) openTransport(ctx context.Context) (transport, *negotiation, error) {
	n, err := c.negotiate(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := c.candidateTransports(n.resp)
	if len(names) == 0 {
		offered := make([]string, 0, len(n.resp.AvailableTransports))
		for _, at := range n.resp.AvailableTransports {
			offered = append(offered, textsafe.Line(at.Transport))
		}
		msg := "None of the transports supported by the client are supported by the server."
		if len(offered) > 0 {
			msg += " The server offered: " + strings.Join(offered, ", ") + "."
		} else {
			msg += " The server offered none; a function app must return url and accessToken (camelCase)."
		}
		return nil, nil, &Error{Op: "connect", URL: textsafe.RedactURL(n.base), Msg: msg, Permanent: true}
	}
	var errs []error
	for i, name := range names {
		if i > 0 {
			if n, err = c.negotiate(ctx); err != nil {
				errs = append(errs, err)
				break
			}
		}
		base, err := url.Parse(n.base)
		if err != nil {
			return nil, nil, &Error{Op: "connect", Msg: "invalid endpoint URL", Permanent: true, Err: err}
		}
		t := dialTarget{
			base:        base,
			connectURL:  connectURL(base, n.resp.ConnectionToken),
			token:       n.token,
			tokenOrigin: n.tokenOrigin,
		}
		c.log.Debug("connecting", "transport", name, "url", textsafe.RedactURL(t.connectURL))
		tr, err := dialers[name](ctx, c, t)
		if err == nil {
			n.transport, n.target = name, t
			return tr, n, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s failed: %w", name, err))
	}
	if len(errs) == 1 {
		return nil, nil, errors.Unwrap(errs[0])
	}
	return nil, nil, &Error{Op: "connect", Msg: "Unable to connect to the server with any of the available transports.", Err: errors.Join(errs...)}
}
