package tui

import (
	"hash/fnv"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// routing tells why a message arrived. It keeps the recent deliveries (one
// message as sent, seen by one or more of our connections) and reads a
// route from the emulator's route header or, without one, infers it from
// which connections received the same record.
type routing struct {
	com    *common
	roster *roster
	recent []delivery // a ring of maxDeliveries
	start  int
	next   uint64 // id of the next delivery
}

// delivery is one message as sent, seen by one or more of our connections:
// the receipts of identical records within a short window. The routing
// matrix shows one row per delivery.
type delivery struct {
	id     uint64
	key    uint64 // hash of type, target, arguments and invocation id
	time   time.Time
	target string
	route  string // the route header, if any
	conns  []bool // indexed like roster.conns; shorter when they came later
}

// received reports whether connection i received d.
func (d *delivery) received(i int) bool { return i < len(d.conns) && d.conns[i] }

// deliveryWindow is how far apart two identical receipts may be and still
// count as one delivery.
const deliveryWindow = 2 * time.Second

// maxDeliveries bounds the deliveries kept for the matrix and for routing
// inference.
const maxDeliveries = 512

// noDelivery is the delivery id of messages that are not routed sends
// (completions, closes, pings): the matrix leaves them out.
const noDelivery = ^uint64(0)

func newRouting(com *common, r *roster) *routing { return &routing{com: com, roster: r} }

func (r *routing) clear() { r.recent, r.start = nil, 0 }

// deliver finds the delivery that e is another receipt of (the same record
// on another of our connections within deliveryWindow) or starts a new one,
// and returns its id.
func (r *routing) deliver(e *entry) uint64 {
	if e.msg.Type != protocol.TypeInvocation && e.msg.Type != protocol.TypeStreamInvocation {
		return noDelivery
	}
	key := deliveryKey(&e.msg)
	ci := int(e.conn)
	n := len(r.recent)
	for back := 0; back < n && back < 64; back++ {
		d := &r.recent[(r.start+n-1-back)%n]
		if e.time.Sub(d.time) > deliveryWindow {
			break
		}
		if d.key == key && !d.received(ci) {
			if ci >= len(d.conns) {
				d.conns = append(d.conns, make([]bool, ci+1-len(d.conns))...)
			}
			d.conns[ci] = true
			return d.id
		}
	}
	d := delivery{id: r.next, key: key, time: e.time, target: e.msg.Target, conns: make([]bool, len(r.roster.conns))}
	if rt, ok := e.msg.Header("route"); ok {
		d.route = rt
	}
	d.conns[ci] = true
	r.next++
	if n < maxDeliveries {
		r.recent = append(r.recent, d)
	} else {
		r.recent[r.start] = d
		r.start = (r.start + 1) % maxDeliveries
	}
	return d.id
}

// byID returns the delivery with id, or nil once it has left the bounded
// list.
func (r *routing) byID(id uint64) *delivery {
	n := uint64(len(r.recent))
	if n == 0 || id >= r.next || r.next-id > n {
		return nil
	}
	oldest := r.next - n
	return &r.recent[(uint64(r.start)+id-oldest)%n]
}

func deliveryKey(msg *protocol.Message) uint64 {
	h := fnv.New64a()
	h.Write([]byte{byte(msg.Type)})
	h.Write([]byte(msg.Target))
	h.Write([]byte{0})
	h.Write([]byte(msg.InvocationID))
	h.Write([]byte{0})
	h.Write(msg.Arguments)
	h.Write(msg.Item)
	h.Write(msg.Result)
	h.Write([]byte(msg.Error))
	return h.Sum64()
}

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
	for _, name := range r.roster.groupOrder {
		g := r.roster.groups[name]
		if r.groupMatches(g, got) {
			return "group:" + sanitize(g.name)
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
