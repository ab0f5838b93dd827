package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// FunctionAppOptions configure a FunctionApp.
type FunctionAppOptions struct {
	// ConnectionString names the service and its key, as the
	// AzureSignalRConnectionString app setting does. Required.
	ConnectionString string
	// DefaultHub is the hub when a request names none. Default "chat".
	DefaultHub string
	// CORSOrigins are the allowed browser origins; "*" allows any other
	// origin, answered with a literal "*" and without credentials, as a
	// wildcard cannot carry them. Default: none (no CORS headers).
	CORSOrigins []string
	// CORSCredentials adds Access-Control-Allow-Credentials: true for the
	// named origins, which the JS client needs (withCredentials defaults to
	// true). Default false, as in Functions Core Tools.
	CORSCredentials bool
	// TokenLifetime is the lifetime of negotiated client tokens. Default 1 h.
	TokenLifetime time.Duration
	// HTTPClient carries the REST calls to the service. Default: a client
	// with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives one line per function call. Default slog.Default().
	Logger *slog.Logger
	// HTTP bounds the listener's HTTP connections (see HTTPLimits).
	HTTP HTTPLimits
	// AnnounceConnections makes the connected handler of the upstream
	// webhook broadcast newConnection {"connectionId"}, as the
	// bidirectional chat sample does. Default false.
	AnnounceConnections bool
}

// FunctionApp is the function app of the serverless samples: negotiate,
// messages and groups under /api, and the bidirectional chat sample's
// SignalRTrigger hub at /runtime/webhooks/signalr. It reaches the service
// only through the REST API over HTTP, with a REST token per request.
type FunctionApp struct {
	opts FunctionAppOptions
	cs   protocol.ConnectionString
	rest *manage.RESTClient
	log  *slog.Logger
	h    http.Handler

	servers servers
}

// NewFunctionApp returns a FunctionApp for opts.
func NewFunctionApp(opts FunctionAppOptions) (*FunctionApp, error) {
	if opts.DefaultHub == "" {
		opts.DefaultHub = "chat"
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cs, err := protocol.ParseConnectionString(opts.ConnectionString)
	if err != nil {
		return nil, fmt.Errorf("function app: %w", err)
	}
	rest, err := manage.NewRESTClientFor(cs, manage.RESTOptions{HTTPClient: opts.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("function app: %w", err)
	}
	f := &FunctionApp{opts: opts, cs: cs, rest: rest, log: opts.Logger}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/negotiate", f.negotiate)
	mux.HandleFunc("/api/messages", f.messages)
	mux.HandleFunc("/api/groups", f.groups)
	mux.HandleFunc(WebhookPath, f.webhook)
	f.h = f.cors(mux)
	return f, nil
}

// Handler returns the HTTP handler of the function app.
func (f *FunctionApp) Handler() http.Handler { return f.h }

// Start serves on ln in the background until Close, with the limits of
// FunctionAppOptions.HTTP.
func (f *FunctionApp) Start(ln net.Listener) {
	f.servers.start(ln, f.h, f.log, "function app", f.opts.HTTP, nil)
}

// Close stops the servers, letting calls in flight finish for up to 3 s.
func (f *FunctionApp) Close() error {
	f.servers.shutdown(3 * time.Second)
	return nil
}

// cors answers browsers. A named origin is echoed, with
// Access-Control-Allow-Credentials when CORSCredentials is set; "*"
// answers every other origin with a literal "*" and never with
// credentials, which browsers refuse next to a wildcard. A preflight from
// an origin not allowed gets no CORS headers, which the browser reads as
// a refusal, and a log line that names the origin and the allowed list.
func (f *FunctionApp) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		named, wildcard := false, false
		for _, o := range f.opts.CORSOrigins {
			if o == "*" {
				wildcard = true
			} else if origin != "" && strings.EqualFold(strings.TrimRight(o, "/"), origin) {
				named = true
			}
		}
		h := w.Header()
		switch {
		case origin != "" && named:
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Origin", origin)
			if f.opts.CORSCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		case origin != "" && wildcard:
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Origin", "*")
		case preflight:
			allowed := strings.Join(f.opts.CORSOrigins, ", ")
			if allowed == "" {
				allowed = "none"
			}
			f.log.Warn("CORS preflight refused: the origin is not allowed", "origin", textsafe.Clip(origin, 200),
				"allowed", allowed, "path", r.URL.Path)
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			next.ServeHTTP(w, r)
			return
		}
		if preflight {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
				h.Set("Access-Control-Allow-Headers", rh)
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fail answers a call with status and a plain-text reason, and logs it.
func (f *FunctionApp) fail(w http.ResponseWriter, r *http.Request, start time.Time, status int, reason string) {
	http.Error(w, reason, status)
	f.logCall(r, status, start)
}

// hub returns the hub of a function request, or false after answering
// 400 and logging it.
func (f *FunctionApp) hub(w http.ResponseWriter, r *http.Request, start time.Time) (string, bool) {
	hubs := r.URL.Query()["hub"]
	switch {
	case len(hubs) == 0 || hubs[0] == "":
		return f.opts.DefaultHub, true
	case len(hubs) > 1 || !protocol.ValidHubName(hubs[0]):
		f.fail(w, r, start, http.StatusBadRequest, "Invalid value of 'hub'.")
		return "", false
	}
	return hubs[0], true
}

func (f *FunctionApp) logCall(r *http.Request, status int, start time.Time, attrs ...any) {
	args := append([]any{"method", r.Method, "path", r.URL.Path, "status", status, "duration", time.Since(start).Round(time.Microsecond).String()}, attrs...)
	f.log.Info("function call", args...)
}

// negotiate answers POST|GET /api/negotiate[?hub=H][&userId=U] with the
// service URL and a client token, as the SignalRConnectionInfo binding
// does. The user id comes from x-ms-client-principal-id, else
// x-ms-signalr-userid, else the userId query parameter.
func (f *FunctionApp) negotiate(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		f.fail(w, r, start, http.StatusMethodNotAllowed, "negotiate takes GET or POST")
		return
	}
	hub, ok := f.hub(w, r, start)
	if !ok {
		return
	}
	user := r.Header.Get("x-ms-client-principal-id")
	if user == "" {
		user = r.Header.Get("x-ms-signalr-userid")
	}
	if user == "" {
		user = r.URL.Query().Get("userId")
	}
	ca, err := manage.MintClientAccess(f.cs, hub, user, f.opts.TokenLifetime)
	if err != nil {
		f.fail(w, r, start, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ca)
	f.logCall(r, http.StatusOK, start, "hub", hub, "user", textsafe.Clip(user, 200))
}

// post reads what the messages and groups functions share: a POST with a
// body of at most 1 MiB, and the hub. On false the call was answered with
// its status and logged.
func (f *FunctionApp) post(w http.ResponseWriter, r *http.Request, start time.Time) (body []byte, hub string, ok bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		f.fail(w, r, start, http.StatusMethodNotAllowed, "this function takes POST")
		return nil, "", false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		f.fail(w, r, start, http.StatusBadRequest, "reading the body failed")
		return nil, "", false
	}
	if len(body) > 1<<20 {
		f.fail(w, r, start, http.StatusRequestEntityTooLarge, "the body exceeds 1 MiB")
		return nil, "", false
	}
	hub, ok = f.hub(w, r, start)
	return body, hub, ok
}

// messages answers POST /api/messages: a SignalRMessage (has "target"),
// or the chat sample's body, sent as newMessage to recipient, else to
// groupname, else to everyone.
func (f *FunctionApp) messages(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, hub, ok := f.post(w, r, start)
	if !ok {
		return
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		f.fail(w, r, start, http.StatusBadRequest, "the body is not a JSON object: "+err.Error())
		return
	}
	has := func(name string) bool {
		for k := range keys {
			if strings.EqualFold(k, name) {
				return true
			}
		}
		return false
	}
	var m protocol.SignalRMessage
	switch {
	case has("target"):
		if err := json.Unmarshal(body, &m); err != nil || m.Target == "" {
			f.fail(w, r, start, http.StatusBadRequest, "a SignalRMessage needs a string 'target' and an 'arguments' array")
			return
		}
		if len(m.Arguments) == 0 || string(m.Arguments) == "null" {
			m.Arguments = json.RawMessage("[]")
		}
	case has("text") || has("sender"):
		var chat protocol.ChatMessage
		if err := json.Unmarshal(body, &chat); err != nil {
			f.fail(w, r, start, http.StatusBadRequest, "the chat message does not decode: "+err.Error())
			return
		}
		var err error
		if m, err = chat.SignalRMessage(body); err != nil {
			f.fail(w, r, start, http.StatusBadRequest, "the chat message does not encode: "+err.Error())
			return
		}
	default:
		f.fail(w, r, start, http.StatusBadRequest, "the body is neither a SignalRMessage (target, arguments, userId, groupName, connectionId) nor a chat message (sender, text, recipient, groupname)")
		return
	}
	route := "broadcast"
	switch {
	case m.ConnectionID != "":
		route = "connection:" + m.ConnectionID
	case m.UserID != "":
		route = "user:" + m.UserID
	case m.GroupName != "":
		route = "group:" + m.GroupName
	}
	out, err := f.rest.Send(r.Context(), hub, manage.SignalR(m))
	copyOutcome(w, out)
	if err != nil {
		status := f.restFailed(w, err)
		f.logCall(r, status, start, "route", textsafe.Clip(route, 200))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"hub": hub, "target": m.Target, "route": route})
	f.logCall(r, http.StatusOK, start, "hub", hub, "route", textsafe.Clip(route, 200))
}

// groups answers POST /api/groups with a SignalRGroupAction.
func (f *FunctionApp) groups(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, hub, ok := f.post(w, r, start)
	if !ok {
		return
	}
	var a protocol.SignalRGroupAction
	if err := json.Unmarshal(body, &a); err != nil {
		f.fail(w, r, start, http.StatusBadRequest, "the body is not a SignalRGroupAction: "+err.Error())
		return
	}
	action := strings.ToLower(a.Action)
	if action != "add" && action != "remove" && action != "removeall" {
		f.fail(w, r, start, http.StatusBadRequest, "'action' must be add, remove or removeAll")
		return
	}
	if a.ConnectionID == "" && a.UserID == "" {
		f.fail(w, r, start, http.StatusBadRequest, "ConnectionId and UserId cannot be null or empty together")
		return
	}
	if action != "removeall" && !protocol.ValidGroupName(a.GroupName) {
		f.fail(w, r, start, http.StatusBadRequest, "'groupName' is required: 1 to 1024 characters, not all white space")
		return
	}
	out, err := f.rest.Group(r.Context(), hub, a)
	copyOutcome(w, out)
	if err != nil {
		status := f.restFailed(w, err)
		f.logCall(r, status, start, "action", a.Action)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"hub": hub, "action": a.Action})
	f.logCall(r, http.StatusOK, start, "hub", hub, "action", a.Action)
}

// copyOutcome passes the service's outcome headers and status on to the
// function's caller, who cannot see the service's answer.
func copyOutcome(w http.ResponseWriter, out manage.Outcome) {
	for _, k := range outcomeHeaders {
		if v := out.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	if out.Status != 0 {
		w.Header().Set(protocol.HeaderServiceStatus, strconv.Itoa(out.Status))
	}
}

// restFailed maps a failed REST call: the service's 4xx answers pass
// through, anything else is a 502 saying the service could not be reached.
func (f *FunctionApp) restFailed(w http.ResponseWriter, err error) int {
	var re *manage.RESTError
	if errors.As(err, &re) && re.Status >= 400 && re.Status < 500 {
		if re.Code != "" {
			w.Header().Set("x-ms-error-code", re.Code)
		}
		http.Error(w, err.Error(), re.Status)
		return re.Status
	}
	f.log.Warn("function could not reach the SignalR service", "err", err)
	http.Error(w, err.Error(), http.StatusBadGateway)
	return http.StatusBadGateway
}
