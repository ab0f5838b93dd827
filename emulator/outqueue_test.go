package emulator

import (
	"fmt"
	"testing"
)

// TestOutQueue checks the bound, the order, the ready token and that an
// emptied queue lets a burst's backing array go.
func TestOutQueue(t *testing.T) {
	q := newOutQueue(3)
	for i := range 3 {
		if !q.push([]byte{byte(i)}) {
			t.Fatalf("push %d refused below the limit", i)
		}
	}
	if q.push([]byte{9}) {
		t.Fatal("push past the limit accepted")
	}
	select {
	case <-q.ready:
	default:
		t.Fatal("no ready token with records waiting")
	}
	b, _ := q.pop()
	if b[0] != 0 || !q.pending() {
		t.Fatalf("pop = %v; pending after one of three", b)
	}
	<-q.ready // re-armed by pending
	q.pop()
	q.pop()
	if _, ok := q.pop(); ok || q.pending() {
		t.Fatal("records left in an emptied queue")
	}

	big := newOutQueue(1000)
	for i := range 500 {
		big.push([]byte(fmt.Sprint(i)))
	}
	for range 500 {
		big.pop()
	}
	if big.items != nil {
		t.Errorf("an emptied queue keeps a %d-slot array", cap(big.items))
	}
}
