package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// mark is a sent record's outcome as one glyph and its style: … pending,
// ✓ delivered, ? not reported, ✗ failed or reached nobody. The glyphs
// differ so that the outcome reads without colour.
func (r *sentRecord) mark(s *Styles) (string, lipgloss.Style) {
	switch {
	case r.pending:
		return "…", s.Muted
	case r.err != "" || r.delivered == 0 || r.nobody:
		return "✗", s.FlashErr
	case r.delivered < 0 && r.kind == sentSend:
		return "?", s.Muted
	}
	return "✓", s.Dot.Connected
}

// whyStyle is the style of why(): an error's, unless it only tells who
// was there to get the message.
func (r *sentRecord) whyStyle(s *Styles) lipgloss.Style {
	if r.err != "" || r.delivered == 0 || r.nobody {
		return s.FlashErr
	}
	return s.Muted
}

// what is the first part of a sent log row: who sent what where.
func (r *sentRecord) what(s *Styles) string {
	t := sanitize(r.as)
	switch r.kind {
	case sentInvoke:
		return s.Muted.Render("invoke ") + s.Stream.Target.Render(sanitize(r.target)) + s.Muted.Render("("+sanitize(compactJSON(trimBrackets([]byte(r.text)), 200))+") over ") + s.Stream.Conn.Render(t)
	case sentGroup:
		return s.Muted.Render("group ") + s.Stream.Target.Render(sanitize(r.target)) + " " + sanitize(r.text)
	}
	line := s.Bold.Render(t) + s.Muted.Render(" → ") + s.Stream.Route.Render(sanitize(r.dest())) + "  "
	if !r.chat {
		line += s.Stream.Target.Render(sanitize(r.target)) + " "
	}
	return line + sanitize(r.text)
}

// lines draws one record in w cells: the time, what was sent, and its
// outcome on the same line when it fits, else under it; then why it
// reached nobody or failed, wrapped.
func (r *sentRecord) lines(com *common, w int, selected bool) []string {
	s := com.styles
	glyph, st := r.mark(s)
	head := s.Stream.Time.Render(r.time.In(com.loc).Format("15:04:05")) + " " + r.what(s)
	out := st.Render(glyph + " " + r.outcome())
	var lines []string
	if ansi.StringWidth(head)+2+ansi.StringWidth(out) <= w {
		lines = []string{head + "  " + out}
	} else {
		lines = []string{fit(head, w), "         " + out}
	}
	if why := r.why(); why != "" {
		for _, l := range strings.Split(wrapText(sanitize(why), w-11), "\n") {
			lines = append(lines, "           "+r.whyStyle(s).Render(l))
		}
	}
	for i := range lines {
		lines[i] = fit(lines[i], w)
	}
	if selected {
		lines[0] = s.Selected.Render(ansi.Strip(lines[0]))
	}
	return lines
}

// Render draws the sent log in w×h cells: a title and the records, the
// newest last.
func (l *sentLog) Render(w, h int) []string {
	s := l.com.styles
	n := l.records.len()
	title := s.Section.Render("SENT ") + s.Muted.Render(fmt.Sprintf("%d from this screen  ✓ delivered ✗ not ? not reported  enter details · s closes", n))
	lines := []string{fit(title, w)}
	if n == 0 {
		return append(lines, s.Faint.Render(fit("  nothing sent yet: i writes a message", w)))
	}
	sel, _ := l.nav.selected(l.records.first(), l.records.end())
	return append(lines, l.nav.render(l.records.end(), h-1, func(id uint64) []string {
		return l.records.byID(id).lines(l.com, w, id == sel)
	})...)
}

// fix keeps the selection on screen in a w×h area.
func (l *sentLog) fix(w, h int) {
	l.nav.fix(l.records.first(), l.records.end(), h-1, func(id uint64) int {
		return len(l.records.byID(id).lines(l.com, w, false))
	})
}
