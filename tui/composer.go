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

// composer is the bottom line that writes messages: who sends, the
// destination, the target and the message, each a text input. Who sends
// is its own input, so that sending as another identity is always
// explicit: the sidebar's selection never changes it.
type composer struct {
	com        *common
	chatTarget string
	as         textinput.Model
	to         textinput.Model
	target     textinput.Model
	body       textinput.Model
}

func newComposer(com *common, chatTarget, as string) composer {
	c := composer{com: com, chatTarget: chatTarget}
	c.as = newInput(DefaultSender, "")
	c.as.SetValue(as)
	c.to = newInput("all", "")
	c.target = newInput(chatTarget, "")
	c.body = newInput("message, or a JSON array of arguments", "")
	c.as.SetWidth(8)
	c.to.SetWidth(12)
	c.target.SetWidth(11)
	return c
}

// sender is who the composer sends as: its as input, else DefaultSender.
func (c *composer) sender() string {
	if as := strings.TrimSpace(c.as.Value()); as != "" {
		return as
	}
	return DefaultSender
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
	case focusAs:
		return &c.as
	}
	return nil
}

// focus gives the keys to the input f names, if any, and takes them from
// the others.
func (c *composer) focus(f focusArea) tea.Cmd {
	c.body.Blur()
	c.to.Blur()
	c.target.Blur()
	c.as.Blur()
	if in := c.input(f); in != nil {
		return in.Focus()
	}
	return nil
}

func (c *composer) setStyles(s textinput.Styles) {
	for _, in := range []*textinput.Model{&c.as, &c.to, &c.target, &c.body} {
		in.SetStyles(s)
	}
}

// hubKind is what the session's URL turned out to be, which decides where
// the composer can send.
type hubKind int

const (
	hubUnknown hubKind = iota // nothing has connected yet
	// hubService is Azure SignalR Service: a function app's negotiate
	// redirected to it (url and accessToken), or a connection string.
	hubService
	// hubPlain is a plain ASP.NET Core hub: its negotiate is not an Azure
	// redirect, so there is no function app and no REST API, only the
	// hub's own methods.
	hubPlain
)

// dest is where the composer's message goes: through the Sender to
// everyone, a user, a group or a connection, or over our own connection
// as a hub method invocation.
type dest struct {
	to     Destination
	name   string
	invoke bool
	stream bool
}

// parseTo reads the composer's destination for a hub of kind k: what
// parseDest reads, or invoke or stream. Empty is invoke on a plain hub
// and all elsewhere; a plain hub has nothing to send through.
func parseTo(s string, k hubKind) (dest, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "invoke", "hub", "method":
		return dest{invoke: true}, nil
	case "stream":
		return dest{invoke: true, stream: true}, nil
	case "":
		if k == hubPlain {
			return dest{invoke: true}, nil
		}
	}
	to, name, err := parseDest(s)
	if err != nil {
		return dest{}, errors.New(err.Error() + ", or invoke or stream to call a hub method")
	}
	if k == hubPlain {
		return dest{}, errors.New("destination " + sanitize(s) + ": a plain hub has no function app or REST API to send through; write invoke or stream to call one of its methods")
	}
	return dest{to: to, name: name}, nil
}

// destinations is the hint line while the destination has the keys: what
// may be written there, for a hub of kind k.
func destinations(k hubKind) string {
	if k == hubPlain {
		return "to: invoke (default) · stream: a hub method, over the connection of as"
	}
	return "to: all · user:ID · group:NAME · conn:ID, or invoke · stream a hub method over as's connection"
}

// compose builds the message the composer holds on a hub of kind k: an
// Outgoing for the Sender on hub, as the composer's sender, or a Call of a
// hub method over the connection labelled conn.
//
// For a send, a JSON array is sent as the arguments; other text to the
// chat target goes out as the chat sample's body with our user as sender;
// other text to another target becomes one string argument. For an
// invocation, a JSON array is the arguments, other text one string
// argument, and nothing none.
func (c *composer) compose(hub, conn string, k hubKind) (Outgoing, *Call, error) {
	sender := c.sender()
	d, err := parseTo(c.to.Value(), k)
	if err != nil {
		return Outgoing{}, nil, err
	}
	text := c.body.Value()
	trimmed := strings.TrimSpace(text)
	target := strings.TrimSpace(c.target.Value())
	if d.invoke {
		switch {
		case target == "":
			return Outgoing{}, nil, errors.New("name the hub method to invoke in target (tab to it)")
		case conn == "":
			return Outgoing{}, nil, errors.New("no connection of " + sanitize(sender) + " to invoke over: set as (tab to it) to one of your connections, or press n to open one")
		}
		call := &Call{Conn: conn, Target: target, Stream: d.stream, Args: json.RawMessage("[]")}
		switch {
		case strings.HasPrefix(trimmed, "[") && json.Valid([]byte(trimmed)):
			call.Args = json.RawMessage(trimmed)
		case trimmed != "":
			call.Args, _ = json.Marshal([]string{text})
		}
		return Outgoing{}, call, nil
	}
	if trimmed == "" {
		return Outgoing{}, nil, errors.New("nothing to send: type a message first")
	}
	if target == "" {
		target = c.chatTarget
	}
	out := Outgoing{Hub: hub, Target: target, To: d.to, Name: d.name}
	switch {
	case strings.HasPrefix(trimmed, "[") && json.Valid([]byte(trimmed)):
		out.Args = json.RawMessage(trimmed)
	case target == c.chatTarget && d.to != ToConnection:
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
	return out, nil, nil
}

// sent clears the message once out has gone, unless it was edited since.
func (c *composer) sent(out Outgoing) {
	if out.Chat && c.body.Value() == out.Text {
		c.body.SetValue("")
	} else if !out.Chat && strings.TrimSpace(c.body.Value()) != "" {
		c.body.SetValue("")
	}
}

// invoked clears the arguments once a call has gone; the method stays,
// to be called again.
func (c *composer) invoked(Call) { c.body.SetValue("") }

// Render is the composer's line, w cells wide: who we send as, the
// destination, the target (the method, for an invocation) and the message
// or arguments; focus marks the input that has the keys. k decides the
// default destination, which the empty input shows.
func (c *composer) Render(w int, focus focusArea, k hubKind) string {
	s := c.com.styles
	label := func(text string, f focusArea) string {
		if focus == f {
			return s.SectionFocus.Render(text)
		}
		return s.Label.Render(text)
	}
	d, _ := parseTo(c.to.Value(), k)
	to, target, body := c.to, c.target, c.body
	targetLabel := "target "
	if k == hubPlain {
		to.Placeholder = "invoke"
	}
	if d.invoke {
		targetLabel = "method "
		target.Placeholder = "name"
		body.Placeholder = "arguments: a JSON array, or one text argument"
	}
	line := label("as ", focusAs) + c.view(&c.as, focus == focusAs) + " " +
		label("to ", focusTo) + c.view(&to, focus == focusTo) + " " + label(targetLabel, focusTarget) + c.view(&target, focus == focusTarget) + " " + label("› ", focusBody)
	body.SetWidth(max(w-ansi.StringWidth(line)-2, 4))
	return fit(line+c.view(&body, focus == focusBody), w)
}

// view draws an input. Without the keys, its text is drawn sanitised: it
// may have come from elsewhere than the keyboard (a paste, --user), and
// only the text being edited is shown as typed.
func (c *composer) view(in *textinput.Model, focused bool) string {
	if focused || in.Value() == "" {
		return in.View()
	}
	w := in.Width()
	return c.com.styles.Input.Blurred.Text.Render(fit(sanitize(in.Value()), w+1))
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
