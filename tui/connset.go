package tui

// connSet is a set of our connections by roster index: which of them
// received a message. The first 64 fit in one word, so a receipt in a
// session of any ordinary size costs no allocation (a slice per message
// did, twice: the delivery's and the chat line's); more spill into words
// allocated as needed.
type connSet struct {
	low  uint64
	high []uint64 // connections 64 and up, 64 to a word
}

// has reports whether connection i is in the set.
func (s *connSet) has(i int) bool {
	switch {
	case i < 0:
		return false
	case i < 64:
		return s.low&(1<<uint(i)) != 0
	}
	w := i/64 - 1
	return w < len(s.high) && s.high[w]&(1<<uint(i%64)) != 0
}

// add puts connection i in the set.
func (s *connSet) add(i int) {
	switch {
	case i < 0:
		return
	case i < 64:
		s.low |= 1 << uint(i)
		return
	}
	w := i/64 - 1
	if w >= len(s.high) {
		s.high = append(s.high, make([]uint64, w+1-len(s.high))...)
	}
	s.high[w] |= 1 << uint(i%64)
}
