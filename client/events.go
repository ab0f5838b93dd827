package client

import (
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// State is where a hub connection stands. The names match the official
// clients' HubConnectionState, minus Disconnecting, which sigr never lingers in.
type State uint8

// Connection states. The zero value is Disconnected, the state of a Conn
// that was never started.
const (
	Disconnected State = iota
	Connecting
	Connected
	Reconnecting
)

// String returns the lower-case name used in event lines ("connecting",
// "connected", "reconnecting", "disconnected").
func (s State) String() string {
	switch s {
	case Disconnected:
		return "disconnected"
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	}
	return "unknown"
}

// EventKind says which fields of an Event are meaningful.
type EventKind uint8

// Event kinds.
const (
	// EventMessage carries one hub message: Message is decoded and Raw holds
	// the record (without 0x1E). Every message type arrives this way,
	// invocations whatever their target, completions, stream items, Close
	// messages and unknown types; pings only when Options.Pings is set.
	EventMessage EventKind = iota + 1
	// EventState reports a state change: State, Transport, ConnectionID,
	// Attempt, RetryIn, Err and Resumed.
	EventState
	// EventError reports a record that could not be parsed (Err holds the
	// parser's text, Raw the record). The connection carries on, as the
	// official clients do for messages they cannot read.
	EventError
	// EventHandshake carries the server's handshake response record in Raw,
	// once per transport connection, for raw-traffic inspectors.
	EventHandshake
)

// String names the kind for logs.
func (k EventKind) String() string {
	switch k {
	case EventMessage:
		return "message"
	case EventState:
		return "state"
	case EventError:
		return "error"
	case EventHandshake:
		return "handshake"
	}
	return "unknown"
}

// Event is one thing that happened on a connection. All events of a Conn
// travel on the single channel returned by Conn.Events, in the order they
// happened, so a consumer never has to merge streams.
//
// Events are plain values: Raw and the raw JSON fields of Message point into
// memory that nothing writes again (records are copied out of the read
// buffer once), so a consumer may keep an event as long as it likes without
// copying. It must not modify those bytes.
type Event struct {
	Kind EventKind
	// Time is when the event happened; for messages, when the transport
	// payload carrying the record was received.
	Time time.Time

	// Message is the decoded hub message (EventMessage). It aliases Raw.
	Message protocol.Message
	// Raw is the record as received, without the 0x1E separator
	// (EventMessage, EventError, EventHandshake).
	Raw []byte

	// State is the new state (EventState).
	State State
	// Transport is the transport in use or being tried, spelled as the
	// protocol does ("WebSockets"); empty before one is chosen.
	Transport string
	// ConnectionID is the connection id the server gave in negotiate; it
	// changes on every reconnect because a reconnect is a new connection.
	ConnectionID string
	// Attempt counts connection attempts within the current connect or
	// reconnect cycle, starting at 1; 0 when not retrying.
	Attempt int
	// RetryIn is the delay before the next attempt (Reconnecting, or
	// Connecting when the first connect is retried).
	RetryIn time.Duration
	// Err is the last error: why the connection dropped, why an attempt
	// failed, or why it ended (Disconnected). Nil on a clean stop.
	Err error
	// AccessToken is the token the connection presents to the service, on
	// Connected events, for a token inspector. It is opaque (it need not be
	// a JWT) and must never be shown or logged whole.
	AccessToken string
	// Hub is the hub as the service names it (lower-cased by Azure), on
	// the handshake and Connected events; empty when not yet known, and
	// for a plain ASP.NET Core hub, whose negotiate is not an Azure
	// redirect (url and accessToken) and so names no hub.
	Hub string
	// Resumed is true when Connected follows a stateful-reconnect resume of
	// the same connection rather than a new connection.
	Resumed bool
}
