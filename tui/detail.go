package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/protocol"
)

// detailPane shows the selected entry in full: its fields, the arguments
// as pretty coloured JSON, the headers and the raw record.
func (m *Model) detailPane(w, h int) []string {
	e := m.stream.selected()
	if e == nil {
		return []string{m.com.styles.Faint.Render("  no message selected")}
	}
	all := m.detailLines(e, w)
	maxScroll := max(len(all)-h, 0)
	off := clampInt(m.detailScroll, 0, maxScroll)
	return all[off:min(off+h, len(all))]
}

func (m *Model) detailLines(e *entry, w int) []string {
	s := m.com.styles
	c := m.roster.of(e)
	field := func(name, value string) string {
		return s.Label.Render(fit(name, 14)) + value
	}
	kind := s.Stream.Type.Render(e.msg.Type.String())
	switch {
	case e.failed:
		kind = s.FlashErr.Render("unreadable record")
	case e.note != nil:
		kind = s.FlashErr.Render("no answer") + s.Muted.Render(" (sigr's note: nothing was received)")
	}
	when := "received"
	if e.note != nil {
		when = "noted"
	}
	lines := []string{
		// seq counts from 0; people count from 1.
		s.Section.Render(fmt.Sprintf("MESSAGE #%d ", e.seq+1)) + kind +
			s.Muted.Render("  esc closes · ↑↓ scroll · y copies"),
		field("connection", s.Stream.Conn.Render(sanitize(c.label))+s.Muted.Render(" "+sanitize(c.connectionID))),
		field(when, e.time.In(m.com.loc).Format("2006-01-02 15:04:05.000000 MST")),
	}
	if p := recordProtocol(e.raw); p != "json" {
		lines = append(lines, field("protocol", p))
	}
	if e.failed {
		lines = append(lines, field("size", fmt.Sprintf("%d bytes", len(e.raw))))
		for i, l := range strings.Split(wrapText(sanitize(e.msg.Error), max(w-14, 8)), "\n") {
			name := ""
			if i == 0 {
				name = "error"
			}
			lines = append(lines, field(name, s.FlashErr.Render(l)))
		}
		return append(lines, rawSection(s, e.raw, w)...)
	}
	if e.msg.Has(protocol.FieldTarget) {
		lines = append(lines, field("target", s.Stream.Target.Render(sanitize(e.msg.Target))))
	}
	inv := s.Faint.Render("none (non-blocking)")
	if e.msg.InvocationID != "" {
		inv = sanitize(e.msg.InvocationID)
	}
	lines = append(lines, field("invocation id", inv))
	if iv := m.calls.of(e); iv != nil {
		// The answer names the invocation it answers, made from here.
		kind := "invoked "
		if iv.stream {
			kind = "stream of "
		}
		lines = append(lines, field("answers", s.Muted.Render(kind)+s.Stream.Target.Render(clip(iv.call(), max(w-50, 16)))+
			s.Muted.Render(" as "+sanitize(m.roster.conns[iv.conn].label)+" at "+iv.sent.In(m.com.loc).Format("15:04:05.000"))))
	}
	if e.note != nil {
		for i, l := range strings.Split(wrapText(sanitize(e.msg.Error), max(w-14, 8)), "\n") {
			name := ""
			if i == 0 {
				name = "why"
			}
			lines = append(lines, field(name, s.FlashErr.Render(l)))
		}
		return lines
	}
	if route, inferred := m.routing.routeOf(e); route != "" {
		how := s.Muted.Render(" (route header)")
		if inferred {
			how = s.Muted.Render(" (inferred from which connections received it)")
		}
		lines = append(lines, field("route", s.Stream.Route.Render(route)+how))
	}
	size := len(e.raw)
	if size == 0 {
		size = len(protocol.AppendMessage(nil, &e.msg)) - 1
	}
	lines = append(lines, field("size", fmt.Sprintf("%d bytes", size)))
	if e.msg.Error != "" {
		lines = append(lines, field("error", s.FlashErr.Render(sanitize(e.msg.Error))))
	}
	if len(e.msg.StreamIDs) > 0 {
		ids := make([]string, len(e.msg.StreamIDs))
		for i, id := range e.msg.StreamIDs {
			ids[i] = sanitize(id)
		}
		lines = append(lines, field("stream ids", strings.Join(ids, ", ")))
	}
	section := func(title string, raw []byte) {
		if len(raw) == 0 {
			return
		}
		lines = append(lines, "", s.Section.Render(title))
		lines = append(lines, prettyJSON(s, raw, w-2, "  ")...)
	}
	section("ARGUMENTS", e.msg.Arguments)
	section("ITEM", e.msg.Item)
	section("RESULT", e.msg.Result)
	section("HEADERS", e.msg.Headers)
	raw := e.raw
	if len(raw) == 0 {
		raw = bytes.TrimSuffix(protocol.AppendMessage(nil, &e.msg), []byte{protocol.RecordSeparator})
	}
	return append(lines, rawSection(s, raw, w)...)
}

// rawSection is the record as received, sanitised and wrapped to w cells;
// a MessagePack record is shown as hex.
func rawSection(s *Styles, raw []byte, w int) []string {
	if recordProtocol(raw) == "messagepack" {
		return rawHexSection(s, raw, w)
	}
	lines := []string{"", s.Section.Render("RAW RECORD")}
	for _, l := range strings.Split(ansi.Hardwrap(sanitizeBytes(raw), max(w-2, 8), false), "\n") {
		lines = append(lines, "  "+s.Muted.Render(l))
	}
	return lines
}

// prettyJSON indents raw JSON and colours it token by token. Strings stay in
// their escaped JSON form and then go through sanitize, so nothing in a
// payload reaches the terminal raw. Invalid JSON is shown sanitised as is.
func prettyJSON(s *Styles, raw []byte, w int, indent string) []string {
	var buf bytes.Buffer
	var src string
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		src = ansi.Hardwrap(sanitizeBytes(raw), max(w, 8), false)
		var out []string
		for _, l := range strings.Split(src, "\n") {
			out = append(out, indent+l)
		}
		return out
	}
	var out []string
	for _, line := range strings.Split(buf.String(), "\n") {
		colored := colorJSONLine(s, line)
		for _, l := range strings.Split(ansi.Hardwrap(colored, max(w, 8), true), "\n") {
			out = append(out, indent+l)
		}
	}
	return out
}

func colorJSONLine(s *Styles, line string) string {
	var b strings.Builder
	render := func(st lipgloss.Style, tok string) { b.WriteString(st.Render(sanitize(tok))) }
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ':
			b.WriteByte(' ')
			i++
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(line))
			st := s.JSON.String
			if strings.HasPrefix(strings.TrimLeft(line[j:], " "), ":") {
				st = s.JSON.Key
			}
			render(st, line[i:j])
			i = j
		case strings.IndexByte("{}[],:", c) >= 0:
			render(s.JSON.Punct, line[i:i+1])
			i++
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(line) && strings.IndexByte("0123456789+-.eE", line[j]) >= 0 {
				j++
			}
			render(s.JSON.Number, line[i:j])
			i = j
		case strings.HasPrefix(line[i:], "true"):
			render(s.JSON.Bool, "true")
			i += 4
		case strings.HasPrefix(line[i:], "false"):
			render(s.JSON.Bool, "false")
			i += 5
		case strings.HasPrefix(line[i:], "null"):
			render(s.JSON.Null, "null")
			i += 4
		default:
			b.WriteString(sanitize(line[i:]))
			i = len(line)
		}
	}
	return b.String()
}
