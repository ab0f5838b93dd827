package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Transport names as the protocol spells them in negotiate responses.
const (
	TransportWebSockets       = "WebSockets"
	TransportServerSentEvents = "ServerSentEvents"
	TransportLongPolling      = "LongPolling"
)

// AvailableTransport is one entry of a negotiate response's
// availableTransports.
type AvailableTransport struct {
	Transport       string   `json:"transport"`
	TransferFormats []string `json:"transferFormats"`
}

// NegotiateResponse is any answer to a negotiate request: a connection
// (connectionId, connectionToken, transports), a redirect (url and
// accessToken, what Azure Functions and Azure SignalR Service return), or
// an error.
type NegotiateResponse struct {
	ConnectionID         string               `json:"connectionId,omitempty"`
	ConnectionToken      string               `json:"connectionToken,omitempty"`
	NegotiateVersion     int                  `json:"negotiateVersion"`
	AvailableTransports  []AvailableTransport `json:"availableTransports,omitempty"`
	URL                  string               `json:"url,omitempty"`
	AccessToken          string               `json:"accessToken,omitempty"`
	Error                string               `json:"error,omitempty"`
	UseStatefulReconnect bool                 `json:"useStatefulReconnect,omitempty"`
	TokenLifetimeSeconds int                  `json:"tokenLifetimeSeconds,omitempty"`

	// ProtocolVersion is set only by classic ASP.NET SignalR servers, which
	// no Core client can talk to.
	ProtocolVersion string `json:"ProtocolVersion,omitempty"`
}

// ErrClassicServer is the official client's text for a negotiate answer
// from an ASP.NET (not Core) SignalR server.
const ErrClassicServer = "Detected a connection attempt to an ASP.NET SignalR Server. This client only supports connecting to an ASP.NET Core SignalR Server. See https://aka.ms/signalr-core-differences for details."

// NotJSONError reports a negotiate body that is not a JSON object, such as
// an HTML error page; Body holds its first bytes for the message.
type NotJSONError struct {
	Body string
}

func (e *NotJSONError) Error() string {
	return fmt.Sprintf("negotiate response is not JSON (starts with %q)", e.Body)
}

// IsRedirect reports whether the response sends the client elsewhere.
func (r *NegotiateResponse) IsRedirect() bool { return r.URL != "" }

// HasTransport reports whether the server offers transport name with the
// Text transfer format, which the JSON protocol needs.
func (r *NegotiateResponse) HasTransport(name string) bool {
	for _, t := range r.AvailableTransports {
		if t.Transport != name {
			continue
		}
		for _, f := range t.TransferFormats {
			if f == "Text" {
				return true
			}
		}
	}
	return false
}

// ParseNegotiateResponse decodes a negotiate body. Member names match
// without regard to case (a Functions isolated worker may write `Url` and
// `AccessToken`). For version 0 the connectionId stands in for the
// connection token, as the official client does. A classic ASP.NET server
// gives ErrClassicServer; a body that is not a JSON object gives a
// *NotJSONError.
func ParseNegotiateResponse(body []byte) (NegotiateResponse, error) {
	var r NegotiateResponse
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return r, &NotJSONError{Body: preview(trimmed)}
	}
	// ProtocolVersion must be told apart from a protocolVersion a Core
	// server will never send, so look for the exact name first.
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return r, &NotJSONError{Body: preview(trimmed)}
	}
	// A classic server is reported as such before any field is typed, so
	// no field of its own shape can hide it behind a type error.
	if _, ok := probe["ProtocolVersion"]; ok {
		return r, errors.New(ErrClassicServer)
	}
	if err := json.Unmarshal(trimmed, &r); err != nil {
		return r, fmt.Errorf("negotiate response has a field of the wrong type: %w", err)
	}
	r.ProtocolVersion = ""
	if r.NegotiateVersion < 1 && r.ConnectionToken == "" {
		r.ConnectionToken = r.ConnectionID
	}
	return r, nil
}

func preview(b []byte) string {
	const n = 60
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
