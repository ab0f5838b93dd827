package manage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// RESTAPIVersion is the data-plane REST API version the REST client speaks.
const RESTAPIVersion = "2022-06-01"

// maxErrorBody bounds how much of an error response is kept for messages.
const maxErrorBody = 4 << 10

// RESTOptions configure a RESTClient. The zero value is usable.
type RESTOptions struct {
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// TokenLifetime is the lifetime of the per-request token. Default 5 minutes.
	TokenLifetime time.Duration
	// Application, when set, adds `application=<name>` to every request, so
	// the service scopes hubs to `{application}_{hub}`. Default: none.
	Application string
}

// RESTClient calls the Azure SignalR Service data-plane REST API (2022-06-01
// paths) with a fresh token per request minted from a connection string, as
// the Functions output binding does in transient mode. It is a Sender;
// the emulator's function app, `sigr send` and the TUI use it to reach the
// service. It is safe for concurrent use.
type RESTClient struct {
	cs   protocol.ConnectionString
	base string // ServerEndpoint or Endpoint, no trailing slash
	http *http.Client
	ttl  time.Duration
	app  string
}

// NewRESTClient parses connectionString and returns a client for its
// service. The REST base is the ServerEndpoint key when set, else Endpoint.
func NewRESTClient(connectionString string, opts RESTOptions) (*RESTClient, error) {
	cs, err := protocol.ParseConnectionString(connectionString)
	if err != nil {
		return nil, fmt.Errorf("REST client: %w", err)
	}
	return NewRESTClientFor(cs, opts)
}

// NewRESTClientFor is NewRESTClient for an already parsed connection string.
func NewRESTClientFor(cs protocol.ConnectionString, opts RESTOptions) (*RESTClient, error) {
	base := cs.ServerEndpoint
	if base == "" {
		base = cs.Endpoint
	}
	if base == "" {
		return nil, errors.New("REST client: the connection string has no Endpoint; use one like Endpoint=http://127.0.0.1;Port=8888;AccessKey=...;Version=1.0;")
	}
	if cs.AccessKey == "" {
		return nil, errors.New("REST client: the connection string has no AccessKey; AAD auth is not supported by sigr, use an access key")
	}
	c := &RESTClient{cs: cs, base: strings.TrimRight(base, "/"), http: opts.HTTPClient, ttl: opts.TokenLifetime, app: opts.Application}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.ttl <= 0 {
		c.ttl = 5 * time.Minute
	}
	return c, nil
}

// Endpoint returns the REST base URL the client talks to.
func (c *RESTClient) Endpoint() string { return c.base }

// ConnectionString returns the parsed connection string the client uses.
func (c *RESTClient) ConnectionString() protocol.ConnectionString { return c.cs }

// RESTError is a non-2xx answer from the REST API (other than the 404s an
// existence check expects). Code is the `x-ms-error-code` header, if any.
type RESTError struct {
	Op     string // e.g. "send to user"
	Method string
	Path   string // request path, no query
	Status int
	Code   string
	Body   string // at most 4 KiB, as received
}

// Error says what failed and what to try.
func (e *RESTError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s answered %d %s", e.Op, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if msg := clip(e.Body, 300); msg != "" {
		fmt.Fprintf(&b, ": %q", msg)
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		b.WriteString("; check that the connection string's AccessKey matches the service")
	case e.Status == http.StatusNotFound:
		b.WriteString("; check the hub, user, group or connection id, and that Endpoint points at a SignalR service")
	case e.Status == http.StatusBadRequest:
		b.WriteString("; check the names and the message body")
	case e.Status >= 500:
		b.WriteString("; the service failed, retry later")
	}
	return b.String()
}

// Broadcast sends target(arguments) to every connection of hub, except the
// connection ids in excluded. arguments is a JSON array (nil means []).
func (c *RESTClient) Broadcast(ctx context.Context, hub, target string, arguments json.RawMessage, excluded ...string) error {
	q := url.Values{}
	for _, id := range excluded {
		q.Add("excluded", id)
	}
	_, err := c.send(ctx, "broadcast", hub, "/:send", q, target, arguments)
	return err
}

// SendToUser sends target(arguments) to every connection of user.
func (c *RESTClient) SendToUser(ctx context.Context, hub, user, target string, arguments json.RawMessage) error {
	_, err := c.send(ctx, "send to user", hub, "/users/"+seg(user)+"/:send", nil, target, arguments)
	return err
}

// SendToGroup sends target(arguments) to every connection in group, except
// the connection ids in excluded.
func (c *RESTClient) SendToGroup(ctx context.Context, hub, group, target string, arguments json.RawMessage, excluded ...string) error {
	q := url.Values{}
	for _, id := range excluded {
		q.Add("excluded", id)
	}
	_, err := c.send(ctx, "send to group", hub, "/groups/"+seg(group)+"/:send", q, target, arguments)
	return err
}

// SendToConnection sends target(arguments) to one connection.
func (c *RESTClient) SendToConnection(ctx context.Context, hub, connectionID, target string, arguments json.RawMessage) error {
	_, err := c.send(ctx, "send to connection", hub, "/connections/"+seg(connectionID)+"/:send", nil, target, arguments)
	return err
}

// Send implements Sender, routing the message as the Functions output
// binding does: connectionId, else userId, else groupName, else everyone.
func (c *RESTClient) Send(ctx context.Context, hub string, msg Message) (Outcome, error) {
	m, err := msg.SignalRMessage()
	if err != nil {
		return Outcome{}, fmt.Errorf("send: %w", err)
	}
	switch {
	case m.ConnectionID != "":
		return c.send(ctx, "send to connection", hub, "/connections/"+seg(m.ConnectionID)+"/:send", nil, m.Target, m.Arguments)
	case m.UserID != "":
		return c.send(ctx, "send to user", hub, "/users/"+seg(m.UserID)+"/:send", nil, m.Target, m.Arguments)
	case m.GroupName != "":
		return c.send(ctx, "send to group", hub, "/groups/"+seg(m.GroupName)+"/:send", nil, m.Target, m.Arguments)
	default:
		return c.send(ctx, "broadcast", hub, "/:send", nil, m.Target, m.Arguments)
	}
}

// Group implements Sender with the REST call the Functions output binding
// makes for a SignalRGroupAction. A user it adds stays in the group
// without a TTL, as the binding adds users.
func (c *RESTClient) Group(ctx context.Context, hub string, a protocol.SignalRGroupAction) (Outcome, error) {
	if err := checkGroupAction(a); err != nil {
		return Outcome{}, err
	}
	user, conn, group := seg(a.UserID), seg(a.ConnectionID), seg(a.GroupName)
	switch action := strings.ToLower(a.Action); {
	case a.ConnectionID != "" && action == "add":
		return c.do(ctx, "add connection to group", http.MethodPut, hub, "/groups/"+group+"/connections/"+conn, nil, nil, false)
	case a.ConnectionID != "" && action == "remove":
		return c.do(ctx, "remove connection from group", http.MethodDelete, hub, "/groups/"+group+"/connections/"+conn, nil, nil, false)
	case a.ConnectionID != "":
		return c.do(ctx, "remove connection from all groups", http.MethodDelete, hub, "/connections/"+conn+"/groups", nil, nil, false)
	case action == "add":
		return c.addUserToGroup(ctx, hub, a.GroupName, a.UserID, -1)
	case action == "remove":
		return c.do(ctx, "remove user from group", http.MethodDelete, hub, "/users/"+user+"/groups/"+group, nil, nil, false)
	default:
		return c.do(ctx, "remove user from all groups", http.MethodDelete, hub, "/users/"+user+"/groups", nil, nil, false)
	}
}

// AddConnectionToGroup adds a connection to group. A connection that does
// not exist gives a *RESTError with Status 404.
func (c *RESTClient) AddConnectionToGroup(ctx context.Context, hub, group, connectionID string) error {
	return c.group(ctx, hub, protocol.GroupAdd, group, "", connectionID)
}

// RemoveConnectionFromGroup removes a connection from group.
func (c *RESTClient) RemoveConnectionFromGroup(ctx context.Context, hub, group, connectionID string) error {
	return c.group(ctx, hub, protocol.GroupRemove, group, "", connectionID)
}

// RemoveConnectionFromAllGroups removes a connection from every group.
func (c *RESTClient) RemoveConnectionFromAllGroups(ctx context.Context, hub, connectionID string) error {
	return c.group(ctx, hub, protocol.GroupRemoveAll, "", "", connectionID)
}

// AddUserToGroup adds user to group; the membership applies to the user's
// current and future connections. ttl < 0 means no TTL (the service keeps
// it up to a year); ttl == 0 adds only the user's current connections;
// ttl > 0 keeps it that long (whole seconds).
func (c *RESTClient) AddUserToGroup(ctx context.Context, hub, group, user string, ttl time.Duration) error {
	_, err := c.addUserToGroup(ctx, hub, group, user, ttl)
	return err
}

func (c *RESTClient) addUserToGroup(ctx context.Context, hub, group, user string, ttl time.Duration) (Outcome, error) {
	var q url.Values
	if ttl >= 0 {
		q = url.Values{"ttl": {strconv.FormatInt(int64(ttl/time.Second), 10)}}
	}
	return c.do(ctx, "add user to group", http.MethodPut, hub, "/users/"+seg(user)+"/groups/"+seg(group), q, nil, false)
}

// RemoveUserFromGroup removes user (and the user's connections) from group.
func (c *RESTClient) RemoveUserFromGroup(ctx context.Context, hub, group, user string) error {
	return c.group(ctx, hub, protocol.GroupRemove, group, user, "")
}

// RemoveUserFromAllGroups removes user from every group of hub.
func (c *RESTClient) RemoveUserFromAllGroups(ctx context.Context, hub, user string) error {
	return c.group(ctx, hub, protocol.GroupRemoveAll, "", user, "")
}

// group is Group for the methods that name one operation.
func (c *RESTClient) group(ctx context.Context, hub, action, group, user, connectionID string) error {
	_, err := c.Group(ctx, hub, protocol.SignalRGroupAction{Action: action, GroupName: group, UserID: user, ConnectionID: connectionID})
	return err
}

// CloseConnection closes one connection; the service sends it a Close
// message carrying reason (may be empty) and allowReconnect.
func (c *RESTClient) CloseConnection(ctx context.Context, hub, connectionID, reason string) error {
	var q url.Values
	if reason != "" {
		q = url.Values{"reason": {reason}}
	}
	_, err := c.do(ctx, "close connection", http.MethodDelete, hub, "/connections/"+seg(connectionID), q, nil, false)
	return err
}

// ConnectionExists reports whether the connection is connected to hub.
func (c *RESTClient) ConnectionExists(ctx context.Context, hub, connectionID string) (bool, error) {
	return c.exists(ctx, "check connection", hub, "/connections/"+seg(connectionID))
}

// UserExists reports whether user has at least one connection to hub.
func (c *RESTClient) UserExists(ctx context.Context, hub, user string) (bool, error) {
	return c.exists(ctx, "check user", hub, "/users/"+seg(user))
}

// GroupExists reports whether group has at least one connection.
func (c *RESTClient) GroupExists(ctx context.Context, hub, group string) (bool, error) {
	return c.exists(ctx, "check group", hub, "/groups/"+seg(group))
}

// UserInGroup reports whether user is a member of group.
func (c *RESTClient) UserInGroup(ctx context.Context, hub, group, user string) (bool, error) {
	return c.exists(ctx, "check user in group", hub, "/users/"+seg(user)+"/groups/"+seg(group))
}

// Health checks that the service answers GET /api/health with 200.
func (c *RESTClient) Health(ctx context.Context) error {
	u := c.base + "/api/health"
	_, err := c.request(ctx, "health check", http.MethodGet, u, nil, false)
	return err
}

func (c *RESTClient) exists(ctx context.Context, op, hub, path string) (bool, error) {
	out, err := c.do(ctx, op, http.MethodHead, hub, path, nil, nil, true)
	if err != nil {
		return false, err
	}
	return out.Status == http.StatusOK, nil
}

func (c *RESTClient) send(ctx context.Context, op, hub, path string, q url.Values, target string, arguments json.RawMessage) (Outcome, error) {
	if target == "" {
		return Outcome{}, fmt.Errorf("%s: the target is empty; name the client method to call, e.g. newMessage", op)
	}
	if len(arguments) == 0 {
		arguments = json.RawMessage("[]")
	}
	if !json.Valid(arguments) || firstByte(arguments) != '[' {
		return Outcome{}, fmt.Errorf("%s: arguments must be a JSON array, e.g. [\"hello\"]", op)
	}
	body, err := json.Marshal(struct {
		Target    string          `json:"target"`
		Arguments json.RawMessage `json:"arguments"`
	}{target, arguments})
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: encoding the body: %w", op, err)
	}
	return c.do(ctx, op, http.MethodPost, hub, path, q, body, false)
}

// do builds `{base}/api/hubs/{hub}{path}?api-version=...` and sends it.
func (c *RESTClient) do(ctx context.Context, op, method, hub, path string, q url.Values, body []byte, notFoundOK bool) (Outcome, error) {
	if hub == "" {
		return Outcome{}, fmt.Errorf("%s: the hub name is empty", op)
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("api-version", RESTAPIVersion)
	if c.app != "" {
		q.Set("application", c.app)
	}
	u := c.base + "/api/hubs/" + seg(strings.ToLower(hub)) + path + "?" + q.Encode()
	return c.request(ctx, op, method, u, body, notFoundOK)
}

func (c *RESTClient) request(ctx context.Context, op, method, u string, body []byte, notFoundOK bool) (Outcome, error) {
	tok, err := MintRESTToken(c.cs.AccessKey, u, c.ttl)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: %w", op, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: building the request: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: %s %s failed: %w; check that the service is running and the connection string's Endpoint is right", op, method, pathOf(u), textsafe.WithoutURL(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	out := Outcome{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The REST API answers a send with no body.
		return out, nil
	}
	if notFoundOK && resp.StatusCode == http.StatusNotFound {
		return out, nil
	}
	return out, &RESTError{
		Op: op, Method: method, Path: pathOf(u), Status: resp.StatusCode,
		Code: resp.Header.Get("x-ms-error-code"), Body: string(data),
	}
}

// seg escapes one path segment the way the SDK does (Uri.EscapeDataString).
func seg(s string) string { return url.PathEscape(s) }

func pathOf(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// clip trims white space from a server's text and cuts it to at most n
// bytes on a character boundary, marking the cut, so an error line stays
// short whatever the server sent. The caller quotes it.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
