package hostile

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/protocol"
)

// clientClaims are valid claims for the emulator's client endpoint of hub
// chat; each row spoils one thing.
func clientClaims(st *emulator.Stack) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"aud": st.ServiceURL + "/client/?hub=chat", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"nameid": "mallory",
	}
}

func sign(t *testing.T, m jwt.SigningMethod, claims jwt.MapClaims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var hmacKey = []byte(emulator.DefaultAccessKey)

// tokenRows present forged and spoilt tokens to the service's negotiate.
func tokenRows() []row {
	refused := func(t *testing.T, st *emulator.Stack, tok, why string) {
		t.Helper()
		status, h, body := negotiateWith(t, st, "chat", tok)
		if status != http.StatusUnauthorized {
			t.Fatalf("status %d, body %q", status, body)
		}
		if why != "" && !strings.Contains(h.Get("WWW-Authenticate"), why) {
			t.Fatalf("WWW-Authenticate %q, want %q", h.Get("WWW-Authenticate"), why)
		}
		if strings.Contains(body, tok) && len(tok) > 20 {
			t.Fatal("the answer echoes the token")
		}
	}
	tokenRow := func(input, outcome, why string, make func(t *testing.T, st *emulator.Stack) string) row {
		return row{area: "tokens", input: input, outcome: outcome, check: func(t *testing.T, e *env) {
			refused(t, e.stack(), make(t, e.stack()), why)
		}}
	}
	var rsaKey *rsa.PrivateKey
	rsaOnce := func(t *testing.T) *rsa.PrivateKey {
		if rsaKey == nil {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			rsaKey = k
		}
		return rsaKey
	}
	return []row{
		{area: "tokens", input: "a valid token (control row)", outcome: "200 with a connection id",
			check: func(t *testing.T, e *env) {
				if status, _, body := negotiateWith(t, e.stack(), "chat", sign(t, jwt.SigningMethodHS256, clientClaims(e.stack()), hmacKey)); status != http.StatusOK {
					t.Fatalf("status %d %q", status, body)
				}
			}},
		tokenRow("bad signature: HS256 signed with another key", "401 `error=\"invalid_token\"`, `The signature is invalid`", "signature is invalid",
			func(t *testing.T, st *emulator.Stack) string {
				return sign(t, jwt.SigningMethodHS256, clientClaims(st), []byte("not the access key at all, sorry"))
			}),
		tokenRow("`alg: none`, no signature", "401: only HS256/384/512 are accepted", "invalid_token",
			func(t *testing.T, st *emulator.Stack) string {
				return sign(t, jwt.SigningMethodNone, clientClaims(st), jwt.UnsafeAllowNoneSignatureType)
			}),
		tokenRow("HS/RS confusion: RS256 token signed with an RSA key", "401 `The signing algorithm 'RS256' is not allowed`", "RS256",
			func(t *testing.T, st *emulator.Stack) string {
				return sign(t, jwt.SigningMethodRS256, clientClaims(st), rsaOnce(t))
			}),
		tokenRow("HS/RS confusion: HS256 token keyed with an RSA public key's PEM", "401 `The signature is invalid`", "signature is invalid",
			func(t *testing.T, st *emulator.Stack) string {
				der, _ := x509.MarshalPKIXPublicKey(&rsaOnce(t).PublicKey)
				pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
				return sign(t, jwt.SigningMethodHS256, clientClaims(st), pub)
			}),
		tokenRow("expired token (exp an hour ago)", "401 `The token is expired (exp ...)`", "expired",
			func(t *testing.T, st *emulator.Stack) string {
				c := clientClaims(st)
				c["exp"] = time.Now().Add(-time.Hour).Unix()
				return sign(t, jwt.SigningMethodHS256, c, hmacKey)
			}),
		tokenRow("token without exp", "401 `The token has no expiration time (exp)`", "no expiration",
			func(t *testing.T, st *emulator.Stack) string {
				c := clientClaims(st)
				delete(c, "exp")
				return sign(t, jwt.SigningMethodHS256, c, hmacKey)
			}),
		{area: "tokens", input: "token not yet valid (nbf in an hour)",
			outcome: "accepted, as Azure SignalR Service does (nbf and iat are not checked; exp and aud are): documented in emulator/doc.go",
			check: func(t *testing.T, e *env) {
				c := clientClaims(e.stack())
				c["nbf"] = time.Now().Add(time.Hour).Unix()
				if status, _, body := negotiateWith(t, e.stack(), "chat", sign(t, jwt.SigningMethodHS256, c, hmacKey)); status != http.StatusOK {
					t.Fatalf("status %d %q", status, body)
				}
			}},
		tokenRow("wrong audience: another host", "401 `The audience is invalid`", "audience is invalid",
			func(t *testing.T, st *emulator.Stack) string {
				c := clientClaims(st)
				c["aud"] = "https://evil.example/client/?hub=chat"
				return sign(t, jwt.SigningMethodHS256, c, hmacKey)
			}),
		tokenRow("wrong audience: the same service, another hub", "401 `The audience is invalid`", "audience is invalid",
			func(t *testing.T, st *emulator.Stack) string {
				c := clientClaims(st)
				c["aud"] = st.ServiceURL + "/client/?hub=admin"
				return sign(t, jwt.SigningMethodHS256, c, hmacKey)
			}),
		tokenRow("a REST token (aud = a REST URL) on the client endpoint", "401 `The audience is invalid`", "audience is invalid",
			func(t *testing.T, st *emulator.Stack) string {
				c := clientClaims(st)
				c["aud"] = st.ServiceURL + "/api/hubs/chat"
				return sign(t, jwt.SigningMethodHS256, c, hmacKey)
			}),
		tokenRow("huge token: 200 KiB of claims, bad signature", "401, answered without echoing the token", "invalid_token",
			func(t *testing.T, st *emulator.Stack) string {
				c := clientClaims(st)
				c["junk"] = strings.Repeat("A", 200<<10)
				return sign(t, jwt.SigningMethodHS256, c, []byte("wrong key, wrong key, wrong key!"))
			}),
		{area: "tokens", input: "huge token: 2 MiB Authorization header", outcome: "431 Request Header Fields Too Large from the HTTP server, nothing parsed",
			check: func(t *testing.T, e *env) {
				status, _, _ := negotiateWith(t, e.stack(), "chat", strings.Repeat("A", 2<<20))
				if status != http.StatusRequestHeaderFieldsTooLarge {
					t.Fatalf("status %d", status)
				}
			}},
		tokenRow("garbage that is not a JWT (`not.a.jwt`)", "401 `The token is malformed`", "malformed",
			func(t *testing.T, st *emulator.Stack) string { return "not.a.jwt" }),
		{area: "connection string", input: "connection strings whose endpoint has a port but no host (`http://:0`) or port 0 (`http://0:00`), or no scheme, or no endpoint",
			outcome: "refused with `connection string: Endpoint ... is not an absolute http or https URL` or `the port \"00\" in Endpoint is not a number from 1 to 65535` (both found by fuzzing: they used to be accepted and then printed as a string that does not parse)",
			check: func(t *testing.T, e *env) {
				for _, s := range []string{"Endpoint=http://:0;AccessKey=00", "Endpoint=http://0:00;AccessKey=00", "Endpoint=127.0.0.1;AccessKey=k;Version=1.0;", "AccessKey=k;Version=1.0;", "Endpoint=https://x;ClientEndpoint=http://:1;AccessKey=k"} {
					if _, err := protocol.ParseConnectionString(s); err == nil || !strings.HasPrefix(err.Error(), "connection string: ") {
						t.Errorf("ParseConnectionString(%q) = %v", s, err)
					}
				}
			}},
	}
}
