// Package tui is sigr's terminal interface: a live monitor of SignalR traffic
// across several connections, a chat composer and a routing debugger, built
// on Bubble Tea v2.
//
// The package talks to the network only through two small interfaces,
// Session (the connections and their event feed) and Sender (HTTP sends and
// group actions), so the whole screen can be built and tested with fakes;
// NewClientSession adapts package client to them.
package tui

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// Session owns the hub connections the screen shows. Every connection it
// opens reports through the one Events channel, which the screen drains in
// batches (see Feed).
type Session interface {
	// Events returns the channel that carries every connection's events. It
	// is closed after Close has stopped every connection.
	Events() <-chan Event
	// Open starts one more connection as the identity in spec. It returns
	// once the connection is started; its progress arrives as events.
	Open(ctx context.Context, spec ConnSpec) error
	// Close stops every connection and waits for their goroutines.
	Close() error
}

// Sender posts messages and group actions over HTTP, through the function
// app or the service REST API.
type Sender interface {
	// Send delivers one message.
	Send(ctx context.Context, out Outgoing) error
	// Group adds a user or a connection to a group, or removes it.
	Group(ctx context.Context, act GroupAction) error
}

// ConnSpec is the identity of one connection: the hub, who we are, and any
// extra negotiate headers.
type ConnSpec struct {
	Name    string // the label; default Label()
	Hub     string
	User    string            // empty connects anonymously
	Headers map[string]string // extra negotiate headers
}

// Label is how the screen names a connection: Name if set, else user@hub
// or anon@hub.
func (s ConnSpec) Label() string {
	if s.Name != "" {
		return s.Name
	}
	u := s.User
	if u == "" {
		u = "anon"
	}
	return u + "@" + s.Hub
}

// ConnState is the life-cycle state of one connection.
type ConnState int

// Connection states, in the order a connection normally goes through them.
const (
	StateConnecting ConnState = iota
	StateConnected
	StateReconnecting
	StateDisconnected
)

// String returns the state's name as the event-line schema spells it.
func (s ConnState) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	default:
		return "disconnected"
	}
}

// EventKind says what an Event carries.
type EventKind int

// Event kinds.
const (
	EventMessage EventKind = iota // a hub message arrived
	EventState                    // a connection changed state
)

// Event is one thing that happened on one connection. Message events own
// their Message and Raw: the sender must not reuse the memory.
type Event struct {
	Kind EventKind
	Time time.Time // when it was received
	Conn string    // the connection's label (ConnSpec.Label), unique in a session
	Hub  string
	User string // the identity asked for; the token's user id comes in Token

	// Message events.
	Msg protocol.Message
	Raw []byte // the record without its 0x1E, if known

	// State events.
	State        ConnState
	Transport    string
	ConnectionID string
	Attempt      int
	RetryIn      time.Duration
	Err          string
	Token        string // the service access token, for the inspector; never shown whole
	// Resumed marks a Connected state reached by a stateful-reconnect
	// resume: the same connection, nothing lost, not a new connection id.
	Resumed bool
}

// Destination is where a message goes.
type Destination int

// Destinations.
const (
	ToAll Destination = iota
	ToUser
	ToGroup
	ToConnection
)

// String returns the destination as the composer spells it.
func (d Destination) String() string {
	switch d {
	case ToUser:
		return "user"
	case ToGroup:
		return "group"
	case ToConnection:
		return "connection"
	default:
		return "all"
	}
}

// Outgoing is one message to send. When Chat is set it goes out as the
// chat-sample body (sender, text, recipient, groupname), which the function
// app turns into target newMessage; otherwise as a SignalR message with
// Target and Args.
type Outgoing struct {
	Hub    string
	Target string
	Args   json.RawMessage // a JSON array
	To     Destination
	Name   string // user id, group name or connection id for To

	Chat   bool
	Sender string // chat mode: who we are
	Text   string // chat mode: the text typed
}

// GroupAction adds a user or a connection to a group, or removes it.
type GroupAction struct {
	Hub          string
	Add          bool
	Group        string
	UserID       string
	ConnectionID string
}
