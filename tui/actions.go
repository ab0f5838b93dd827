package tui

import (
	"context"
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

// compose builds the composer's message as the selected connection, on its
// hub: a send, or a call of a hub method over that connection.
func (m *Model) compose() (Outgoing, *Call, error) {
	hub, as, label := m.cfg.Hub, "", ""
	if c := m.roster.selected(); c != nil {
		hub, as, label = c.hub, c.who(), c.label
	}
	return m.composer.compose(hub, as, label, m.roster.kind())
}

func (m *Model) send() tea.Cmd {
	out, call, err := m.compose()
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	if call != nil {
		return m.invoke(*call)
	}
	if m.cfg.Sender == nil {
		m.setFlash("sending is not available in this session", true)
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
	m.composer.sent(msg.out)
	dest := msg.out.To.String()
	if msg.out.Name != "" {
		dest += ":" + msg.out.Name
	}
	m.setFlash("sent "+sanitize(msg.out.Target)+" to "+sanitize(dest), false)
}

// copySelected puts the selected entry on the clipboard as the line `sigr
// watch` prints for it: a message event, or an error event with the record.
func (m *Model) copySelected() tea.Cmd {
	e := m.stream.selected()
	if e == nil {
		m.setFlash("nothing selected to copy", true)
		return nil
	}
	c := m.roster.of(e)
	ectx := protocol.EventContext{Connection: c.label, Hub: c.hub, Raw: e.raw}
	var line []byte
	if e.failed || e.note != nil {
		// A note of sigr's own was not received: it copies as an error.
		line = protocol.AppendErrorEvent(nil, e.time, e.msg.Error, ectx)
	} else {
		line = protocol.AppendMessageEvent(nil, e.time, &e.msg, ectx)
	}
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
	if hub != "" && !protocol.ValidHubName(hub) {
		m.setFlash("hub "+sanitize(hub)+" is not a valid hub name: start with a letter, then letters, digits or _", true)
		return nil
	}
	h, err := parseHeaders(headers)
	if err != nil {
		m.setFlash(err.Error(), true)
		return nil
	}
	spec := ConnSpec{Hub: hub, User: strings.TrimSpace(user), Headers: h}
	spec.Name = m.roster.uniqueLabel(spec)
	sess, ctx := m.cfg.Session, m.cfg.Context
	return func() tea.Msg {
		return openedMsg{label: spec.Label(), err: sess.Open(ctx, spec)}
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
	if c := m.roster.selected(); c != nil {
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
		name = m.roster.nameOf(msg.act.ConnectionID)
	}
	var g *group
	if msg.act.Add {
		g = m.roster.addMember(msg.act.Hub, msg.act.Group, name)
	} else {
		g = m.roster.removeMember(msg.act.Hub, msg.act.Group, name)
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

func itoa(n int) string { return strconv.Itoa(n) }
