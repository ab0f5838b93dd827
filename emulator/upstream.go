package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
)

// Upstream categories and connection events, as the service names them in
// X-ASRS-Category and X-ASRS-Event. A message's event is its target.
const (
	CategoryConnections = "connections"
	CategoryMessages    = "messages"
	EventConnected      = "connected"
	EventDisconnected   = "disconnected"
)

// WebhookPath is where a Functions host (and the built-in function app)
// takes upstream calls for SignalRTrigger functions.
const WebhookPath = "/runtime/webhooks/signalr"

// maxUpstreamAnswer is the largest answer the service relays to a client,
// as the official emulator's limit: a bigger one completes the invocation
// with "Invocation failed, response too large.".
const maxUpstreamAnswer = 16 << 20

// UpstreamTemplate is one upstream rule, an item of the official
// emulator's UpstreamSettings.Templates: calls whose hub, category and
// event match its patterns go to its URL.
type UpstreamTemplate struct {
	// URLTemplate is the upstream URL. {hub}, {category} and {event} are
	// replaced by the call's, URL-escaped.
	URLTemplate string `json:"UrlTemplate"`
	// HubPattern, CategoryPattern and EventPattern are "*" (any), a name,
	// or a comma-separated list of names, compared without regard to case.
	// Empty means "*".
	HubPattern      string `json:"HubPattern"`
	CategoryPattern string `json:"CategoryPattern"`
	EventPattern    string `json:"EventPattern"`
}

// Validate reports whether the template gives an absolute http(s) URL.
// The error shows the URL with secret query values (code=) elided.
func (t UpstreamTemplate) Validate() error {
	if strings.TrimSpace(t.URLTemplate) == "" {
		return fmt.Errorf("upstream template: the URL template is empty")
	}
	u, err := url.Parse(t.Expand("hub", "category", "event"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("upstream template %q is not an absolute http(s) URL, e.g. http://127.0.0.1:7071%s",
			redactTemplate(t.URLTemplate), WebhookPath)
	}
	return nil
}

// Matches reports whether a call for hub, category and event goes to t.
func (t UpstreamTemplate) Matches(hub, category, event string) bool {
	return patternMatches(t.HubPattern, hub) && patternMatches(t.CategoryPattern, category) &&
		patternMatches(t.EventPattern, event)
}

// Expand returns the URL for a call: the template with its placeholders
// replaced by hub, category and event, each escaped as .NET's
// Uri.EscapeDataString does (everything but letters, digits and -._~).
func (t UpstreamTemplate) Expand(hub, category, event string) string {
	return placeholderRE.ReplaceAllStringFunc(t.URLTemplate, func(p string) string {
		switch strings.ToLower(p) {
		case "{hub}":
			return escapeDataString(hub)
		case "{category}":
			return escapeDataString(category)
		default:
			return escapeDataString(event)
		}
	})
}

// String describes the template for logs and banners, its URL redacted.
func (t UpstreamTemplate) String() string {
	s := redactTemplate(t.URLTemplate)
	var pats []string
	for _, p := range [][2]string{{"hub", t.HubPattern}, {"category", t.CategoryPattern}, {"event", t.EventPattern}} {
		if v := strings.TrimSpace(p[1]); v != "" && v != "*" {
			pats = append(pats, p[0]+"="+v)
		}
	}
	if len(pats) == 0 {
		return s + " (every hub, category and event)"
	}
	return s + " (" + strings.Join(pats, ", ") + ")"
}

var (
	placeholderRE = regexp.MustCompile(`(?i)\{(hub|category|event)\}`)
	stashedRE     = regexp.MustCompile(`sigrplaceholder(hub|category|event)sigr`)
)

// redactTemplate elides secret query values (code=) of a URL template and
// keeps its placeholders readable, which URL re-encoding would escape.
func redactTemplate(t string) string {
	s := placeholderRE.ReplaceAllStringFunc(t, func(p string) string {
		return "sigrplaceholder" + strings.ToLower(p[1:len(p)-1]) + "sigr"
	})
	return stashedRE.ReplaceAllString(textsafe.RedactURL(s), "{$1}")
}

// patternMatches applies one pattern: "*" or empty matches anything,
// otherwise one of its comma-separated names must equal name, white
// space trimmed and case ignored.
func patternMatches(pattern, name string) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" || pattern == "*" {
		return true
	}
	for _, p := range strings.Split(pattern, ",") {
		p = strings.TrimSpace(p)
		if p == "*" || p != "" && strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

func escapeDataString(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// connectionSignature is X-ASRS-Signature for one access key:
// sha256=hex(HMAC-SHA256(key, connectionId)). It proves to the upstream
// that the call comes from the service that holds the key.
func connectionSignature(accessKey, connectionID string) string {
	m := hmac.New(sha256.New, []byte(accessKey))
	m.Write([]byte(connectionID))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// validSignature checks X-ASRS-Signature as the Functions extension does:
// one of its comma-separated values (one per service key) must be the
// signature for accessKey, compared without regard to case.
func validSignature(header, accessKey, connectionID string) bool {
	want := []byte(connectionSignature(accessKey, connectionID))
	ok := false
	for _, v := range strings.Split(header, ",") {
		got := []byte(strings.ToLower(strings.TrimSpace(v)))
		if subtle.ConstantTimeCompare(got, want) == 1 {
			ok = true
		}
	}
	return ok
}

// UpstreamCall is the outcome of one call to an upstream, as the service
// logs it. ServiceOptions.OnUpstreamCall receives each one.
type UpstreamCall struct {
	Time         time.Time // when the call started
	Hub          string
	ConnectionID string
	Category     string // connections or messages
	Event        string // connected, disconnected, or the invocation's target
	InvocationID string // "" for events and for a client's send
	URL          string // with secret query values (code=) elided
	Status       int    // HTTP status; 0 when no answer came
	Latency      time.Duration
	// Failure says why the call failed, in the words of the Completion a
	// client gets ("status code 500", "response too large.", "response
	// cancelled.", "error: <why>."); "" when it succeeded.
	Failure string
	// Body is the first line of a failed call's answer, made safe to print.
	Body string
}
