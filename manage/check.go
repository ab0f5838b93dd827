package manage

import (
	"context"
	"fmt"
	"strings"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// Azure SignalR Service does not say how many connections a send reached.
// CheckSend and CheckGroup ask the REST API's existence checks
// (2022-06-01: connection, user, group) instead, right after the call:
// they cannot prove a message arrived, but they can tell that nobody was
// there to get it, and suggest the near miss (a user id in another case).

// CheckSend says, from the existence checks, whether anybody could have
// received m in hub: e.g. "user 'Bob' has no connection to hub 'chat'
// (existence check), so the message reached nobody; user ids are
// case-sensitive, and user 'bob' is connected".
func (c *RESTClient) CheckSend(ctx context.Context, hub string, msg Message) (string, error) {
	m, err := msg.SignalRMessage()
	if err != nil {
		return "", fmt.Errorf("check send: %w", err)
	}
	h := quote(strings.ToLower(hub))
	switch {
	case m.ConnectionID != "":
		ok, err := c.ConnectionExists(ctx, hub, m.ConnectionID)
		if err != nil {
			return "", err
		}
		if ok {
			return "connection " + quote(m.ConnectionID) + " is connected to hub " + h + " (existence check)", nil
		}
		s := "connection " + quote(m.ConnectionID) + " is not connected to hub " + h + " (existence check), so the message reached nobody"
		if user, err := c.UserExists(ctx, hub, m.ConnectionID); err == nil && user {
			s += "; " + quote(m.ConnectionID) + " is a user id, not a connection id"
		}
		return s, nil
	case m.UserID != "":
		ok, err := c.UserExists(ctx, hub, m.UserID)
		if err != nil {
			return "", err
		}
		if ok {
			return "user " + quote(m.UserID) + " has a connection to hub " + h + " (existence check)", nil
		}
		return "user " + quote(m.UserID) + " has no connection to hub " + h + " (existence check), so the message reached nobody" +
			nearMiss(m.UserID, "user ids", func(s string) (bool, error) { return c.UserExists(ctx, hub, s) }, "user", "is connected"), nil
	case m.GroupName != "":
		ok, err := c.GroupExists(ctx, hub, m.GroupName)
		if err != nil {
			return "", err
		}
		if ok {
			return "group " + quote(m.GroupName) + " has connections in hub " + h + " (existence check)", nil
		}
		return "group " + quote(m.GroupName) + " has no connections in hub " + h + " (existence check), so the message reached nobody" +
			nearMiss(m.GroupName, "group names", func(s string) (bool, error) { return c.GroupExists(ctx, hub, s) }, "group", "has connections"), nil
	}
	return "no existence check tells whether hub " + h + " has connections", nil
}

// CheckGroup says, from the existence checks, what a group action on a
// user applied to now. An action on a connection needs no check: the
// REST API refuses one on a connection that does not exist.
func (c *RESTClient) CheckGroup(ctx context.Context, hub string, a protocol.SignalRGroupAction) (string, error) {
	if a.UserID == "" {
		return "", nil
	}
	h := quote(strings.ToLower(hub))
	ok, err := c.UserExists(ctx, hub, a.UserID)
	if err != nil {
		return "", err
	}
	if ok {
		return "user " + quote(a.UserID) + " has a connection to hub " + h + " (existence check)", nil
	}
	s := "user " + quote(a.UserID) + " has no connection to hub " + h + " (existence check)"
	if strings.EqualFold(a.Action, protocol.GroupAdd) {
		s += "; the membership applies when one connects"
	}
	return s + nearMiss(a.UserID, "user ids", func(s string) (bool, error) { return c.UserExists(ctx, hub, s) }, "user", "is connected"), nil
}

// nearMiss checks the lower-case form of name, the likeliest near miss,
// and says so when it exists.
func nearMiss(name, what string, exists func(string) (bool, error), noun, verb string) string {
	lower := strings.ToLower(strings.TrimSpace(name))
	if lower == name {
		return ""
	}
	if ok, err := exists(lower); err == nil && ok {
		return "; " + what + " are case-sensitive, and " + noun + " " + quote(lower) + " " + verb
	}
	return "; " + what + " are case-sensitive"
}

func quote(s string) string { return "'" + textsafe.Clip(s, 64) + "'" }
