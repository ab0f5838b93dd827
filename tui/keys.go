package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the screen, in one place so that the hint
// line, the `?` page and Update agree: Update matches keys only through
// these bindings, and FullHelp lists each of them once.
//
// While a text input has the keys, a key that types text (q, j, k, G, …)
// is text whatever binding names it, so only keys that type nothing act
// there: Submit, Back, NextFocus and PrevFocus, Interrupt, and in a
// form Up and Down.
type KeyMap struct {
	// Quit closes the overlay shown, else quits; with connections opened
	// here beyond the first ones, it asks first.
	Quit key.Binding
	// Interrupt quits at once, from anywhere, inputs included.
	Interrupt key.Binding
	// Confirm answers yes when the screen asks (quitting with connections
	// opened here).
	Confirm   key.Binding
	Help      key.Binding
	NextFocus key.Binding
	PrevFocus key.Binding
	Filter    key.Binding
	Details   key.Binding
	Back      key.Binding
	Pause     key.Binding
	Clear     key.Binding
	Copy      key.Binding
	NewConn   key.Binding
	Group     key.Binding
	Token     key.Binding
	Matrix    key.Binding
	Compose   key.Binding
	// ChatView toggles the main area between the stream and the chat.
	ChatView key.Binding
	SentLog  key.Binding
	// Trace shows the service's own trace: sigr's emulator's view.
	Trace key.Binding
	// Reconnect reconnects the selected connection now, skipping the
	// rest of its backoff.
	Reconnect key.Binding
	// ToggleConn closes the selected connection, or opens it again: "bob
	// is offline" without quitting.
	ToggleConn key.Binding

	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	// PerMessage toggles the stream between one row per message and one
	// per receipt (each connection's copy).
	PerMessage key.Binding
	// Save writes what the stream keeps to a file of event lines.
	Save key.Binding
	// Choose picks among a form's choices (the group dialog's add or
	// remove).
	Choose key.Binding

	// Submit sends the composer's message, ends the filter, and moves
	// through a form to its submission.
	Submit key.Binding
}

// DefaultKeyMap returns sigr's key bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit/close")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit now")),
		Confirm:   key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes, when asked")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "keys")),
		NextFocus: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus")),
		PrevFocus: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "focus back")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Details:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Pause:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Clear:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clear")),
		Copy:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy JSON")),
		NewConn:   key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new conn")),
		Group:     key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "group join/leave")),
		Token:     key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "token")),
		Matrix:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "routing")),
		// Compose jumps straight to the message input, so chatting does not
		// mean tabbing past the sidebar first.
		Compose:    key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "write")),
		ChatView:   key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "chat/stream")),
		SentLog:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sent log")),
		Trace:      key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "service trace")),
		Reconnect:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "reconnect now")),
		ToggleConn: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "close/reopen conn")),

		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "oldest")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "follow")),

		PerMessage: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "per message/receipt")),
		Save:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "save to file")),
		Choose:     key.NewBinding(key.WithKeys("left", "right", "space"), key.WithHelp("←/→", "choose")),
		Submit:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
	}
}

// ShortHelp is the one line of hints at the bottom.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Help, k.Compose, k.ChatView, k.NextFocus, k.Filter, k.Details, k.Matrix, k.SentLog, k.NewConn, relabel(k.Quit, "q", "quit")}
}

// FullHelp is the `?` page, in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.NextFocus, k.PrevFocus, k.Choose},
		{k.Compose, k.Submit, k.Filter, k.Details, k.Back, k.Pause, k.Clear, k.Copy, k.Save},
		{k.ChatView, k.PerMessage, k.Matrix, k.SentLog, k.Trace, k.Token, k.NewConn, k.Reconnect, k.ToggleConn, k.Group, k.Help, k.Quit, k.Interrupt, k.Confirm},
	}
}

// relabel returns b shown as helpKey and desc, for the hint line of a mode
// in which it does something more specific: enter moves through a form, and
// inside an input only Quit's ctrl+c quits.
func relabel(b key.Binding, helpKey, desc string) key.Binding {
	b.SetHelp(helpKey, desc)
	return b
}
