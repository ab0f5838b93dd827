package tui

import "sort"

// stream is the message list: the bounded history, the selection, whether
// it follows new messages or is paused, and the filter with the seqs it
// matches. Positions are seqs, so that eviction never moves the selection.
// Its costs are the rows on screen and the size of each batch, whatever
// the size of the history; only a new filter scans the history.
type stream struct {
	com     *common
	roster  *roster
	routing *routing
	calls   *invocations

	history   *ring
	cursor    uint64 // seq of the selected entry
	top       uint64 // seq of the first visible row
	follow    bool
	paused    bool
	pauseNext uint64 // history.next when paused: the view shows seqs below it

	query   query
	matches []uint64 // seqs of the view's rows, ascending; only when filtered
	// perMessage shows one row per message, its first receipt, with the
	// connections that received it, instead of one per receipt.
	perMessage bool

	rows rowCache // the rows drawn last, for the next frame
}

func newStream(com *common, r *roster, rt *routing, calls *invocations, history int) *stream {
	return &stream{com: com, roster: r, routing: rt, calls: calls, history: newRing(history), follow: true}
}

// push adds e to the history, and to the matches when it matches the
// filter; it returns e's seq.
func (s *stream) push(e entry) uint64 {
	seq := s.history.push(e)
	if s.filtered() {
		if kept := s.history.at(seq); s.visible(kept) {
			s.matches = append(s.matches, seq)
		}
	}
	return seq
}

// filtered reports whether the view is the matches, not the whole history.
func (s *stream) filtered() bool { return s.query.active() || s.perMessage }

// visible reports whether e is a row of the view: it matches the filter
// and, per message, it is its message's first receipt.
func (s *stream) visible(e *entry) bool {
	if e == nil {
		return false
	}
	if s.perMessage {
		if d := s.routing.byID(e.delivery); d != nil && d.seq != e.seq {
			return false
		}
	}
	return !s.query.active() || s.matchesQuery(e)
}

// setPerMessage switches between a row per message and a row per
// receipt, scanning the history once.
func (s *stream) setPerMessage(on bool) {
	if s.perMessage == on {
		return
	}
	s.perMessage = on
	s.rebuild()
}

// rebuild finds the view's rows again after the filter or the mode
// changed.
func (s *stream) rebuild() {
	s.matches = nil
	if s.filtered() {
		for seq := s.history.first; seq < s.history.next; seq++ {
			if s.visible(s.history.at(seq)) {
				s.matches = append(s.matches, seq)
			}
		}
	}
	s.follow = true
	s.cursor = s.last()
}

// matchesQuery reports whether the filter matches e, with the target and
// the route its row shows.
func (s *stream) matchesQuery(e *entry) bool {
	route, _ := s.routing.routeOf(e)
	return s.query.match(e, s.roster.of(e), s.targetOf(e), route)
}

// targetOf is the target a row shows and the filter matches: the
// message's, or for the answer to an invocation made here, its method.
func (s *stream) targetOf(e *entry) string {
	if e.gap != nil {
		return e.gap.word()
	}
	if iv := s.calls.of(e); iv != nil {
		return iv.target
	}
	return e.msg.Target
}

// settle runs after a batch: it forgets matches the ring has evicted and
// moves the selection to the newest row when following.
func (s *stream) settle() {
	s.trimMatches()
	if s.follow && !s.paused {
		s.cursor = s.last()
	}
}

// trimMatches drops matches the ring has evicted, and gives back memory
// once most of the slice is dead.
func (s *stream) trimMatches() {
	if len(s.matches) == 0 || s.matches[0] >= s.history.first {
		return
	}
	i := sort.Search(len(s.matches), func(i int) bool { return s.matches[i] >= s.history.first })
	s.matches = s.matches[i:]
	if cap(s.matches) > 1024 && len(s.matches) < cap(s.matches)/4 {
		s.matches = append([]uint64(nil), s.matches...)
	}
}

// setQuery applies a new filter, scanning the history once.
func (s *stream) setQuery(text string) {
	q := parseQuery(text)
	if q.equal(s.query) {
		return
	}
	s.query = q
	s.rebuild()
}

// The view is the history, or the matches when a filter is set, cut at
// pauseNext while paused. These helpers index into it.

func (s *stream) limit() uint64 {
	if s.paused {
		return s.pauseNext
	}
	return s.history.next
}

// len is the number of rows in the view.
func (s *stream) len() int {
	lim := s.limit()
	if s.filtered() {
		return sort.Search(len(s.matches), func(i int) bool { return s.matches[i] >= lim })
	}
	if lim <= s.history.first {
		return 0
	}
	return int(lim - s.history.first)
}

// seq is the seq of view row i.
func (s *stream) seq(i int) uint64 {
	if s.filtered() {
		return s.matches[i]
	}
	return s.history.first + uint64(i)
}

// index is the view row of the first entry at or after seq.
func (s *stream) index(seq uint64) int {
	if s.filtered() {
		return sort.Search(len(s.matches), func(i int) bool { return s.matches[i] >= seq })
	}
	if seq < s.history.first {
		return 0
	}
	return int(seq - s.history.first)
}

func (s *stream) last() uint64 {
	n := s.len()
	if n == 0 {
		return 0
	}
	return s.seq(n - 1)
}

// selected is the entry under the cursor, or nil.
func (s *stream) selected() *entry {
	n := s.len()
	if n == 0 {
		return nil
	}
	i := min(s.index(s.cursor), n-1)
	return s.history.at(s.seq(i))
}

// move moves the selection by n rows; leaving the bottom stops following,
// reaching it resumes.
func (s *stream) move(n int) {
	total := s.len()
	if total == 0 {
		return
	}
	i := min(s.index(s.cursor), total-1)
	i = clampInt(i+n, 0, total-1)
	s.cursor = s.seq(i)
	s.follow = i == total-1
}

// selectRow selects the row'th visible row from top, if there is one.
func (s *stream) selectRow(row int) bool {
	total := s.len()
	i := min(s.index(s.top), max(total-1, 0)) + row
	if total == 0 || i >= total {
		return false
	}
	s.cursor = s.seq(i)
	s.follow = i == total-1
	return true
}

// fixScroll keeps the selection inside the first rows rows from top.
func (s *stream) fixScroll(rows int) {
	total := s.len()
	if total == 0 || rows <= 0 {
		s.top = s.history.next
		return
	}
	cur := min(s.index(s.cursor), total-1)
	if s.follow && !s.paused {
		cur = total - 1
		s.cursor = s.seq(cur)
	}
	top := s.index(s.top)
	if top > cur {
		top = cur
	}
	if cur >= top+rows {
		top = cur - rows + 1
	}
	if top+rows > total {
		top = max(total-rows, 0)
	}
	s.top = s.seq(top)
}

func (s *stream) togglePause() {
	s.paused = !s.paused
	if s.paused {
		s.pauseNext = s.history.next
		return
	}
	if s.follow {
		s.cursor = s.last()
	}
}

// clear empties the history and the matches, and follows again.
func (s *stream) clear() {
	s.history.clear()
	s.matches = nil
	s.follow = true
	s.pauseNext = s.history.next
	s.cursor = s.history.next
}
