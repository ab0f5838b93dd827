package manage

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/protocol"
)

const testKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

func parseHS(t *testing.T, tok, key string) (jwt.MapClaims, *jwt.Token) {
	t.Helper()
	claims := jwt.MapClaims{}
	tk, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation()).ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(key), nil })
	if err != nil {
		t.Fatalf("token does not verify with the key's UTF-8 bytes: %v", err)
	}
	return claims, tk
}

func TestMintClientAccess(t *testing.T) {
	cs, err := protocol.ParseConnectionString("Endpoint=http://127.0.0.1;Port=8888;AccessKey=" + testKey + ";Version=1.0;")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	ca, err := mintClientAccessAt(cs, "Chat", "alice", 10*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	if ca.URL != "http://127.0.0.1:8888/client/?hub=chat" {
		t.Fatalf("url %q", ca.URL)
	}
	claims, tk := parseHS(t, ca.AccessToken, testKey)
	if tk.Header["alg"] != "HS256" {
		t.Fatalf("alg %v", tk.Header["alg"])
	}
	if claims["aud"] != ca.URL || claims[protocol.ClaimUserID] != "alice" {
		t.Fatalf("claims %v", claims)
	}
	if exp, _ := claims.GetExpirationTime(); exp == nil || !exp.Equal(now.Add(10*time.Minute)) || !ca.ExpiresAt.Equal(exp.Time) {
		t.Fatalf("exp %v, ExpiresAt %v", exp, ca.ExpiresAt)
	}
	for _, c := range []string{"iat", "nbf"} {
		if claims[c] != float64(now.Unix()) {
			t.Fatalf("%s = %v", c, claims[c])
		}
	}

	// No user: no uid claim at all. Default lifetime one hour.
	anon, err := mintClientAccessAt(cs, "chat", "", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ = parseHS(t, anon.AccessToken, testKey)
	if _, ok := claims[protocol.ClaimUserID]; ok {
		t.Fatal("anonymous token carries asrs.s.uid")
	}
	if exp, _ := claims.GetExpirationTime(); !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("default exp %v", exp)
	}

	// ClientEndpoint wins for the URL and aud.
	cs2, _ := protocol.ParseConnectionString("Endpoint=http://127.0.0.1;Port=8888;AccessKey=k;ClientEndpoint=https://proxy.example/sig;Version=1.0;")
	ca2, err := MintClientAccess(cs2, "chat", "", 0)
	if err != nil || ca2.URL != "https://proxy.example/sig/client/?hub=chat" {
		t.Fatalf("client endpoint url %q %v", ca2.URL, err)
	}

	for _, bad := range []struct {
		cs   protocol.ConnectionString
		hub  string
		want string
	}{
		{cs, "", "hub name is empty"},
		{cs, "li-hub", "invalid hub name"},
		{protocol.ConnectionString{Endpoint: "http://x"}, "chat", "no AccessKey"},
		{protocol.ConnectionString{AccessKey: "k"}, "chat", "no Endpoint"},
	} {
		if _, err := MintClientAccess(bad.cs, bad.hub, "", 0); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("MintClientAccess(%+v, %q): %v, want %q", bad.cs, bad.hub, err, bad.want)
		}
	}
}

func TestMintRESTToken(t *testing.T) {
	tok, err := MintRESTToken(testKey, "http://127.0.0.1:8888/api/hubs/chat/:send?api-version=2022-06-01&excluded=a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := parseHS(t, tok, testKey)
	if claims["aud"] != "http://127.0.0.1:8888/api/hubs/chat/:send" {
		t.Fatalf("aud %v: want the URL without its query", claims["aud"])
	}
	if _, err := MintRESTToken(testKey, "/api/hubs/chat", time.Minute); err == nil {
		t.Fatal("a relative URL was accepted")
	}
	if _, err := MintRESTToken("", "http://h/api", time.Minute); err == nil {
		t.Fatal("an empty key was accepted")
	}
}
