package tui

import (
	"hash/fnv"
	"sort"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// ingest applies one batch: state changes update the connections, messages
// go into the ring, the counters and the deliveries. Its cost is the size of
// the batch, whatever the size of the history.
func (m *Model) ingest(b Batch) {
	for i := range b.Events {
		ev := &b.Events[i]
		switch ev.Kind {
		case EventState:
			m.applyState(ev)
		case EventMessage:
			m.applyMessage(ev)
		}
	}
	if b.Dropped > 0 {
		m.dropped += b.Dropped
		m.totalCount += b.Dropped
		m.total.add(m.cfg.Now(), b.Dropped)
		for t, n := range b.DroppedByTarget {
			m.targetStat(t).count += n
		}
	}
	m.trimMatches()
	if m.follow && !m.paused {
		m.cursor = m.lastSeq()
	}
}

func (m *Model) connFor(ev *Event) int {
	if i, ok := m.connIdx[ev.Conn]; ok {
		return i
	}
	m.conns = append(m.conns, &conn{label: ev.Conn, hub: ev.Hub, user: ev.User})
	i := len(m.conns) - 1
	m.connIdx[ev.Conn] = i
	for j := range m.deliveries {
		m.deliveries[j].conns = append(m.deliveries[j].conns, false)
	}
	return i
}

func (m *Model) applyState(ev *Event) {
	c := m.conns[m.connFor(ev)]
	if ev.State == StateConnected {
		switch {
		case ev.Resumed:
			c.resumes++
		case ev.ConnectionID != "" && c.connectionID != "" && ev.ConnectionID != c.connectionID:
			c.reconnects++
		}
	}
	c.state = ev.State
	if ev.Transport != "" {
		c.transport = ev.Transport
	}
	if ev.ConnectionID != "" {
		c.connectionID = ev.ConnectionID
	}
	c.attempt = ev.Attempt
	c.retryAt = time.Time{}
	if ev.RetryIn > 0 {
		c.retryAt = ev.Time.Add(ev.RetryIn)
	}
	if ev.State == StateConnected {
		c.err = ""
	} else if ev.Err != "" {
		c.err = ev.Err
	}
	m.applyToken(c, ev.Token)
}

func (m *Model) applyToken(c *conn, tok string) {
	if tok == "" || tok == c.token {
		return
	}
	c.token = tok
	c.claims = decodeClaims(tok)
	c.tokenUser = ""
	if c.claims != nil {
		c.tokenUser = protocol.UserIDFromClaims(c.claims)
	}
}

func (m *Model) targetStat(name string) *targetStat {
	t := m.targets[name]
	if t == nil {
		t = &targetStat{name: name}
		m.targets[name] = t
		m.targetOrd = append(m.targetOrd, t)
	}
	return t
}

func (m *Model) applyMessage(ev *Event) {
	ci := m.connFor(ev)
	m.totalCount++
	m.total.add(ev.Time, 1)
	if ev.Msg.Type == protocol.TypeInvocation || ev.Msg.Type == protocol.TypeStreamInvocation {
		t := m.targetStat(ev.Msg.Target)
		t.count++
		t.rate.add(ev.Time, 1)
	}
	e := entry{time: ev.Time, conn: ci, msg: ev.Msg, raw: ev.Raw}
	e.delivery = m.deliver(&e)
	seq := m.history.push(e)
	if m.query.active() && m.query.match(m, m.history.at(seq)) {
		m.matches = append(m.matches, seq)
	}
}

// deliver finds the delivery that e is another receipt of (the same record
// on another of our connections within deliveryWindow) or starts a new one,
// and returns its id.
func (m *Model) deliver(e *entry) uint64 {
	if e.msg.Type != protocol.TypeInvocation && e.msg.Type != protocol.TypeStreamInvocation {
		return noDelivery
	}
	key := deliveryKey(&e.msg)
	n := len(m.deliveries)
	for back := 0; back < n && back < 64; back++ {
		d := &m.deliveries[(m.delStart+n-1-back)%n]
		if e.time.Sub(d.time) > deliveryWindow {
			break
		}
		if d.key == key && !d.conns[e.conn] {
			d.conns[e.conn] = true
			return d.id
		}
	}
	d := delivery{id: m.nextDel, key: key, time: e.time, target: e.msg.Target, conns: make([]bool, len(m.conns)), seq: m.history.next}
	if r, ok := e.msg.Header("route"); ok {
		d.route = r
	}
	d.conns[e.conn] = true
	m.nextDel++
	if n < maxDeliveries {
		m.deliveries = append(m.deliveries, d)
	} else {
		m.deliveries[m.delStart] = d
		m.delStart = (m.delStart + 1) % maxDeliveries
	}
	return d.id
}

// noDelivery is the delivery id of messages that are not routed sends
// (completions, closes, pings): the matrix leaves them out.
const noDelivery = ^uint64(0)

// deliveryByID returns the delivery with id, or nil once it has left the
// bounded list.
func (m *Model) deliveryByID(id uint64) *delivery {
	n := uint64(len(m.deliveries))
	if n == 0 || id >= m.nextDel || m.nextDel-id > n {
		return nil
	}
	oldest := m.nextDel - n
	return &m.deliveries[(uint64(m.delStart)+id-oldest)%n]
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

// trimMatches drops matches the ring has evicted, and gives back memory
// once most of the slice is dead.
func (m *Model) trimMatches() {
	if len(m.matches) == 0 || m.matches[0] >= m.history.first {
		return
	}
	i := sort.Search(len(m.matches), func(i int) bool { return m.matches[i] >= m.history.first })
	m.matches = m.matches[i:]
	if cap(m.matches) > 1024 && len(m.matches) < cap(m.matches)/4 {
		m.matches = append([]uint64(nil), m.matches...)
	}
}

// setQuery applies a new filter, scanning the history once.
func (m *Model) setQuery(s string) {
	q := parseQuery(s)
	if q.equal(m.query) {
		return
	}
	m.query = q
	m.matches = nil
	if q.active() {
		for seq := m.history.first; seq < m.history.next; seq++ {
			if q.match(m, m.history.at(seq)) {
				m.matches = append(m.matches, seq)
			}
		}
	}
	m.follow = true
	m.cursor = m.lastSeq()
}

// The stream's view is the history, or the matches when a filter is set,
// cut at pauseNext while paused. These helpers index into it.

func (m *Model) viewLimit() uint64 {
	if m.paused {
		return m.pauseNext
	}
	return m.history.next
}

func (m *Model) viewLen() int {
	lim := m.viewLimit()
	if m.query.active() {
		return sort.Search(len(m.matches), func(i int) bool { return m.matches[i] >= lim })
	}
	if lim <= m.history.first {
		return 0
	}
	return int(lim - m.history.first)
}

func (m *Model) viewSeq(i int) uint64 {
	if m.query.active() {
		return m.matches[i]
	}
	return m.history.first + uint64(i)
}

// viewIndex is the position of the first view element at or after seq.
func (m *Model) viewIndex(seq uint64) int {
	if m.query.active() {
		return sort.Search(len(m.matches), func(i int) bool { return m.matches[i] >= seq })
	}
	if seq < m.history.first {
		return 0
	}
	return int(seq - m.history.first)
}

func (m *Model) lastSeq() uint64 {
	n := m.viewLen()
	if n == 0 {
		return 0
	}
	return m.viewSeq(n - 1)
}

// selected is the entry under the cursor, or nil.
func (m *Model) selected() *entry {
	n := m.viewLen()
	if n == 0 {
		return nil
	}
	i := min(m.viewIndex(m.cursor), n-1)
	return m.history.at(m.viewSeq(i))
}

// moveCursor moves the selection by n rows; leaving the bottom stops
// following, reaching it resumes.
func (m *Model) moveCursor(n int) {
	total := m.viewLen()
	if total == 0 {
		return
	}
	i := min(m.viewIndex(m.cursor), total-1)
	i = clampInt(i+n, 0, total-1)
	m.cursor = m.viewSeq(i)
	m.follow = i == total-1
}

// fixScroll keeps the selection inside the visible rows.
func (m *Model) fixScroll() {
	h := m.streamRows()
	total := m.viewLen()
	if total == 0 || h <= 0 {
		m.topSeq = m.history.next
		return
	}
	cur := min(m.viewIndex(m.cursor), total-1)
	if m.follow && !m.paused {
		cur = total - 1
		m.cursor = m.viewSeq(cur)
	}
	top := m.viewIndex(m.topSeq)
	if top > cur {
		top = cur
	}
	if cur >= top+h {
		top = cur - h + 1
	}
	if top+h > total {
		top = max(total-h, 0)
	}
	m.topSeq = m.viewSeq(top)
}

func (m *Model) pageSize() int { return max(m.streamRows()-1, 1) }

func (m *Model) togglePause() {
	m.paused = !m.paused
	if m.paused {
		m.pauseNext = m.history.next
		return
	}
	if m.follow {
		m.cursor = m.lastSeq()
	}
}

// clear empties the stream, the counters and the deliveries; connections and
// groups stay.
func (m *Model) clear() {
	m.history.clear()
	m.matches = nil
	m.deliveries = nil
	m.delStart = 0
	m.targets = map[string]*targetStat{}
	m.targetOrd = nil
	m.total = rate{}
	m.totalCount = 0
	m.dropped = 0
	m.follow = true
	m.pauseNext = m.history.next
	m.cursor = m.history.next
	m.overlay = overlayNone
}
