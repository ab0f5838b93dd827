package tui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/internal/humantime"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// decodeClaims reads a JWT's payload without verifying it, for display.
// A token that is not a JWT gives nil: tokens are opaque to sigr.
func decodeClaims(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	p, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(p, &claims) != nil {
		return nil
	}
	return claims
}

// verifyToken checks tok's signature with the access key: "" when it
// matches, else why not. Only the signature is checked; the inspector
// shows the times itself.
func verifyToken(tok, key string) string {
	_, err := jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}),
		jwt.WithoutClaimsValidation(),
	).Parse(tok, func(*jwt.Token) (any, error) { return []byte(key), nil })
	if err != nil {
		return err.Error()
	}
	return ""
}

// shortToken is the most of a token the screen shows: a prefix and its
// length.
func shortToken(tok string) string { return sanitize(textsafe.RedactToken(tok)) }

// tokenPanel is the token inspector for c, the selected connection: its
// connection id and groups, the user id claim, audience and times in words
// and UTC, whether the signature matches the access key when sigr knows
// it, and every other claim; the token itself only as a prefix. The panel
// is at most h lines tall: a token with more claims than fit lists those
// that do and says how many it left out (y copies them all).
func (m *Model) tokenPanel(c *conn, w, h int) string {
	s := m.com.styles
	now := m.now
	inner := w - s.Panel.GetHorizontalFrameSize()
	lines := []string{s.PanelTitle.Render("Token inspector")}
	done := func() string { return s.Panel.Width(w).Render(strings.Join(lines, "\n")) }
	if c == nil {
		lines = append(lines, "", s.Faint.Render("no connection selected"))
		return done()
	}
	const labelW = 14
	// field is one line, or more when the value does not fit: it wraps
	// under itself.
	field := func(k, v string) string {
		vs := strings.Split(ansi.Wrap(v, max(inner-labelW, 8), " "), "\n")
		for i := range vs {
			name := ""
			if i == 0 {
				name = k
			}
			vs[i] = fit(s.Label.Render(fit(name, labelW))+vs[i], inner)
		}
		return strings.Join(vs, "\n")
	}
	lines = append(lines, s.Muted.Render("connection ")+s.Stream.Conn.Render(sanitize(c.label))+s.Muted.Render(" (pick another in the sidebar)"), "")
	id := s.Faint.Render("none yet")
	if c.connectionID != "" {
		id = sanitize(c.connectionID)
	}
	lines = append(lines, field("connection id", id))
	groups, from := m.groupsOf(c)
	g := s.Faint.Render("none") + s.Muted.Render(" ("+from+")")
	if len(groups) > 0 {
		g = sanitize(strings.Join(groups, ", ")) + s.Muted.Render(" ("+from+")")
	}
	lines = append(lines, field("groups", g))
	if c.token == "" {
		lines = append(lines, "", s.Faint.Render("no access token yet: the connection has not negotiated"))
		return done()
	}
	lines = append(lines, field("token", shortToken(c.token)))
	if c.claims == nil {
		lines = append(lines, s.Hint.Render(wrapText("opaque token: not a JWT, so there are no claims to show", inner)))
		return done()
	}
	switch {
	case m.roster.key == "":
		lines = append(lines, field("signature", s.Muted.Render("not checked: no access key (--access-key or --connection-string)")))
	case c.sigErr == "":
		lines = append(lines, field("signature", s.Dot.Connected.Render("✓ valid")+s.Muted.Render(" (signed with the access key)")))
	default:
		lines = append(lines, field("signature", s.FlashErr.Render("✗ INVALID: "+sanitize(c.sigErr))))
	}
	uid := protocol.UserIDFromClaims(c.claims)
	if uid == "" {
		uid = s.Faint.Render("none (anonymous)")
	} else {
		uid = s.Bold.Render(sanitize(uid))
	}
	lines = append(lines, field("user id", uid))
	if aud, ok := c.claims["aud"]; ok {
		lines = append(lines, field("aud", sanitize(claimString(aud))))
	}
	for _, tc := range []struct{ claim, name string }{{"iat", "issued"}, {"nbf", "not before"}, {"exp", "expires"}} {
		v, ok := c.claims[tc.claim].(float64)
		if !ok || (tc.claim == "nbf" && v == c.claims["iat"]) {
			// A token valid from when it was issued says so once.
			continue
		}
		t := time.Unix(int64(v), 0)
		when := humantime.Relative(t, now, tc.claim == "exp")
		st := s.App
		switch {
		case tc.claim == "exp" && !t.After(now):
			st = s.FlashErr
		case tc.claim == "exp":
			st = s.Dot.Connected
		}
		lines = append(lines, field(tc.name, st.Render(when)+s.Muted.Render(" ("+t.UTC().Format("2006-01-02 15:04:05 UTC")+")")))
	}
	keys := make([]string, 0, len(c.claims))
	for k := range c.claims {
		switch k {
		case "aud", "exp", "iat", "nbf":
		default:
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	lines = append(lines, "", s.Section.Render("other claims"))
	// room is what the other claims may take: the frame, the blank line
	// and the hint below them, and one line to say what was left out.
	// (A field may hold several lines.)
	room := h - s.Panel.GetVerticalFrameSize() - strings.Count(strings.Join(lines, "\n"), "\n") - 1 - 3
	for i, k := range keys {
		f := field(sanitize(k), sanitize(claimString(c.claims[k])))
		n := strings.Count(f, "\n") + 1
		if n > room && !(i == len(keys)-1 && n <= room+1) {
			lines = append(lines, s.Muted.Render(fit(fmt.Sprintf("… %d more not shown (y copies them all)", len(keys)-i), inner)))
			break
		}
		lines = append(lines, f)
		room -= n
	}
	lines = append(lines, "", s.Hint.Render(fit("y copies the decoded claims · t or esc closes", inner)))
	return done()
}

func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprintf("%.0f", v)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// groupsOf is the groups c is in, and where that comes from.
func (m *Model) groupsOf(c *conn) ([]string, string) {
	if g, live := m.roster.groupsOf(c); live {
		return g, "from the service"
	}
	return m.roster.joinedGroups(c), "as joined from this screen"
}

// copyClaims puts the selected connection's decoded claims on the
// clipboard as JSON.
func (m *Model) copyClaims() tea.Cmd {
	c := m.roster.selected()
	if c == nil || c.claims == nil {
		m.setFlash("no decoded claims to copy: the connection has no JWT yet", true)
		return nil
	}
	b, err := json.Marshal(c.claims)
	if err != nil {
		m.setFlash("copy claims: "+sanitize(err.Error()), true)
		return nil
	}
	m.setFlash("copied the claims of "+sanitize(c.label)+" ("+itoa(len(b))+" bytes)", false)
	return tea.SetClipboard(string(b))
}
