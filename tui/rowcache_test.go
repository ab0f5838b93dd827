package tui

import (
	"fmt"
	"image/color"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// TestFrameMemosNeverStale runs the screen through what changes rows and
// panels after they were drawn (new connections and receipts, the cursor,
// per-message mode, the filter, a resize, the theme, monochrome, the key
// map) and checks after each step that the frame is the one drawn with
// every memo forgotten: a kept row or page is reused only when nothing it
// shows has changed.
func TestFrameMemosNeverStale(t *testing.T) {
	m := newLiveModel(160, 40, Config{})
	evs := benchEvents(600)
	steps := []struct {
		name string
		do   func()
	}{
		{"batch", func() { feed(m, evs[:200]) }},
		{"up", func() { m.Update(press("up")) }},
		{"up", func() { m.Update(press("up")) }},
		{"batch while scrolled", func() { feed(m, evs[200:260]) }},
		{"end", func() { m.Update(press("end")) }},
		{"per message", func() { m.Update(press("m")) }},
		{"batch per message", func() { feed(m, evs[260:300]) }},
		{"per receipt", func() { m.Update(press("m")) }},
		{"help", func() { m.Update(press("?")) }},
		{"resize under help", func() { m.Update(tea.WindowSizeMsg{Width: 80, Height: 30}) }},
		{"help closed", func() { m.Update(press("?")) }},
		{"focus", func() { m.Update(press("tab")) }},
		{"focus back", func() { m.Update(press("shift+tab")) }},
		{"filter", func() {
			m.Update(press("/"))
			for _, r := range "user3" {
				m.Update(press(string(r)))
			}
			m.Update(press("enter"))
		}},
		{"batch filtered", func() { feed(m, evs[300:400]) }},
		{"filter cleared", func() { m.Update(press("esc")) }},
		{"light", func() { m.Update(tea.BackgroundColorMsg{Color: color.White}) }},
		{"help light", func() { m.Update(press("?")) }},
		{"monochrome", func() { m.Update(tea.ColorProfileMsg{Profile: colorprofile.ASCII}) }},
		{"help closed", func() { m.Update(press("?")) }},
		{"batch", func() { feed(m, evs[400:600]) }},
		{"new connection's receipts", func() { feed(m, liveEvents()) }},
	}
	for i, st := range steps {
		st.do()
		got := m.View().Content
		m.stream.rows, m.helpMemo = rowCache{}, helpMemo{}
		if want := m.View().Content; got != want {
			t.Fatalf("step %d (%s): the frame differs from one drawn afresh:\n%s", i, st.name, diffLines(got, want))
		}
	}
}

// diffLines names the first line where got and want differ.
func diffLines(got, want string) string {
	g, w := splitLines(got), splitLines(want)
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\n got %q\nwant %q", i, a, b)
		}
	}
	return "no line differs"
}

func splitLines(s string) []string { return strings.Split(s, "\n") }
