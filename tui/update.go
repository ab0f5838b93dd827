package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Update is the one place the screen's state changes. It does no I/O: sends,
// group actions and new connections run in commands that report back with
// a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layoutInputs()
	case tea.BackgroundColorMsg:
		m.styles = DefaultStyles(msg.IsDark())
		if m.mono {
			m.styles.monochrome()
		}
		m.applyStyles()
	case tea.ColorProfileMsg:
		m.mono = msg.Profile == colorprofile.ASCII || msg.Profile == colorprofile.NoTTY
		if m.mono {
			m.styles.monochrome()
		}
	case tickMsg:
		m.now = m.cfg.Now()
		m.total.roll(m.now)
		cmd = m.tick()
	case batchMsg:
		m.ingest(Batch(msg))
		if m.cfg.Feed != nil {
			cmd = m.cfg.Feed.Next()
		}
	case feedClosedMsg:
		// Every connection has stopped; the screen stays for reading.
	case sentMsg:
		m.sent(msg)
	case groupDoneMsg:
		cmd = m.groupDone(msg)
	case openedMsg:
		if msg.err != nil {
			m.setFlash("new connection "+sanitize(msg.label)+": "+sanitize(msg.err.Error()), true)
		} else {
			m.setFlash("connecting "+sanitize(msg.label)+"…", false)
		}
	case existsMsg:
		if g := m.groups[msg.group]; g != nil && msg.err == nil {
			g.exists = map[bool]string{true: "yes", false: "no"}[msg.exists]
		}
	case tea.MouseWheelMsg:
		if m.overlay == overlayNone {
			switch msg.Button {
			case tea.MouseWheelUp:
				m.moveCursor(-3)
			case tea.MouseWheelDown:
				m.moveCursor(3)
			}
		} else if m.overlay == overlayDetail {
			switch msg.Button {
			case tea.MouseWheelUp:
				m.scrollDetail(-3)
			case tea.MouseWheelDown:
				m.scrollDetail(3)
			}
		}
	case tea.PasteMsg:
		cmd = m.forwardToInput(msg)
	case tea.KeyPressMsg:
		cmd = m.handleKey(msg)
	default:
		// Cursor blinks and other component messages go to the focused
		// input.
		cmd = m.forwardToInput(msg)
	}
	m.fixScroll()
	return m, cmd
}

// focusedInput returns the text input that has the keys, if any.
func (m *Model) focusedInput() *textinput.Model {
	switch {
	case m.overlay == overlayForm && m.form != nil:
		return &m.form.inputs[m.form.focus]
	case m.filtering:
		return &m.filterIn
	case m.focus == focusBody:
		return &m.body
	case m.focus == focusTo:
		return &m.to
	case m.focus == focusTarget:
		return &m.target
	}
	return nil
}

func (m *Model) forwardToInput(msg tea.Msg) tea.Cmd {
	in := m.focusedInput()
	if in == nil {
		return nil
	}
	var cmd tea.Cmd
	*in, cmd = in.Update(msg)
	if in == &m.filterIn {
		m.setQuery(m.filterIn.Value())
	}
	return cmd
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	// A form or an input takes every key but its own few.
	if m.overlay == overlayForm && m.form != nil {
		return m.formKey(msg)
	}
	if m.filtering {
		switch {
		case key.Matches(msg, k.Back), msg.String() == "enter":
			m.filtering = false
			m.filterIn.Blur()
			return nil
		}
		return m.forwardToInput(msg)
	}
	if m.focus >= focusBody {
		return m.composerKey(msg)
	}

	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.toggle(overlayHelp)
	case key.Matches(msg, k.Back):
		m.back()
	case key.Matches(msg, k.NextFocus):
		return m.setFocus(m.focus + 1)
	case key.Matches(msg, k.PrevFocus):
		return m.setFocus(m.focus - 1)
	case key.Matches(msg, k.Compose):
		m.overlay = overlayNone
		return m.setFocus(focusBody)
	case key.Matches(msg, k.Filter):
		m.overlay = overlayNone
		m.filtering = true
		return m.filterIn.Focus()
	case key.Matches(msg, k.Details):
		if m.focus == focusSidebar {
			m.toggle(overlayToken)
		} else if m.selected() != nil {
			m.detailScroll = 0
			m.toggle(overlayDetail)
		}
	case key.Matches(msg, k.Pause):
		m.togglePause()
	case key.Matches(msg, k.Clear):
		m.clear()
	case key.Matches(msg, k.Copy):
		return m.copySelected()
	case key.Matches(msg, k.NewConn):
		return m.openForm(newConnForm(m))
	case key.Matches(msg, k.Group):
		return m.openForm(newGroupForm(m))
	case key.Matches(msg, k.Token):
		m.toggle(overlayToken)
	case key.Matches(msg, k.Matrix):
		m.toggle(overlayMatrix)
	case key.Matches(msg, k.Up):
		m.navigate(-1)
	case key.Matches(msg, k.Down):
		m.navigate(1)
	case key.Matches(msg, k.PageUp):
		m.navigate(-m.pageSize())
	case key.Matches(msg, k.PageDown):
		m.navigate(m.pageSize())
	case key.Matches(msg, k.Top):
		m.navigate(-1 << 30)
	case key.Matches(msg, k.Bottom):
		m.navigate(1 << 30)
	}
	return nil
}

// navigate moves whatever the focus points at: the sidebar's connection,
// the detail pane's scroll, or the stream's selection.
func (m *Model) navigate(n int) {
	switch {
	case m.overlay == overlayDetail:
		m.scrollDetail(n)
	case m.focus == focusSidebar:
		m.selConn = clampInt(m.selConn+n, 0, max(len(m.conns)-1, 0))
	default:
		m.moveCursor(n)
	}
}

func (m *Model) toggle(o overlay) {
	if m.overlay == o {
		m.overlay = overlayNone
		return
	}
	m.overlay = o
}

// back closes what is open, innermost first: an overlay, then the filter,
// then the error panel.
func (m *Model) back() {
	switch {
	case m.overlay != overlayNone:
		m.overlay = overlayNone
	case m.query.active():
		m.filterIn.SetValue("")
		m.setQuery("")
	default:
		for i, c := range m.conns {
			if c.err != "" {
				m.errSeen[i] = c.err
			}
		}
	}
}

func (m *Model) setFocus(f focusArea) tea.Cmd {
	f = (f + focusCount) % focusCount
	m.focus = f
	m.body.Blur()
	m.to.Blur()
	m.target.Blur()
	switch f {
	case focusBody:
		return m.body.Focus()
	case focusTo:
		return m.to.Focus()
	case focusTarget:
		return m.target.Focus()
	}
	return nil
}

func (m *Model) composerKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back):
		return m.setFocus(focusStream)
	case key.Matches(msg, k.NextFocus):
		return m.setFocus(m.focus + 1)
	case key.Matches(msg, k.PrevFocus):
		return m.setFocus(m.focus - 1)
	case msg.String() == "enter":
		if m.focus != focusBody {
			return m.setFocus(focusBody)
		}
		return m.send()
	}
	return m.forwardToInput(msg)
}

func (m *Model) setFlash(s string, isErr bool) {
	m.flash, m.flashErr = s, isErr
	m.flashUntil = m.cfg.Now().Add(5 * time.Second)
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
