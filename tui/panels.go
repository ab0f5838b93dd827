package tui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// wrapText wraps plain text to w cells.
func wrapText(s string, w int) string {
	return ansi.Wrap(s, max(w, 8), "")
}

// helpPanel is the `?` page: every key, and the filter and destination
// syntax.
func (m *Model) helpPanel(w int) string {
	s := m.com.styles
	inner := w - s.Panel.GetHorizontalFrameSize()
	h := m.help
	h.SetWidth(0) // the panel clips; the help bubble would drop whole columns
	h.ShowAll = true
	lines := []string{s.PanelTitle.Render("Keys"), ""}
	for _, l := range strings.Split(h.FullHelpView(m.keys.FullHelp()), "\n") {
		lines = append(lines, clip(l, inner))
	}
	lines = append(lines, "")
	notes := []string{
		"filter: words match target, connection, user or payload; target:X conn:X user:X narrow it",
		"composer: to is all, user:ID, group:NAME or conn:ID; plain text to newMessage goes out as the chat sample body; a JSON array is sent as the arguments",
		"routes marked ~ are inferred from which of your connections received the message",
		"q quits outside inputs; esc leaves an input first",
	}
	for _, n := range notes {
		for _, l := range strings.Split(wrapText(n, inner), "\n") {
			lines = append(lines, s.Hint.Render(l))
		}
	}
	return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
}

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

// shortToken is the most of a token the screen shows: a prefix and its
// length.
func shortToken(tok string) string { return sanitize(textsafe.RedactToken(tok)) }

// tokenPanel is the token inspector for c, the selected connection: the
// user id claim, audience, expiry and every other claim, decoded but never
// verified, and the token itself only as a prefix.
func tokenPanel(com *common, c *conn, now time.Time, w int) string {
	s := com.styles
	inner := w - s.Panel.GetHorizontalFrameSize()
	lines := []string{s.PanelTitle.Render("Token inspector")}
	if c == nil {
		lines = append(lines, "", s.Faint.Render("no connection selected"))
		return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
	}
	field := func(k, v string) string { return fit(s.Label.Render(fit(k, 16))+v, inner) }
	lines = append(lines, s.Muted.Render("connection ")+s.Stream.Conn.Render(sanitize(c.label))+s.Muted.Render(" (tab to the sidebar to pick another)"), "")
	if c.token == "" {
		lines = append(lines, s.Faint.Render("no access token yet: the connection has not negotiated"))
		return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
	}
	lines = append(lines, field("token", shortToken(c.token)))
	if c.claims == nil {
		lines = append(lines, s.Hint.Render(wrapText("opaque token: not a JWT, so there are no claims to show", inner)))
		return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
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
	if exp, ok := c.claims["exp"].(float64); ok {
		t := time.Unix(int64(exp), 0)
		left := t.Sub(now).Round(time.Second)
		state := s.Dot.Connected.Render(fmt.Sprintf("valid for %s", left))
		if left <= 0 {
			state = s.FlashErr.Render(fmt.Sprintf("expired %s ago", -left))
		}
		lines = append(lines, field("exp", t.In(com.loc).Format("15:04:05 MST")+"  "+state))
	}
	keys := make([]string, 0, len(c.claims))
	for k := range c.claims {
		if k != "aud" && k != "exp" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	lines = append(lines, "", s.Section.Render("claims"))
	for _, k := range keys {
		lines = append(lines, field(sanitize(k), sanitize(claimString(c.claims[k]))))
	}
	lines = append(lines, "", s.Hint.Render(fit("decoded, not verified: sigr token inspect verifies with a key", inner)))
	return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
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
