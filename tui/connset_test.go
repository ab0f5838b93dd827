package tui

import "testing"

// TestConnSet checks membership on both sides of the first word and far
// beyond it, and that a set of the first 64 connections never allocates.
func TestConnSet(t *testing.T) {
	var s connSet
	in := []int{0, 1, 63, 64, 65, 127, 128, 200, 1000}
	for _, i := range in {
		s.add(i)
	}
	want := map[int]bool{}
	for _, i := range in {
		want[i] = true
	}
	for i := -1; i <= 1100; i++ {
		if s.has(i) != want[i] {
			t.Fatalf("has(%d) = %v, want %v", i, s.has(i), want[i])
		}
	}
	s.add(-3)
	if s.has(-3) {
		t.Fatal("a negative index joined the set")
	}
	if n := testing.AllocsPerRun(100, func() {
		var d connSet
		for i := range 64 {
			d.add(i)
		}
		if !d.has(63) {
			panic("lost")
		}
	}); n != 0 {
		t.Fatalf("%v allocations for 64 connections", n)
	}
}
