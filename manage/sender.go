package manage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sigr-dev/sigr/protocol"
)

// Sender sends hub messages and changes group membership from the server
// side, as a serverless app's functions do. FunctionApp goes through the
// app's messages and groups functions, RESTClient through the service
// REST API; a caller picks one when it starts and then only sends.
//
// hub names the hub. The REST API needs one; "" leaves it to the function
// app, which has a default (the chat sample's: chat).
//
// A Sender that has no way to change groups returns, from Group, an error
// wrapping errors.ErrUnsupported (a plain ASP.NET Core hub, reached by
// invoking its methods, has no groups API).
type Sender interface {
	// Send delivers m to everyone, a user, a group or a connection, as its
	// routing fields say.
	Send(ctx context.Context, hub string, m Message) (Outcome, error)
	// Group adds a user or a connection to a group, removes it, or removes
	// it from every group (protocol.GroupAdd, GroupRemove, GroupRemoveAll).
	Group(ctx context.Context, hub string, a protocol.SignalRGroupAction) (Outcome, error)
}

// Message is what a Sender sends: a SignalRMessage, or the body of the
// serverless chat sample's messages function, which the function app
// receives as it is and turns into a newMessage itself. Make one with
// SignalR or Chat.
type Message struct {
	signalR protocol.SignalRMessage
	chat    *protocol.ChatMessage
}

// SignalR returns the Message that sends m.
func SignalR(m protocol.SignalRMessage) Message { return Message{signalR: m} }

// Chat returns the Message that sends the chat sample's body c: to its
// recipient, else its group, else everyone.
func Chat(c protocol.ChatMessage) Message { return Message{chat: &c} }

// ChatMessage returns the chat sample's body of a Message made with Chat.
func (m Message) ChatMessage() (protocol.ChatMessage, bool) {
	if m.chat == nil {
		return protocol.ChatMessage{}, false
	}
	return *m.chat, true
}

// SignalRMessage returns the message the service delivers: a chat body
// becomes what the chat sample's function sends for it.
func (m Message) SignalRMessage() (protocol.SignalRMessage, error) {
	if m.chat != nil {
		return m.chat.SignalRMessage(nil)
	}
	return m.signalR, nil
}

// Outcome is a server's answer to a send or a group action. It grows as
// servers report more (a server may say in its headers to how many
// connections a message went).
type Outcome struct {
	// Status is the HTTP status of the answer.
	Status int
	// Header holds the answer's headers.
	Header http.Header
	// Body is the start of the answer's body (at most 1 MiB): the function
	// app's JSON; the REST API answers with none.
	Body []byte
}

// String is the status as a command prints it, e.g. "202 Accepted".
func (o Outcome) String() string {
	return fmt.Sprintf("%d %s", o.Status, http.StatusText(o.Status))
}

// checkGroupAction refuses, before any request, a group action that no
// server would accept.
func checkGroupAction(a protocol.SignalRGroupAction) error {
	switch strings.ToLower(a.Action) {
	case "add", "remove", "removeall":
	default:
		return fmt.Errorf("group action: action %q is not one of add, remove, removeAll", a.Action)
	}
	if a.UserID == "" && a.ConnectionID == "" {
		return errors.New("group action: name a user or a connection")
	}
	if a.GroupName == "" && !strings.EqualFold(a.Action, protocol.GroupRemoveAll) {
		return fmt.Errorf("group action: %s needs a group name", a.Action)
	}
	return nil
}
