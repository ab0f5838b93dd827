package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// TestScreenFollowsRenderer replays what Ultraviolet's renderer (the one
// Bubble Tea uses) writes for a sequence of frames like the TUI's under a
// flood, and checks the grid shows each frame exactly: the harness reads
// the screen from it, so a sequence it got wrong would time the wrong
// thing.
func TestScreenFollowsRenderer(t *testing.T) {
	for _, opt := range []struct {
		name            string
		tabs, backspace bool
	}{{"plain", false, false}, {"tabs+backspace", true, true}} {
		t.Run(opt.name, func(t *testing.T) {
			const w, h = 120, 30
			var out bytes.Buffer
			r := uv.NewTerminalRenderer(&out, []string{"TERM=xterm-256color"})
			r.Resize(w, h)
			r.SetScrollOptim(true)
			if opt.tabs {
				r.SetTabStops(w)
			}
			r.SetBackspace(opt.backspace)
			r.EnterAltScreen()
			buf := uv.NewScreenBuffer(w, h)
			scr := newScreen(w, h)
			rnd := rand.New(rand.NewPCG(1, 2))
			next := 0
			for frame := range 400 {
				// Mostly a stream moving on by a few rows; sometimes a jump,
				// a box drawn over it, or nothing new.
				switch k := rnd.IntN(10); {
				case k < 6:
					next += 1 + rnd.IntN(4)
				case k < 8:
					next += rnd.IntN(h * 2)
				}
				content := testFrame(w, h, next, frame%7 == 3, rnd.IntN(3) == 0)
				buf.Clear()
				uv.NewStyledString(content).Draw(buf, buf.Bounds())
				r.Render(buf.RenderBuffer)
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				if _, err := scr.Write(out.Bytes()); err != nil {
					t.Fatal(err)
				}
				out.Reset()
				want := strings.Split(ansi.Strip(content), "\n")
				got := scr.Lines()
				for y := range h {
					if strings.TrimRight(want[y], " ") != got[y] {
						t.Fatalf("frame %d row %d:\n got %q\nwant %q", frame, y, got[y], strings.TrimRight(want[y], " "))
					}
				}
			}
		})
	}
}

// testFrame is a status line, a stream of rows numbered from next, and
// optionally a box over the middle; runs of one character make the
// renderer use REP.
func testFrame(w, h, next int, box, wide bool) string {
	lines := make([]string, h)
	lines[0] = fmt.Sprintf("\x1b[1mstatus\x1b[m %d msgs %s", next, strings.Repeat("=", next%40))
	for y := 1; y < h; y++ {
		n := next - (h - 1 - y)
		row := fmt.Sprintf("17:20:13 \x1b[36manon\x1b[m   newMessage  bob: message %d of the bench  %s", n, strings.Repeat("x", n%13))
		if wide && y%5 == 0 {
			row += " 世界"
		}
		lines[y] = row
	}
	if box {
		for y := 5; y < 12; y++ {
			l := []rune(ansi.Strip(lines[y]) + strings.Repeat(" ", w))
			copy(l[30:], []rune("│ Keys "+strings.Repeat("─", 20)+"│"))
			lines[y] = string(l[:w])
		}
	}
	for y := range lines {
		lines[y] = ansi.Truncate(lines[y], w, "")
	}
	return strings.Join(lines, "\n")
}
