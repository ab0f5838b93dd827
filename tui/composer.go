package tui

import (
	"encoding/json"
	"errors"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/protocol"
)

// composer is the bottom line that writes messages: the destination, the
// target and the message, each a text input.
type composer struct {
	com        *common
	chatTarget string
	to         textinput.Model
	target     textinput.Model
	body       textinput.Model
}

func newComposer(com *common, chatTarget string) composer {
	c := composer{com: com, chatTarget: chatTarget}
	c.to = newInput("all", "")
	c.target = newInput(chatTarget, "")
	c.body = newInput("message, or a JSON array of arguments", "")
	c.to.SetWidth(12)
	c.target.SetWidth(11)
	return c
}

// input returns the input that focus f names, or nil.
func (c *composer) input(f focusArea) *textinput.Model {
	switch f {
	case focusBody:
		return &c.body
	case focusTo:
		return &c.to
	case focusTarget:
		return &c.target
	}
	return nil
}

// focus gives the keys to the input f names, if any, and takes them from
// the others.
func (c *composer) focus(f focusArea) tea.Cmd {
	c.body.Blur()
	c.to.Blur()
	c.target.Blur()
	if in := c.input(f); in != nil {
		return in.Focus()
	}
	return nil
}

func (c *composer) setStyles(s textinput.Styles) {
	for _, in := range []*textinput.Model{&c.to, &c.target, &c.body} {
		in.SetStyles(s)
	}
}

// compose builds the message the composer holds, for hub as sender (the
// selected connection's, else the defaults). A JSON array is sent as the
// arguments; other text to the chat target goes out as the chat sample's
// body with our user as sender; other text to another target becomes one
// string argument.
func (c *composer) compose(hub, sender string) (Outgoing, error) {
	text := c.body.Value()
	if strings.TrimSpace(text) == "" {
		return Outgoing{}, errors.New("nothing to send: type a message first")
	}
	to, name, err := parseDest(c.to.Value())
	if err != nil {
		return Outgoing{}, err
	}
	target := strings.TrimSpace(c.target.Value())
	if target == "" {
		target = c.chatTarget
	}
	out := Outgoing{Hub: hub, Target: target, To: to, Name: name}
	trimmed := strings.TrimSpace(text)
	switch {
	case strings.HasPrefix(trimmed, "[") && json.Valid([]byte(trimmed)):
		out.Args = json.RawMessage(trimmed)
	case target == c.chatTarget && to != ToConnection:
		out.Chat, out.Sender, out.Text = true, sender, text
	case target == c.chatTarget:
		// The chat body has no connection field: send what the function
		// would have sent, the body as the one argument.
		b, _ := json.Marshal([]protocol.ChatMessage{{Sender: sender, Text: text}})
		out.Args = b
	default:
		b, _ := json.Marshal([]string{text})
		out.Args = b
	}
	return out, nil
}

// sent clears the message once out has gone, unless it was edited since.
func (c *composer) sent(out Outgoing) {
	if out.Chat && c.body.Value() == out.Text {
		c.body.SetValue("")
	} else if !out.Chat && strings.TrimSpace(c.body.Value()) != "" {
		c.body.SetValue("")
	}
}

// Render is the composer's line, w cells wide: who we send as, the
// destination, the target and the message; focus marks the input that has
// the keys.
func (c *composer) Render(w int, focus focusArea, as string) string {
	s := c.com.styles
	label := func(text string, f focusArea) string {
		if focus == f {
			return s.SectionFocus.Render(text)
		}
		return s.Label.Render(text)
	}
	line := s.Muted.Render("as ") + s.Stream.Conn.Render(sanitize(as)) + "  " +
		label("to ", focusTo) + c.to.View() + " " + label("target ", focusTarget) + c.target.View() + " " + label("› ", focusBody)
	body := c.body
	body.SetWidth(max(w-ansi.StringWidth(line)-2, 4))
	return fit(line+body.View(), w)
}

// parseDest reads a destination: all, user:ID, group:NAME or conn:ID.
func parseDest(s string) (Destination, string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "all") || s == "*" {
		return ToAll, "", nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return ToAll, "", errors.New("destination " + sanitize(s) + ": write all, user:ID, group:NAME or conn:ID")
	}
	name = strings.TrimSpace(name)
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "user", "u":
		return ToUser, name, nil
	case "group", "g":
		return ToGroup, name, nil
	case "conn", "connection", "c":
		return ToConnection, name, nil
	}
	return ToAll, "", errors.New("destination " + sanitize(s) + ": write all, user:ID, group:NAME or conn:ID")
}

// newInput returns a text input with the screen's limits.
func newInput(placeholder, prompt string) textinput.Model {
	in := textinput.New()
	in.Placeholder = placeholder
	in.Prompt = prompt
	in.CharLimit = 4096
	return in
}
