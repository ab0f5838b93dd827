package emulator

import (
	"encoding/json"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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

// restCall is one parsed REST request.
type restCall struct {
	v1       bool // /api/v1/... answers with the v1 status table
	hub      string
	rest     []string // path segments after the hub
	excluded []string
}

// statusRecorder remembers the status for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// handleREST serves /api/...: one log line per call, never the query.
func (s *Service) handleREST(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	s.serveREST(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	s.log.Info("rest call", "method", r.Method, "path", textsafe.Clip(r.URL.Path, 200), "status", rec.status,
		"duration", time.Since(start).Round(time.Microsecond).String())
}

func restError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("x-ms-error-code", code)
	}
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

func (s *Service) serveREST(w http.ResponseWriter, r *http.Request) {
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok || len(segs) < 2 || segs[0] != "api" {
		restError(w, http.StatusNotFound, "", "No such REST API path.")
		return
	}
	segs = segs[1:]
	call := restCall{}
	if segs[0] == "v1" {
		call.v1 = true
		segs = segs[1:]
	}
	if len(segs) == 1 && segs[0] == "health" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			restError(w, http.StatusMethodNotAllowed, "", "health takes GET or HEAD")
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if len(segs) < 2 || segs[0] != "hubs" {
		restError(w, http.StatusNotFound, "", "No such REST API path; use /api/hubs/{hub}/... or /api/v1/hubs/{hub}/...")
		return
	}
	if _, aerr := s.authenticate(r, s.restAud(r)); aerr != nil {
		aerr.write(w)
		return
	}
	q := r.URL.Query()
	hub := segs[1]
	if !protocol.ValidHubName(hub) {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid hub name. Valid hub name should be in between 1 and 128 characters long, start with a letter and contain only letters, digits, and _`,.[]")
		return
	}
	if app := q.Get("application"); app != "" {
		if !protocol.ValidHubName(app) {
			restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid application name.")
			return
		}
		hub = strings.ToLower(app + "_" + hub)
	}
	call.hub = hub
	call.rest = segs[2:]
	call.excluded = q["excluded"]
	s.route(w, r, call)
}

// splitPath splits an escaped path into unescaped segments.
func splitPath(escaped string) ([]string, bool) {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

// route dispatches on the path after /hubs/{hub}, accepting the old and
// new forms of each path, as the official emulator does.
func (s *Service) route(w http.ResponseWriter, r *http.Request, c restCall) {
	rest := c.rest
	n := len(rest)
	isSend := n > 0 && rest[n-1] == ":send"
	if isSend {
		rest = rest[:n-1]
		n--
	}
	isCloseAll := n > 0 && rest[n-1] == ":closeConnections"
	m := r.Method
	switch {
	case n == 0:
		if m == http.MethodPost {
			s.restSend(w, r, c, toAll, "", "broadcast")
			return
		}
	case n == 1 && isCloseAll && !isSend:
		if m == http.MethodPost {
			s.restClose(w, r, c, toAll, "")
			return
		}
	case n >= 2 && rest[0] == "users":
		user := rest[1]
		if user == "" {
			break
		}
		switch {
		case n == 2:
			switch {
			case m == http.MethodPost:
				s.restSend(w, r, c, toUser, user, "user:"+user)
				return
			case (m == http.MethodGet || m == http.MethodHead) && !isSend:
				s.restExists(w, c, toUser, user, codeUserNotExisted)
				return
			}
		case isSend:
		case n == 3 && isCloseAll:
			if m == http.MethodPost {
				s.restClose(w, r, c, toUser, user)
				return
			}
		case n == 3 && rest[2] == "groups":
			if m == http.MethodDelete {
				s.removeUserFromAllGroups(c.hub, user)
				w.WriteHeader(pick(c.v1, http.StatusOK, http.StatusNoContent))
				return
			}
		case n == 4 && rest[2] == "groups":
			if s.restUserGroup(w, r, c, user, rest[3]) {
				return
			}
		}
	case n >= 2 && rest[0] == "groups":
		group := rest[1]
		if !protocol.ValidGroupName(group) {
			restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid group name. Valid group name should be in between 1 and 1024 characters long.")
			return
		}
		switch {
		case n == 2:
			switch {
			case m == http.MethodPost:
				s.restSend(w, r, c, toGroup, group, "group:"+group)
				return
			case (m == http.MethodGet || m == http.MethodHead) && !isSend:
				s.restExists(w, c, toGroup, group, codeGroupNotExisted)
				return
			}
		case isSend:
		case n == 3 && isCloseAll:
			if m == http.MethodPost {
				s.restClose(w, r, c, toGroup, group)
				return
			}
		case n == 4 && rest[2] == "users":
			if s.restUserGroup(w, r, c, rest[3], group) {
				return
			}
		case n == 4 && rest[2] == "connections":
			if s.restConnGroup(w, r, c, rest[3], group) {
				return
			}
		}
	case n >= 2 && rest[0] == "connections":
		id := rest[1]
		if id == "" {
			break
		}
		switch {
		case n == 2:
			switch {
			case m == http.MethodPost:
				s.restSend(w, r, c, toConn, id, "connection:"+id)
				return
			case (m == http.MethodGet || m == http.MethodHead) && !isSend:
				s.restExists(w, c, toConn, id, codeConnNotExisted)
				return
			case m == http.MethodDelete && !isSend:
				s.restCloseConn(w, r, c, id)
				return
			}
		case isSend:
		case n == 3 && rest[2] == "groups":
			if m == http.MethodDelete {
				s.removeConnFromAllGroups(c.hub, id)
				w.WriteHeader(http.StatusOK)
				return
			}
		case n == 4 && rest[2] == "groups":
			group := rest[3]
			if !protocol.ValidGroupName(group) {
				restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid group name. Valid group name should be in between 1 and 1024 characters long.")
				return
			}
			if s.restConnGroup(w, r, c, id, group) {
				return
			}
		}
	default:
		restError(w, http.StatusNotFound, "", "No such REST API path.")
		return
	}
	restError(w, http.StatusMethodNotAllowed, "", "This path does not take "+m+" (or does not exist).")
}

func pick(v1 bool, v1Status, status int) int {
	if v1 {
		return v1Status
	}
	return status
}

// restSend reads a PayloadMessage and delivers it. Body keys match
// without regard to case, as the SDK writes PascalCase.
func (s *Service) restSend(w http.ResponseWriter, r *http.Request, c restCall, t target, name, route string) {
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
		restError(w, http.StatusRequestEntityTooLarge, "Error.Request.Invalid", "The body exceeds the limit of "+itoa(s.opts.MaxMessageSize)+" bytes.")
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
	if firstNonSpace(args) != '[' {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "The 'arguments' must be a JSON array.")
		return
	}
	s.deliver(s.recipients(c.hub, t, name, c.excluded), p.Target, args, route)
	w.WriteHeader(http.StatusAccepted)
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c
		}
	}
	return 0
}

func (s *Service) restExists(w http.ResponseWriter, c restCall, t target, name, code string) {
	if s.exists(c.hub, t, name) {
		w.WriteHeader(http.StatusOK)
		return
	}
	restError(w, http.StatusNotFound, code, "Not found.")
}

// restClose closes a hub's, user's or group's connections with reason.
func (s *Service) restClose(w http.ResponseWriter, r *http.Request, c restCall, t target, name string) {
	msg := protocol.NewClose(r.URL.Query().Get("reason"), true)
	for _, cn := range s.recipients(c.hub, t, name, c.excluded) {
		cn.close(&msg, false, "closed through the REST API")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) restCloseConn(w http.ResponseWriter, r *http.Request, c restCall, id string) {
	recips := s.recipients(c.hub, toConn, id, nil)
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

// restUserGroup serves PUT/DELETE/GET/HEAD on a user-group pair. It
// reports false for a method it does not take.
func (s *Service) restUserGroup(w http.ResponseWriter, r *http.Request, c restCall, user, group string) bool {
	if user == "" {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "The user id is empty.")
		return true
	}
	if !protocol.ValidGroupName(group) {
		restError(w, http.StatusBadRequest, "Error.Request.Invalid", "Invalid group name. Valid group name should be in between 1 and 1024 characters long.")
		return true
	}
	switch r.Method {
	case http.MethodPut:
		ttl := time.Duration(-1)
		if v := r.URL.Query().Get("ttl"); v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 0 {
				restError(w, http.StatusBadRequest, "Error.Request.Invalid", "The 'ttl' must be a whole number of seconds, 0 or more.")
				return true
			}
			ttl = time.Duration(n) * time.Second
		}
		s.addUserToGroup(c.hub, user, group, ttl)
		w.WriteHeader(pick(c.v1, http.StatusAccepted, http.StatusOK))
	case http.MethodDelete:
		s.removeUserFromGroup(c.hub, user, group)
		w.WriteHeader(pick(c.v1, http.StatusAccepted, http.StatusNoContent))
	case http.MethodGet, http.MethodHead:
		if s.userInGroup(c.hub, user, group) {
			w.WriteHeader(http.StatusOK)
		} else {
			restError(w, http.StatusNotFound, codeUserNotInGroup, "The user is not in the group.")
		}
	default:
		return false
	}
	return true
}

// restConnGroup serves PUT/DELETE on a connection-group pair.
func (s *Service) restConnGroup(w http.ResponseWriter, r *http.Request, c restCall, id, group string) bool {
	var add bool
	switch r.Method {
	case http.MethodPut:
		add = true
	case http.MethodDelete:
	default:
		return false
	}
	if !s.connGroup(c.hub, id, group, add) {
		restError(w, http.StatusNotFound, codeConnNotExistedErr, "The connection does not exist.")
		return true
	}
	w.WriteHeader(http.StatusOK)
	return true
}
