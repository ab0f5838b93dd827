package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/humantime"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// maxTokenInput bounds what inspect reads from standard input; service
// tokens are at most 4 KiB.
const maxTokenInput = 64 << 10

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Inspect a SignalR access token, or mint one from a connection string",
	}
	cmd.AddCommand(newTokenInspectCmd(), newTokenIssueCmd())
	return cmd
}

func newTokenInspectCmd() *cobra.Command {
	var cs, key string
	cmd := &cobra.Command{
		Use:   "inspect [TOKEN]",
		Short: "Decode a token: claims, user id, audience, expiry; verify it with a key",
		Long: `inspect decodes a JWT access token and shows its claims, the user id the
service will assign (asrs.s.uid, else nameid, else sub), its audience and
when it expires. With --connection-string or --access-key it also checks
the signature. Without TOKEN it reads standard input, which may also be a
negotiate answer ({"url","accessToken"}). The token itself is never printed
whole. A token that is not a JWT is reported as opaque: sigr passes such
tokens through unchanged.`,
		Example: `  sigr token inspect eyJhbGciOi...
  curl -s -X POST http://127.0.0.1:7071/api/negotiate | sigr token inspect --access-key ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var raw string
			if len(args) == 1 {
				raw = args[0]
			} else {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxTokenInput))
				if err != nil {
					return fmt.Errorf("token inspect: reading standard input: %w", err)
				}
				raw = string(b)
			}
			tok, err := extractToken(raw)
			if err != nil {
				return err
			}
			if cs != "" && key != "" {
				return errors.New("token inspect: give --connection-string or --access-key, not both")
			}
			if cs != "" {
				c, err := protocol.ParseConnectionString(cs)
				if err != nil {
					return fmt.Errorf("token inspect: %w", err)
				}
				key = c.AccessKey
			}
			return inspectToken(cmd.OutOrStdout(), tok, key, time.Now())
		},
	}
	cmd.Flags().StringVar(&cs, "connection-string", "", "verify the signature with this connection string's AccessKey")
	cmd.Flags().StringVar(&key, "access-key", "", "verify the signature with this access key")
	return cmd
}

// extractToken accepts a bare token, "Bearer <token>", or a negotiate
// answer carrying accessToken.
func extractToken(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "{") {
		nr, err := protocol.ParseNegotiateResponse([]byte(s))
		if err != nil {
			return "", fmt.Errorf("token inspect: the input looks like JSON but is not a negotiate answer: %w", err)
		}
		s = nr.AccessToken
		if s == "" {
			return "", errors.New("token inspect: the negotiate answer has no accessToken")
		}
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	if s == "" {
		return "", errors.New("token inspect: no token given (pass it as an argument or on standard input)")
	}
	return s, nil
}

func inspectToken(w io.Writer, tok, key string, now time.Time) error {
	field := func(name, value string) { fmt.Fprintf(w, "%-11s %s\n", name+":", value) }
	field("token", textsafe.RedactToken(tok))
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, claims)
	if err != nil {
		field("format", "opaque (not a JWT); sigr sends such tokens as they are, there is nothing to decode")
		if key != "" {
			return errors.New("token inspect: cannot verify a token that is not a JWT")
		}
		return nil
	}
	alg, _ := parsed.Header["alg"].(string)
	typ, _ := parsed.Header["typ"].(string)
	format := "JWT, alg " + textsafe.Line(alg)
	if typ != "" {
		format += ", typ " + textsafe.Line(typ)
	}
	field("format", format)

	if uid := protocol.UserIDFromClaims(claims); uid != "" {
		from := protocol.ClaimUserID
		if _, ok := claims[protocol.ClaimUserID].(string); !ok {
			from = "nameid"
			if _, ok := claims["nameid"].(string); !ok {
				from = "sub"
			}
		}
		field("user id", textsafe.Line(uid)+" (from "+from+")")
	} else {
		field("user id", "(anonymous: no asrs.s.uid, nameid or sub claim)")
	}
	if aud, err := claims.GetAudience(); err == nil && len(aud) > 0 {
		field("audience", textsafe.Line(strings.Join(aud, ", ")))
	} else {
		field("audience", "(none; the service requires aud)")
	}
	for _, tc := range []struct {
		name string
		get  func() (*jwt.NumericDate, error)
	}{{"issued", claims.GetIssuedAt}, {"not before", claims.GetNotBefore}, {"expires", claims.GetExpirationTime}} {
		d, err := tc.get()
		if err != nil || d == nil {
			if tc.name == "expires" {
				field("expires", "(no exp claim; the service requires one)")
			}
			continue
		}
		field(tc.name, d.UTC().Format(time.RFC3339)+" ("+humantime.Relative(d.Time, now, tc.name == "expires")+")")
	}

	verr := error(nil)
	switch {
	case key == "":
		field("signature", "not checked (pass --connection-string or --access-key)")
	default:
		_, verr = jwt.NewParser(
			jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}),
			jwt.WithoutClaimsValidation(),
		).Parse(tok, func(*jwt.Token) (any, error) { return []byte(key), nil })
		if verr != nil {
			field("signature", "INVALID: "+textsafe.Line(verr.Error()))
		} else {
			field("signature", "valid ("+textsafe.Line(alg)+")")
		}
	}

	fmt.Fprintln(w, "claims:")
	keys := make([]string, 0, len(claims))
	for k := range claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := json.Marshal(claims[k])
		if err != nil {
			v = []byte("?")
		}
		fmt.Fprintf(w, "  %s: %s\n", textsafe.Line(k), textsafe.Line(string(v)))
	}
	if verr != nil {
		return errors.New("token inspect: the signature does not match the key")
	}
	return nil
}

func newTokenIssueCmd() *cobra.Command {
	var cs, hub, user string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Mint a client access token from a connection string (prints the token)",
		Long: `issue mints the token a serverless negotiate function would hand out for a
hub and a user: HS256 with the connection string's AccessKey, aud equal to
the client URL. It prints the token, and only the token, on standard output
(the client URL goes to standard error). This is the one sigr command that
prints a token whole.`,
		Example: `  sigr token issue --connection-string "$AzureSignalRConnectionString" --hub chat --user alice --ttl 10m`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cs == "" {
				cs = os.Getenv(connectionStringEnv)
			}
			if cs == "" {
				return errors.New("token issue: --connection-string is required (or $" + connectionStringEnv + ")")
			}
			if ttl < 0 {
				return errors.New("token issue: --ttl must be positive")
			}
			c, err := protocol.ParseConnectionString(cs)
			if err != nil {
				return fmt.Errorf("token issue: %w", err)
			}
			ca, err := manage.MintClientAccess(c, hub, user, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "url: %s\nexpires: %s\n", ca.URL, ca.ExpiresAt.UTC().Format(time.RFC3339))
			fmt.Fprintln(cmd.OutOrStdout(), ca.AccessToken)
			return nil
		},
	}
	cmd.Flags().StringVar(&cs, "connection-string", "", "Azure SignalR connection string (default $"+connectionStringEnv+")")
	cmd.Flags().StringVar(&hub, "hub", client.DefaultHub, "hub the token is for")
	cmd.Flags().StringVar(&user, "user", "", "user id (asrs.s.uid claim); empty for anonymous")
	cmd.Flags().DurationVar(&ttl, "ttl", manage.DefaultTokenLifetime, "lifetime of the token")
	return cmd
}
