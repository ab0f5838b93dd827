package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// Update is the one place the screen's state changes. It does no I/O: sends,
// group actions and new connections run in commands that report back with
// a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.filter.SetWidth(max(m.width-30, 10))
	case tea.BackgroundColorMsg:
		m.com.styles = DefaultStyles(msg.IsDark())
		if m.mono {
			m.com.styles.monochrome()
		}
		m.applyStyles()
	case tea.ColorProfileMsg:
		m.mono = msg.Profile == colorprofile.ASCII || msg.Profile == colorprofile.NoTTY
		if m.mono {
			m.com.styles.monochrome()
		}
	case tickMsg:
		m.now = m.cfg.Now()
		m.stats.total.roll(m.now)
		cmd = m.tick()
	case batchMsg:
		m.ingest(Batch(msg))
		if m.cfg.Feed != nil {
			m.cfg.Feed.recycle(msg.Events)
			cmd = m.cfg.Feed.Next()
		}
	case serviceMsg:
		m.applyService(serviceBatch(msg))
		if m.cfg.Service != nil {
			cmd = m.cfg.Service.Next()
		}
	case feedClosedMsg:
		// Every connection has stopped; the screen stays for reading.
	case sentMsg:
		m.onSent(msg)
	case invokeStartedMsg:
		cmd = m.invokeStarted(msg)
	case invokeDoneMsg:
		m.invokeDone(msg)
	case groupDoneMsg:
		cmd = m.groupDone(msg)
	case openedMsg:
		if msg.err != nil {
			m.setFlash("new connection "+sanitize(msg.label)+": "+sanitize(msg.err.Error()), true)
		} else {
			m.setFlash(connectingFlash(msg.label), false)
		}
	case reconnMsg:
		m.onReconn(msg)
	case savedMsg:
		m.onSaved(msg)
	case existsMsg:
		if g := m.roster.groups[msg.group]; g != nil && msg.err == nil {
			g.exists = map[bool]string{true: "yes", false: "no"}[msg.exists]
		}
	case tea.MouseWheelMsg:
		if m.overlay == overlayNone || m.overlay == overlayDetail {
			switch msg.Button {
			case tea.MouseWheelUp:
				m.scroll(-3)
			case tea.MouseWheelDown:
				m.scroll(3)
			}
		}
	case tea.MouseClickMsg:
		m.click(msg)
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

// fixScroll keeps each list's selection on screen after an update.
func (m *Model) fixScroll() {
	// Only what is on screen: the chat's and the sent log's rows wrap, so
	// their scroll costs a render of the rows shown.
	w, rows := m.mainWidth(), m.streamRows()
	m.stream.fixScroll(rows)
	m.chat.forget()
	switch {
	case m.overlay == overlayMatrix:
		m.routing.fix(w, m.bodyRows())
	case m.overlay == overlaySent:
		m.sent.fix(w, m.bodyRows())
	case m.overlay == overlayTrace:
		m.trace.fix(w, m.bodyRows())
	case m.view == viewChat:
		m.chat.fix(w, rows)
	}
}

// ingest applies one batch: new connections and state changes update the
// roster; messages and records that failed to parse are counted and go
// into the stream. Its cost is the size of the batch, whatever the size of
// the history.
func (m *Model) ingest(b Batch) {
	conns := len(m.roster.conns)
	for _, spec := range b.Opened {
		m.roster.open(spec)
	}
	for i := range b.Events {
		ev := &b.Events[i]
		switch ev.Kind {
		case client.EventState:
			m.onState(ev)
		case client.EventMessage:
			e := entry{time: ev.Time, conn: int32(m.roster.connFor(ev)), msg: ev.Message, raw: ev.Raw, delivery: noDelivery}
			m.stats.received(ev.Time, &e.msg)
			d, isNew := m.routing.deliver(&e)
			if d != nil {
				e.delivery = d.id
			}
			if isNew || d == nil {
				m.stats.firstReceipt(&e.msg)
			}
			if isNew {
				// Known before the push, so that the per-message view keeps
				// this row.
				d.seq = m.stream.history.next
			}
			e.seq = m.stream.push(e)
			switch {
			case isNew:
				m.firstReceipt(d, &e)
			case d != nil && d.chat != noDelivery:
				m.chat.receipt(d.chat, e.conn)
			}
			m.answered(&e)
		case client.EventError:
			e := entry{time: ev.Time, conn: int32(m.roster.connFor(ev)), failed: true, delivery: noDelivery, raw: ev.Raw}
			if ev.Err != nil {
				e.msg.Error = ev.Err.Error()
			}
			m.stats.received(ev.Time, nil)
			m.stream.push(e)
		}
		// Handshake events carry nothing the screen shows.
	}
	if b.Dropped > 0 {
		m.stats.droppedByFeed(m.cfg.Now(), b.Dropped, b.DroppedByTarget)
	}
	if len(m.roster.conns) != conns {
		m.autoView()
	}
	m.stream.settle()
}

// firstReceipt fills in a new delivery from its first receipt e: what the
// matrix shows of it and, for a chat message, its line in the chat.
func (m *Model) firstReceipt(d *delivery, e *entry) {
	d.seq = e.seq
	if b, ok := chatOf(&e.msg, m.cfg.ChatTarget); ok {
		d.sender, d.text = textsafe.Clip(b.sender, maxSummary), textsafe.Clip(b.text, maxSummary)
		d.chat = m.chat.received(d, e, b)
		return
	}
	d.text = compactJSON(e.msg.Arguments, maxSummary)
}

// answered records in the sent log the completion of an invocation made
// from here.
func (m *Model) answered(e *entry) {
	if e.msg.Type != protocol.TypeCompletion {
		return
	}
	iv := m.calls.of(e)
	if iv == nil {
		return
	}
	r := m.sent.byID(iv.rec)
	if r == nil || r.kind != sentInvoke {
		return
	}
	r.pending = false
	switch {
	case e.msg.Error != "":
		r.err = e.msg.Error
	case e.msg.Has(protocol.FieldResult):
		r.result = compactJSON(e.msg.Result, maxSummary)
	}
}

// focusedInput returns the text input that has the keys, if any.
func (m *Model) focusedInput() *textinput.Model {
	switch {
	case m.overlay == overlayForm && m.form != nil:
		return m.form.input()
	case m.filtering:
		return &m.filter
	}
	return m.composer.input(m.focus)
}

func (m *Model) forwardToInput(msg tea.Msg) tea.Cmd {
	in := m.focusedInput()
	if in == nil {
		return nil
	}
	var cmd tea.Cmd
	*in, cmd = in.Update(msg)
	if in == &m.filter {
		m.stream.setQuery(m.filter.Value())
	}
	return cmd
}

// handleKey routes a key: to the form, the filter or the composer when one
// has the keys, else to the stream, the sidebar and the overlays.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if m.confirming {
		m.confirming = false
		if key.Matches(msg, k.Confirm, k.Interrupt) {
			return m.quit()
		}
		return nil
	}
	if m.overlay == overlayForm && m.form != nil && !key.Matches(msg, k.Interrupt) {
		// A form takes every key: its text fields type, its choices pick.
		cmd, res := m.form.update(msg, k)
		if res != formOpen {
			m.form = nil
			m.overlay = overlayNone
		}
		return cmd
	}
	inInput := m.focusedInput() != nil
	if inInput && msg.Text != "" {
		// An input takes every key that types text, q included.
		return m.forwardToInput(msg)
	}
	if key.Matches(msg, k.Interrupt) {
		return m.quit()
	}
	if key.Matches(msg, k.Quit) && !inInput {
		if m.overlay != overlayNone {
			m.back()
			return nil
		}
		return m.askQuit()
	}
	switch {
	case m.filtering:
		if key.Matches(msg, k.Back, k.Submit) {
			m.filtering = false
			m.filter.Blur()
			return nil
		}
		return m.forwardToInput(msg)
	case inInput:
		return m.composerKey(msg)
	}

	if m.cfg.Replay != nil && key.Matches(msg, k.NewConn, k.Group, k.Reconnect, k.ToggleConn, k.Compose) {
		m.setFlash("a replay is read-only: nothing is sent, opened or closed", true)
		return nil
	}
	switch {
	case key.Matches(msg, k.Help):
		m.toggle(overlayHelp)
	case key.Matches(msg, k.Save):
		return m.save()
	case key.Matches(msg, k.PerMessage):
		m.togglePerMessage()
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
		// The filter narrows the stream: the chat view gives way to it.
		m.overlay, m.view = overlayNone, viewStream
		m.filtering = true
		return m.filter.Focus()
	case key.Matches(msg, k.Details):
		m.openDetails()
	case key.Matches(msg, k.Pause):
		m.stream.togglePause()
	case key.Matches(msg, k.Clear):
		m.clear()
	case key.Matches(msg, k.Copy):
		return m.copySelected()
	case key.Matches(msg, k.NewConn):
		return m.openForm(m.newConnForm())
	case key.Matches(msg, k.Reconnect):
		return m.reconnectNow()
	case key.Matches(msg, k.ToggleConn):
		return m.toggleConn()
	case key.Matches(msg, k.Group):
		if m.roster.kind() == hubPlain {
			m.setFlash("a plain hub has no groups API: join groups through one of its own methods (to: invoke)", true)
			return nil
		}
		return m.openForm(m.newGroupForm())
	case key.Matches(msg, k.Token):
		m.toggle(overlayToken)
	case key.Matches(msg, k.Matrix):
		m.toggle(overlayMatrix)
	case key.Matches(msg, k.SentLog):
		m.toggle(overlaySent)
	case key.Matches(msg, k.Trace):
		m.toggle(overlayTrace)
	case key.Matches(msg, k.ChatView):
		m.overlay = overlayNone
		m.view = map[mainView]mainView{viewStream: viewChat, viewChat: viewStream}[m.view]
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

// askQuit quits, or first asks once when connections were opened here
// beyond the ones the command opened: quitting closes them for good.
func (m *Model) askQuit() tea.Cmd {
	if m.cfg.Initial > 0 && len(m.roster.conns) > m.cfg.Initial {
		m.confirming = true
		return nil
	}
	return m.quit()
}

// composerKey handles the keys of the composer's inputs that type nothing.
func (m *Model) composerKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back):
		return m.setFocus(focusStream)
	case key.Matches(msg, k.NextFocus):
		return m.setFocus(m.focus + 1)
	case key.Matches(msg, k.PrevFocus):
		return m.setFocus(m.focus - 1)
	case key.Matches(msg, k.Submit):
		if m.focus != focusBody {
			return m.setFocus(focusBody)
		}
		return m.send()
	}
	return m.forwardToInput(msg)
}

// navigate moves whatever the focus points at: the sidebar's connection,
// or what the main area shows.
func (m *Model) navigate(n int) {
	if m.focus == focusSidebar && m.overlay != overlayDetail {
		m.moveSidebar(n)
		return
	}
	m.scroll(n)
}

// scroll moves what the main area shows: the detail pane, the matrix's or
// the sent log's selection, or the chat's or the stream's.
func (m *Model) scroll(n int) {
	switch m.overlay {
	case overlayDetail:
		m.detailScroll = max(m.detailScroll+n, 0)
		m.detailScroll = min(m.detailScroll, max(len(m.detailLines(m.mainWidth()))-m.bodyRows(), 0))
	case overlayMatrix:
		m.routing.nav.move(n, m.routing.recent.first(), m.routing.recent.end())
	case overlaySent:
		m.sent.nav.move(n, m.sent.records.first(), m.sent.records.end())
	case overlayTrace:
		m.trace.nav.move(n, m.trace.events.first(), m.trace.events.end())
	case overlayNone:
		if m.view == viewChat {
			m.chat.nav.move(n, m.chat.msgs.first(), m.chat.msgs.end())
			return
		}
		m.stream.move(n)
	}
}

func (m *Model) pageSize() int { return max(m.streamRows()-1, 1) }

func (m *Model) toggle(o overlay) {
	if m.overlay == o {
		m.overlay = overlayNone
		return
	}
	m.overlay = o
}

// back closes what is open, innermost first: the details (back to what
// opened them), an overlay, then the filter, then the error panel.
func (m *Model) back() {
	switch {
	case m.overlay == overlayDetail:
		m.overlay = m.detail.from
	case m.overlay != overlayNone:
		m.overlay = overlayNone
	case m.stream.query.active():
		m.filter.SetValue("")
		m.stream.setQuery("")
	default:
		m.roster.dismissErrors()
	}
}

func (m *Model) setFocus(f focusArea) tea.Cmd {
	m.focus = (f + focusCount) % focusCount
	if m.cfg.Replay != nil {
		// No composer in a replay: the focus is the stream or the sidebar.
		m.focus %= focusAs
	}
	return m.composer.focus(m.focus)
}

func (m *Model) openForm(f *form) tea.Cmd {
	f.setStyles(m.com.styles.Input)
	m.form = f
	m.overlay = overlayForm
	return f.inputs[0].Focus()
}

// clear empties the stream, the chat, the counters and the deliveries;
// connections, groups and the sent log stay.
func (m *Model) clear() {
	m.stream.clear()
	m.chat.clear()
	m.routing.clear()
	m.stats.clear()
	m.overlay = overlayNone
}

func (m *Model) setFlash(s string, isErr bool) {
	m.flash = flash{text: s, err: isErr, until: m.cfg.Now().Add(5 * time.Second)}
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
