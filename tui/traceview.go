package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// maxTrace bounds the service's trace events the trace pane keeps.
const maxTrace = 2000

// traceLog is the service's trace as the trace pane shows it: its events,
// newest last, how many were missed, and the selection.
type traceLog struct {
	com    *common
	roster *roster
	events idRing[protocol.TraceEvent]
	nav    listNav
	missed int
	// err says why the stream stopped, until it runs again.
	err string
}

func newTraceLog(com *common, r *roster) *traceLog {
	return &traceLog{com: com, roster: r, events: newIDRing[protocol.TraceEvent](maxTrace), nav: newListNav()}
}

// applyService takes a batch from the ServiceView: how the service was
// found, its state and its trace.
func (m *Model) applyService(b serviceBatch) {
	lv := &m.roster.live
	if b.found {
		lv.from, lv.why = b.from, b.findErr
		if m.roster.key == "" && b.key != "" {
			m.roster.verifyWith(b.key)
		}
		if b.findErr != "" {
			m.setFlash("the sidebar shows what this screen did: no live view from the service (e says why)", false)
		}
	}
	if b.hasState {
		m.roster.applyLive(b.states)
		lv.why = ""
	}
	if b.stateErr != "" {
		lv.why = b.stateErr
	}
	t := m.trace
	for _, e := range b.events {
		t.events.push(e)
	}
	t.missed += b.missed
	if len(b.events) > 0 {
		t.err = ""
	}
	if b.traceErr != "" {
		t.err = b.traceErr
	}
}

// Render draws the trace pane in w×h cells: where the view comes from,
// then the service's events, newest last.
func (t *traceLog) Render(w, h int) []string {
	s := t.com.styles
	lv := &t.roster.live
	title := s.Section.Render("SERVICE TRACE ")
	switch {
	case lv.known && lv.from != "":
		title += s.Muted.Render("live from the service (" + sanitize(lv.from) + ")")
	case lv.known:
		title += s.Muted.Render("live from the service")
	}
	title += s.Muted.Render("  e or esc closes")
	lines := []string{fit(title, w)}
	if t.missed > 0 {
		lines = append(lines, s.FlashErr.Render(fit(fmt.Sprintf("  %d events missed: the screen fell behind", t.missed), w)))
	}
	var notes []string
	switch {
	case !lv.known && lv.why == "" && lv.from == "":
		notes = append(notes, "looking for the service's view (sigr's emulator serves it; Azure SignalR Service does not)…")
	case !lv.known:
		notes = append(notes, "no view from the service: "+sanitize(lv.why),
			"the sidebar shows what this screen did: its connections and the groups it joined")
	case lv.why != "":
		notes = append(notes, "the service's state may be stale: "+sanitize(lv.why))
	}
	if t.err != "" {
		notes = append(notes, "the trace stopped, sigr starts it again: "+sanitize(t.err))
	}
	for _, n := range notes {
		for _, l := range strings.Split(wrapText(n, w-2), "\n") {
			lines = append(lines, s.Hint.Render(fit("  "+l, w)))
		}
	}
	if t.events.len() == 0 {
		if lv.known {
			lines = append(lines, s.Faint.Render(fit("  no events yet: connect, send or join a group", w)))
		}
		return lines
	}
	sel, _ := t.nav.selected(t.events.first(), t.events.end())
	return append(lines, t.nav.render(t.events.end(), h-len(lines), func(id uint64) []string {
		return t.lines(t.events.byID(id), w, id == sel)
	})...)
}

// fix keeps the selection on screen in w×h cells.
func (t *traceLog) fix(w, h int) {
	rows := h - 1
	if t.missed > 0 {
		rows--
	}
	t.nav.fix(t.events.first(), t.events.end(), max(rows-2, 1), func(id uint64) int {
		return len(t.lines(t.events.byID(id), w, false))
	})
}

// lines draws one event: its time, kind and what happened on one line,
// and the reason or error under it, wrapped.
func (t *traceLog) lines(e *protocol.TraceEvent, w int, selected bool) []string {
	s := t.com.styles
	// Narrow, the time loses its milliseconds.
	layout, kindW := "15:04:05.000", 12
	if w < 100 {
		layout = "15:04:05"
	}
	head := s.Stream.Time.Render(e.Time.In(t.com.loc).Format(layout)) + " " + t.kindStyle(e).Render(fit(sanitize(e.Kind), kindW)) + " " + t.what(e)
	lines := []string{fit(head, w)}
	indent := len(layout) + 1 + kindW + 1
	why := e.Reason
	if e.Error != "" {
		why = e.Error
	}
	if why != "" {
		st := s.Muted
		if e.Error != "" || (e.Recipients != nil && *e.Recipients == 0) || (e.Delivered != nil && *e.Delivered == 0) {
			st = s.FlashErr
		}
		for _, l := range strings.Split(wrapText(sanitize(why), w-indent), "\n") {
			lines = append(lines, strings.Repeat(" ", indent)+st.Render(fit(l, w-indent)))
		}
	}
	if selected {
		lines[0] = s.Selected.Render(ansi.Strip(lines[0]))
	}
	return lines
}

func (t *traceLog) kindStyle(e *protocol.TraceEvent) lipgloss.Style {
	s := t.com.styles
	switch {
	case e.Error != "" || (e.Recipients != nil && *e.Recipients == 0) || (e.Delivered != nil && *e.Delivered == 0) || e.Kind == protocol.TraceDropped:
		return s.FlashErr
	case e.Kind == protocol.TraceConnected:
		return s.Dot.Connected
	case e.Kind == protocol.TraceDisconnected || e.Kind == protocol.TraceExpired:
		return s.Dot.Reconnecting
	}
	return s.Stream.Type
}

// what says what the event is about, after its kind.
func (t *traceLog) what(e *protocol.TraceEvent) string {
	s := t.com.styles
	var b strings.Builder
	add := func(st lipgloss.Style, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(st.Render(v))
	}
	who := func() string {
		if e.ConnectionID == "" {
			return sanitize(e.User)
		}
		if c := t.roster.ours(e.ConnectionID); c != nil {
			return t.roster.shortLabel(c) + " (yours)"
		}
		name := sanitize(e.User)
		if name == "" {
			name = "anon"
		}
		return name + " " + sanitize(clip(e.ConnectionID, 10))
	}
	if len(t.roster.live.states) > 1 && e.Hub != "" {
		add(s.HubName, sanitize(e.Hub))
	}
	switch e.Kind {
	case protocol.TraceConnected:
		add(s.Stream.Conn, who())
		add(s.Muted, sanitize(e.Transport)+" "+sanitize(e.Protocol))
	case protocol.TraceDisconnected:
		add(s.Stream.Conn, who())
		add(s.Muted, sanitize(e.Transport))
	case protocol.TraceDelivered:
		add(s.Stream.Target, sanitize(e.Target))
		add(s.Muted, "→")
		add(s.Stream.Route, sanitize(e.Route))
		if e.Recipients != nil {
			add(s.Bold, connections(*e.Recipients))
		}
	case protocol.TraceREST:
		add(s.App, sanitize(e.Method)+" "+sanitize(e.Path))
		if e.Status != 0 {
			add(s.Muted, strconv.Itoa(e.Status))
		}
		if e.Delivered != nil {
			add(s.Bold, "delivered to "+connections(*e.Delivered))
		}
		if e.Applied != nil {
			add(s.Bold, "applied to "+connections(*e.Applied))
		}
	case protocol.TraceUpstream:
		add(s.Stream.Target, sanitize(e.UpstreamEvent))
		add(s.Muted, sanitize(textsafe.RedactURL(e.URL)))
		if e.Status != 0 {
			add(s.Muted, strconv.Itoa(e.Status))
		}
		if e.LatencyMs != nil {
			add(s.Muted, fmt.Sprintf("%.0f ms", *e.LatencyMs))
		}
	case protocol.TraceExpired:
		add(s.Stream.Conn, sanitize(e.User))
		add(s.Muted, "left")
		add(s.App, sanitize(e.Group))
	case protocol.TraceDropped:
		add(s.FlashErr, fmt.Sprintf("the service skipped %d events for this screen", e.Count))
	default:
		add(s.Muted, sanitize(e.Target+" "+e.Route))
	}
	if e.Group != "" && e.Kind != protocol.TraceExpired {
		add(s.Muted, "group "+sanitize(e.Group))
	}
	return b.String()
}
