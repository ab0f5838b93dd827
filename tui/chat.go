package tui

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// maxChat bounds the messages the chat view keeps.
const maxChat = 5000

// ownWindow is how long after an own message was sent a received copy of
// it is taken as its echo rather than a new message.
const ownWindow = sendTimeout

// chatContent is a chat message as the samples send it.
type chatContent struct {
	sender, text string
	// What the serverless chat sample's body may also carry: where it was
	// sent (recipient, groupname) and, in the bidirectional sample, the
	// connection that sent it.
	recipient, group, connectionID string
}

// chatOf reads msg as a chat message: an invocation whose first argument
// is an object with a string text (and sender), as the serverless chat
// samples send it (the bidirectional one adds connectionId); or, for the
// chat target, one or two strings (text, or sender and text), as the
// ASP.NET Core chat samples do.
func chatOf(msg *protocol.Message, chatTarget string) (chatContent, bool) {
	if msg.Type != protocol.TypeInvocation || len(msg.Arguments) < 3 {
		return chatContent{}, false
	}
	a := bytes.TrimLeft(msg.Arguments, " \t\r\n")
	if len(a) < 2 || a[0] != '[' {
		return chatContent{}, false
	}
	if i := skipSpace(a, 1); i < len(a) && a[i] == '{' {
		return chatObject(a, i)
	}
	if msg.Target != chatTarget {
		return chatContent{}, false
	}
	var ss []string
	if json.Unmarshal(a, &ss) != nil {
		return chatContent{}, false
	}
	switch len(ss) {
	case 1:
		return chatContent{text: ss[0]}, true
	case 2:
		return chatContent{sender: ss[0], text: ss[1]}, true
	}
	return chatContent{}, false
}

// chatMsg is one line of the chat view: a message as sent, however many
// of our connections received it.
type chatMsg struct {
	time   time.Time
	sender string
	text   string
	// dest is where it went: everyone, a user id, #group or conn:ID, from
	// the route header or the body; "" when neither says, and the view
	// infers it from which connections received it.
	dest     string
	delivery uint64 // the routing delivery; noDelivery before a receipt
	seq      uint64 // the stream seq of its first receipt
	received connSet
	// own marks a message sent from this screen; sent is its record in
	// the sent log, which holds its outcome.
	own  bool
	sent uint64
}

// receivedBy reports whether connection i received c.
func (c *chatMsg) receivedBy(i int) bool { return c.received.has(i) }

func (c *chatMsg) markReceived(i int) { c.received.add(i) }

// chatLog is the chat view's messages, oldest first, and its selection.
type chatLog struct {
	com     *common
	roster  *roster
	routing *routing
	sent    *sentLog
	msgs    idRing[chatMsg]
	nav     listNav
	// unmatched are the own messages no connection of ours has received
	// yet, oldest first, until ownWindow has passed: what a received
	// chat message is compared with, so that the comparison costs nothing
	// while this screen sends nothing.
	unmatched []uint64
	// drawn are the messages' lines as fix drew them, unselected, drawnW
	// wide, for the View that follows: Update is the one place the state
	// changes, so they hold until the next one (which forgets them).
	drawn  map[uint64][]string
	drawnW int
}

func newChatLog(com *common, r *roster, rt *routing, sent *sentLog) *chatLog {
	return &chatLog{com: com, roster: r, routing: rt, sent: sent, msgs: newIDRing[chatMsg](maxChat), nav: newListNav()}
}

func (c *chatLog) clear() {
	c.msgs.clear()
	c.nav = newListNav()
	c.unmatched = nil
}

// own adds the echo of a chat message sent from this screen, before any
// connection may have received it.
func (c *chatLog) own(r *sentRecord) {
	id := c.msgs.push(chatMsg{time: r.time, sender: r.as, text: r.text, dest: r.dest(), delivery: noDelivery, own: true, sent: r.id})
	c.unmatched = append(c.unmatched, id)
	r.chatLine = id
}

// received takes the first receipt of a delivery that is a chat message:
// it becomes the echo of an own message with the same sender and text
// sent moments before to the same place, or a new line. It returns the
// line's id.
func (c *chatLog) received(d *delivery, e *entry, b chatContent) uint64 {
	dest := destOfRoute(d.route)
	switch {
	case d.route != "":
	case b.recipient != "":
		dest = b.recipient
	case b.group != "":
		dest = "#" + b.group
	}
	keep := c.unmatched[:0]
	match := noDelivery
	for _, id := range c.unmatched {
		m := c.msgs.byID(id)
		switch {
		case m == nil || e.time.Sub(m.time) > ownWindow:
			continue // evicted, or too old to be received now
		case match == noDelivery && m.sender == b.sender && m.text == b.text && (d.route == "" || dest == m.dest):
			m.delivery, m.seq = d.id, e.seq
			m.markReceived(int(e.conn))
			match = id
			continue
		}
		keep = append(keep, id)
	}
	c.unmatched = keep
	if match != noDelivery {
		return match
	}
	m := chatMsg{time: e.time, sender: b.sender, text: b.text, dest: dest, delivery: d.id, seq: e.seq}
	m.markReceived(int(e.conn))
	return c.msgs.push(m)
}

// receipt marks another of our connections as having received line id.
func (c *chatLog) receipt(id uint64, conn int32) {
	if m := c.msgs.byID(id); m != nil {
		m.markReceived(int(conn))
	}
}

// selectedMsg is the line under the cursor, or nil.
func (c *chatLog) selectedMsg() *chatMsg {
	id, ok := c.nav.selected(c.msgs.first(), c.msgs.end())
	if !ok {
		return nil
	}
	return c.msgs.byID(id)
}

// destOf is where m went as the view shows it, and whether it is only
// inferred from which of our connections received it.
func (c *chatLog) destOf(m *chatMsg) (string, bool) {
	if m.dest != "" {
		return m.dest, false
	}
	if d := c.routing.byID(m.delivery); d != nil {
		if rt := c.routing.infer(d); rt != "" && rt != "?" && rt != "connection" {
			return destOfRoute(rt), true
		}
	}
	return "?", true
}

// chatText is how the stream shows a chat message before its JSON: the
// author, then the text.
func chatText(b chatContent) string {
	if b.sender == "" {
		return sanitize(b.text)
	}
	return sanitize(b.sender) + ": " + sanitize(b.text)
}
