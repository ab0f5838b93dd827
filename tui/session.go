package tui

import (
	"context"
	"encoding/json"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
)

// Session owns the hub connections the screen shows. It announces each
// connection it opens, with that connection's own event channel, and the
// Feed reads those channels directly: events reach the screen as the client
// emitted them, with no goroutine in between.
type Session interface {
	// Conns announces every connection Open starts, once. It is closed by
	// Close; each announced Events channel closes after its connection's
	// last event.
	Conns() <-chan Source
	// Open starts one more connection as the identity in spec. It returns
	// once the connection is started; its progress arrives as events.
	Open(ctx context.Context, spec ConnSpec) error
	// Close stops every connection and waits for their goroutines.
	Close() error
}

// Source is one connection of a Session: who it is, and the channel its
// events arrive on.
type Source struct {
	Spec   ConnSpec
	Events <-chan client.Event
}

// Event is one client.Event and the connection it happened on. Message and
// error events own their Message and Raw, as client.Event says: the screen
// keeps them without copying.
type Event struct {
	// Conn is the connection; Conn.Label() names it, uniquely in a session.
	Conn ConnSpec
	client.Event
}

// Sender posts messages and group actions over HTTP, through the function
// app or the service REST API. The Outcome is the server's answer: its
// status and headers, in which sigr's emulator says to how many
// connections a message went and, for none, why.
type Sender interface {
	// Send delivers one message.
	Send(ctx context.Context, out Outgoing) (manage.Outcome, error)
	// Group adds a user or a connection to a group, or removes it.
	Group(ctx context.Context, act GroupAction) (manage.Outcome, error)
}

// ConnSpec is the identity of one connection: the hub, who we are, and any
// extra negotiate headers.
type ConnSpec struct {
	Name string // the label; default Label()
	// Hub is sent to negotiate as hub=; "" sends none, which a plain hub
	// (its URL is the hub) needs and a function app fills with its default.
	Hub     string
	User    string            // empty connects anonymously
	Headers map[string]string // extra negotiate headers
}

// Label is how the screen names a connection: Name if set, else user@hub
// or anon@hub, or only the user when no hub is named.
func (s ConnSpec) Label() string {
	if s.Name != "" {
		return s.Name
	}
	u := s.User
	if u == "" {
		u = "anon"
	}
	if s.Hub == "" {
		return u
	}
	return u + "@" + s.Hub
}

// Invoker calls hub methods over the session's own connections: the way
// to send on a plain ASP.NET Core hub, which has no function app and no
// REST API, and on Azure SignalR Service when the hub has an upstream. A
// Session may implement it; ClientSession does.
type Invoker interface {
	// Invoke writes c's invocation on the connection labelled c.Conn and
	// returns its id. Its Completion and StreamItems arrive as that
	// connection's events, carrying the id; Pending.Wait tells how it
	// ended. ctx bounds the write and, for a stream, its life: when ctx
	// ends the stream is cancelled.
	Invoke(ctx context.Context, c Call) (Pending, error)
}

// Reconnector closes and reopens single connections of a Session, so that
// "bob is offline" can be tried without quitting, and a connection waiting
// out its backoff can be told to try now. A Session may implement it;
// ClientSession does. A reopened connection is announced again on Conns
// under the same label.
type Reconnector interface {
	// CloseConn closes the connection labelled label and waits for it.
	CloseConn(ctx context.Context, label string) error
	// Reopen closes the connection labelled label if it is open, then
	// opens it again at once.
	Reopen(ctx context.Context, label string) error
}

// Call is one hub method invocation made from the screen.
type Call struct {
	Conn   string          // the label of the connection it goes over
	Target string          // the hub method
	Args   json.RawMessage // a JSON array
	Stream bool            // a StreamInvocation: items, then the completion
}

// Pending is an invocation that has been written.
type Pending struct {
	// ID is the invocation id its answer carries.
	ID string
	// Wait returns once the invocation has ended: nil after a completion
	// without an error, a *client.HubError with the hub's error, or why no
	// completion came (the connection closed, ctx ended).
	Wait func(ctx context.Context) error
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
