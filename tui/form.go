package tui

import (
	"slices"
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
	// choices are a choice field's values, nil for a text field; chosen is
	// the index of the one chosen.
	choices [][]string
	chosen  []int
	focus   int
	submit  func(values []string) tea.Cmd
}

// field is one input of a form: its label, placeholder and first value;
// or, with choices, a choice among them (value is the first chosen), which
// takes no typing, so that a typo cannot stand for an action.
type field struct {
	label, placeholder, value string
	choices                   []string
}

func newForm(title, note string, submit func([]string) tea.Cmd, fields ...field) *form {
	f := &form{title: title, note: note, submit: submit}
	for _, fl := range fields {
		in := newInput(fl.placeholder, "")
		in.SetValue(fl.value)
		f.labels = append(f.labels, fl.label)
		f.inputs = append(f.inputs, in)
		f.choices = append(f.choices, fl.choices)
		f.chosen = append(f.chosen, max(slices.Index(fl.choices, fl.value), 0))
	}
	return f
}

// value is what field i holds.
func (f *form) value(i int) string {
	if f.choices[i] != nil {
		return f.choices[i][f.chosen[i]]
	}
	return f.inputs[i].Value()
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
		field{label: "hub", placeholder: "none: the URL's own", value: hub},
		field{label: "user", placeholder: "anonymous"},
		field{label: "headers", placeholder: "name: value; name2: value2"},
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
		field{label: "group", placeholder: "name", value: groupName},
		field{label: "action", value: "add", choices: []string{"add", "remove"}},
		field{label: "member", placeholder: "user:ID | conn:ID", value: member},
	)
}

func (f *form) setStyles(s textinput.Styles) {
	for i := range f.inputs {
		f.inputs[i].SetStyles(s)
	}
}

// input is the text input that has the keys, nil on a choice field.
func (f *form) input() *textinput.Model {
	if f.choices[f.focus] != nil {
		return nil
	}
	return &f.inputs[f.focus]
}

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
	if msg.Text != "" && msg.Text != " " && f.choices[f.focus] == nil {
		// A key that types text is text in a text field, j and k included.
		var cmd tea.Cmd
		f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
		return cmd, formOpen
	}
	switch {
	case key.Matches(msg, k.Back):
		return nil, formCancelled
	case msg.Text != "" && !key.Matches(msg, k.Choose):
		// A choice takes no typing.
		return nil, formOpen
	case key.Matches(msg, k.NextFocus, k.Down):
		return f.move(1), formOpen
	case key.Matches(msg, k.PrevFocus, k.Up):
		return f.move(-1), formOpen
	case key.Matches(msg, k.Submit):
		if f.focus < len(f.inputs)-1 {
			return f.move(1), formOpen
		}
		values := make([]string, len(f.inputs))
		for i := range f.inputs {
			values[i] = f.value(i)
		}
		return f.submit(values), formSubmitted
	}
	if c := f.choices[f.focus]; c != nil {
		// A choice takes no typing: the arrows and space pick.
		if key.Matches(msg, k.Choose) {
			d := 1
			if msg.String() == "left" {
				d = -1
			}
			f.chosen[f.focus] = (f.chosen[f.focus] + d + len(c)) % len(c)
		}
		return nil, formOpen
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	return cmd, formOpen
}

// renderChoice shows choice field i: every value, the chosen one marked.
func (f *form) renderChoice(s *Styles, i int) string {
	var parts []string
	for j, c := range f.choices[i] {
		if j == f.chosen[i] {
			parts = append(parts, s.Badge.Render("["+c+"]"))
		} else {
			parts = append(parts, s.Muted.Render(" "+c+" "))
		}
	}
	hint := ""
	if i == f.focus {
		hint = s.Hint.Render("  ←/→ choose")
	}
	return strings.Join(parts, " ") + hint
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
		v := in.View()
		if f.choices[i] != nil {
			v = f.renderChoice(s, i)
		}
		lines = append(lines, fit(label+"  "+v, inner))
	}
	lines = append(lines, "")
	for _, l := range strings.Split(wrapText(f.note, inner), "\n") {
		lines = append(lines, s.Hint.Render(fit(l, inner)))
	}
	lines = append(lines, s.Muted.Render(fit("enter next/submit · tab move · esc cancel", inner)))
	return s.Panel.Width(w).Render(strings.Join(lines, "\n"))
}
