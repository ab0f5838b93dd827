package manage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/protocol"
)

// DefaultTokenLifetime is the lifetime of minted tokens when the caller
// passes zero: one hour, as the Functions binding and the Management SDK use.
const DefaultTokenLifetime = time.Hour

// ClientAccess is what a serverless negotiate function hands to a client:
// the service URL to connect to and the bearer token for it. It mirrors the
// SignalRConnectionInfo binding (`{"url","accessToken"}`).
type ClientAccess struct {
	URL         string    `json:"url"`
	AccessToken string    `json:"accessToken"`
	ExpiresAt   time.Time `json:"-"`
}

// MintClientAccess mints a client access token and URL for hub, as the
// Functions SignalRConnectionInfo binding and the Management SDK do, so that
// sigr can negotiate locally from a connection string with no function app.
//
// The token is HS256, keyed with the UTF-8 bytes of the access key (never
// base64-decoded, as the service does), with aud equal to the returned URL,
// exp, iat and nbf, and the `asrs.s.uid` claim when user is not empty.
// A ttl of zero means DefaultTokenLifetime.
//
// The SDK itself drops the port from aud (it builds `{scheme}://{host}/...`);
// sigr keeps it so the token names the exact URL it is for. The real service
// and sigr's emulator accept both forms.
func MintClientAccess(cs protocol.ConnectionString, hub, user string, ttl time.Duration) (ClientAccess, error) {
	return mintClientAccessAt(cs, hub, user, ttl, time.Now())
}

func mintClientAccessAt(cs protocol.ConnectionString, hub, user string, ttl time.Duration, now time.Time) (ClientAccess, error) {
	if hub == "" {
		return ClientAccess{}, errors.New("mint client token: the hub name is empty; pass a hub such as \"chat\"")
	}
	if !protocol.ValidHubName(hub) {
		return ClientAccess{}, fmt.Errorf("mint client token: invalid hub name %q: it must start with a letter and hold only letters, digits and _`,.[] (at most 128 characters)", hub)
	}
	if cs.Endpoint == "" && cs.ClientEndpoint == "" {
		return ClientAccess{}, errors.New("mint client token: the connection string has no Endpoint; use one like Endpoint=http://127.0.0.1;Port=8888;AccessKey=...;Version=1.0;")
	}
	u := cs.ClientURL(hub)
	claims := jwt.MapClaims{}
	if user != "" {
		claims[protocol.ClaimUserID] = user
	}
	tok, exp, err := signToken(cs.AccessKey, u, claims, ttl, now)
	if err != nil {
		return ClientAccess{}, fmt.Errorf("mint client token: %w", err)
	}
	return ClientAccess{URL: u, AccessToken: tok, ExpiresAt: exp}, nil
}

// ConnectionStringAccess parses connectionString and returns a function
// that mints a fresh client URL and token for a hub and a user on every
// call (with DefaultTokenLifetime), for client.Options.Access: a hub
// connection straight to the service, with no function app.
func ConnectionStringAccess(connectionString string) (func(ctx context.Context, hub, user string) (url, accessToken string, err error), error) {
	cs, err := protocol.ParseConnectionString(connectionString)
	if err != nil {
		return nil, err
	}
	if cs.AccessKey == "" {
		// Said now rather than on the first connect.
		return nil, fmt.Errorf("mint client token: %w", errNoAccessKey)
	}
	return func(_ context.Context, hub, user string) (string, string, error) {
		ca, err := MintClientAccess(cs, hub, user, 0)
		return ca.URL, ca.AccessToken, err
	}, nil
}

// MintRESTToken mints a bearer token for one REST API request: HS256 keyed
// with the access key's UTF-8 bytes, aud equal to requestURL without its
// query (as the data-plane REST reference asks), exp now+ttl (zero means
// DefaultTokenLifetime), iat and nbf.
func MintRESTToken(accessKey, requestURL string, ttl time.Duration) (string, error) {
	aud, err := restAudience(requestURL)
	if err != nil {
		return "", fmt.Errorf("mint REST token: %w", err)
	}
	tok, _, err := signToken(accessKey, aud, jwt.MapClaims{}, ttl, time.Now())
	if err != nil {
		return "", fmt.Errorf("mint REST token: %w", err)
	}
	return tok, nil
}

// restAudience strips the query and fragment from a request URL.
func restAudience(requestURL string) (string, error) {
	u, err := url.Parse(requestURL)
	if err != nil {
		return "", fmt.Errorf("request URL %q does not parse: %v", requestURL, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("request URL %q is not absolute; it needs a scheme and a host", requestURL)
	}
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	return u.String(), nil
}

var errNoAccessKey = errors.New("the connection string has no AccessKey; add AccessKey=<key> (the emulator's key is ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH)")

// signToken signs claims plus aud/exp/iat/nbf with HS256.
func signToken(accessKey, aud string, claims jwt.MapClaims, ttl time.Duration, now time.Time) (string, time.Time, error) {
	if accessKey == "" {
		return "", time.Time{}, errNoAccessKey
	}
	if ttl <= 0 {
		ttl = DefaultTokenLifetime
	}
	exp := now.Add(ttl).Truncate(time.Second)
	claims["aud"] = aud
	claims["exp"] = exp.Unix()
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(accessKey))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("signing the token failed: %v", err)
	}
	return tok, exp, nil
}
