package main

import (
	"fmt"
	"html"
	"image/color"
	"io"
	"strings"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// Geometry and the default colours (GitHub's dark theme).
const (
	cellW    = 8.4
	cellH    = 18.0
	fontSize = 14.0
	pad      = 12.0
	defFG    = "#e6edf3"
	defBG    = "#0d1117"
)

// palette16 stands in for the 16 basic colours, in the same theme; the
// rest of the 256 and truecolor are drawn as the capture names them.
var palette16 = []string{
	"#484f58", "#ff7b72", "#3fb950", "#d29922", "#58a6ff", "#bc8cff", "#39c5cf", "#b1bac4",
	"#6e7681", "#ffa198", "#56d364", "#e3b341", "#79c0ff", "#d2a8ff", "#56d4dd", "#ffffff",
}

// parse reads a capture into lines of cells: one cell per grapheme
// cluster, as wide as a terminal shows it, with the SGR style in force
// (a style carries over a line break, as tmux writes only changes).
func parse(capture string) []uv.Line {
	capture = strings.ReplaceAll(capture, "\r\n", "\n")
	return uv.NewStyledString(capture).Lines(ansi.GraphemeWidth)
}

// render writes lines as an SVG image: a rectangle behind each run of one
// background colour and one text element per cell, placed by column, so
// that columns stay aligned whatever the font's own advance widths.
func render(w io.Writer, lines []uv.Line) {
	cols := 0
	for _, l := range lines {
		cols = max(cols, width(l))
	}
	svgW, svgH := float64(cols)*cellW+2*pad, float64(len(lines))*cellH+2*pad
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" rx="8" fill="%s"/>`+"\n", defBG)
	fmt.Fprintf(w, `<g font-family="'JetBrains Mono','DejaVu Sans Mono',Menlo,Consolas,monospace" font-size="%.0f">`+"\n", fontSize)
	for y, l := range lines {
		top := pad + float64(y)*cellH
		col := 0
		for i := 0; i < len(l); {
			// A run: cells of one style, so one background rectangle.
			run, runW := i, 0
			for run < len(l) && l[run].Style.Equal(&l[i].Style) {
				runW += l[run].Width
				run++
			}
			fg, bg := colors(l[i].Style)
			if bg != defBG {
				fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", pad+float64(col)*cellW, top, float64(runW)*cellW, cellH, bg)
			}
			attrs := textAttrs(l[i].Style)
			for ; i < run; i++ {
				c := &l[i]
				if t := ansi.Strip(c.Content); strings.TrimSpace(t) != "" && c.Style.Attrs&uv.AttrConceal == 0 {
					fmt.Fprintf(w, `<text x="%.1f" y="%.1f" fill="%s"%s>%s</text>`+"\n", pad+float64(col)*cellW, top+cellH*0.75, fg, attrs, html.EscapeString(t))
				}
				col += c.Width
			}
		}
	}
	fmt.Fprintln(w, "</g></svg>")
}

// width is the number of columns a line takes.
func width(l uv.Line) int {
	n := 0
	for _, c := range l {
		n += c.Width
	}
	return n
}

func textAttrs(st uv.Style) string {
	var b strings.Builder
	if st.Attrs&uv.AttrBold != 0 {
		b.WriteString(` font-weight="bold"`)
	}
	if st.Attrs&uv.AttrItalic != 0 {
		b.WriteString(` font-style="italic"`)
	}
	switch under, strike := st.Underline != uv.UnderlineNone, st.Attrs&uv.AttrStrikethrough != 0; {
	case under && strike:
		b.WriteString(` text-decoration="underline line-through"`)
	case under:
		b.WriteString(` text-decoration="underline"`)
	case strike:
		b.WriteString(` text-decoration="line-through"`)
	}
	if st.Attrs&uv.AttrFaint != 0 {
		b.WriteString(` opacity="0.6"`)
	}
	return b.String()
}

// colors returns a cell's text and background colours, reverse video
// applied.
func colors(st uv.Style) (fg, bg string) {
	fg, bg = hexColor(st.Fg, defFG), hexColor(st.Bg, defBG)
	if st.Attrs&uv.AttrReverse != 0 {
		fg, bg = bg, fg
	}
	return fg, bg
}

func hexColor(c color.Color, def string) string {
	switch c := c.(type) {
	case nil:
		return def
	case ansi.BasicColor:
		return palette16[c&15]
	case ansi.IndexedColor:
		if c < 16 {
			return palette16[c]
		}
	}
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}
