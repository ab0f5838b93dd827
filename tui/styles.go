package tui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/sigr-dev/sigr/client"
)

// Styles is every style the screen uses, built once per background. Colour
// never carries meaning alone: each state also has its own glyph, so the
// screen reads the same under NO_COLOR, where Bubble Tea strips colours at
// output time.
type Styles struct {
	IsDark bool

	App       lipgloss.Style
	Brand     lipgloss.Style
	URL       lipgloss.Style
	Muted     lipgloss.Style
	Faint     lipgloss.Style
	Bold      lipgloss.Style
	Badge     lipgloss.Style // PAUSED, FILTER
	Flash     lipgloss.Style
	FlashErr  lipgloss.Style
	Separator lipgloss.Style

	Section      lipgloss.Style // sidebar headings
	SectionFocus lipgloss.Style
	HubName      lipgloss.Style
	Selected     lipgloss.Style // the selected row
	SelectedDim  lipgloss.Style // the selected row when the stream has no focus

	Dot struct{ Connected, Connecting, Reconnecting, Disconnected lipgloss.Style }

	Stream struct {
		Time, Conn, Target, Route, RouteInferred, Args, Type lipgloss.Style
	}

	JSON struct{ Key, String, Number, Bool, Null, Punct lipgloss.Style }

	Spark lipgloss.Style

	Panel      lipgloss.Style // dialogs and overlays
	PanelTitle lipgloss.Style
	ErrorPanel lipgloss.Style
	ErrorTitle lipgloss.Style
	Hint       lipgloss.Style
	Label      lipgloss.Style
	Mark       lipgloss.Style // routing matrix: received
	NoMark     lipgloss.Style

	Help  help.Styles
	Input textinput.Styles

	// pens are the styles of a stream row's cells, as pens.
	pens struct{ Time, Conn, Target, Route, RouteInferred, Args, Type, Err pen }
}

// DefaultStyles returns the styles for a dark or light background.
func DefaultStyles(isDark bool) *Styles {
	ld := lipgloss.LightDark(isDark)
	var (
		fg      = ld(lipgloss.Color("#1f2328"), lipgloss.Color("#e6edf3"))
		muted   = ld(lipgloss.Color("#57606a"), lipgloss.Color("#8b949e"))
		faint   = ld(lipgloss.Color("#8c959f"), lipgloss.Color("#484f58"))
		accent  = ld(lipgloss.Color("#8250df"), lipgloss.Color("#bc8cff"))
		blue    = ld(lipgloss.Color("#0969da"), lipgloss.Color("#58a6ff"))
		green   = ld(lipgloss.Color("#1a7f37"), lipgloss.Color("#3fb950"))
		yellow  = ld(lipgloss.Color("#9a6700"), lipgloss.Color("#d29922"))
		red     = ld(lipgloss.Color("#cf222e"), lipgloss.Color("#f85149"))
		cyan    = ld(lipgloss.Color("#1b7c83"), lipgloss.Color("#39c5cf"))
		orange  = ld(lipgloss.Color("#bc4c00"), lipgloss.Color("#ffa657"))
		selBg   = ld(lipgloss.Color("#ddf4ff"), lipgloss.Color("#1f2d3d"))
		selDim  = ld(lipgloss.Color("#eaeef2"), lipgloss.Color("#21262d"))
		badgeBg = ld(lipgloss.Color("#fff8c5"), lipgloss.Color("#3b2e00"))
	)
	s := &Styles{IsDark: isDark}
	s.App = lipgloss.NewStyle().Foreground(fg)
	s.Brand = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.URL = lipgloss.NewStyle().Foreground(blue).Underline(true)
	s.Muted = lipgloss.NewStyle().Foreground(muted)
	s.Faint = lipgloss.NewStyle().Foreground(faint)
	s.Bold = lipgloss.NewStyle().Bold(true)
	s.Badge = lipgloss.NewStyle().Bold(true).Foreground(yellow).Background(badgeBg)
	s.Flash = lipgloss.NewStyle().Foreground(green)
	s.FlashErr = lipgloss.NewStyle().Foreground(red).Bold(true)
	s.Separator = lipgloss.NewStyle().Foreground(faint)

	s.Section = lipgloss.NewStyle().Bold(true).Foreground(muted)
	s.SectionFocus = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.HubName = lipgloss.NewStyle().Foreground(cyan)
	s.Selected = lipgloss.NewStyle().Background(selBg).Bold(true)
	s.SelectedDim = lipgloss.NewStyle().Background(selDim)

	s.Dot.Connected = lipgloss.NewStyle().Foreground(green)
	s.Dot.Connecting = lipgloss.NewStyle().Foreground(yellow)
	s.Dot.Reconnecting = lipgloss.NewStyle().Foreground(orange)
	s.Dot.Disconnected = lipgloss.NewStyle().Foreground(red)

	s.Stream.Time = lipgloss.NewStyle().Foreground(muted)
	s.Stream.Conn = lipgloss.NewStyle().Foreground(cyan)
	s.Stream.Target = lipgloss.NewStyle().Foreground(accent).Bold(true)
	s.Stream.Route = lipgloss.NewStyle().Foreground(yellow)
	s.Stream.RouteInferred = lipgloss.NewStyle().Foreground(yellow).Italic(true)
	s.Stream.Args = lipgloss.NewStyle().Foreground(fg)
	s.Stream.Type = lipgloss.NewStyle().Foreground(orange)

	s.JSON.Key = lipgloss.NewStyle().Foreground(blue)
	s.JSON.String = lipgloss.NewStyle().Foreground(green)
	s.JSON.Number = lipgloss.NewStyle().Foreground(orange)
	s.JSON.Bool = lipgloss.NewStyle().Foreground(accent)
	s.JSON.Null = lipgloss.NewStyle().Foreground(muted)
	s.JSON.Punct = lipgloss.NewStyle().Foreground(muted)

	s.Spark = lipgloss.NewStyle().Foreground(green)

	s.Panel = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	s.PanelTitle = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.ErrorPanel = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(red).Padding(0, 1)
	s.ErrorTitle = lipgloss.NewStyle().Bold(true).Foreground(red)
	s.Hint = lipgloss.NewStyle().Foreground(muted).Italic(true)
	s.Label = lipgloss.NewStyle().Foreground(muted)
	s.Mark = lipgloss.NewStyle().Foreground(green).Bold(true)
	s.NoMark = lipgloss.NewStyle().Foreground(faint)

	s.Help = help.DefaultStyles(isDark)
	s.Input = textinput.DefaultStyles(isDark)
	s.pens.Time, s.pens.Conn, s.pens.Target = newPen(s.Stream.Time), newPen(s.Stream.Conn), newPen(s.Stream.Target)
	s.pens.Route, s.pens.RouteInferred = newPen(s.Stream.Route), newPen(s.Stream.RouteInferred)
	s.pens.Args, s.pens.Type, s.pens.Err = newPen(s.Stream.Args), newPen(s.Stream.Type), newPen(s.FlashErr)
	return s
}

// pen is a style reduced to the sequences before and after its text, for
// the cells drawn most: lipgloss's Render splits and measures its text
// each time, which cost more than the rest of a stream row. A style whose
// output is not its text between two fixed sequences (underline is drawn
// rune by rune) keeps using Render.
type pen struct {
	st        lipgloss.Style
	pre, post string
	ok        bool
}

// penProbe is text like a row's cells after fit: words, runs of spaces,
// the ellipsis and a box-drawing rune.
const penProbe = "ab c  …│x "

func newPen(st lipgloss.Style) pen {
	p := pen{st: st}
	out := st.Render(penProbe)
	if i := strings.Index(out, penProbe); i >= 0 {
		p.pre, p.post = out[:i], out[i+len(penProbe):]
		p.ok = p.pre+"x"+p.post == st.Render("x")
	}
	return p
}

// Render is st.Render(s) for s on one line with no tabs, as sanitize and
// fit leave it.
func (p *pen) Render(s string) string {
	if !p.ok {
		return p.st.Render(s)
	}
	return p.pre + s + p.post
}

// monochrome adapts the styles to a terminal without colours (NO_COLOR, or
// a dumb terminal): the selection, which colour marks with a background,
// is shown in reverse video instead.
func (s *Styles) monochrome() {
	s.Selected = lipgloss.NewStyle().Reverse(true).Bold(true)
	s.SelectedDim = lipgloss.NewStyle().Reverse(true)
	s.Badge = lipgloss.NewStyle().Reverse(true).Bold(true)
}

// selection is the selected row's style: Selected while its list has the
// keys, else SelectedDim.
func (s *Styles) selection(focused bool) lipgloss.Style {
	if focused {
		return s.Selected
	}
	return s.SelectedDim
}

// dot returns the glyph and style for a connection state. The glyphs differ
// so that state is readable without colour.
func (s *Styles) dot(st client.State) string {
	switch st {
	case client.Connected:
		return s.Dot.Connected.Render("●")
	case client.Connecting:
		return s.Dot.Connecting.Render("◌")
	case client.Reconnecting:
		return s.Dot.Reconnecting.Render("↻")
	default:
		return s.Dot.Disconnected.Render("○")
	}
}
