package protocol

import (
	"strconv"
	"time"
)

// The emulator's extensions to the service's HTTP API. Azure SignalR
// Service has none of them: a client shows what they say when they are
// there and falls back to what the REST API can tell when they are not.

// Delivery outcome headers, on the answer to every REST send and every
// function-app messages call the emulator answers.
const (
	// HeaderDelivered is how many connections a message was written to.
	HeaderDelivered = "X-Sigr-Delivered"
	// HeaderUndelivered, when HeaderDelivered is 0, says why: one line of
	// printable ASCII, names escaped as Go string literals do.
	HeaderUndelivered = "X-Sigr-Undelivered"
	// HeaderApplied is how many connections a group action applied to now:
	// the user's connections, or the one connection named.
	HeaderApplied = "X-Sigr-Applied"
	// HeaderUnapplied, when HeaderApplied is 0, says why.
	HeaderUnapplied = "X-Sigr-Unapplied"
	// HeaderServiceStatus, on the function app's answers, is the HTTP
	// status the service gave the function's REST call.
	HeaderServiceStatus = "X-Sigr-Service-Status"
)

// Paths of the emulator's inspection endpoints, below the service's base
// URL. Both take the REST API's bearer tokens: HS256 with the access key,
// aud the request URL without its query.
const (
	// PathHubs lists the hubs (GET); PathHubs + "/" + hub is one hub's live
	// state.
	PathHubs = "/_sigr/v1/hubs"
	// PathTrace is the live trace: Server-Sent Events, one TraceEvent line
	// per `data:` field; ?hub=H keeps one hub's events.
	PathTrace = "/_sigr/v1/trace"
)

// HubSummary is one hub in the answer of GET PathHubs.
type HubSummary struct {
	Name        string `json:"name"`
	Connections int    `json:"connections"`
	Users       int    `json:"users"`
	Groups      int    `json:"groups"`
}

// HubList is the answer of GET PathHubs.
type HubList struct {
	Time time.Time    `json:"time"`
	Hubs []HubSummary `json:"hubs"`
}

// HubState is the live state of one hub: the answer of GET
// PathHubs/{hub}. Every list is sorted and never null.
type HubState struct {
	Hub         string            `json:"hub"`
	Time        time.Time         `json:"time"`
	Connections []ConnectionState `json:"connections"`
	Users       []UserState       `json:"users"`
	Groups      []GroupState      `json:"groups"`
}

// ConnectionState is one connection that finished its handshake.
type ConnectionState struct {
	ID                string    `json:"id"`
	User              string    `json:"user,omitempty"` // "" for anonymous
	Transport         string    `json:"transport"`
	Protocol          string    `json:"protocol"`
	Groups            []string  `json:"groups"`
	ConnectedSince    time.Time `json:"connectedSince"`
	StatefulReconnect bool      `json:"statefulReconnect,omitempty"`
}

// UserState is a user with connections, or with user-group memberships
// that wait for one.
type UserState struct {
	ID          string       `json:"id"`
	Connections []string     `json:"connections"`
	Memberships []Membership `json:"memberships"`
}

// Membership is a user-group membership: it puts every connection the
// user has, and opens before it expires, in the group.
type Membership struct {
	Group string `json:"group"`
	// Expires is when the membership ends; nil for one added without a TTL
	// (kept a year).
	Expires *time.Time `json:"expires,omitempty"`
}

// GroupState is a group with its members.
type GroupState struct {
	Name string `json:"name"`
	// Connections are in the group now: what a send to it reaches.
	Connections []string `json:"connections"`
	// Users have a membership in the group, connected or not.
	Users []string `json:"users"`
}

// Kinds of trace events.
const (
	TraceConnected    = "connected"    // ConnectionID, User, Transport, Protocol
	TraceDisconnected = "disconnected" // ConnectionID, User, Transport, Reason
	TraceDelivered    = "delivered"    // Target, Route, Recipients, Reason when 0
	TraceREST         = "rest"         // Method, Path, Status, Delivered (sends) or Applied and Reason (group actions)
	TraceUpstream     = "upstream"     // URL, UpstreamEvent, Category, Status, LatencyMs, Error
	TraceExpired      = "expired"      // User, Group: a user-group membership ran out
	TraceDropped      = "dropped"      // Count: events this subscriber missed here
)

// TraceEvent is one service-side event of the live trace. Fields that do
// not apply to a Kind are empty.
type TraceEvent struct {
	Time         time.Time `json:"time"`
	Kind         string    `json:"kind"`
	Hub          string    `json:"hub,omitempty"`
	ConnectionID string    `json:"connectionId,omitempty"`
	User         string    `json:"user,omitempty"`
	Group        string    `json:"group,omitempty"`
	Transport    string    `json:"transport,omitempty"`
	Protocol     string    `json:"protocol,omitempty"`
	Target       string    `json:"target,omitempty"`
	// Route is the `route` header's form: broadcast, user:<id>,
	// group:<name>, connection:<id>.
	Route      string `json:"route,omitempty"`
	Recipients *int   `json:"recipients,omitempty"`
	Method     string `json:"method,omitempty"`
	Path       string `json:"path,omitempty"` // without the query
	Status     int    `json:"status,omitempty"`
	Delivered  *int   `json:"delivered,omitempty"`
	Applied    *int   `json:"applied,omitempty"`
	URL        string `json:"url,omitempty"`
	// UpstreamEvent is the upstream's event: connected, disconnected, or
	// the hub method a client invoked ("event" names the line itself).
	UpstreamEvent string   `json:"upstreamEvent,omitempty"`
	Category      string   `json:"category,omitempty"`
	LatencyMs     *float64 `json:"latencyMs,omitempty"`
	Reason        string   `json:"reason,omitempty"`
	Error         string   `json:"error,omitempty"`
	Count         int      `json:"count,omitempty"`
}

// AppendTraceEvent appends the event line of a trace event: `event`
// "trace", then `kind` and the fields the event has.
func AppendTraceEvent(dst []byte, e *TraceEvent) []byte {
	dst = appendHead(dst, e.Time, "trace")
	dst = appendStringField(dst, "kind", e.Kind)
	str := func(name, v string) {
		if v != "" {
			dst = appendStringField(dst, name, v)
		}
	}
	num := func(name string, v int) {
		dst = append(dst, ',', '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
		dst = strconv.AppendInt(dst, int64(v), 10)
	}
	str("hub", e.Hub)
	str("connectionId", e.ConnectionID)
	str("user", e.User)
	str("group", e.Group)
	str("transport", e.Transport)
	str("protocol", e.Protocol)
	str("target", e.Target)
	str("route", e.Route)
	if e.Recipients != nil {
		num("recipients", *e.Recipients)
	}
	str("method", e.Method)
	str("path", e.Path)
	if e.Status != 0 {
		num("status", e.Status)
	}
	if e.Delivered != nil {
		num("delivered", *e.Delivered)
	}
	if e.Applied != nil {
		num("applied", *e.Applied)
	}
	str("url", e.URL)
	str("upstreamEvent", e.UpstreamEvent)
	str("category", e.Category)
	if e.LatencyMs != nil {
		dst = append(dst, `,"latencyMs":`...)
		dst = strconv.AppendFloat(dst, *e.LatencyMs, 'f', -1, 64)
	}
	str("reason", e.Reason)
	str("error", e.Error)
	if e.Count != 0 {
		num("count", e.Count)
	}
	return append(dst, '}', '\n')
}
