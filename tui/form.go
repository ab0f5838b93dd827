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
	submit func(values []string) tea.Cmd
}

// field is one input of a form: its label, placeholder and first value.
type field struct{ label, placeholder, value string }

func newForm(title, note string, submit func([]string) tea.Cmd, fields ...field) *form {
	f := &form{title: title, note: note, submit: submit}
	for _, fl := range fields {
		in := newInput(fl.placeholder, "")
		in.SetValue(fl.value)
		f.labels = append(f.labels, fl.label)
		f.inputs = append(f.inputs, in)
	}
	return f
}

func (m *Model) newConnForm() *form {
	// The hub of the selected connection (as the service names it), else
	// the command line's; none on a plain hub, whose URL is the hub.
	hub := m.cfg.Hub
	if c := m.roster.selected(); c != nil && c.hub != "" {
		hub = c.hub
	}
	return newForm("New connection", "Opens another connection in this session, as another identity.",
		func(v []string) tea.Cmd { return m.openConn(v[0], v[1], v[2]) },
		field{"hub", "none: the URL's own", hub},
		field{"user", "anonymous", ""},
		field{"headers", "name: value; name2: value2", ""},
	)
}

func (m *Model) newGroupForm() *form {
	member, note := "", "Joins or leaves through the function app's groups endpoint."
	if c := m.roster.selected(); c != nil {
		member = "user:" + c.who()
		if c.connectionID != "" {
			note += " conn:" + c.connectionID + " is the selected connection."
		}
	}
	groupName := "devs"
	if len(m.roster.groupOrder) > 0 {
		groupName = m.roster.groupOrder[0]
	}
	return newForm("Join or leave a group", note,
		func(v []string) tea.Cmd { return m.groupAction(v[0], v[1], v[2]) },
		field{"group", "name", groupName},
		field{"action", "join | leave", "join"},
		field{"member", "user:ID | conn:ID", member},
	)
}

func (f *form) setStyles(s textinput.Styles) {
	for i := range f.inputs {
		f.inputs[i].SetStyles(s)
	}
}

func (f *form) input() *textinput.Model { return &f.inputs[f.focus] }

func (f *form) move(d int) tea.Cmd {
	f.inputs[f.focus].Blur()
	f.focus = (f.focus + d + len(f.inputs)) % len(f.inputs)
	return f.inputs[f.focus].Focus()
}

// formResult is what a key did to a form.
type formResult int

const (
	formOpen      formResult = iota
	formCancelled            // Back: close it, do nothing
	formSubmitted            // Submit on the last field: close it and run the command
)

// update handles a key for the form: Back cancels, NextFocus and Down or
// PrevFocus and Up move between fields, Submit moves on and, on the last
// field, submits; every other key goes to the field.
func (f *form) update(msg tea.KeyPressMsg, k KeyMap) (tea.Cmd, formResult) {
	switch {
	case key.Matches(msg, k.Back):
		return nil, formCancelled
	case key.Matches(msg, k.NextFocus, k.Down):
		return f.move(1), formOpen
	case key.Matches(msg, k.PrevFocus, k.Up):
		return f.move(-1), formOpen
	case key.Matches(msg, k.Submit):
		if f.focus < len(f.inputs)-1 {
			return f.move(1), formOpen
		}
		values := make([]string, len(f.inputs))
		for i, in := range f.inputs {
			values[i] = in.Value()
		}
		return f.submit(values), formSubmitted
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	return cmd, formOpen
}

// Render draws the form as a panel w cells wide.
func (f *form) Render(s *Styles, w int) string {
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
