package tui

import (
	"testing"

	"charm.land/lipgloss/v2"
)

// TestPenMatchesRender checks that a pen draws a row's cells exactly as
// its style does, on both backgrounds, and that a style it cannot reduce
// (underline, drawn rune by rune) is left to Render.
func TestPenMatchesRender(t *testing.T) {
	cells := []string{"", "x", "17:04:05", "alice@chat    ", "newMessage    ", "~broadcast     ", "bob: hi  [{\"a\":1}]…", " │ ", "日本 e\u0301"}
	for _, dark := range []bool{true, false} {
		s := DefaultStyles(dark)
		p := &s.pens
		for name, pn := range map[string]*pen{"Time": &p.Time, "Conn": &p.Conn, "Target": &p.Target, "Route": &p.Route,
			"RouteInferred": &p.RouteInferred, "Args": &p.Args, "Type": &p.Type, "Err": &p.Err} {
			if !pn.ok {
				t.Errorf("dark=%v %s: the pen fell back to Render", dark, name)
			}
			for _, c := range cells {
				if got, want := pn.Render(c), pn.st.Render(c); got != want {
					t.Errorf("dark=%v %s.Render(%q) = %q, want %q", dark, name, c, got, want)
				}
			}
		}
	}
	u := newPen(lipgloss.NewStyle().Underline(true))
	if u.ok {
		t.Fatal("an underlined style was reduced to a pen")
	}
	if got, want := u.Render("ab c"), lipgloss.NewStyle().Underline(true).Render("ab c"); got != want {
		t.Fatalf("underline pen = %q, want %q", got, want)
	}
}
