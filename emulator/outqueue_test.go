package emulator

import (
	"bytes"
	"fmt"
	"testing"
)

// TestOutQueue checks the bound, the order, the ready token, the limits of
// take and that an emptied queue lets a burst's backing array go.
func TestOutQueue(t *testing.T) {
	const all = int(^uint(0) >> 1)
	ready := func(q *outQueue) bool {
		select {
		case <-q.ready:
			return true
		default:
			return false
		}
	}
	q := newOutQueue(3)
	for i := range 3 {
		if !q.push([]byte{byte(i)}) {
			t.Fatalf("push %d refused below the limit", i)
		}
	}
	if q.push([]byte{9}) {
		t.Fatal("push past the limit accepted")
	}
	if !ready(q) {
		t.Fatal("no ready token with records waiting")
	}
	if b := q.take(nil, 1, all); len(b) != 1 || b[0][0] != 0 || !ready(q) {
		t.Fatalf("take 1 of 3 = %v, or no token for the two left", b)
	}
	if b := q.take(nil, 10, all); len(b) != 2 || b[0][0] != 1 || b[1][0] != 2 || ready(q) || q.pending() {
		t.Fatalf("take the rest = %v, or a token or records left", b)
	}

	// Past the first record, a batch stops at batchBytes; and at room.
	q = newOutQueue(10)
	first, second, third := bytes.Repeat([]byte{'a'}, batchBytes-10), bytes.Repeat([]byte{'b'}, 20), []byte("c")
	for _, r := range [][]byte{first, second, third} {
		q.push(r)
	}
	<-q.ready
	if b := q.take(nil, 10, all); len(b) != 1 || !ready(q) {
		t.Fatalf("took %d records past batchBytes, or left no token", len(b))
	}
	if b := q.take(nil, 10, 20); len(b) != 1 || !bytes.Equal(b[0], second) || !ready(q) {
		t.Fatalf("took %d records past the room", len(b))
	}
	if b := q.take(nil, 10, all); len(b) != 1 || !bytes.Equal(b[0], third) {
		t.Fatalf("last take = %q", b)
	}

	big := newOutQueue(1000)
	for i := range 500 {
		big.push([]byte(fmt.Sprint(i)))
	}
	for range 500 {
		big.take(nil, 1, all)
	}
	if big.items != nil {
		t.Errorf("an emptied queue keeps a %d-slot array", cap(big.items))
	}
}
