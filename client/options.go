package client

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

// Defaults, the values of the official clients unless said otherwise.
const (
	DefaultHandshakeTimeout = 15 * time.Second
	DefaultKeepAlive        = 15 * time.Second
	DefaultServerTimeout    = 30 * time.Second
	DefaultHTTPTimeout      = 100 * time.Second
	DefaultAckInterval      = time.Second
	// DefaultReadLimit is 2 MiB, not coder/websocket's 32 KiB, because hub
	// messages with real payloads routinely exceed 32 KiB, and twice the
	// 1 MiB body that Azure SignalR Service (and the emulator) accept on
	// the REST API: the record made from the largest body adds its
	// envelope, a route header and any escaping.
	DefaultReadLimit = 2 << 20
	// DefaultEventBuffer is the capacity of the Events channel.
	DefaultEventBuffer = 1024
	// DefaultHub is the hub used with Options.Access when Options.Hub is
	// empty, the hub of the serverless chat sample.
	DefaultHub = "chat"
)

// Options configures a Conn. The zero value of every field means its
// documented default, so Options{URL: u} is a complete configuration.
type Options struct {
	// URL is the base URL the official JS client would pass to withUrl: a
	// function app such as http://127.0.0.1:7071/api (sigr appends
	// /negotiate), or a SignalR endpoint. Its query (e.g. a function key
	// code=) is kept on the negotiate request. Unused when Access is set.
	URL string

	// Hub names the hub. With a URL it is added to the negotiate query as
	// hub=H (default: not added, and a plain ASP.NET Core hub, whose URL
	// is the hub, needs none); with Access it is the hub Access is asked
	// for (default "chat").
	Hub string

	// UserID is who I am. With a URL it is sent to the function app as the
	// x-ms-client-principal-id and x-ms-client-principal-name headers, as App
	// Service Authentication would; with Access it is the user Access is
	// asked for. Default: anonymous.
	UserID string

	// Header holds extra headers for the function app's negotiate request.
	// They never reach the service the function app redirects to.
	// Default: none.
	Header http.Header

	// Query holds extra query parameters for the function app's negotiate
	// request (e.g. code= for a function key). Default: none.
	Query url.Values

	// Access, when set, replaces the function app: on every connect (so a
	// reconnect never reuses an expired token) it is asked for the service
	// URL and access token of Hub and UserID, and the negotiate starts
	// there, with the token. manage.ConnectionStringAccess mints them from
	// an Azure SignalR connection string, as the service SDK does. The
	// function app's Header and Query are not used. Default: unset.
	Access AccessFunc

	// Transports lists the transports sigr may use, by protocol name
	// (protocol.TransportWebSockets, ...). The server's order still decides
	// which is tried first. Default: every transport sigr implements.
	Transports []string

	// Protocol is the hub protocol: protocol.ProtocolJSON or
	// protocol.ProtocolMessagePack. MessagePack travels in binary
	// WebSocket messages and long-polling bodies; Server-Sent Events carry
	// only text, so a MessagePack connection skips them, as the official
	// clients do. Its values arrive as JSON all the same (binary ones as
	// {"$binary":"<base64>"}), and Invoke, Send and Stream take JSON
	// arguments, converted on the way out. Default "json".
	Protocol string

	// HandshakeTimeout bounds the wait for the handshake response.
	// Default 15 s (the .NET client's; the TS client has none).
	HandshakeTimeout time.Duration
	// KeepAlive is how long sigr stays silent before it sends a Ping.
	// Default 15 s.
	KeepAlive time.Duration
	// ServerTimeout is how long sigr waits without receiving anything
	// before it declares the connection lost. Default 30 s.
	ServerTimeout time.Duration
	// HTTPTimeout bounds each negotiate request. Default 100 s.
	HTTPTimeout time.Duration
	// ReadLimit is the largest transport message accepted, in bytes.
	// Default 2 MiB; negative means no limit.
	ReadLimit int64

	// Reconnect decides whether and when to reconnect after a connection is
	// lost. Default: DefaultReconnectPolicy(), delays 0, 2, 10 and 30 s with
	// 20% jitter, then give up. Use NoReconnect to turn reconnecting off and
	// Backoff{Forever: true} to never give up.
	Reconnect ReconnectPolicy
	// RetryFirstConnect applies Reconnect to the first connect too, which
	// the official clients do not. Errors that retrying cannot fix (a 401,
	// a 404, a negotiate error, an HTML page) still fail at once.
	// Default false.
	RetryFirstConnect bool

	// StatefulReconnect asks the server for stateful reconnect (negotiate
	// useStatefulReconnect=true, then handshake version 2), as the official
	// clients' withStatefulReconnect does. When the server agrees and the
	// transport is WebSockets, a dropped socket is first resumed, at the
	// same URL with the same connection: both sides replay what the other
	// has not acknowledged and drop duplicates, so nothing is lost and the
	// connection id stays. Resumes that bring nothing new (a link that
	// drops each new socket before the server's replay gets through) wait
	// longer each time; after five in a row, when the server refuses the
	// resume, or when a message exceeds ReadLimit (the server would replay
	// it again), the Reconnect policy runs a full reconnect, and its
	// Reconnecting event says why. Default false.
	StatefulReconnect bool
	// StatefulBufferSize bounds, in bytes, the sent messages kept until the
	// server acknowledges them; a send waits while it is full. Default
	// 100 000, the official clients' value.
	StatefulBufferSize int
	// AckInterval is how often sigr acknowledges what arrived on a
	// stateful connection. Default 1 s, the official clients' value.
	AckInterval time.Duration

	// Pings delivers received Ping messages as events. Default false: a
	// Ping arrives every 15 s and most consumers do not want it.
	Pings bool
	// EventBuffer is the capacity of the Events channel. When it is full
	// the receive path waits for the consumer: nothing is dropped.
	// Default 1024.
	EventBuffer int

	// HTTPClient makes the negotiate requests and the WebSocket upgrade.
	// Default: a client with HTTPTimeout and the default transport.
	HTTPClient *http.Client
	// Logger receives debug and warning logs. Default: none.
	Logger *slog.Logger
}

// AccessFunc returns the service URL a connection to hub as user starts
// at (the service's client endpoint, e.g.
// https://x.service.signalr.net/client/?hub=chat) and the access token it
// presents there. An error fails the connect for good: retrying cannot mend
// it.
type AccessFunc func(ctx context.Context, hub, user string) (url, accessToken string, err error)

// ReconnectPolicy decides the delay before the next connection attempt.
// NextDelay returns false to give up.
type ReconnectPolicy interface {
	NextDelay(r RetryContext) (time.Duration, bool)
}

// RetryContext is what a ReconnectPolicy knows about the retry cycle.
type RetryContext struct {
	// Attempt is the number of the attempt about to be scheduled, from 1.
	Attempt int
	// Elapsed is the time since the connection was lost (or since the first
	// connect began).
	Elapsed time.Duration
	// Err is why the connection was lost or the last attempt failed.
	Err error
}

// Backoff is a ReconnectPolicy that walks a list of delays.
type Backoff struct {
	// Delays are the waits before attempts 1, 2, ...; default 0, 2, 10, 30 s.
	Delays []time.Duration
	// Jitter spreads each delay by up to ±Jitter of itself (0.2 is ±20%), so
	// that many clients dropped together do not reconnect in lockstep.
	// Default 0 (none); DefaultReconnectPolicy uses 0.2.
	Jitter float64
	// Forever repeats the last delay instead of giving up. Default false.
	Forever bool
}

// OfficialDelays are the delays of the official clients' default
// reconnect policy.
var OfficialDelays = []time.Duration{0, 2 * time.Second, 10 * time.Second, 30 * time.Second}

// DefaultReconnectPolicy returns the policy used when Options.Reconnect is
// nil: the official delays with 20% jitter.
func DefaultReconnectPolicy() ReconnectPolicy {
	return Backoff{Delays: OfficialDelays, Jitter: 0.2}
}

// NextDelay implements ReconnectPolicy.
func (b Backoff) NextDelay(r RetryContext) (time.Duration, bool) {
	delays := b.Delays
	if delays == nil {
		delays = OfficialDelays
	}
	if len(delays) == 0 || r.Attempt < 1 {
		return 0, false
	}
	i := r.Attempt - 1
	if i >= len(delays) {
		if !b.Forever {
			return 0, false
		}
		i = len(delays) - 1
	}
	d := delays[i]
	if b.Jitter > 0 && d > 0 {
		spread := float64(d) * b.Jitter
		d += time.Duration((rand.Float64()*2 - 1) * spread)
		if d < 0 {
			d = 0
		}
	}
	return d, true
}

type noReconnect struct{}

func (noReconnect) NextDelay(RetryContext) (time.Duration, bool) { return 0, false }

// NoReconnect is a ReconnectPolicy that never reconnects.
var NoReconnect ReconnectPolicy = noReconnect{}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.ServerTimeout <= 0 {
		o.ServerTimeout = DefaultServerTimeout
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = DefaultHTTPTimeout
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.Reconnect == nil {
		o.Reconnect = DefaultReconnectPolicy()
	}
	if o.StatefulBufferSize <= 0 {
		o.StatefulBufferSize = DefaultStatefulBufferSize
	}
	if o.AckInterval <= 0 {
		o.AckInterval = DefaultAckInterval
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = DefaultEventBuffer
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.HTTPTimeout}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Access != nil && o.Hub == "" {
		o.Hub = DefaultHub
	}
	return o
}
