package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Header is the chat view's title line, w cells wide: how many messages,
// whether it follows, and which connection each mark stands for.
func (c *chatLog) Header(w int) string {
	s := c.com.styles
	head := s.Section.Render("CHAT ") + s.Muted.Render(fmt.Sprintf("%d msgs", c.msgs.len()))
	if c.nav.follow {
		head += s.Muted.Render("  following")
	} else {
		head += s.Muted.Render("  scrolled (end follows)")
	}
	if len(c.roster.conns) > 0 {
		names := c.roster.shortLabels()
		head += s.Muted.Render("  received by: ") + s.Stream.Conn.Render(strings.Join(names, " "))
	}
	return fit(head, w)
}

// Render returns at most rows lines, w cells wide, of the chat from the
// top of its scroll; focused styles the selection as having the keys.
func (c *chatLog) Render(w, rows int, focused bool) []string {
	if c.msgs.len() == 0 {
		return []string{"", c.com.styles.Faint.Render(fit("  no chat message yet: i writes one; v goes back to the stream", w))}
	}
	sel, _ := c.nav.selected(c.msgs.first(), c.msgs.end())
	return c.nav.render(c.msgs.end(), rows, func(id uint64) []string {
		if l, ok := c.drawn[id]; ok && id != sel && w == c.drawnW {
			return l
		}
		return c.lines(c.msgs.byID(id), w, id == sel, focused)
	})
}

// fix keeps the selection on screen in w×rows cells. The lines it draws
// to measure are kept for the frame's Render.
func (c *chatLog) fix(w, rows int) {
	if c.drawn == nil {
		c.drawn = map[uint64][]string{}
	}
	c.drawnW = w
	c.nav.fix(c.msgs.first(), c.msgs.end(), rows, func(id uint64) int {
		l := c.lines(c.msgs.byID(id), w, false, false)
		c.drawn[id] = l
		return len(l)
	})
}

// forget drops the lines fix kept: the state may change from here on.
func (c *chatLog) forget() { clear(c.drawn) }

// lines draws one message: `HH:MM:SS sender → destination  text`, the
// text wrapped under itself, a mark per connection of ours at the right
// (● received it, · did not), and for an own message its outcome, with
// the reason when it reached nobody.
func (c *chatLog) lines(m *chatMsg, w int, selected, focused bool) []string {
	s := c.com.styles
	nconn := len(c.roster.conns)
	marksW := 0
	if nconn > 0 {
		marksW = nconn + 1
	}
	dest, inferred := c.destOf(m)
	destStyle := s.Stream.Route
	if inferred {
		dest, destStyle = "~"+dest, s.Stream.RouteInferred
	}
	sender := sanitize(m.sender)
	senderStyle := s.Stream.Conn
	if m.own {
		senderStyle = s.Bold
	}
	if sender == "" {
		sender, senderStyle = "?", s.Faint
	}
	prefix := s.Stream.Time.Render(m.time.In(c.com.loc).Format("15:04:05")) + " " +
		senderStyle.Render(clip(sender, 20)) + s.Muted.Render(" → ") + destStyle.Render(clip(sanitize(dest), 24)) + "  "
	pw := ansi.StringWidth(prefix)
	indent := pw
	textW := w - pw - marksW
	if textW < 16 {
		// A long name or a narrow screen: the text starts on the next
		// line, under the sender.
		indent = 9
		textW = w - indent - marksW
	}
	text := sanitize(m.text)
	var rec *sentRecord
	var outcome string
	if m.own {
		if rec = c.sent.byID(m.sent); rec != nil {
			glyph, st := rec.mark(s)
			outcome = st.Render(glyph + " " + chatOutcome(rec))
		}
	}
	body := strings.Split(wrapText(text, textW), "\n")
	if outcome != "" {
		last := body[len(body)-1]
		if ansi.StringWidth(last)+2+ansi.StringWidth(outcome) <= textW {
			body[len(body)-1] = last + "  " + outcome
		} else {
			body = append(body, strings.Split(wrapText(outcome, textW), "\n")...)
		}
	}
	var lines []string
	if indent == pw {
		lines = append(lines, prefix+body[0])
		body = body[1:]
	} else {
		lines = append(lines, prefix)
	}
	pad := strings.Repeat(" ", indent)
	for _, l := range body {
		lines = append(lines, pad+l)
	}
	if rec != nil {
		if why := rec.why(); why != "" {
			for _, l := range strings.Split(wrapText(sanitize(why), w-indent-marksW), "\n") {
				lines = append(lines, pad+rec.whyStyle(s).Render(l))
			}
		}
	}
	for i := range lines {
		lines[i] = fit(lines[i], w-marksW)
	}
	if selected {
		lines[0] = s.selection(focused).Render(ansi.Strip(lines[0]))
	}
	if marksW > 0 {
		var mk strings.Builder
		mk.WriteByte(' ')
		for i := range nconn {
			if m.receivedBy(i) {
				mk.WriteString(s.Mark.Render("●"))
			} else {
				mk.WriteString(s.NoMark.Render("·"))
			}
		}
		lines[0] += mk.String()
		for i := 1; i < len(lines); i++ {
			lines[i] += strings.Repeat(" ", marksW)
		}
	}
	return lines
}

// chatOutcome is an own message's outcome as the chat shows it, short.
func chatOutcome(r *sentRecord) string {
	switch {
	case r.pending:
		return "sending"
	case r.err != "":
		return "not sent"
	case r.delivered == 0 || r.nobody:
		return "reached nobody"
	case r.delivered > 0:
		return "delivered to " + connections(r.delivered)
	}
	return statusText(r.status) + ", delivery not reported"
}
