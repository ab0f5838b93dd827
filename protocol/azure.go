package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ClaimUserID is the claim Azure SignalR Service reads the user id from
// first; the Functions binding and the Management SDK write it.
const ClaimUserID = "asrs.s.uid"

// ConnectionString is a parsed Azure SignalR Service connection string.
type ConnectionString struct {
	// Endpoint is scheme://host[:port] with the Port key applied and no
	// trailing slash.
	Endpoint       string
	AccessKey      string
	Version        string
	ClientEndpoint string
	ServerEndpoint string
	AuthType       string
}

var versionRE = regexp.MustCompile(`^1\.\d+(?:[\w\-.]+)?$`)

// ParseConnectionString parses `Endpoint=...;AccessKey=...;Version=1.0;`
// as the service SDK does: keys without regard to case, values trimmed, a
// duplicate key is an error, Port overrides the endpoint's port, Version
// must be 1.x, and the AccessKey is kept as its text (it is used as UTF-8
// bytes for HMAC, never base64-decoded).
func ParseConnectionString(s string) (ConnectionString, error) {
	var c ConnectionString
	props := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return c, fmt.Errorf("connection string: %q is not a key=value pair", redactPair(part))
		}
		key := strings.ToLower(strings.TrimSpace(k))
		if _, dup := props[key]; dup {
			return c, fmt.Errorf("connection string: duplicate key %q", strings.TrimSpace(k))
		}
		props[key] = strings.TrimSpace(v)
	}
	if len(props) < 2 {
		return c, errors.New("connection string: expected at least Endpoint and AccessKey, as in Endpoint=https://NAME.service.signalr.net;AccessKey=KEY;Version=1.0;")
	}
	ep, ok := props["endpoint"]
	if !ok || ep == "" {
		return c, errors.New("connection string: Endpoint is missing")
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return c, fmt.Errorf("connection string: Endpoint %q is not an absolute http or https URL", ep)
	}
	// A port inside Endpoint gets the Port key's check, since String
	// writes it back as a Port key.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("connection string: the port %q in Endpoint is not a number from 1 to 65535", p)
		}
	}
	if p, ok := props["port"]; ok {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("connection string: Port %q is not a number from 1 to 65535", p)
		}
		u.Host = joinHostPort(u.Hostname(), p)
	}
	c.Endpoint = strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
	c.AuthType = props["authtype"]
	c.AccessKey = props["accesskey"]
	if c.AccessKey == "" && c.AuthType == "" {
		return c, errors.New("connection string: AccessKey is missing")
	}
	c.Version = "1.0"
	if v, ok := props["version"]; ok {
		if !versionRE.MatchString(v) {
			return c, fmt.Errorf("connection string: Version %q is not supported; expected 1.x", v)
		}
		c.Version = v
	}
	for _, k := range []string{"clientendpoint", "serverendpoint"} {
		v, ok := props[k]
		if !ok {
			continue
		}
		cu, err := url.Parse(v)
		if err != nil || (cu.Scheme != "http" && cu.Scheme != "https") || cu.Hostname() == "" {
			return c, fmt.Errorf("connection string: %s %q is not an absolute http or https URL", k, v)
		}
		if k == "clientendpoint" {
			c.ClientEndpoint = strings.TrimRight(v, "/")
		} else {
			c.ServerEndpoint = strings.TrimRight(v, "/")
		}
	}
	return c, nil
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// redactPair keeps an access key out of an error message.
func redactPair(p string) string {
	if len(p) > 12 {
		return p[:8] + "…"
	}
	return p
}

// String formats c back into a connection string.
func (c ConnectionString) String() string {
	u, err := url.Parse(c.Endpoint)
	var b strings.Builder
	if err == nil && u.Port() != "" {
		// The port goes in its own key, as the service prints it; the
		// path and IPv6 brackets stay on the endpoint.
		host := u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		b.WriteString("Endpoint=" + u.Scheme + "://" + host + u.Path + ";Port=" + u.Port() + ";")
	} else {
		b.WriteString("Endpoint=" + c.Endpoint + ";")
	}
	if c.AccessKey != "" {
		b.WriteString("AccessKey=" + c.AccessKey + ";")
	}
	if c.ClientEndpoint != "" {
		b.WriteString("ClientEndpoint=" + c.ClientEndpoint + ";")
	}
	if c.ServerEndpoint != "" {
		b.WriteString("ServerEndpoint=" + c.ServerEndpoint + ";")
	}
	if c.AuthType != "" {
		b.WriteString("AuthType=" + c.AuthType + ";")
	}
	b.WriteString("Version=" + c.Version + ";")
	return b.String()
}

// ClientURL returns the client URL for hub, `{client endpoint}/client/?hub=
// {hub}` with the hub lower-cased, as the Functions binding hands out.
func (c ConnectionString) ClientURL(hub string) string {
	base := c.Endpoint
	if c.ClientEndpoint != "" {
		base = c.ClientEndpoint
	}
	return base + "/client/?hub=" + url.QueryEscape(strings.ToLower(hub))
}

// RESTBase returns the base URL of the REST API.
func (c ConnectionString) RESTBase() string {
	if c.ServerEndpoint != "" {
		return c.ServerEndpoint
	}
	return c.Endpoint
}

// UserIDFromClaims returns the user id the service assigns to a
// connection: `asrs.s.uid`, else `nameid`, else `sub`. Non-string values
// are ignored; an empty id means anonymous.
func UserIDFromClaims(claims map[string]any) string {
	for _, k := range []string{ClaimUserID, "nameid", "sub"} {
		if v, ok := claims[k].(string); ok {
			return v
		}
	}
	return ""
}

var hubNameRE = regexp.MustCompile("^[A-Za-z][A-Za-z0-9_`,.\\[\\]]{0,127}$")

// ValidHubName reports whether h is a hub name the service accepts.
func ValidHubName(h string) bool { return hubNameRE.MatchString(h) }

// ValidGroupName reports whether g is a group name the service accepts:
// 1 to 1024 characters, not all white space.
func ValidGroupName(g string) bool {
	n := len([]rune(g))
	return n >= 1 && n <= 1024 && strings.TrimSpace(g) != ""
}

// SignalRMessage is the Functions output binding's message: a target and
// arguments, to a connection, else a user, else a group, else everyone.
type SignalRMessage struct {
	Target       string          `json:"target"`
	Arguments    json.RawMessage `json:"arguments"`
	UserID       string          `json:"userId,omitempty"`
	GroupName    string          `json:"groupName,omitempty"`
	ConnectionID string          `json:"connectionId,omitempty"`
}

// Group actions of SignalRGroupAction.
const (
	GroupAdd       = "add"
	GroupRemove    = "remove"
	GroupRemoveAll = "removeAll"
)

// SignalRGroupAction is the Functions output binding's group action.
type SignalRGroupAction struct {
	Action       string `json:"action"`
	GroupName    string `json:"groupName,omitempty"`
	UserID       string `json:"userId,omitempty"`
	ConnectionID string `json:"connectionId,omitempty"`
}

// ChatMessage is the body of the serverless chat sample's messages
// function; it arrives at clients as target newMessage with the body as
// its one argument.
type ChatMessage struct {
	Sender    string `json:"sender"`
	Text      string `json:"text"`
	Recipient string `json:"recipient,omitempty"`
	GroupName string `json:"groupname,omitempty"`
}

// ChatTarget is the target the chat sample sends ChatMessages to.
const ChatTarget = "newMessage"

// SignalRMessage is what the chat sample's messages function sends for c:
// target newMessage with the body as its one argument, to the recipient
// if set, else to the group if set, else to everyone. raw is the body as
// received, so that fields the sample does not know survive; nil encodes c.
func (c ChatMessage) SignalRMessage(raw []byte) (SignalRMessage, error) {
	if raw == nil {
		var err error
		if raw, err = json.Marshal(c); err != nil {
			return SignalRMessage{}, err
		}
	}
	m := SignalRMessage{Target: ChatTarget, Arguments: append(append(json.RawMessage{'['}, raw...), ']')}
	switch {
	case c.Recipient != "":
		m.UserID = c.Recipient
	case c.GroupName != "":
		m.GroupName = c.GroupName
	}
	return m, nil
}

// PayloadMessage is the body of the REST API's send calls.
type PayloadMessage struct {
	Target    string          `json:"target"`
	Arguments json.RawMessage `json:"arguments"`
}
