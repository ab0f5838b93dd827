package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/protocol"
)

// hmacAlgs are the only signing algorithms accepted: HMAC with the access
// key. Refusing `none` and every asymmetric algorithm rules out key
// confusion attacks.
var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// identity is what a valid token says about its bearer.
type identity struct {
	user   string
	claims jwt.MapClaims
}

// authError is a failed token check, answered with 401 and the RFC 6750
// WWW-Authenticate header.
type authError struct {
	desc    string
	noToken bool
}

func (e *authError) Error() string { return e.desc }

func (e *authError) write(w http.ResponseWriter) {
	if e.noToken {
		w.Header().Set("WWW-Authenticate", `Bearer`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(e.desc, `"`, `'`)+`"`)
	}
	http.Error(w, e.desc, http.StatusUnauthorized)
}

// bearerToken takes the token from the Authorization header, else from
// the access_token query parameter (browsers cannot set headers on
// WebSockets and EventSource).
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:])
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// audCheck decides whether one aud value is acceptable for a request.
type audCheck func(aud *url.URL) bool

// authenticate checks the request's token: HMAC signature with the access
// key, exp present and not passed (with leeway), aud present and accepted
// by check. nbf and iat are not enforced, as the service does not.
func (s *Service) authenticate(r *http.Request, check audCheck) (identity, *authError) {
	raw := bearerToken(r)
	if raw == "" {
		return identity{}, &authError{desc: "No access token was provided; send Authorization: Bearer <token>", noToken: true}
	}
	p := jwt.NewParser(jwt.WithValidMethods(hmacAlgs), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	tok, err := p.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return []byte(s.opts.AccessKey), nil
	})
	if err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenMalformed):
			return identity{}, &authError{desc: "The token is malformed"}
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			if tok != nil {
				if alg, _ := tok.Header["alg"].(string); alg != "" && !isHMAC(alg) {
					return identity{}, &authError{desc: fmt.Sprintf("The signing algorithm '%s' is not allowed; sign with HS256 and the access key", alg)}
				}
			}
			return identity{}, &authError{desc: "The signature is invalid; sign with the service's access key"}
		default:
			return identity{}, &authError{desc: "The token cannot be validated"}
		}
	}
	exp, err := claims.GetExpirationTime()
	if err != nil {
		return identity{}, &authError{desc: "The token's exp claim is not a number"}
	}
	if exp == nil {
		return identity{}, &authError{desc: "The token has no expiration time (exp)"}
	}
	if now := s.opts.Now(); now.After(exp.Add(s.opts.TokenLeeway)) {
		return identity{}, &authError{desc: "The token is expired (exp " + exp.UTC().Format(time.RFC3339) + ")"}
	}
	auds, err := claims.GetAudience()
	if err != nil || len(auds) == 0 {
		return identity{}, &authError{desc: "The token has no audience (aud)"}
	}
	ok := false
	for _, a := range auds {
		u, err := url.Parse(a)
		if err == nil && u.Scheme != "" && u.Host != "" && check(u) {
			ok = true
			break
		}
	}
	if !ok {
		return identity{}, &authError{desc: "The audience is invalid"}
	}
	return identity{user: protocol.UserIDFromClaims(claims), claims: claims}, nil
}

// boundTo checks that a request on an existing connection comes from
// whoever negotiated it: the same user, and for an anonymous connection
// negotiated without negotiateVersion (whose token is its public id) the
// same access token. It returns why not, or "".
func boundTo(c *conn, r *http.Request, id identity) string {
	if id.user != c.user {
		return "The access token names another user than the one that negotiated this connection."
	}
	if c.bearer != ([32]byte{}) {
		sum := sha256.Sum256([]byte(bearerToken(r)))
		if subtle.ConstantTimeCompare(sum[:], c.bearer[:]) != 1 {
			return "The access token is not the one that negotiated this connection: a connection negotiated without negotiateVersion is bound to its access token."
		}
	}
	return ""
}

func isHMAC(alg string) bool {
	for _, a := range hmacAlgs {
		if a == alg {
			return true
		}
	}
	return false
}

// origins returns the base URLs a token audience may name: the URL of the
// request itself, the service's configured Endpoint and its ClientEndpoint.
func (s *Service) origins(r *http.Request) []*url.URL {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	out := []*url.URL{{Scheme: scheme, Host: r.Host}}
	for _, e := range []string{s.opts.Endpoint, s.opts.ClientEndpoint} {
		if e == "" {
			continue
		}
		if u, err := url.Parse(e); err == nil && u.Host != "" {
			u.Path = strings.TrimRight(u.Path, "/")
			out = append(out, u)
		}
	}
	return out
}

// sameOrigin compares scheme and host, and the port unless aud has none
// (the SDK drops the port from aud).
func sameOrigin(aud, base *url.URL) bool {
	if !strings.EqualFold(aud.Scheme, base.Scheme) || !strings.EqualFold(aud.Hostname(), base.Hostname()) {
		return false
	}
	if aud.Port() == "" {
		return true
	}
	return aud.Port() == portOf(base)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// clientAud accepts `{origin}/client/?hub={hub}`: the client URL of hub,
// the query ignored except hub (compared without regard to case).
func (s *Service) clientAud(r *http.Request, hub string) audCheck {
	bases := s.origins(r)
	return func(aud *url.URL) bool {
		if !strings.EqualFold(aud.Query().Get("hub"), hub) {
			return false
		}
		p := strings.TrimRight(aud.Path, "/")
		for _, b := range bases {
			if sameOrigin(aud, b) && strings.EqualFold(p, b.Path+"/client") {
				return true
			}
		}
		return false
	}
}

// restAud accepts the request URL itself, query and trailing slash
// ignored.
func (s *Service) restAud(r *http.Request) audCheck {
	bases := s.origins(r)
	want := strings.TrimRight(r.URL.Path, "/")
	return func(aud *url.URL) bool {
		p := strings.TrimRight(aud.Path, "/")
		for i, b := range bases {
			w := want
			if i > 0 {
				w = b.Path + want
			}
			if sameOrigin(aud, b) && strings.EqualFold(p, w) {
				return true
			}
		}
		return false
	}
}
