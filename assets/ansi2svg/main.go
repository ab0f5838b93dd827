// Command ansi2svg renders a terminal capture with SGR colours (the output
// of `tmux capture-pane -e -p`) as an SVG image, so the README screenshot
// comes from a real run rather than a mock-up.
//
//	tmux capture-pane -e -p -t demo | go run ./assets/ansi2svg > assets/screenshot.svg
package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

const (
	cellW    = 8.4
	cellH    = 18.0
	fontSize = 14.0
	pad      = 12.0
	defFG    = "#e6edf3"
	defBG    = "#0d1117"
)

// style is the SGR state of one cell.
type style struct {
	fg, bg                   string
	bold, italic, under, rev bool
	faint                    bool
}

type cell struct {
	text string // one grapheme; "" for the second half of a wide one
	st   style
}

var palette16 = []string{
	"#484f58", "#ff7b72", "#3fb950", "#d29922", "#58a6ff", "#bc8cff", "#39c5cf", "#b1bac4",
	"#6e7681", "#ffa198", "#56d364", "#e3b341", "#79c0ff", "#d2a8ff", "#56d4dd", "#ffffff",
}

func color256(n int) string {
	switch {
	case n < 16:
		return palette16[n]
	case n < 232:
		n -= 16
		lv := []int{0, 95, 135, 175, 215, 255}
		return fmt.Sprintf("#%02x%02x%02x", lv[n/36], lv[(n/6)%6], lv[n%6])
	default:
		g := 8 + (n-232)*10
		return fmt.Sprintf("#%02x%02x%02x", g, g, g)
	}
}

// applySGR updates st with the parameters of one CSI ... m sequence.
func applySGR(st *style, params string) {
	if params == "" {
		*st = style{}
		return
	}
	ps := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	nums := make([]int, len(ps))
	for i, p := range ps {
		nums[i], _ = strconv.Atoi(p)
	}
	for i := 0; i < len(nums); i++ {
		n := nums[i]
		switch {
		case n == 0:
			*st = style{}
		case n == 1:
			st.bold = true
		case n == 2:
			st.faint = true
		case n == 3:
			st.italic = true
		case n == 4:
			st.under = true
		case n == 7:
			st.rev = true
		case n == 22:
			st.bold, st.faint = false, false
		case n == 23:
			st.italic = false
		case n == 24:
			st.under = false
		case n == 27:
			st.rev = false
		case n >= 30 && n <= 37:
			st.fg = palette16[n-30]
		case n >= 90 && n <= 97:
			st.fg = palette16[n-90+8]
		case n >= 40 && n <= 47:
			st.bg = palette16[n-40]
		case n >= 100 && n <= 107:
			st.bg = palette16[n-100+8]
		case n == 39:
			st.fg = ""
		case n == 49:
			st.bg = ""
		case (n == 38 || n == 48) && i+1 < len(nums):
			var c string
			if nums[i+1] == 5 && i+2 < len(nums) {
				c = color256(nums[i+2])
				i += 2
			} else if nums[i+1] == 2 && i+4 < len(nums) {
				c = fmt.Sprintf("#%02x%02x%02x", nums[i+2], nums[i+3], nums[i+4])
				i += 4
			}
			if n == 38 {
				st.fg = c
			} else {
				st.bg = c
			}
		}
	}
}

// parse turns one captured line into cells.
func parse(line string, st *style) []cell {
	var cells []cell
	for i := 0; i < len(line); {
		if line[i] == 0x1b && i+1 < len(line) && line[i+1] == '[' {
			j := i + 2
			for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
				j++
			}
			if j < len(line) && line[j] == 'm' {
				applySGR(st, line[i+2:j])
			}
			i = j + 1
			continue
		}
		if line[i] == 0x1b { // other escapes: skip the pair
			i += 2
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		g := string(r)
		w := ansi.StringWidth(g)
		if w == 0 && len(cells) > 0 { // combining: join the previous cell
			cells[len(cells)-1].text += g
			i += size
			continue
		}
		cells = append(cells, cell{text: g, st: *st})
		if w == 2 {
			cells = append(cells, cell{st: *st})
		}
		i += size
	}
	return cells
}

func render(w io.Writer, lines [][]cell) {
	cols := 0
	for _, l := range lines {
		cols = max(cols, len(l))
	}
	width, height := float64(cols)*cellW+2*pad, float64(len(lines))*cellH+2*pad
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`+"\n", width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" rx="8" fill="%s"/>`+"\n", defBG)
	fmt.Fprintf(w, `<g font-family="'JetBrains Mono','DejaVu Sans Mono',Menlo,Consolas,monospace" font-size="%.0f">`+"\n", fontSize)
	for y, l := range lines {
		top := pad + float64(y)*cellH
		for x := 0; x < len(l); {
			fg, bg := colors(l[x].st)
			run := x
			for run < len(l) {
				f2, b2 := colors(l[run].st)
				if f2 != fg || b2 != bg || l[run].st != l[x].st {
					break
				}
				run++
			}
			if bg != defBG {
				fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", pad+float64(x)*cellW, top, float64(run-x)*cellW, cellH, bg)
			}
			for c := x; c < run; c++ {
				t := l[c].text
				if t == "" || t == " " {
					continue
				}
				// One text element per cell keeps columns aligned whatever
				// the font's own advance widths.
				attrs := ""
				if l[c].st.bold {
					attrs += ` font-weight="bold"`
				}
				if l[c].st.italic {
					attrs += ` font-style="italic"`
				}
				if l[c].st.under {
					attrs += ` text-decoration="underline"`
				}
				if l[c].st.faint {
					attrs += ` opacity="0.6"`
				}
				fmt.Fprintf(w, `<text x="%.1f" y="%.1f" fill="%s"%s>%s</text>`+"\n", pad+float64(c)*cellW, top+cellH*0.75, fg, attrs, html.EscapeString(t))
			}
			x = run
		}
	}
	fmt.Fprintln(w, "</g></svg>")
}

func colors(st style) (fg, bg string) {
	fg, bg = st.fg, st.bg
	if fg == "" {
		fg = defFG
	}
	if bg == "" {
		bg = defBG
	}
	if st.rev {
		fg, bg = bg, fg
	}
	return fg, bg
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines [][]cell
	var st style
	for sc.Scan() {
		lines = append(lines, parse(sc.Text(), &st))
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "ansi2svg:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	render(out, lines)
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "ansi2svg:", err)
		os.Exit(1)
	}
}
