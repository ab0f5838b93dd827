package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

const testKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

func TestTokenInspect(t *testing.T) {
	cs, err := protocol.ParseConnectionString("Endpoint=http://127.0.0.1;Port=8888;AccessKey=" + testKey + ";Version=1.0;")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := manage.MintClientAccess(cs, "chat", "alice", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// The token's times are whole seconds; inspect at exactly 10 minutes
	// before expiry so the words do not depend on the clock.
	at := ca.ExpiresAt.Add(-10 * time.Minute)
	if err := inspectToken(&out, ca.AccessToken, testKey, at); err != nil {
		t.Fatalf("inspect: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"user id:    alice (from asrs.s.uid)", "audience:   http://127.0.0.1:8888/client/?hub=chat", "(in 10 minutes)", "signature:  valid (HS256)", "asrs.s.uid: \"alice\""} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in:\n%s", want, s)
		}
	}
	if strings.Contains(s, ca.AccessToken) {
		t.Error("inspect printed the token whole")
	}

	out.Reset()
	if err := inspectToken(&out, ca.AccessToken, "wrong", time.Now()); err == nil || !strings.Contains(out.String(), "INVALID") {
		t.Errorf("wrong key: err %v\n%s", err, out.String())
	}

	out.Reset()
	if err := inspectToken(&out, ca.AccessToken, "", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "EXPIRED 1 hour 50 minutes ago") || !strings.Contains(out.String(), "not checked") {
		t.Errorf("expired token:\n%s", out.String())
	}

	out.Reset()
	if err := inspectToken(&out, "opaque-token-value", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "opaque (not a JWT)") {
		t.Errorf("opaque token:\n%s", out.String())
	}
}

func TestTokenInspectEscapesClaims(t *testing.T) {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"nameid": "evil\x1b[31mred\u009b", "aud": "x"}).SignedString([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := inspectToken(&out, tok, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.ContainsAny(s, "\x1b\u009b") {
		t.Errorf("control characters reached the output: %q", s)
	}
	if !strings.Contains(s, `user id:    evil\x1b[31mred\u009b (from nameid)`) {
		t.Errorf("user id line:\n%s", s)
	}
}

func TestExtractToken(t *testing.T) {
	cases := map[string]string{
		"  abc.def.ghi \n": "abc.def.ghi",
		"Bearer abc":       "abc",
		`{"url":"http://x/client/?hub=chat","accessToken":"tok"}`: "tok",
	}
	for in, want := range cases {
		got, err := extractToken(in)
		if err != nil || got != want {
			t.Errorf("extractToken(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "  ", `{"url":"x"}`, `{not json`} {
		if _, err := extractToken(bad); err == nil {
			t.Errorf("extractToken(%q) succeeded", bad)
		}
	}
}

func TestIdentityFlags(t *testing.T) {
	f := &identityFlags{headers: []string{"X-A: 1", "X-B=two"}, query: []string{"code=abc=="}}
	h, err := f.header()
	if err != nil || h.Get("X-A") != "1" || h.Get("X-B") != "two" {
		t.Errorf("header = %v, %v", h, err)
	}
	q, err := f.queryValues()
	if err != nil || q.Get("code") != "abc==" {
		t.Errorf("query = %v, %v", q, err)
	}
	if _, err := (&identityFlags{headers: []string{"novalue"}}).header(); err == nil {
		t.Error("bad header accepted")
	}
	t.Setenv(connectionStringEnv, "Endpoint=http://h;AccessKey=k;Version=1.0;")
	if u, cs, err := (&identityFlags{}).resolve([]string{"http://a/api"}); err != nil || u != "http://a/api" || cs != "" {
		t.Errorf("URL with env set: %q %q %v", u, cs, err)
	}
	if _, cs, err := (&identityFlags{}).resolve(nil); err != nil || cs == "" {
		t.Errorf("env fallback: %q %v", cs, err)
	}
	if _, _, err := (&identityFlags{connectionString: "x"}).resolve([]string{"http://a/api"}); err == nil {
		t.Error("URL and --connection-string accepted together")
	}
	if got := (&identityFlags{user: "a@b.c"}).label("chat"); got != "a@b.c@chat" {
		t.Errorf("label = %q", got)
	}
}
