package emulator

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/sigr-dev/sigr/protocol"
)

// hubParam returns the one valid `hub` query parameter, or false after
// answering 400 `Invalid value of 'hub'.` (missing, repeated or invalid).
func hubParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	hubs := r.URL.Query()["hub"]
	if len(hubs) != 1 || !protocol.ValidHubName(hubs[0]) {
		http.Error(w, "Invalid value of 'hub'.", http.StatusBadRequest)
		return "", false
	}
	return hubs[0], true
}

// handleNegotiate answers POST /client/negotiate?hub=H[&negotiateVersion=N]
// [&useStatefulReconnect=true] with a fresh connection: negotiate v1
// (connectionToken) or v0, and useStatefulReconnect when the client asked
// for it (the query names are matched without regard to case, as ASP.NET
// Core does).
func (s *Service) handleNegotiate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "negotiate takes POST", http.StatusMethodNotAllowed)
		return
	}
	hub, ok := hubParam(w, r)
	if !ok {
		return
	}
	id, aerr := s.authenticate(r, s.clientAud(r, hub))
	if aerr != nil {
		s.log.Info("negotiate refused", "hub", hub, "status", http.StatusUnauthorized, "reason", aerr.desc)
		aerr.write(w)
		return
	}
	version := 0
	stateful := false
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "useStatefulReconnect") && len(v) > 0 && strings.EqualFold(v[0], "true") {
			stateful = !s.opts.DisableStatefulReconnect
		}
		if strings.EqualFold(k, "negotiateVersion") && len(v) > 0 {
			n, err := strconv.Atoi(v[0])
			if err != nil {
				writeJSON(w, http.StatusOK, map[string]string{"error": "The client requested a non-integer protocol version."})
				return
			}
			if n < 0 {
				writeJSON(w, http.StatusOK, map[string]string{"error": "The client requested version '" + v[0] + "', but the server does not support this version."})
				return
			}
			version = min(n, 1)
		}
	}
	if version == 0 {
		// The connection id is the connection token here, and ids are not
		// secret (app servers pass them around), so a resume by id alone
		// would let anyone take the connection over.
		stateful = false
	}
	c := newConn(s, hub, id.user, version == 0)
	if version == 0 && id.user == "" {
		c.bearer = sha256.Sum256([]byte(bearerToken(r)))
	}
	c.statefulOffered = stateful
	c.claims = id.claims
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "The service is shutting down.", http.StatusServiceUnavailable)
		return
	}
	s.tokens[c.token] = c
	s.watched[c] = struct{}{}
	s.mu.Unlock()

	resp := protocol.NegotiateResponse{
		ConnectionID:     c.id,
		NegotiateVersion: version,
		AvailableTransports: []protocol.AvailableTransport{
			{Transport: transportWS, TransferFormats: []string{"Text", "Binary"}},
			{Transport: transportSSE, TransferFormats: []string{"Text"}},
			{Transport: transportLP, TransferFormats: []string{"Text", "Binary"}},
		},
	}
	if version >= 1 {
		resp.ConnectionToken = c.token
	}
	// Offered only to a client that asked: the official TS client fails a
	// start whose negotiate offers it unasked.
	resp.UseStatefulReconnect = stateful
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
