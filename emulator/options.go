package emulator

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultAccessKey is the fixed key of the official emulator, used when no
// key is configured.
const DefaultAccessKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

// Default addresses: the official emulator's port and the Functions host's.
const (
	DefaultServiceAddr   = "127.0.0.1:8888"
	DefaultFunctionsAddr = "127.0.0.1:7071"
)

// ServiceOptions configure a Service. Zero values take the defaults named
// on each field.
type ServiceOptions struct {
	// AccessKey signs and checks every token. Default DefaultAccessKey.
	AccessKey string
	// Endpoint is the service's own URL (scheme://host:port), accepted as a
	// token audience next to the URL of each request. Default: none.
	Endpoint string
	// ClientEndpoint is the URL clients use when they reach the service
	// through a proxy; tokens whose aud names it are accepted. Default: none.
	ClientEndpoint string
	// Logger receives one line per connect, disconnect and REST call.
	// Default: slog.Default().
	Logger *slog.Logger
	// PingInterval is how often an idle connection gets a Ping. Default 15 s.
	PingInterval time.Duration
	// HandshakeTimeout closes a connection that sends no handshake. Default 15 s.
	HandshakeTimeout time.Duration
	// ClientTimeout closes a connection that pinged once and then went quiet
	// for this long. Default 30 s.
	ClientTimeout time.Duration
	// NegotiateTimeout is how long an unused connection token stays valid.
	// Default 5 s.
	NegotiateTimeout time.Duration
	// MaxMessageSize bounds one hub message record (and REST bodies).
	// Default 1 MiB.
	MaxMessageSize int
	// QueueSize bounds each connection's outgoing queue, in messages; a
	// connection whose queue is full is closed. Default 1024.
	QueueSize int
	// WriteTimeout bounds one write to a client: a WebSocket or SSE write
	// that makes no progress for this long ends the connection (a stateful
	// connection's socket only). A watchdog checks every quarter of it (at
	// most every second), so the end comes within that much more.
	// Default 10 s.
	WriteTimeout time.Duration
	// PollTimeout is how long a long poll waits for data. Default 90 s.
	PollTimeout time.Duration
	// PollDisconnectTimeout closes a long-polling connection that has not
	// polled for this long. Default 15 s.
	PollDisconnectTimeout time.Duration
	// SweepInterval is how often expired tokens, polls and user-group
	// memberships are swept. Default 1 s.
	SweepInterval time.Duration
	// TokenLeeway is the clock skew allowed on exp. Default 5 s.
	TokenLeeway time.Duration
	// ShutdownTimeout bounds how long Close waits for clients to take their
	// Close message before it drops them. Default 3 s.
	ShutdownTimeout time.Duration
	// Now is the clock. Default time.Now. Tests use it for TTLs.
	Now func() time.Time

	// DisableStatefulReconnect refuses stateful reconnect: negotiate never
	// answers useStatefulReconnect, as an ASP.NET Core endpoint mapped
	// without AllowStatefulReconnects. Default false: offered to every
	// client that asks, as Azure SignalR Service does.
	DisableStatefulReconnect bool
	// StatefulReconnectBufferSize bounds, in bytes, the messages a stateful
	// connection keeps until the client acknowledges them. When it is full
	// the connection's writer waits for an Ack (its queue, QueueSize
	// messages, absorbs new sends meanwhile; past that the connection is
	// closed with an error that says so). Default 100 000, the official
	// HubOptions.StatefulReconnectBufferSize.
	StatefulReconnectBufferSize int
	// StatefulReconnectGrace is how long a stateful connection whose
	// WebSocket dropped waits for the client to resume it on a new socket
	// with the same id= before it is closed for good. Default 30 s.
	StatefulReconnectGrace time.Duration
	// AckInterval is how long after a message from a stateful client the
	// service acknowledges it. Default 1 s, the official clients' value.
	AckInterval time.Duration

	// TraceBuffer is how many events a live-trace subscriber may fall
	// behind by; past it its events are dropped and counted, never waited
	// for. Default 1024.
	TraceBuffer int

	// HTTP bounds the listener's plain HTTP connections (see HTTPLimits).
	HTTP HTTPLimits

	// Upstream lists where client events and invocations go (serverless
	// upstream, for SignalRTrigger functions), tried in order: the first
	// template that matches a call's hub, category and event gets it.
	// Default: none, and client invocations are dropped, as the service
	// drops them without upstream settings.
	Upstream []UpstreamTemplate
	// UpstreamSettingsFile is the official emulator's settings.json; its
	// UpstreamSettings.Templates come after Upstream, and are re-read when
	// the file changes. Default: none.
	UpstreamSettingsFile string
	// UpstreamSettingsPoll is how often the settings file is checked for a
	// change. Default 1 s.
	UpstreamSettingsPoll time.Duration
	// UpstreamTimeout bounds one upstream call; an invocation still
	// waiting then completes with "Invocation failed, response
	// cancelled.". Default 100 s, the official emulator's (.NET
	// HttpClient's) timeout.
	UpstreamTimeout time.Duration
	// UpstreamClient makes the upstream calls. Default: a client of the
	// service's own, without proxy, at most 128 connections per host.
	UpstreamClient *http.Client
	// OnUpstreamCall, when set, receives the outcome of every upstream
	// call after it is logged. It runs on the connection's upstream worker
	// and must not block. Default: none.
	OnUpstreamCall func(UpstreamCall)
}

func (o *ServiceOptions) setDefaults() {
	if o.AccessKey == "" {
		o.AccessKey = DefaultAccessKey
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PingInterval, 15*time.Second)
	def(&o.HandshakeTimeout, 15*time.Second)
	def(&o.ClientTimeout, 30*time.Second)
	def(&o.NegotiateTimeout, 5*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.PollTimeout, 90*time.Second)
	def(&o.PollDisconnectTimeout, 15*time.Second)
	def(&o.SweepInterval, time.Second)
	def(&o.TokenLeeway, 5*time.Second)
	def(&o.ShutdownTimeout, 3*time.Second)
	def(&o.StatefulReconnectGrace, 30*time.Second)
	def(&o.AckInterval, time.Second)
	def(&o.UpstreamSettingsPoll, time.Second)
	def(&o.UpstreamTimeout, 100*time.Second)
	if o.StatefulReconnectBufferSize <= 0 {
		o.StatefulReconnectBufferSize = 100_000
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 1 << 20
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.TraceBuffer <= 0 {
		o.TraceBuffer = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
