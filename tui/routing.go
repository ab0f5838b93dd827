package tui

import (
	"hash/maphash"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// routing tells why a message arrived. It keeps the recent deliveries (one
// message as sent, seen by one or more of our connections) and reads a
// route from the emulator's route header or, without one, infers it from
// which connections received the same record. Sends from this screen that
// reached nobody join them, so that the routing matrix shows them too.
type routing struct {
	com        *common
	roster     *roster
	chatTarget string
	recent     idRing[delivery] // ids are delivery ids
	nav        listNav          // the routing matrix's selection
}

// delivery is one message as sent, seen by one or more of our connections:
// the receipts of identical records within a short window. The routing
// matrix shows one row per delivery. A send from this screen that the
// service wrote to no connection is a delivery without receipts, with the
// service's reason.
type delivery struct {
	id     uint64
	key    uint64 // hash of type, target, arguments and invocation id
	time   time.Time
	target string
	route  string  // the route header, if any
	conns  connSet // which of roster.conns received it
	seq    uint64  // the stream seq of the first receipt
	// sender and text are the chat message's author and text, or no
	// sender and the arguments as one line of JSON.
	sender, text string
	chat         uint64 // the chat view's line; noDelivery when not a chat message

	// undelivered marks a send that reached nobody; sent is its record
	// in the sent log and reason the service's why.
	undelivered bool
	sent        uint64
	reason      string
}

// received reports whether connection i received d.
func (d *delivery) received(i int) bool { return d.conns.has(i) }

// deliveryWindow is how far apart two identical receipts may be and still
// count as one delivery.
const deliveryWindow = 2 * time.Second

// maxDeliveries bounds the deliveries kept for the matrix and for routing
// inference.
const maxDeliveries = 512

// noDelivery is the delivery id of messages that are not routed sends
// (completions, closes, pings): the matrix leaves them out.
const noDelivery = ^uint64(0)

// maxSummary bounds the payload a delivery keeps for the matrix.
const maxSummary = 256

func newRouting(com *common, r *roster, chatTarget string) *routing {
	return &routing{com: com, roster: r, chatTarget: chatTarget, recent: newIDRing[delivery](maxDeliveries), nav: newListNav()}
}

func (r *routing) clear() {
	r.recent.clear()
	r.nav = newListNav()
}

// deliver finds the delivery that e is another receipt of (the same record
// on another of our connections within deliveryWindow) or starts a new one;
// it returns the delivery, nil for a message that is not a routed send,
// and whether it is new.
func (r *routing) deliver(e *entry) (*delivery, bool) {
	if e.msg.Type != protocol.TypeInvocation && e.msg.Type != protocol.TypeStreamInvocation {
		return nil, false
	}
	key := deliveryKey(&e.msg)
	ci := int(e.conn)
	// With one connection there is no other receipt to find.
	for back := 0; len(r.roster.conns) > 1 && back < r.recent.len() && back < 64; back++ {
		d := r.recent.newest(back)
		// The key first: during a flood every delivery looked at is
		// recent and almost none is the same message.
		if d.undelivered || d.key != key {
			continue
		}
		if e.time.Sub(d.time) > deliveryWindow {
			break
		}
		if !d.received(ci) {
			d.conns.add(ci)
			return d, false
		}
	}
	d := delivery{id: r.recent.end(), key: key, time: e.time, target: e.msg.Target, chat: noDelivery}
	if rt, ok := e.msg.Header("route"); ok {
		d.route = rt
	}
	d.conns.add(ci)
	r.recent.push(d)
	return r.recent.byID(d.id), true
}

// undelivered adds the matrix's row for rec, a send that reached nobody.
func (r *routing) undelivered(rec *sentRecord) {
	text := rec.text
	if !rec.chat {
		text = rec.target + " " + rec.text
	}
	r.recent.push(delivery{id: r.recent.end(), time: rec.time, target: rec.target, route: routeText(rec.to, rec.name),
		sender: rec.as, text: text, chat: noDelivery, undelivered: true, sent: rec.id, reason: rec.why()})
}

// byID returns the delivery with id, or nil once it has left the bounded
// list.
func (r *routing) byID(id uint64) *delivery { return r.recent.byID(id) }

// selectedDelivery is the matrix row under the cursor, or nil.
func (r *routing) selectedDelivery() *delivery {
	id, ok := r.nav.selected(r.recent.first(), r.recent.end())
	if !ok {
		return nil
	}
	return r.recent.byID(id)
}

// deliveryKey hashes what makes two receipts the same message. The keys
// never leave the process, so the seed is the process's own; maphash
// costs a tenth of FNV's byte at a time on a chat message.
func deliveryKey(msg *protocol.Message) uint64 {
	var h maphash.Hash
	h.SetSeed(deliverySeed)
	h.WriteByte(byte(msg.Type))
	h.WriteString(msg.Target)
	h.WriteByte(0)
	h.WriteString(msg.InvocationID)
	h.WriteByte(0)
	h.Write(msg.Arguments)
	h.Write(msg.Item)
	h.Write(msg.Result)
	h.WriteString(msg.Error)
	return h.Sum64()
}

var deliverySeed = maphash.MakeSeed()

// routeOf says why e arrived: the emulator's route header when present,
// else an inference from which of our connections received the same record
// (reported as inferred).
func (r *routing) routeOf(e *entry) (string, bool) {
	if e.failed {
		return "", false
	}
	if rt, ok := e.msg.Header("route"); ok {
		return sanitize(rt), false
	}
	if e.msg.Type != protocol.TypeInvocation && e.msg.Type != protocol.TypeStreamInvocation {
		// Completions, closes and the like answer one connection; a
		// route means nothing for them.
		return "", false
	}
	d := r.byID(e.delivery)
	if d == nil || len(r.roster.conns) < 2 {
		return "", true
	}
	return r.infer(d), true
}

// infer guesses a delivery's route from the set of our connections that
// received it: all of them is a broadcast, exactly one user's connections
// is that user, exactly a known group's members is that group.
func (r *routing) infer(d *delivery) string {
	conns := r.roster.conns
	var got []int
	live := 0
	for i, c := range conns {
		if d.received(i) {
			got = append(got, i)
		}
		if c.state == client.Connected || d.received(i) {
			live++
		}
	}
	if len(got) == 0 {
		return ""
	}
	if len(got) == live && live > 1 {
		return "broadcast"
	}
	user := conns[got[0]].who()
	sameUser := true
	for _, i := range got {
		if conns[i].who() != user {
			sameUser = false
		}
	}
	if sameUser {
		all := true
		for i, c := range conns {
			if c.who() == user && c.hub == conns[got[0]].hub && !d.received(i) {
				all = false
			}
		}
		if all && user != "anon" {
			return "user:" + sanitize(user)
		}
	}
	if r.roster.live.known {
		if g := r.roster.liveGroupMatch(got); g != "" {
			return "group:" + sanitize(g)
		}
	} else {
		for _, name := range r.roster.groupOrder {
			g := r.roster.groups[name]
			if r.groupMatches(g, got) {
				return "group:" + sanitize(g.name)
			}
		}
	}
	if len(got) == 1 {
		return "connection"
	}
	return "?"
}

// groupMatches reports whether the connections got are exactly the
// connections of g's known members.
func (r *routing) groupMatches(g *group, got []int) bool {
	in := map[int]bool{}
	for _, i := range got {
		in[i] = true
	}
	members := 0
	for i, c := range r.roster.conns {
		member := false
		for _, mb := range g.members {
			if mb == c.who() || mb == c.label || mb == c.connectionID {
				member = true
			}
		}
		if member {
			members++
			if !in[i] {
				return false
			}
		}
	}
	return members == len(got) && members > 0
}
