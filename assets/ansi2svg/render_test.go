package main

import (
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

func readCapture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/capture.ansi")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRender compares the SVG of a small capture (basic, bright, 256 and
// truecolor, bold, underline, reverse, faint, italic, wide CJK, emoji
// clusters, combining marks, markup characters) with the golden file.
// Regenerate with: go test ./assets/ansi2svg -run TestRender -update
func TestRender(t *testing.T) {
	var b strings.Builder
	render(&b, parse(readCapture(t)))
	golden.RequireEqual(t, b.String())
}

// TestParseGraphemes checks that each grapheme cluster is one cell, as
// wide as a terminal shows it, so that what follows stays in its column.
func TestParseGraphemes(t *testing.T) {
	lines := parse(readCapture(t))
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6", len(lines))
	}
	type placed struct {
		col  int
		text string
	}
	cells := func(y int) []placed {
		var out []placed
		col := 0
		for _, c := range lines[y] {
			if c.Content != " " {
				out = append(out, placed{col, c.Content})
			}
			col += c.Width
		}
		return out
	}
	for _, tc := range []struct {
		y    int
		want []placed
	}{
		{2, []placed{{1, "表"}, {3, "情"}, {6, "中"}, {8, "文"}, {11, "|"}}},
		{3, []placed{{0, "👩\u200d💻"}, {3, "🇫🇷"}, {6, "☁️"}, {9, "e\u0301"}, {11, "a\u030a\u0323"}, {13, "x"}, {14, "|"}}},
	} {
		got := cells(tc.y)
		if len(got) != len(tc.want) {
			t.Fatalf("line %d: cells %+v, want %+v", tc.y, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("line %d cell %d: %q at column %d, want %q at column %d", tc.y, i, got[i].text, got[i].col, tc.want[i].text, tc.want[i].col)
			}
		}
	}
}

// TestColors checks the SGR colour forms and that a style set on one line
// carries over to the next, as tmux writes only changes.
func TestColors(t *testing.T) {
	lines := parse(readCapture(t))
	at := func(y, x int) (string, string) { return colors(lines[y][x].Style) }
	for _, tc := range []struct {
		name   string
		y, x   int
		fg, bg string
	}{
		{"default", 0, 4, defFG, defBG},
		{"256-colour", 0, 5, "#5fafff", defBG},
		{"basic red", 1, 0, palette16[1], defBG},
		{"bright green", 1, 4, palette16[10], defBG},
		{"truecolor", 1, 11, "#ff8000", defBG},
		{"truecolor background", 1, 15, "#ff8000", "#000080"},
		{"reverse", 1, 21, defBG, defFG},
		{"256-colour background", 2, 0, defFG, "#303030"},
		{"carried over a line break", 5, 1, palette16[3], defBG},
	} {
		if fg, bg := at(tc.y, tc.x); fg != tc.fg || bg != tc.bg {
			t.Errorf("%s (%q): fg %s bg %s, want %s %s", tc.name, lines[tc.y][tc.x].Content, fg, bg, tc.fg, tc.bg)
		}
	}
}
