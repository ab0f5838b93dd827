package loadtest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sigr-dev/sigr/client"
)

// Mode is how the sends are addressed.
type Mode string

// Modes.
const (
	// Broadcast sends every message to every connection of the hub.
	Broadcast Mode = "broadcast"
	// ToUser sends each message to one user, round robin over the users.
	ToUser Mode = "user"
	// ToGroup sends each message to one group, round robin over the groups.
	ToGroup Mode = "group"
)

// Via is the path the sends take.
type Via string

// Paths.
const (
	// ViaREST posts to the service's data-plane REST API with a token minted
	// from the connection string, as a function's output binding does.
	ViaREST Via = "rest"
	// ViaFunctions posts to the function app's `messages` endpoint, the
	// path a serverless app's own clients use.
	ViaFunctions Via = "functions"
)

// Target is the client method every benchmark message invokes.
const Target = "sigrBench"

// Options that cannot work, for a command to name its own flag.
var (
	// ErrNoGroups: Mode ToGroup with no Groups.
	ErrNoGroups = errors.New("loadtest: sending to groups needs at least one group (Options.Groups)")
	// ErrNoConnectionString: ViaREST with no ConnectionString.
	ErrNoConnectionString = errors.New("loadtest: sending through the REST API needs a connection string (Options.ConnectionString)")
)

// Options configure a run. The zero value of each field takes the default
// its comment names; URL or ConnectionString is required.
type Options struct {
	// URL is the function app base URL the connections negotiate through
	// (e.g. http://127.0.0.1:7071/api). Default: none, connect with
	// ConnectionString.
	URL string
	// ConnectionString is an Azure SignalR connection string: the
	// connections mint their own tokens when URL is empty, and ViaREST uses
	// it to reach the REST API. Default: none.
	ConnectionString string
	// Hub is the hub every connection joins and every send targets.
	// Default "chat".
	Hub string
	// Header and Query are added to every function app request (negotiate
	// and sends), e.g. a function key code=. Default: none.
	Header http.Header
	Query  url.Values

	// Connections is how many connections to open, each as its own user
	// (UserPrefix-0, UserPrefix-1, ...). Default 100.
	Connections int
	// Groups spreads the users over this many groups (user i joins group
	// i mod Groups). Required by ToGroup; default 0 (no groups).
	Groups int
	// UserPrefix starts every user id and group name. Default
	// "bench-<random>", so that two runs against one service never count
	// each other's messages.
	UserPrefix string
	// ConnectConcurrency bounds the connects in flight. Default 64.
	ConnectConcurrency int
	// ConnectTimeout bounds one connect. Default 30 s.
	ConnectTimeout time.Duration

	// Mode addresses the sends. Default Broadcast.
	Mode Mode
	// Via is where the sends go. Default ViaFunctions when URL is set, else
	// ViaREST.
	Via Via
	// Rate is sends per second. Default 10.
	Rate float64
	// Duration is how long sends go on. Default 10 s.
	Duration time.Duration
	// PayloadSize pads each message's argument to about this many bytes.
	// Default 0 (about 80 bytes, the timestamp and sequence alone).
	PayloadSize int
	// Senders bounds the sends in flight. A tick that finds them all busy
	// is counted in Result.LateSends and skipped, so a slow endpoint shows
	// up as a lower send rate rather than a burst later. Default 32.
	Senders int
	// Settle is the longest wait, after the last send, for messages still
	// on their way before the missing ones count as lost. Default 5 s.
	Settle time.Duration

	// Progress, when set, is called about every ProgressEvery while the
	// run goes on, and once at the end. Default: none.
	Progress func(Progress)
	// ProgressEvery is the interval between Progress calls. Default 250 ms.
	ProgressEvery time.Duration

	// HTTPClient carries negotiates, WebSocket upgrades and sends.
	// Default: a client of its own with a 30 s timeout, whose idle
	// connections are closed when the run ends.
	HTTPClient *http.Client
	// ClientOptions tunes the hub connections (URL, ConnectionString, Hub
	// and UserID are set by the run). Default: client defaults with an
	// event buffer of 64 and no reconnecting, since a dropped connection is
	// a finding here, not something to paper over.
	ClientOptions client.Options
	// Logger receives warnings about failed connects and sends. Default:
	// none.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.URL == "" && o.ConnectionString == "" {
		return o, errors.New("loadtest: a function app URL or a connection string is required")
	}
	if o.Hub == "" {
		o.Hub = client.DefaultHub
	}
	if o.Connections <= 0 {
		o.Connections = 100
	}
	if o.UserPrefix == "" {
		o.UserPrefix = "bench-" + randomHex(3)
	}
	if o.ConnectConcurrency <= 0 {
		o.ConnectConcurrency = 64
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 30 * time.Second
	}
	if o.Mode == "" {
		o.Mode = Broadcast
	}
	switch o.Mode {
	case Broadcast, ToUser:
	case ToGroup:
		if o.Groups <= 0 {
			return o, ErrNoGroups
		}
	default:
		return o, fmt.Errorf("loadtest: unknown mode %q; use broadcast, user or group", o.Mode)
	}
	if o.Groups > o.Connections {
		o.Groups = o.Connections
	}
	if o.Via == "" {
		o.Via = ViaREST
		if o.URL != "" {
			o.Via = ViaFunctions
		}
	}
	switch o.Via {
	case ViaREST:
		if o.ConnectionString == "" {
			return o, ErrNoConnectionString
		}
	case ViaFunctions:
		if o.URL == "" {
			return o, errors.New("loadtest: sending through the function app needs its URL")
		}
	default:
		return o, fmt.Errorf("loadtest: unknown path %q; use rest or functions", o.Via)
	}
	if o.Rate <= 0 {
		o.Rate = 10
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Senders <= 0 {
		o.Senders = 32
	}
	if o.Settle <= 0 {
		o.Settle = 5 * time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 250 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
