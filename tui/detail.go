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

// detailTarget is what the details show: a received record, by its
// stream seq, or a record of the sent log; from is the overlay that
// opened them, which esc goes back to.
type detailTarget struct {
	seq    uint64
	sent   uint64
	isSent bool
	from   overlay
}

// current is the received record the keys act on: the one the details
// show, or the one selected in the matrix, the chat or the stream.
func (m *Model) current() *entry {
	switch {
	case m.overlay == overlayDetail && m.detail.isSent:
		return nil
	case m.overlay == overlayDetail:
		return m.stream.history.at(m.detail.seq)
	case m.overlay == overlayMatrix:
		if d := m.routing.selectedDelivery(); d != nil && !d.undelivered {
			return m.stream.history.at(d.seq)
		}
		return nil
	case m.overlay == overlayNone && m.view == viewChat:
		if c := m.chat.selectedMsg(); c != nil && c.delivery != noDelivery {
			return m.stream.history.at(c.seq)
		}
		return nil
	}
	return m.stream.selected()
}

// openDetails opens the details of what is selected: the token of the
// sidebar's connection, the message of the matrix's row, the chat's line
// or the stream's row, the sent log's record. Pressed again, it closes
// them.
func (m *Model) openDetails() {
	from := m.overlay
	switch {
	case m.overlay == overlayDetail:
		m.back()
		return
	case m.focus == focusSidebar && m.stats.sel >= 0:
		m.pickTarget()
		return
	case m.focus == focusSidebar:
		m.toggle(overlayToken)
		return
	case m.overlay == overlaySent:
		if r := m.sent.selectedRecord(); r != nil {
			m.showSent(r.id, from)
		}
		return
	case m.overlay == overlayMatrix:
		d := m.routing.selectedDelivery()
		switch {
		case d == nil:
			return
		case d.undelivered:
			m.showSent(d.sent, from)
			return
		}
	case m.overlay == overlayNone && m.view == viewChat:
		if c := m.chat.selectedMsg(); c != nil && c.own {
			m.showSent(c.sent, from)
			return
		}
	case m.overlay != overlayNone:
		return
	}
	e := m.current()
	if e == nil {
		m.setFlash("that message is no longer in the history", true)
		return
	}
	if e.gap != nil {
		m.setFlash(sanitize(m.roster.of(e).label)+" "+e.gap.text(e.time, m.com.loc), !e.gap.resumed)
		return
	}
	m.detail, m.detailScroll, m.overlay = detailTarget{seq: e.seq, from: from}, 0, overlayDetail
}

func (m *Model) showSent(id uint64, from overlay) {
	if m.sent.byID(id) == nil {
		m.setFlash("that send is no longer in the sent log", true)
		return
	}
	m.detail, m.detailScroll, m.overlay = detailTarget{sent: id, isSent: true, from: from}, 0, overlayDetail
}

// detailPane shows what the details name in full, scrolled.
func (m *Model) detailPane(w, h int) []string {
	all := m.detailLines(w)
	maxScroll := max(len(all)-h, 0)
	off := clampInt(m.detailScroll, 0, maxScroll)
	return all[off:min(off+h, len(all))]
}

// detailLines is every line of the details, w cells wide.
func (m *Model) detailLines(w int) []string {
	if m.detail.isSent {
		if r := m.sent.byID(m.detail.sent); r != nil {
			return m.sentLines(r, w)
		}
		return []string{m.com.styles.Faint.Render("  that send is no longer in the sent log")}
	}
	e := m.stream.history.at(m.detail.seq)
	if e == nil {
		return []string{m.com.styles.Faint.Render("  that message is no longer in the history")}
	}
	return m.entryLines(e, w)
}

// entryLines shows a received record in full: its fields, the arguments
// as pretty coloured JSON, the headers and the raw record.
func (m *Model) entryLines(e *entry, w int) []string {
	s := m.com.styles
	c := m.roster.of(e)
	field := func(name, value string) string { return detailField(s, name, value) }
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
		lines = append(lines, wrappedField(s, w, "error", sanitize(e.msg.Error), s.FlashErr.Render)...)
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
		return append(lines, wrappedField(s, w, "why", sanitize(e.msg.Error), s.FlashErr.Render)...)
	}
	if route, inferred := m.routing.routeOf(e); route != "" {
		how := s.Muted.Render(" (route header)")
		if inferred {
			how = s.Muted.Render(" (inferred from which connections received it)")
		}
		lines = append(lines, field("route", s.Stream.Route.Render(route)+how))
	}
	if d := m.routing.byID(e.delivery); d != nil {
		lines = append(lines, field("received by", m.receivers(d.received)))
	}
	if b, ok := chatOf(&e.msg, m.cfg.ChatTarget); ok {
		lines = append(lines, field("chat", chatText(b)))
	}
	raw := e.raw
	if len(raw) == 0 {
		raw = bytes.TrimSuffix(protocol.AppendMessage(nil, &e.msg), []byte{protocol.RecordSeparator})
	}
	lines = append(lines, field("size", fmt.Sprintf("%d bytes", len(raw))))
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

// receivers names our connections for which got is true, or says none
// did.
func (m *Model) receivers(got func(i int) bool) string {
	names := labelsWhere(m.roster.shortLabels(), got)
	if len(names) == 0 {
		return m.com.styles.Faint.Render("none of your connections")
	}
	return m.com.styles.Stream.Conn.Render(strings.Join(names, ", "))
}

// detailField is a line of the details: name in its column, then value.
func detailField(s *Styles, name, value string) string { return s.Label.Render(fit(name, 14)) + value }

// wrappedField is a field whose value wraps in the details' w cells, each
// line styled with st, the name on the first only.
func wrappedField(s *Styles, w int, name, value string, st func(...string) string) []string {
	var out []string
	for i, l := range strings.Split(wrapText(value, max(w-14, 8)), "\n") {
		if i > 0 {
			name = ""
		}
		out = append(out, detailField(s, name, st(l)))
	}
	return out
}

// sentLines shows a record of the sent log in full: what was sent, as
// whom, where, and what became of it, with the service's reason when it
// reached nobody.
func (m *Model) sentLines(r *sentRecord, w int) []string {
	s := m.com.styles
	field := func(name, value string) string { return detailField(s, name, value) }
	wrapped := func(name, value string, st func(...string) string) []string {
		return wrappedField(s, w, name, value, st)
	}
	kind := map[sentKind]string{sentSend: "send", sentInvoke: "invocation", sentGroup: "group action"}[r.kind]
	glyph, st := r.mark(s)
	lines := []string{
		s.Section.Render(fmt.Sprintf("SENT #%d ", r.id+1)) + s.Stream.Type.Render(kind) + s.Muted.Render("  from this screen · esc closes · ↑↓ scroll"),
		field("sent", r.time.In(m.com.loc).Format("2006-01-02 15:04:05.000 MST")),
	}
	switch r.kind {
	case sentInvoke:
		lines = append(lines,
			field("over", s.Stream.Conn.Render(sanitize(r.as))),
			field("method", s.Stream.Target.Render(sanitize(r.target))))
		if r.invID != "" {
			lines = append(lines, field("invocation id", sanitize(r.invID)))
		}
	case sentGroup:
		lines = append(lines, field("group", s.Stream.Target.Render(sanitize(r.target))), field("action", sanitize(r.text)))
	default:
		lines = append(lines,
			field("as", s.Bold.Render(sanitize(r.as))),
			field("to", s.Stream.Route.Render(sanitize(r.dest()))+s.Muted.Render(" ("+sanitize(routeText(r.to, r.name))+")")),
			field("target", s.Stream.Target.Render(sanitize(r.target))))
	}
	lines = append(lines, field("outcome", st.Render(glyph+" "+sanitize(r.outcome()))))
	if why := r.why(); why != "" {
		lines = append(lines, wrapped("why", sanitize(why), r.whyStyle(s).Render)...)
	}
	if r.kind == sentSend && !r.pending && r.err == "" && r.delivered < 0 {
		lines = append(lines, wrapped("", "the server did not say where the message went (Azure SignalR Service never does; sigr's emulator does)", s.Hint.Render)...)
	}
	if r.chat {
		if c := m.chat.msgs.byID(r.chatLine); c != nil && c.own && c.sent == r.id {
			lines = append(lines, field("received by", m.receivers(c.receivedBy)))
		}
		lines = append(lines, "", s.Section.Render("MESSAGE"))
		lines = append(lines, wrapped("", sanitize(r.text), s.App.Render)...)
		return lines
	}
	if r.kind == sentGroup {
		return lines
	}
	lines = append(lines, "", s.Section.Render("ARGUMENTS"))
	lines = append(lines, prettyJSON(s, []byte(r.text), w-2, "  ")...)
	if r.result != "" {
		lines = append(lines, "", s.Section.Render("RESULT"))
		lines = append(lines, prettyJSON(s, []byte(r.result), w-2, "  ")...)
	}
	return lines
}
