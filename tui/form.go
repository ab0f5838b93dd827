package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// form is a small dialog of labelled text inputs: the new connection and
// group dialogs. It is a plain struct the Model drives, not a nested model.
type form struct {
	title  string
	note   string
	labels []string
	inputs []textinput.Model
	focus  int
	submit func(m *Model, values []string) tea.Cmd
}

func (m *Model) newForm(title, note string, submit func(*Model, []string) tea.Cmd, fields ...[3]string) *form {
	f := &form{title: title, note: note, submit: submit}
	for _, fl := range fields {
		in := m.newInput(fl[1], "")
		in.SetValue(fl[2])
		in.SetStyles(m.styles.Input)
		f.labels = append(f.labels, fl[0])
		f.inputs = append(f.inputs, in)
	}
	return f
}

func newConnForm(m *Model) *form {
	return m.newForm("New connection", "Opens another connection in this session, as another identity.",
		func(m *Model, v []string) tea.Cmd { return m.openConn(v[0], v[1], v[2]) },
		[3]string{"hub", m.cfg.Hub, m.cfg.Hub},
		[3]string{"user", "anonymous", ""},
		[3]string{"headers", "name: value; name2: value2", ""},
	)
}

func newGroupForm(m *Model) *form {
	member, note := "", "Joins or leaves through the function app's groups endpoint."
	if c := m.me(); c != nil {
		member = "user:" + c.who()
		if c.connectionID != "" {
			note += " conn:" + c.connectionID + " is the selected connection."
		}
	}
	groupName := "devs"
	if len(m.groupOrd) > 0 {
		groupName = m.groupOrd[0]
	}
	return m.newForm("Join or leave a group", note,
		func(m *Model, v []string) tea.Cmd { return m.groupAction(v[0], v[1], v[2]) },
		[3]string{"group", "name", groupName},
		[3]string{"action", "join | leave", "join"},
		[3]string{"member", "user:ID | conn:ID", member},
	)
}

func (m *Model) openForm(f *form) tea.Cmd {
	m.form = f
	m.overlay = overlayForm
	return f.inputs[0].Focus()
}

func (m *Model) closeForm() {
	m.form = nil
	m.overlay = overlayNone
}

func (m *Model) formKey(msg tea.KeyPressMsg) tea.Cmd {
	f := m.form
	move := func(d int) tea.Cmd {
		f.inputs[f.focus].Blur()
		f.focus = (f.focus + d + len(f.inputs)) % len(f.inputs)
		return f.inputs[f.focus].Focus()
	}
	switch {
	case key.Matches(msg, m.keys.Back):
		m.closeForm()
		return nil
	case msg.String() == "tab" || msg.String() == "down":
		return move(1)
	case msg.String() == "shift+tab" || msg.String() == "up":
		return move(-1)
	case msg.String() == "enter":
		if f.focus < len(f.inputs)-1 {
			return move(1)
		}
		values := make([]string, len(f.inputs))
		for i, in := range f.inputs {
			values[i] = in.Value()
		}
		m.closeForm()
		return f.submit(m, values)
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	return cmd
}

// render draws the form as a panel w cells wide.
func (f *form) render(s *Styles, w int) string {
	inner := w - s.Panel.GetHorizontalFrameSize()
	labelW := 0
	for _, l := range f.labels {
		labelW = max(labelW, len(l))
	}
	lines := []string{s.PanelTitle.Render(f.title), ""}
	for i, in := range f.inputs {
		in.SetWidth(max(inner-labelW-3, 4))
		label := s.Label.Render(fit(f.labels[i], labelW))
		if i == f.focus {
			label = s.Bold.Render(fit(f.labels[i], labelW))
		}
		lines = append(lines, fit(label+"  "+in.View(), inner))
	}
	lines = append(lines, "")
	for _, l := range strings.Split(wrapText(f.note, inner), "\n") {
		lines = append(lines, s.Hint.Render(fit(l, inner)))
	}
	lines = append(lines, s.Muted.Render(fit("enter next/submit · tab move · esc cancel", inner)))
	return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
}
