package tui

import "testing"

// TestRingWrapsAndClears fills a ring whose capacity is not a whole number
// of chunks past its capacity, clears it and fills it again, checking every
// seq it should hold, and only those.
func TestRingWrapsAndClears(t *testing.T) {
	const capacity = 2*ringChunk + 300
	r := newRing(capacity)
	check := func(first, next uint64) {
		t.Helper()
		if r.Len() != int(next-first) {
			t.Fatalf("Len %d, want %d", r.Len(), next-first)
		}
		if first > 0 && r.at(first-1) != nil {
			t.Fatalf("seq %d still held", first-1)
		}
		if r.at(next) != nil {
			t.Fatalf("seq %d held before it was pushed", next)
		}
		for seq := first; seq < next; seq++ {
			e := r.at(seq)
			if e == nil || e.seq != seq || e.delivery != seq*7 {
				t.Fatalf("at(%d) = %+v", seq, e)
			}
		}
	}
	push := func(n int) {
		for range n {
			r.push(entry{delivery: r.next * 7})
		}
	}
	push(capacity - 1)
	check(0, capacity-1)
	push(capacity + 500)
	check(2*capacity-1+500-capacity, 2*capacity-1+500)
	r.clear()
	check(r.next, r.next)
	push(ringChunk + 3)
	check(r.next-ringChunk-3, r.next)
	if len(r.chunks) != 3 {
		t.Fatalf("%d chunks for a capacity of %d", len(r.chunks), capacity)
	}
}
