package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// Output formats of watch.
const (
	formatJSON = "json"
	formatText = "text"
)

// watchFormat decides between event lines and text: text when asked, or
// by default on a terminal; JSON when asked, when --raw asks for the
// records (which only JSON lines carry), or when the output is a pipe
// or a file, where a program is more likely to read it.
func watchFormat(format string, raw bool, stdout io.Writer) (string, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "":
		if raw || !isTerminal(stdout) {
			return formatJSON, nil
		}
		return formatText, nil
	case formatJSON:
		return formatJSON, nil
	case formatText:
		if raw {
			return "", usageError("--raw adds the records to JSON lines; use it with --format json")
		}
		return formatText, nil
	}
	return "", usageError("--format %q: use json or text", textsafe.Clip(format, 24))
}

// textColumns bound the widths the columns grow to, so that one long
// target does not push every later line to the right.
const (
	textMaxConn   = 20
	textMaxTarget = 24
	textMaxRoute  = 24
	// textClip bounds the arguments shown when the terminal's width is
	// unknown: a line stays readable whatever a server sends.
	textClip = 1000
	// textWidthEvery is how long the terminal's width is kept before it
	// is asked again: asking is a system call, a flood prints thousands
	// of lines a second, and a resize shows within this.
	textWidthEvery = 250 * time.Millisecond
)

// textWriter writes watch's events as text: one line per event, the
// columns of the TUI's stream (time, connection, target, route,
// arguments), aligned, coloured on a terminal that takes colours, and
// with every untrusted text made safe to print. The columns widen to the
// widest value seen, within bounds.
type textWriter struct {
	*lineWriter // the output and the connection's label
	sty         textStyles
	readWidth   func() int // asks the terminal's width, 0 when unknown
	width       int        // the width last read
	widthAt     time.Time  // when, by the event that read it; zero before
	connW       int
	targetW     int
	routeW      int
	line        strings.Builder
}

// newTextWriter returns a textWriter on lw's output; stdout is where
// that output goes, which decides the colours and the width.
func newTextWriter(lw *lineWriter, stdout io.Writer) *textWriter {
	profile := colorprofile.NoTTY
	if isTerminal(stdout) {
		profile = colorprofile.Env(os.Environ())
		// Any value turns colour off (no-color.org), not only what
		// strconv.ParseBool reads as true.
		if os.Getenv("NO_COLOR") != "" && profile > colorprofile.Ascii {
			profile = colorprofile.Ascii
		}
	}
	return &textWriter{
		lineWriter: lw,
		sty:        newTextStyles(profile),
		readWidth:  func() int { return terminalWidth(stdout) },
		connW:      12, targetW: 14, routeW: 12,
	}
}

// textStyles are the styles of the text format's columns.
type textStyles struct {
	time, conn, target, typ, route, args, err paint
	state                                     map[client.State]paint
}

// paint is a style as the escape sequences around a text. Lip Gloss
// renders a style in microseconds, a line of watch has five, and the
// texts here are single lines with nothing for it to lay out, so each
// style is rendered once.
type paint struct{ pre, post string }

func paintOf(st lipgloss.Style) paint {
	// The marker cannot occur in an SGR sequence, which is digits,
	// semicolons, '[' and 'm'.
	pre, post, _ := strings.Cut(st.Render("x"), "x")
	return paint{pre, post}
}

// Render returns s in the style.
func (p paint) Render(s string) string {
	if p.pre == "" && p.post == "" {
		return s
	}
	return p.pre + s + p.post
}

// newTextStyles returns the styles for a colour profile: the 16 ANSI
// colours, which follow the terminal's own palette on a dark or light
// background; bold alone without colours; nothing at all when the
// output is not a terminal.
func newTextStyles(p colorprofile.Profile) textStyles {
	plain := lipgloss.NewStyle()
	st := struct {
		time, conn, target, typ, route, args, err lipgloss.Style
		state                                     map[client.State]lipgloss.Style
	}{plain, plain, plain, plain, plain, plain, plain, map[client.State]lipgloss.Style{}}
	switch {
	case p >= colorprofile.ANSI:
		fg := func(c ansi.BasicColor) lipgloss.Style { return plain.Foreground(c) }
		st.time, st.conn, st.route = fg(lipgloss.BrightBlack), fg(lipgloss.Cyan), fg(lipgloss.Yellow)
		st.target, st.typ, st.err = fg(lipgloss.Magenta).Bold(true), fg(lipgloss.Blue), fg(lipgloss.Red).Bold(true)
		st.state[client.Connected] = fg(lipgloss.Green).Bold(true)
		st.state[client.Connecting] = fg(lipgloss.Yellow)
		st.state[client.Reconnecting] = fg(lipgloss.Yellow).Bold(true)
		st.state[client.Disconnected] = fg(lipgloss.Red).Bold(true)
	case p == colorprofile.Ascii:
		st.target, st.err = plain.Bold(true), plain.Bold(true)
		st.state[client.Connected] = plain.Bold(true)
		st.state[client.Disconnected] = plain.Bold(true)
	}
	s := textStyles{
		time: paintOf(st.time), conn: paintOf(st.conn), target: paintOf(st.target), typ: paintOf(st.typ),
		route: paintOf(st.route), args: paintOf(st.args), err: paintOf(st.err), state: map[client.State]paint{},
	}
	for state, style := range st.state {
		s.state[state] = paintOf(style)
	}
	return s
}

// stateGlyphs tell the states apart without colour, as the TUI's do.
var stateGlyphs = map[client.State]string{
	client.Connecting:   "◌",
	client.Connected:    "●",
	client.Reconnecting: "↻",
	client.Disconnected: "○",
}

// write prints ev as one line. Handshakes, which JSON lines carry only
// with --raw, have none.
func (w *textWriter) write(ev client.Event) {
	w.track(ev)
	var (
		target, route, args string
		tsty, asty          = w.sty.target, w.sty.args
	)
	switch ev.Kind {
	case client.EventState:
		target, tsty = stateGlyphs[ev.State]+" "+ev.State.String(), w.sty.state[ev.State]
		route, args = ev.Transport, stateText(ev)
		if ev.Err != nil {
			asty = w.sty.err
		}
	case client.EventMessage:
		m := &ev.Message
		target, args = m.Type.String(), messageText(m)
		if m.Type == protocol.TypeInvocation || m.Type == protocol.TypeStreamInvocation {
			target = m.Target
		} else {
			tsty = w.sty.typ
		}
		if !m.Type.Known() {
			args = string(ev.Raw)
		}
		if r, ok := m.Header("route"); ok {
			route = r
		}
		if m.Error != "" {
			asty = w.sty.err
		}
	case client.EventError:
		target, tsty, asty = "error", w.sty.err, w.sty.err
		args = ev.Err.Error() + "  raw: " + string(ev.Raw)
	default:
		return
	}

	conn := w.label
	if conn == "" && w.hub != "" {
		conn = "@" + w.hub // anonymous, on this hub
	}
	if conn == "" {
		conn = "-"
	}
	cells := [...]struct {
		text  string
		style paint
		width *int
		limit int
	}{
		{textsafe.Line(conn), w.sty.conn, &w.connW, textMaxConn},
		{textsafe.Line(target), tsty, &w.targetW, textMaxTarget},
		{textsafe.Line(route), w.sty.route, &w.routeW, textMaxRoute},
	}
	last := len(cells) - 1 // the last cell with text: no padding after it
	for args == "" && last > 0 && cells[last].text == "" {
		last--
	}
	b := &w.line
	b.Reset()
	b.WriteString(w.sty.time.Render(ev.Time.Local().Format("15:04:05.000")))
	for i, c := range cells[:last+1] {
		text := column(c.text, c.width, c.limit)
		if i == last && args == "" {
			text = strings.TrimRight(text, " ")
		}
		b.WriteString("  ")
		b.WriteString(c.style.Render(text))
	}
	if args != "" {
		b.WriteString("  ")
		b.WriteString(asty.Render(w.fit(args, ev.Time)))
	}
	b.WriteByte('\n')
	_, _ = w.out.WriteString(b.String())
}

// fit returns s safe to print and cut to what is left of the terminal's
// width after the other columns, or to textClip bytes when the width is
// unknown. now is the event's time, which decides whether the width is
// read again (see textWidthEvery) without another read of the clock.
func (w *textWriter) fit(s string, now time.Time) string {
	if d := now.Sub(w.widthAt); w.widthAt.IsZero() || d >= textWidthEvery || d < 0 {
		w.width, w.widthAt = w.readWidth(), now
	}
	width := w.width
	if width <= 0 {
		return textsafe.Clip(s, textClip)
	}
	// On a terminal too narrow for the columns, a line may still wrap:
	// a few cells of arguments beat none.
	left := max(width-(12+2+w.connW+2+w.targetW+2+w.routeW+2), 10)
	return ansi.Truncate(textsafe.Clip(s, left*4+16), left, "…")
}

// column pads s to the column's width, first widening the column to fit
// s up to limit cells; what is still too wide is cut.
func column(s string, width *int, limit int) string {
	n := ansi.StringWidth(s)
	if n > *width {
		*width = min(n, limit)
	}
	if n > *width {
		return ansi.Truncate(s, *width, "…")
	}
	return s + strings.Repeat(" ", *width-n)
}

// stateText is the arguments column of a state line: the connection id,
// the retry, and why the connection dropped or ended.
func stateText(ev client.Event) string {
	var parts []string
	if ev.ConnectionID != "" {
		parts = append(parts, "id "+ev.ConnectionID)
	}
	if ev.Resumed {
		parts = append(parts, "resumed, nothing lost")
	}
	if ev.Attempt > 0 {
		parts = append(parts, "attempt "+strconv.Itoa(ev.Attempt))
	}
	if ev.RetryIn > 0 {
		parts = append(parts, "retry in "+ev.RetryIn.Round(time.Millisecond).String())
	}
	if ev.Err != nil {
		parts = append(parts, ev.Err.Error()+flagHint(ev.Err))
	}
	return strings.Join(parts, ", ")
}

// messageText is the arguments column of a hub message: what it carries,
// as one-line JSON, with the invocation id of an answer.
func messageText(m *protocol.Message) string {
	id := ""
	if m.InvocationID != "" {
		id = "id " + m.InvocationID + ": "
	}
	switch m.Type {
	case protocol.TypeInvocation, protocol.TypeStreamInvocation:
		return compactText(m.Arguments)
	case protocol.TypeStreamItem:
		return id + compactText(m.Item)
	case protocol.TypeCompletion:
		switch {
		case m.Has(protocol.FieldError):
			return id + "error: " + m.Error
		case m.Has(protocol.FieldResult):
			return id + compactText(m.Result)
		}
		return id + "no result"
	case protocol.TypeCancelInvocation:
		return strings.TrimSuffix(id, ": ")
	case protocol.TypeClose:
		s := m.Error
		if m.AllowReconnect {
			s = strings.TrimSpace(s + " (the server allows a reconnect)")
		}
		return s
	case protocol.TypeAck, protocol.TypeSequence:
		return fmt.Sprintf("sequenceId %d", m.SequenceID)
	}
	return ""
}

// compactText is raw JSON on one line; what does not parse is shown as
// it came. Either way the caller makes it safe to print.
func compactText(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
