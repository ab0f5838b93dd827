package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

func TestNegotiateTokenChecks(t *testing.T) {
	st := startStack(t, nil)
	key := []byte(DefaultAccessKey)
	aud := st.ServiceURL + "/client/?hub=chat"
	exp := time.Now().Add(time.Hour).Unix()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		token    string
		query    bool // send in access_token instead of the header
		status   int
		wantDesc string
	}{
		{"valid HS256", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": aud, "exp": exp}), false, 200, ""},
		{"valid HS512", signClaims(t, jwt.SigningMethodHS512, key, jwt.MapClaims{"aud": aud, "exp": exp}), false, 200, ""},
		{"port-less aud as the SDK mints it", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": "http://127.0.0.1/client/?hub=chat", "exp": exp}), false, 200, ""},
		{"aud hub in other case, extra query", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": aud[:len(aud)-4] + "CHAT&x=1", "exp": exp}), false, 200, ""},
		{"token in access_token query", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": aud, "exp": exp}), true, 200, ""},
		{"no token", "", false, 401, "No access token"},
		{"other key", signClaims(t, jwt.SigningMethodHS256, []byte("another key"), jwt.MapClaims{"aud": aud, "exp": exp}), false, 401, "signature is invalid"},
		{"alg none", signClaims(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"aud": aud, "exp": exp}), false, 401, "'none' is not allowed"},
		{"asymmetric ES256", signClaims(t, jwt.SigningMethodES256, ec, jwt.MapClaims{"aud": aud, "exp": exp}), false, 401, "'ES256' is not allowed"},
		{"expired", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": aud, "exp": time.Now().Add(-time.Minute).Unix()}), false, 401, "expired"},
		{"missing exp", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": aud}), false, 401, "no expiration"},
		{"missing aud", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"exp": exp}), false, 401, "no audience"},
		{"aud of another hub", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": st.ServiceURL + "/client/?hub=other", "exp": exp}), false, 401, "audience is invalid"},
		{"aud of another host", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": "http://example.com/client/?hub=chat", "exp": exp}), false, 401, "audience is invalid"},
		{"aud of another port", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": "http://127.0.0.1:1/client/?hub=chat", "exp": exp}), false, 401, "audience is invalid"},
		{"REST token on negotiate", signClaims(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"aud": st.ServiceURL + "/api/hubs/chat", "exp": exp}), false, 401, "audience is invalid"},
		{"garbage", "not.a.jwt", false, 401, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := st.ServiceURL + "/client/negotiate?hub=chat&negotiateVersion=1"
			tok := tc.token
			if tc.query {
				u += "&access_token=" + tok
				tok = ""
			}
			resp, body := doReq(t, "POST", u, tok, nil, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == 401 {
				h := resp.Header.Get("WWW-Authenticate")
				if !strings.HasPrefix(h, "Bearer") || !strings.Contains(h+string(body), tc.wantDesc) {
					t.Fatalf("WWW-Authenticate %q body %q: want %q", h, body, tc.wantDesc)
				}
				if tc.token != "" && !strings.Contains(h, `error="invalid_token"`) {
					t.Fatalf("WWW-Authenticate %q lacks error=\"invalid_token\"", h)
				}
			}
		})
	}
}

func TestTransportRequestsCheckTokens(t *testing.T) {
	st := startStack(t, nil)
	n := negotiate(t, st, "chat", "alice")
	bad := signClaims(t, jwt.SigningMethodHS256, []byte("wrong"), jwt.MapClaims{"aud": st.ServiceURL + "/client/?hub=chat", "exp": time.Now().Add(time.Hour).Unix()})
	_, resp, err := websocket.Dial(ctxT(t), st.wsURL("chat", n.ConnectionToken), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + bad}},
	})
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("WebSocket with a bad token: err %v resp %v, want 401", err, resp)
	}
	for _, method := range []string{"GET", "POST", "DELETE"} {
		r, _ := doReq(t, method, st.ServiceURL+"/client/?hub=chat&id="+n.ConnectionToken, bad, nil, map[string]string{"Accept": "text/event-stream"})
		if r.StatusCode != 401 {
			t.Fatalf("%s with a bad token: %d, want 401", method, r.StatusCode)
		}
	}
	// Another user's valid token cannot use alice's connection.
	r, _ := doReq(t, "GET", st.ServiceURL+"/client/?hub=chat&id="+n.ConnectionToken, clientToken(t, st, "chat", "mallory"), nil, nil)
	if r.StatusCode != 403 {
		t.Fatalf("another user's token: %d, want 403", r.StatusCode)
	}
}
