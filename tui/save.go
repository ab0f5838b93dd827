package tui

import (
	"os"
	"path/filepath"
	"strconv"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/protocol"
)

// savedMsg reports what w wrote.
type savedMsg struct {
	path  string
	lines int
	err   error
}

// saveName is the file w writes in the working directory: the time it was
// asked for, so that saves never overwrite each other within a second.
const saveName = "sigr-20060102-150405.jsonl"

// save writes what the stream keeps to a file of event lines (the schema
// of `sigr watch`), which `sigr replay` opens. The lines are built here,
// from the state as it is now; the command only writes them.
func (m *Model) save() tea.Cmd {
	data, n := m.eventLines()
	if n == 0 {
		m.setFlash("nothing to save yet", true)
		return nil
	}
	name := m.cfg.Now().In(m.com.loc).Format(saveName)
	dir := m.cfg.SaveDir
	return func() tea.Msg {
		path := filepath.Join(dir, name)
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return savedMsg{path: path, lines: n, err: os.WriteFile(path, data, 0o644)}
	}
}

// eventLines is every entry the stream keeps as event lines, oldest first,
// and how many there are. A gap row becomes the two state lines it stands
// for, so that a replay marks it again.
func (m *Model) eventLines() ([]byte, int) {
	var out []byte
	n := 0
	h := m.stream.history
	for seq := h.first; seq < h.next; seq++ {
		e := h.at(seq)
		if e == nil {
			continue
		}
		c := m.roster.of(e)
		ectx := protocol.EventContext{Connection: c.label, Hub: c.hub, Raw: e.raw}
		switch {
		case e.gap != nil:
			st := protocol.StateEvent{Connection: c.label, Hub: c.hub}
			st.State = "reconnecting"
			out = protocol.AppendStateEvent(out, e.gap.from, st)
			st.State, st.Resumed = "connected", e.gap.resumed
			out = protocol.AppendStateEvent(out, e.time, st)
			n += 2
			continue
		case e.failed || e.note != nil:
			out = protocol.AppendErrorEvent(out, e.time, e.msg.Error, ectx)
		default:
			out = protocol.AppendMessageEvent(out, e.time, &e.msg, ectx)
		}
		n++
	}
	return out, n
}

// onSaved says where w wrote, or why it could not.
func (m *Model) onSaved(msg savedMsg) {
	if msg.err != nil {
		m.setFlash("save: "+sanitize(msg.err.Error())+" (w writes to the working directory)", true)
		return
	}
	m.setFlash("saved "+strconv.Itoa(msg.lines)+" events to "+sanitize(msg.path)+" (sigr replay opens it)", false)
}
