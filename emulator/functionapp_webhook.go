package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// Targets the built-in hub sends to, as the bidirectional chat sample.
const (
	newMessageTarget    = "newMessage"
	newConnectionTarget = "newConnection"
)

// triggerCall is what a SignalRTrigger function knows of the call (the
// extension's InvocationContext): the hub, who invoked, and the
// arguments.
type triggerCall struct {
	hub          string
	connectionID string
	userID       string
	args         []json.RawMessage
}

// hubMethod is one method of the built-in hub. run returns the
// invocation's result (raw JSON).
type hubMethod struct {
	name   string   // as the sample spells it
	params []string // the sample's parameter names, bound by position
	run    func(f *FunctionApp, ctx context.Context, c *triggerCall, args []string) (json.RawMessage, error)
}

// hubMethods is the bidirectional chat sample's class-based hub, keyed by
// lower-cased name: the Functions host matches methods without regard to
// case. echo returns its argument; the rest answer null, as a void
// method's Completion does.
var hubMethods = map[string]hubMethod{}

func init() {
	for _, m := range []hubMethod{
		{"broadcast", []string{"message"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.sendNewMessage(ctx, c, protocol.SignalRMessage{}, a[0])
		}},
		{"sendToUser", []string{"userId", "message"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.sendNewMessage(ctx, c, protocol.SignalRMessage{UserID: a[0]}, a[1])
		}},
		{"sendToGroup", []string{"group", "message"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.sendNewMessage(ctx, c, protocol.SignalRMessage{GroupName: a[0]}, a[1])
		}},
		{"sendToConnection", []string{"connectionId", "message"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.sendNewMessage(ctx, c, protocol.SignalRMessage{ConnectionID: a[0]}, a[1])
		}},
		{"joinGroup", []string{"connectionId", "group"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.groupAction(ctx, c, protocol.SignalRGroupAction{Action: protocol.GroupAdd, ConnectionID: a[0], GroupName: a[1]})
		}},
		{"leaveGroup", []string{"connectionId", "group"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.groupAction(ctx, c, protocol.SignalRGroupAction{Action: protocol.GroupRemove, ConnectionID: a[0], GroupName: a[1]})
		}},
		{"joinUserToGroup", []string{"userId", "group"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.groupAction(ctx, c, protocol.SignalRGroupAction{Action: protocol.GroupAdd, UserID: a[0], GroupName: a[1]})
		}},
		{"leaveUserFromGroup", []string{"userId", "group"}, func(f *FunctionApp, ctx context.Context, c *triggerCall, a []string) (json.RawMessage, error) {
			return nil, f.groupAction(ctx, c, protocol.SignalRGroupAction{Action: protocol.GroupRemove, UserID: a[0], GroupName: a[1]})
		}},
		// echo's argument is any JSON value; run gets it through c.args.
		{"echo", []string{"value"}, func(_ *FunctionApp, _ context.Context, c *triggerCall, _ []string) (json.RawMessage, error) {
			return c.args[0], nil
		}},
	} {
		hubMethods[strings.ToLower(m.name)] = m
	}
}

// hubMethodNames lists the methods for error texts, sorted.
func hubMethodNames() string {
	names := make([]string, 0, len(hubMethods))
	for _, m := range hubMethods {
		names = append(names, m.name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// newMessage is the sample's chat message. Sender is the invoking user's
// id, empty for an anonymous connection, exactly as the sample sets it.
type newMessage struct {
	ConnectionID string `json:"connectionId"`
	Sender       string `json:"sender"`
	Text         string `json:"text"`
}

// sendNewMessage sends text as newMessage to the scope m names (a
// connection, a user, a group, else everyone) through the REST API.
func (f *FunctionApp) sendNewMessage(ctx context.Context, c *triggerCall, m protocol.SignalRMessage, text string) error {
	args, err := json.Marshal([]newMessage{{ConnectionID: c.connectionID, Sender: c.userID, Text: text}})
	if err != nil {
		return err
	}
	m.Target, m.Arguments = newMessageTarget, args
	_, err = f.rest.Send(ctx, c.hub, manage.SignalR(m))
	return err
}

// groupAction changes a group through the REST API, as the sample's
// Groups and UserGroups do.
func (f *FunctionApp) groupAction(ctx context.Context, c *triggerCall, a protocol.SignalRGroupAction) error {
	_, err := f.rest.Group(ctx, c.hub, a)
	return err
}

// serverlessMessage is the body of an upstream call; the extension reads
// its names without regard to case, as encoding/json does.
type serverlessMessage struct {
	Type         int               `json:"type"`
	InvocationID string            `json:"invocationId"`
	Target       string            `json:"target"`
	Arguments    []json.RawMessage `json:"arguments"`
	Error        string            `json:"error"`
}

// webhook answers POST /runtime/webhooks/signalr, the SignalRTrigger
// endpoint, with the Functions extension's status codes: 415 for a body
// that is not JSON, 400 without hub, category or event, 404 when no
// method answers the event, 401 for a bad X-ASRS-Signature. An invocation
// with an invocationId is answered with a framed Completion, one without
// with an empty 200. A MessagePack client's invocation arrives as
// application/x-msgpack, one length-prefixed record, and is answered in
// kind.
func (f *FunctionApp) webhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		f.fail(w, r, start, http.StatusMethodNotAllowed, "the SignalR trigger endpoint takes POST")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != msgpackContentType {
		f.fail(w, r, start, http.StatusUnsupportedMediaType, "the body must be application/json or "+msgpackContentType+" (a MessagePack client's invocation)")
		return
	}
	binary := mt == msgpackContentType
	hub, category, event := r.Header.Get("X-ASRS-Hub"), strings.ToLower(r.Header.Get("X-ASRS-Category")), r.Header.Get("X-ASRS-Event")
	if hub == "" || category == "" || event == "" {
		f.fail(w, r, start, http.StatusBadRequest, "X-ASRS-Hub, X-ASRS-Category and X-ASRS-Event are required")
		return
	}
	attrs := []any{"hub", textsafe.Clip(hub, 200), "category", textsafe.Clip(category, 50), "event", textsafe.Clip(event, 200)}
	var method hubMethod
	found := false
	switch category {
	case CategoryConnections:
		found = strings.EqualFold(event, EventConnected) || strings.EqualFold(event, EventDisconnected)
	case CategoryMessages:
		method, found = hubMethods[strings.ToLower(event)]
	}
	if !found {
		http.Error(w, fmt.Sprintf("No function for hub '%s', category '%s', event '%s'. The built-in hub's methods: %s.",
			textsafe.Clip(hub, 200), textsafe.Clip(category, 50), textsafe.Clip(event, 200), hubMethodNames()), http.StatusNotFound)
		f.logCall(r, http.StatusNotFound, start, attrs...)
		return
	}
	connID := r.Header.Get("X-ASRS-Connection-Id")
	attrs = append(attrs, "connectionId", textsafe.Clip(connID, 100))
	if connID == "" || !validSignature(strings.Join(r.Header.Values("X-ASRS-Signature"), ","), f.cs.AccessKey, connID) {
		http.Error(w, "The request is unauthorized, please check the Signature.", http.StatusUnauthorized)
		f.logCall(r, http.StatusUnauthorized, start, attrs...)
		return
	}
	if !protocol.ValidHubName(hub) {
		f.fail(w, r, start, http.StatusBadRequest, "Invalid value of 'hub'.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(body) > 1<<20 {
		f.fail(w, r, start, http.StatusBadRequest, "reading the body failed or it exceeds 1 MiB")
		return
	}
	var msg serverlessMessage
	if binary {
		if err := msgpackServerless(body, &msg); err != nil {
			f.fail(w, r, start, http.StatusBadRequest, "the body is not a MessagePack invocation: "+err.Error())
			return
		}
	} else if err := json.Unmarshal(body, &msg); err != nil {
		f.fail(w, r, start, http.StatusBadRequest, "the body is not a serverless message (a JSON object with a type): "+err.Error())
		return
	}
	call := &triggerCall{hub: hub, connectionID: connID, userID: r.Header.Get("X-ASRS-User-Id"), args: msg.Arguments}
	if category == CategoryConnections {
		f.connectionEvent(w, r, start, call, strings.ToLower(event), attrs)
		return
	}
	if msg.Type != int(protocol.TypeInvocation) {
		f.fail(w, r, start, http.StatusBadRequest, fmt.Sprintf("the body of a messages call must be an invocation (type 1), got type %d", msg.Type))
		return
	}
	result, err := f.invokeMethod(r.Context(), method, call)
	if err != nil {
		attrs = append(attrs, "error", textsafe.Clip(err.Error(), 300))
	}
	if msg.InvocationID == "" {
		w.WriteHeader(http.StatusOK)
		f.logCall(r, http.StatusOK, start, attrs...)
		return
	}
	var m protocol.Message
	if err != nil {
		m = protocol.NewCompletion(msg.InvocationID, nil, err.Error())
	} else {
		if result == nil {
			result = json.RawMessage("null")
		}
		m = protocol.NewCompletion(msg.InvocationID, result, "")
	}
	out := protocol.AppendMessage(nil, &m)
	ct := "application/json"
	if binary {
		// The result is JSON the method returned, which always converts.
		out, _ = protocol.AppendMessagePack(nil, &m)
		ct = msgpackContentType
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	f.logCall(r, http.StatusOK, start, attrs...)
}

// invokeMethod binds the arguments by position and runs the method. Too
// few arguments, or one that is not a string where the sample takes a
// string, fail the method, as binding fails in the extension; extra
// arguments are ignored.
func (f *FunctionApp) invokeMethod(ctx context.Context, m hubMethod, c *triggerCall) (json.RawMessage, error) {
	if len(c.args) < len(m.params) {
		return nil, fmt.Errorf("%s takes %d argument(s) (%s), got %d", m.name, len(m.params), strings.Join(m.params, ", "), len(c.args))
	}
	var strs []string
	if m.name != "echo" {
		strs = make([]string, len(m.params))
		for i, p := range m.params {
			s, ok := stringArg(c.args[i])
			if !ok {
				return nil, fmt.Errorf("%s: argument %d (%s) must be a string", m.name, i+1, p)
			}
			strs[i] = s
		}
	}
	return m.run(f, ctx, c, strs)
}

// stringArg converts an argument for a string parameter as Json.NET
// does: a string as is, a number or boolean as its text.
func stringArg(raw json.RawMessage) (string, bool) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	switch s := v.(type) {
	case string:
		return s, true
	case float64, bool:
		return strings.TrimSpace(string(raw)), true
	}
	return "", false
}

// connectionEvent runs the hub's connected and disconnected handlers:
// with AnnounceConnections, connected broadcasts newConnection as the
// sample does; a failure there answers 403, as a failed connected
// function does.
func (f *FunctionApp) connectionEvent(w http.ResponseWriter, r *http.Request, start time.Time, c *triggerCall, event string, attrs []any) {
	if event == EventConnected && f.opts.AnnounceConnections {
		args, _ := json.Marshal([]map[string]string{{"connectionId": c.connectionID}}) // a map of strings always encodes
		if _, err := f.rest.Send(r.Context(), c.hub, manage.SignalR(protocol.SignalRMessage{Target: newConnectionTarget, Arguments: args})); err != nil {
			http.Error(w, "the connected function failed: "+err.Error(), http.StatusForbidden)
			f.logCall(r, http.StatusForbidden, start, append(attrs, "error", textsafe.Clip(err.Error(), 300))...)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	f.logCall(r, http.StatusOK, start, attrs...)
}
