package tui

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/protocol"
)

// GroupChecker is implemented by a Sender that can ask the service whether
// a group has members (the REST existence call, available when a connection
// string is known). The Groups section shows the answer.
type GroupChecker interface {
	GroupExists(ctx context.Context, hub, group string) (bool, error)
}

// sendTimeout bounds one HTTP send or group action started from the screen.
const sendTimeout = 15 * time.Second

type sentMsg struct {
	out Outgoing
	err error
}

type groupDoneMsg struct {
	act    GroupAction
	member string
	err    error
}

type openedMsg struct {
	label string
	err   error
}

type existsMsg struct {
	group  string
	exists bool
	err    error
}

// me is the connection the composer, the token inspector and group actions
// act for: the one selected in the sidebar.
func (m *Model) me() *conn {
	if len(m.conns) == 0 {
		return nil
	}
	return m.conns[clampInt(m.selConn, 0, len(m.conns)-1)]
}

// parseDest reads the composer's destination: all, user:ID, group:NAME or
// conn:ID.
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

// compose builds the message the composer holds. A JSON array is sent as the
// arguments; other text to the chat target goes out as the chat sample's
// body with our user as sender; other text to another target becomes one
// string argument.
func (m *Model) compose() (Outgoing, error) {
	text := m.body.Value()
	if strings.TrimSpace(text) == "" {
		return Outgoing{}, errors.New("nothing to send: type a message first")
	}
	to, name, err := parseDest(m.to.Value())
	if err != nil {
		return Outgoing{}, err
	}
	target := strings.TrimSpace(m.target.Value())
	if target == "" {
		target = m.cfg.ChatTarget
	}
	out := Outgoing{Hub: m.cfg.Hub, Target: target, To: to, Name: name}
	sender := ""
	if c := m.me(); c != nil {
		out.Hub = c.hub
		sender = c.who()
	}
	trimmed := strings.TrimSpace(text)
	switch {
	case strings.HasPrefix(trimmed, "[") && json.Valid([]byte(trimmed)):
		out.Args = json.RawMessage(trimmed)
	case target == m.cfg.ChatTarget && to != ToConnection:
		out.Chat, out.Sender, out.Text = true, sender, text
	case target == m.cfg.ChatTarget:
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

func (m *Model) send() tea.Cmd {
	if m.cfg.Sender == nil {
		m.setFlash("sending is not available in this session", true)
		return nil
	}
	out, err := m.compose()
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	sender, ctx := m.cfg.Sender, m.cfg.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		return sentMsg{out: out, err: sender.Send(ctx, out)}
	}
}

func (m *Model) sent(msg sentMsg) {
	if msg.err != nil {
		m.setFlash("send failed: "+sanitize(msg.err.Error()), true)
		return
	}
	if msg.out.Chat && m.body.Value() == msg.out.Text {
		m.body.SetValue("")
	} else if !msg.out.Chat && strings.TrimSpace(m.body.Value()) != "" {
		m.body.SetValue("")
	}
	dest := msg.out.To.String()
	if msg.out.Name != "" {
		dest += ":" + msg.out.Name
	}
	m.setFlash("sent "+sanitize(msg.out.Target)+" to "+sanitize(dest), false)
}

func (m *Model) copySelected() tea.Cmd {
	e := m.selected()
	if e == nil {
		m.setFlash("nothing selected to copy", true)
		return nil
	}
	c := m.conns[e.conn]
	line := protocol.AppendMessageEvent(nil, e.time, &e.msg, protocol.EventContext{Connection: c.label, Hub: c.hub, Raw: e.raw})
	m.setFlash("copied message #"+itoa(int(e.seq))+" as JSON ("+itoa(len(line))+" bytes)", false)
	return tea.SetClipboard(strings.TrimRight(string(line), "\n"))
}

// parseHeaders reads "name: value; name2: value2".
func parseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, errors.New("header " + sanitize(part) + ": write name: value, separated by ;")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func (m *Model) openConn(hub, user, headers string) tea.Cmd {
	if m.cfg.Session == nil {
		m.setFlash("new connections are not available in this session", true)
		return nil
	}
	hub = strings.TrimSpace(hub)
	if hub == "" {
		hub = m.cfg.Hub
	}
	if !protocol.ValidHubName(hub) {
		m.setFlash("hub "+sanitize(hub)+" is not a valid hub name: start with a letter, then letters, digits or _", true)
		return nil
	}
	h, err := parseHeaders(headers)
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	spec := ConnSpec{Hub: hub, User: strings.TrimSpace(user), Headers: h}
	spec.Name = m.uniqueLabel(spec)
	sess, ctx := m.cfg.Session, m.cfg.Context
	return func() tea.Msg {
		return openedMsg{label: spec.Label(), err: sess.Open(ctx, spec)}
	}
}

// uniqueLabel names a new connection user@hub, or user#2@hub when that
// identity is already open: a second connection of the same user is how
// user routing is checked.
func (m *Model) uniqueLabel(spec ConnSpec) string {
	l := spec.Label()
	u, h, _ := strings.Cut(l, "@")
	for n := 2; ; n++ {
		if _, dup := m.connIdx[l]; !dup {
			return l
		}
		l = u + "#" + strconv.Itoa(n) + "@" + h
	}
}

func (m *Model) groupAction(groupName, action, member string) tea.Cmd {
	if m.cfg.Sender == nil {
		m.setFlash("group actions are not available in this session", true)
		return nil
	}
	groupName = strings.TrimSpace(groupName)
	if !protocol.ValidGroupName(groupName) {
		m.setFlash("group "+sanitize(groupName)+" is not a valid group name", true)
		return nil
	}
	act := GroupAction{Hub: m.cfg.Hub, Group: groupName}
	switch strings.ToLower(strings.TrimSpace(action)) {
	case "", "join", "add":
		act.Add = true
	case "leave", "remove":
	default:
		m.setFlash("action "+sanitize(action)+": write join or leave", true)
		return nil
	}
	if c := m.me(); c != nil {
		act.Hub = c.hub
	}
	to, name, err := parseDest(member)
	switch {
	case err != nil:
		m.setFlash(err.Error(), true)
		return nil
	case to == ToUser:
		act.UserID = name
	case to == ToConnection:
		act.ConnectionID = name
	default:
		m.setFlash("member: write user:ID or conn:ID", true)
		return nil
	}
	sender, ctx := m.cfg.Sender, m.cfg.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		return groupDoneMsg{act: act, member: member, err: sender.Group(ctx, act)}
	}
}

func (m *Model) groupDone(msg groupDoneMsg) tea.Cmd {
	verb := map[bool]string{true: "joined", false: "left"}[msg.act.Add]
	if msg.err != nil {
		m.setFlash("group "+sanitize(msg.act.Group)+": "+sanitize(msg.err.Error()), true)
		return nil
	}
	name := msg.act.UserID
	if name == "" {
		name = msg.act.ConnectionID
		for _, c := range m.conns {
			if c.connectionID == name {
				name = c.label
			}
		}
	}
	g := m.groups[msg.act.Group]
	if g == nil {
		g = &group{name: msg.act.Group, hub: msg.act.Hub}
		m.groups[g.name] = g
		m.groupOrd = append(m.groupOrd, g.name)
	}
	g.members = removeString(g.members, name)
	if msg.act.Add {
		g.members = append(g.members, name)
	}
	m.setFlash(sanitize(name)+" "+verb+" "+sanitize(g.name), false)
	if chk, ok := m.cfg.Sender.(GroupChecker); ok {
		ctx, hub, gn := m.cfg.Context, g.hub, g.name
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(ctx, sendTimeout)
			defer cancel()
			ok, err := chk.GroupExists(ctx, hub, gn)
			return existsMsg{group: gn, exists: ok, err: err}
		}
	}
	return nil
}

// AddGroupMember records a membership made outside the screen (the demo
// puts bob in devs before the screen starts), so the Groups section shows
// it.
func (m *Model) AddGroupMember(hub, groupName, member string) {
	g := m.groups[groupName]
	if g == nil {
		g = &group{name: groupName, hub: hub}
		m.groups[groupName] = g
		m.groupOrd = append(m.groupOrd, groupName)
	}
	g.members = append(removeString(g.members, member), member)
}

func removeString(s []string, v string) []string {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
