package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// GroupChecker is implemented by a Sender that can ask the service whether
// a group has members (the REST existence call, available when a connection
// string is known). The Groups section shows the answer.
type GroupChecker interface {
	GroupExists(ctx context.Context, hub, group string) (bool, error)
}

// SendChecker is implemented by a Sender that can tell, when the server
// does not say where a message went (Azure does not), whether anybody was
// there to get it: the REST API's existence checks, available with a
// connection string. The sent log shows the answer.
type SendChecker interface {
	CheckSend(ctx context.Context, out Outgoing) (string, error)
}

// sendTimeout bounds one HTTP send or group action started from the screen.
const sendTimeout = 15 * time.Second

// sentMsg reports the answer to a send: rec is its record in the sent
// log; check is what the existence checks said when the answer did not
// say where it went.
type sentMsg struct {
	rec   uint64
	out   Outgoing
	res   manage.Outcome
	err   error
	check string
}

type groupDoneMsg struct {
	rec    uint64
	act    GroupAction
	member string
	res    manage.Outcome
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

// asConn is the connection of the identity the composer sends as: the
// one with that label, else the first of that user, connected ones first;
// nil when it has none.
func (m *Model) asConn() *conn {
	as := m.composer.sender()
	if i, ok := m.roster.index[as]; ok {
		return m.roster.conns[i]
	}
	var first *conn
	for _, c := range m.roster.conns {
		if c.who() != as {
			continue
		}
		if c.state == client.Connected {
			return c
		}
		if first == nil {
			first = c
		}
	}
	return first
}

// compose builds the composer's message as the identity it names: a
// send on that identity's hub, or a call of a hub method over its
// connection.
func (m *Model) compose() (Outgoing, *Call, error) {
	hub, label := m.cfg.Hub, ""
	if c := m.asConn(); c != nil {
		hub, label = c.hub, c.label
	} else if hubs := m.roster.hubs(); len(hubs) == 1 {
		hub = hubs[0]
	}
	return m.composer.compose(hub, label, m.roster.kind())
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
	rec := sentRecord{kind: sentSend, time: m.cfg.Now(), as: m.composer.sender(), to: out.To, name: out.Name, target: out.Target, chat: out.Chat}
	if out.Chat {
		rec.as, rec.text = out.Sender, out.Text
	} else {
		rec.text = string(out.Args)
	}
	r := m.sent.add(rec)
	if out.Chat {
		m.chat.own(r)
	}
	sender, ctx, id := m.cfg.Sender, m.cfg.Context, r.id
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		res, err := sender.Send(ctx, out)
		msg := sentMsg{rec: id, out: out, res: res, err: err}
		if _, known := res.Delivered(); err == nil && !known {
			if chk, ok := sender.(SendChecker); ok {
				txt, cerr := chk.CheckSend(ctx, out)
				if cerr != nil {
					txt = "not reported by the service, and the existence check failed: " + cerr.Error()
				}
				msg.check = txt
			}
		}
		return msg
	}
}

// onSent records the answer to a send: the sent log and the chat's echo show
// it, and a send that reached nobody becomes a row of the routing matrix.
func (m *Model) onSent(msg sentMsg) {
	r := m.sent.byID(msg.rec)
	if r == nil {
		return
	}
	r.applyOutcome(msg.res, msg.err)
	r.applyCheck(msg.check)
	if msg.err == nil {
		m.composer.sent(msg.out)
	}
	dest := sanitize(r.dest())
	switch {
	case msg.err != nil:
		m.setFlash("send to "+dest+" failed: "+sanitize(msg.err.Error()), true)
	case r.reachedNobody():
		m.routing.undelivered(r)
		m.setFlash("sent to "+dest+", reached nobody: "+sanitize(r.why()), true)
	default:
		m.setFlash("sent "+sanitize(r.target)+" to "+dest+": "+r.outcome(), false)
	}
}

// copySelected puts what is selected on the clipboard: the decoded claims
// in the token inspector, else the received record as the line `sigr
// watch` prints for it: a message event, or an error event with the record.
func (m *Model) copySelected() tea.Cmd {
	if m.overlay == overlayToken {
		return m.copyClaims()
	}
	e := m.current()
	if e == nil {
		m.setFlash("nothing selected to copy", true)
		return nil
	}
	if e.gap != nil {
		m.setFlash("a gap row is sigr's own: nothing was received to copy", true)
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
	m.setFlash("copied message #"+itoa(int(e.seq)+1)+" as JSON ("+itoa(len(line))+" bytes)", false)
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
	verb := map[bool]string{true: "join ", false: "leave "}[act.Add]
	r := m.sent.add(sentRecord{kind: sentGroup, time: m.cfg.Now(), target: groupName, text: verb + strings.TrimSpace(member)})
	sender, ctx, id := m.cfg.Sender, m.cfg.Context, r.id
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, sendTimeout)
		defer cancel()
		res, err := sender.Group(ctx, act)
		return groupDoneMsg{rec: id, act: act, member: member, res: res, err: err}
	}
}

func (m *Model) groupDone(msg groupDoneMsg) tea.Cmd {
	verb := map[bool]string{true: "joined", false: "left"}[msg.act.Add]
	if r := m.sent.byID(msg.rec); r != nil {
		r.applyOutcome(msg.res, msg.err)
	}
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
