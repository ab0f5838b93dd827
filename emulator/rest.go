package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// x-ms-error-code values of the 404s, as the Management SDK expects them.
const (
	codeConnNotExisted    = "Warning.Connection.NotExisted"
	codeUserNotExisted    = "Warning.User.NotExisted"
	codeGroupNotExisted   = "Warning.Group.NotExisted"
	codeUserNotInGroup    = "Info.User.NotInGroup"
	codeConnNotExistedErr = "Error.Connection.NotExisted"
)

// notExisted is the code of an existence check's 404 by its scope.
var notExisted = map[target]string{toUser: codeUserNotExisted, toGroup: codeGroupNotExisted, toConn: codeConnNotExisted}

// restCall is one REST request that passed the token and name checks.
type restCall struct {
	v1                bool   // /api/v1/... answers with the v1 status table
	hub               string // with the application prefix, if any
	scope             target // whom a send, close or existence check reaches
	user, group, conn string // the path's wildcards, unescaped
	excluded          []string
}

// id is the user, group or connection id that the call's scope names.
// invalidHubName is the service's answer to a REST call whose hub name
// it refuses, word for word.
const invalidHubName = "Invalid hub name. Valid hub name should be in between 1 and 128 characters long, start with a letter and contain only letters, digits, and _`,.[]"

func (c restCall) id() string {
	switch c.scope {
	case toUser:
		return c.user
	case toGroup:
		return c.group
	case toConn:
		return c.conn
	}
	return ""
}

// restHandler serves one operation of the REST API.
type restHandler func(s *Service, w http.ResponseWriter, r *http.Request, c restCall)

// restRoutes is the data-plane REST API; each path is served below /api
// (2022-06-01: api-version is taken, not required) and below /api/v1.
// Like the official emulator it takes every old and new form of an
// operation: a send with and without /:send, and both orders of the
// user-group and connection-group pairs. A GET pattern answers HEAD too.
var restRoutes = []struct {
	pattern string // method and path below the prefix
	scope   target
	serve   restHandler
}{
	{"POST /hubs/{hub}", toAll, (*Service).restSend},
	{"POST /hubs/{hub}/:send", toAll, (*Service).restSend},
	{"POST /hubs/{hub}/users/{user}", toUser, (*Service).restSend},
	{"POST /hubs/{hub}/users/{user}/:send", toUser, (*Service).restSend},
	{"POST /hubs/{hub}/groups/{group}", toGroup, (*Service).restSend},
	{"POST /hubs/{hub}/groups/{group}/:send", toGroup, (*Service).restSend},
	{"POST /hubs/{hub}/connections/{conn}", toConn, (*Service).restSend},
	{"POST /hubs/{hub}/connections/{conn}/:send", toConn, (*Service).restSend},

	{"POST /hubs/{hub}/:closeConnections", toAll, (*Service).restClose},
	{"POST /hubs/{hub}/users/{user}/:closeConnections", toUser, (*Service).restClose},
	{"POST /hubs/{hub}/groups/{group}/:closeConnections", toGroup, (*Service).restClose},
	{"DELETE /hubs/{hub}/connections/{conn}", toConn, (*Service).restCloseConn},

	{"GET /hubs/{hub}/users/{user}", toUser, (*Service).restExists},
	{"GET /hubs/{hub}/groups/{group}", toGroup, (*Service).restExists},
	{"GET /hubs/{hub}/connections/{conn}", toConn, (*Service).restExists},

	{"PUT /hubs/{hub}/users/{user}/groups/{group}", toUser, (*Service).restAddUser},
	{"PUT /hubs/{hub}/groups/{group}/users/{user}", toUser, (*Service).restAddUser},
	{"DELETE /hubs/{hub}/users/{user}/groups/{group}", toUser, (*Service).restRemoveUser},
	{"DELETE /hubs/{hub}/groups/{group}/users/{user}", toUser, (*Service).restRemoveUser},
	{"GET /hubs/{hub}/users/{user}/groups/{group}", toUser, (*Service).restUserInGroup},
	{"GET /hubs/{hub}/groups/{group}/users/{user}", toUser, (*Service).restUserInGroup},
	{"DELETE /hubs/{hub}/users/{user}/groups", toUser, (*Service).restRemoveUserFromAll},

	{"PUT /hubs/{hub}/groups/{group}/connections/{conn}", toConn, (*Service).restAddConn},
	{"PUT /hubs/{hub}/connections/{conn}/groups/{group}", toConn, (*Service).restAddConn},
	{"DELETE /hubs/{hub}/groups/{group}/connections/{conn}", toConn, (*Service).restRemoveConn},
	{"DELETE /hubs/{hub}/connections/{conn}/groups/{group}", toConn, (*Service).restRemoveConn},
	{"DELETE /hubs/{hub}/connections/{conn}/groups", toConn, (*Service).restRemoveConnFromAll},
}

// restAPI returns the handler of /api/...: one log line per call, never
// the query, and a trace event as the answer starts.
func (s *Service) restAPI() http.Handler {
	mux := s.restMux()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		if s.trace.on() {
			rec.onStatus = func(status int) { s.traceREST(r, status, w.Header()) }
		}
		mux.ServeHTTP(rec, withoutTrailingSlash(r))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.log.Info("rest call", "method", r.Method, "path", textsafe.Clip(r.URL.Path, 200), "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond).String())
	})
}

// restMux routes restRoutes. A request anywhere below /hubs/{hub}, known
// path or not, passes the token and name checks before it is answered
// 404 or 405, so that a caller without a token learns nothing of the API
// and a bad group name is a 400 whatever the method. The method-less
// patterns answer 404 and 405 in the API's JSON error shape, where the
// mux itself would answer in plain text.
func (s *Service) restMux() *http.ServeMux {
	allow := map[string][]string{} // path -> methods, for a 405's Allow
	for _, rt := range restRoutes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if method == http.MethodGet {
			method = "GET, HEAD"
		}
		allow[path] = append(allow[path], method)
	}
	mux := http.NewServeMux()
	for _, prefix := range []string{"/api", "/api/v1"} {
		v1 := prefix == "/api/v1"
		for _, rt := range restRoutes {
			method, path, _ := strings.Cut(rt.pattern, " ")
			mux.Handle(method+" "+prefix+path, s.hubCall(v1, path, rt.scope, rt.serve))
		}
		for path, methods := range allow {
			mux.Handle(prefix+path, s.hubCall(v1, path, toAll, methodNotAllowed(strings.Join(methods, ", "))))
		}
		mux.Handle(prefix+"/hubs/{hub}/", s.hubCall(v1, "", toAll, func(_ *Service, w http.ResponseWriter, _ *http.Request, _ restCall) {
			restError(w, http.StatusNotFound, "", "No such REST API path.")
		}))
		mux.HandleFunc("GET "+prefix+"/health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
		mux.HandleFunc(prefix+"/health", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			restError(w, http.StatusMethodNotAllowed, "", "health takes GET or HEAD")
		})
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, _ *http.Request) {
		restError(w, http.StatusNotFound, "", "No such REST API path; use /api/hubs/{hub}/... or /api/v1/hubs/{hub}/...")
	})
	return mux
}

func methodNotAllowed(allow string) restHandler {
	return func(_ *Service, w http.ResponseWriter, r *http.Request, _ restCall) {
		w.Header().Set("Allow", allow)
		restError(w, http.StatusMethodNotAllowed, "", "This path does not take "+r.Method+"; it takes "+allow+".")
	}
}

// withoutTrailingSlash drops one trailing slash from the path, as the
// ASP.NET Core routing of the official emulator does.
func withoutTrailingSlash(r *http.Request) *http.Request {
	if len(r.URL.Path) <= len("/api/") || !strings.HasSuffix(r.URL.Path, "/") {
		return r
	}
	u := *r.URL
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	r2 := *r
	r2.URL = &u
	return &r2
}

// hubCall checks the token, the hub and application names and, when path
// (the route's pattern below the prefix) names one, the group, then
// serves the call.
func (s *Service) hubCall(v1 bool, path string, scope target, serve restHandler) http.Handler {
	hasGroup := strings.Contains(path, "{group}")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, aerr := s.authenticate(r, s.restAud(r)); aerr != nil {
			aerr.write(w)
			return
		}
		q := r.URL.Query()
		hub := r.PathValue("hub")
		if !protocol.ValidHubName(hub) {
			restError(w, http.StatusBadRequest, "Error.Request.Invalid", invalidHubName)
			return
		}
		if app := q.Get("application"); app != "" {
			if !protocol.ValidHubName(app) {
				restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid application name.")
				return
			}
			hub = strings.ToLower(app + "_" + hub)
		}
		c := restCall{v1: v1, hub: hub, scope: scope, excluded: q["excluded"],
			user: r.PathValue("user"), group: r.PathValue("group"), conn: r.PathValue("conn")}
		if hasGroup && !protocol.ValidGroupName(c.group) {
			restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid group name. Valid group name should be in between 1 and 1024 characters long.")
			return
		}
		serve(s, w, r, c)
	})
}

// statusRecorder remembers the status for the log line, and calls
// onStatus, when set, just before the status goes out.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	onStatus func(status int)
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		if r.onStatus != nil {
			r.onStatus(code)
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func restError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("x-ms-error-code", code)
	}
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

// pick chooses between the v1 and the 2022-06-01 status of an operation.
func pick(v1 bool, v1Status, status int) int {
	if v1 {
		return v1Status
	}
	return status
}

// restSend reads a PayloadMessage and delivers it. Body keys match
// without regard to case, as the SDK writes PascalCase.
func (s *Service) restSend(w http.ResponseWriter, r *http.Request, c restCall) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/json") {
			restError(w, http.StatusUnsupportedMediaType, "Error.Request.Invalid", "Only application/json bodies are supported by the emulator (no MessagePack).")
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.MaxMessageSize)+1))
	if err != nil {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Reading the body failed.")
		return
	}
	if len(body) > s.opts.MaxMessageSize {
		restError(w, http.StatusRequestEntityTooLarge, "Error.Request.Invalid", "The body exceeds the limit of "+strconv.Itoa(s.opts.MaxMessageSize)+" bytes.")
		return
	}
	var p struct {
		Target    string          `json:"target"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "The body is not a JSON object {\"target\":...,\"arguments\":[...]}: "+err.Error())
		return
	}
	if p.Target == "" {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "The 'target' is required.")
		return
	}
	args := p.Arguments
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage("[]")
	}
	if !bytes.HasPrefix(bytes.TrimLeft(args, " \t\r\n"), []byte("[")) {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "The 'arguments' must be a JSON array.")
		return
	}
	recips := s.recipients(c.hub, c.scope, c.id(), c.excluded)
	route := sendRoute(c)
	n := s.deliver(recips, p.Target, args, route)
	w.Header().Set(protocol.HeaderDelivered, strconv.Itoa(n))
	reason := ""
	if n == 0 {
		reason = s.whyUndelivered(c.hub, c.scope, c.id(), c.excluded, len(recips))
		w.Header().Set(protocol.HeaderUndelivered, reason)
	}
	s.traceDelivered(c.hub, p.Target, route, n, reason)
	w.WriteHeader(http.StatusAccepted)
}

// sendRoute is the `route` header of a delivered message: why it reached
// its receiver.
func sendRoute(c restCall) string {
	switch c.scope {
	case toUser:
		return "user:" + c.user
	case toGroup:
		return "group:" + c.group
	case toConn:
		return "connection:" + c.conn
	}
	return "broadcast"
}

// restExists answers the existence checks: 200, or 404 with the warning
// code the SDK expects.
func (s *Service) restExists(w http.ResponseWriter, _ *http.Request, c restCall) {
	if s.exists(c.hub, c.scope, c.id()) {
		w.WriteHeader(http.StatusOK)
		return
	}
	restError(w, http.StatusNotFound, notExisted[c.scope], "Not found.")
}

// restClose closes a hub's, user's or group's connections with reason.
func (s *Service) restClose(w http.ResponseWriter, r *http.Request, c restCall) {
	msg := protocol.NewClose(r.URL.Query().Get("reason"), true)
	for _, cn := range s.recipients(c.hub, c.scope, c.id(), c.excluded) {
		cn.close(&msg, false, "closed through the REST API")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) restCloseConn(w http.ResponseWriter, r *http.Request, c restCall) {
	recips := s.recipients(c.hub, toConn, c.conn, nil)
	if len(recips) == 0 {
		if c.v1 {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		restError(w, http.StatusNotFound, codeConnNotExisted, "The connection does not exist.")
		return
	}
	msg := protocol.NewClose(r.URL.Query().Get("reason"), true)
	recips[0].close(&msg, false, "closed through the REST API")
	w.WriteHeader(pick(c.v1, http.StatusAccepted, http.StatusOK))
}

// restAddUser adds a user to a group, for ttl seconds if given.
func (s *Service) restAddUser(w http.ResponseWriter, r *http.Request, c restCall) {
	ttl := time.Duration(-1)
	if v := r.URL.Query().Get("ttl"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			restError(w, http.StatusBadRequest, "Error.Request.Invalid", "The 'ttl' must be a whole number of seconds, 0 or more.")
			return
		}
		ttl = time.Duration(n) * time.Second
	}
	s.addUserToGroup(c.hub, c.user, c.group, ttl)
	n, why := s.userApplied(c.hub, c.user, c.group, ttl == 0)
	setApplied(w, n, why)
	w.WriteHeader(pick(c.v1, http.StatusAccepted, http.StatusOK))
}

func (s *Service) restRemoveUser(w http.ResponseWriter, _ *http.Request, c restCall) {
	s.removeUserFromGroup(c.hub, c.user, c.group)
	n, why := s.userApplied(c.hub, c.user, "", false)
	setApplied(w, n, why)
	w.WriteHeader(pick(c.v1, http.StatusAccepted, http.StatusNoContent))
}

func (s *Service) restUserInGroup(w http.ResponseWriter, _ *http.Request, c restCall) {
	if !s.userInGroup(c.hub, c.user, c.group) {
		restError(w, http.StatusNotFound, codeUserNotInGroup, "The user is not in the group.")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Service) restRemoveUserFromAll(w http.ResponseWriter, _ *http.Request, c restCall) {
	s.removeUserFromAllGroups(c.hub, c.user)
	n, why := s.userApplied(c.hub, c.user, "", false)
	setApplied(w, n, why)
	w.WriteHeader(pick(c.v1, http.StatusOK, http.StatusNoContent))
}

func (s *Service) restAddConn(w http.ResponseWriter, _ *http.Request, c restCall) {
	s.restConnGroup(w, c, true)
}

func (s *Service) restRemoveConn(w http.ResponseWriter, _ *http.Request, c restCall) {
	s.restConnGroup(w, c, false)
}

// restConnGroup adds a connection to a group or removes it: 200, or 404
// when the connection does not exist.
func (s *Service) restConnGroup(w http.ResponseWriter, c restCall, add bool) {
	if !s.connGroup(c.hub, c.conn, c.group, add) {
		setApplied(w, 0, s.connUnapplied(c.hub, c.conn))
		restError(w, http.StatusNotFound, codeConnNotExistedErr, "The connection does not exist.")
		return
	}
	setApplied(w, 1, "")
	w.WriteHeader(http.StatusOK)
}

func (s *Service) restRemoveConnFromAll(w http.ResponseWriter, _ *http.Request, c restCall) {
	if s.removeConnFromAllGroups(c.hub, c.conn) {
		setApplied(w, 1, "")
	} else {
		setApplied(w, 0, s.connUnapplied(c.hub, c.conn))
	}
	w.WriteHeader(http.StatusOK)
}
