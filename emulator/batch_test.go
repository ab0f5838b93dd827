package emulator

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/sigr-dev/sigr/protocol"
)

// TestDrainKeepsBatchesWithinBudget drains a queue of mixed sizes and
// checks every batch: in order, at most max records, at most batchBytes
// unless it is one record, and no smaller than the budget allowed.
func TestDrainKeepsBatchesWithinBudget(t *testing.T) {
	sizes := []int{100, 5 << 10, 5 << 10, 20 << 10, 100 << 10, 10, 10, batchBytes, 1, batchBytes - 1, 1, 1, 600 << 10, 600 << 10}
	for range 200 {
		sizes = append(sizes, 50)
	}
	c := &conn{out: newOutQueue(len(sizes))}
	var want [][]byte
	for i, n := range sizes {
		rec := bytes.Repeat([]byte{byte('a' + i%26)}, n)
		want = append(want, rec)
		if !c.out.push(rec) {
			t.Fatal("queue full")
		}
	}
	const max = 64
	var got [][]byte
	for len(got) < len(want) {
		batch := c.drain(nil, max, nil)
		if len(batch) == 0 {
			t.Fatalf("drain gave nothing with %d records queued", len(want)-len(got))
		}
		total := 0
		for _, r := range batch {
			total += len(r)
		}
		if len(batch) > max || (len(batch) > 1 && total > batchBytes) {
			t.Fatalf("batch of %d records, %d bytes", len(batch), total)
		}
		got = append(got, batch...)
		if rest := len(want) - len(got); rest > 0 && len(batch) < max && total+len(want[len(got)]) <= batchBytes {
			t.Fatalf("batch of %d bytes stopped before a %d-byte record that fits", total, len(want[len(got)]))
		}
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d out of order", i)
		}
	}
	if c.out.pending() {
		t.Fatal("records left")
	}
}

// TestLongPollCloseDeliversBacklogInBoundedPolls closes a long-polling
// connection with more queued than one answer may carry: the backlog
// arrives over several polls, each within the budget, with the Close
// message last, and then the connection is gone.
func TestLongPollCloseDeliversBacklogInBoundedPolls(t *testing.T) {
	st := startStack(t, nil)
	u, tok, n := connectLP(t, st, "lp")
	rc := restClient(t, st)
	const msgs = 10
	pad := strings.Repeat("z", 10<<10)
	for i := range msgs {
		if err := rc.SendToConnection(context.Background(), "chat", n.ConnectionID, "m", []byte(`[`+strconv.Itoa(i)+`,"`+pad+`"]`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.CloseConnection(context.Background(), "chat", n.ConnectionID, "bye"); err != nil {
		t.Fatal(err)
	}
	var recs []protocol.Message
	polls := 0
	for {
		r, b := doReq(t, "GET", u, tok, nil, nil)
		if r.StatusCode == 204 || r.StatusCode == 404 {
			break
		}
		if r.StatusCode != 200 {
			t.Fatalf("poll %d: %d %s", polls, r.StatusCode, b)
		}
		polls++
		if polls > 2*msgs {
			t.Fatal("the polls do not end")
		}
		if len(b) == 0 {
			// An empty 200 is a poll that woke with nothing to carry; the
			// protocol's clients poll again, and so does this one.
			continue
		}
		parts := bytes.Split(bytes.TrimSuffix(b, []byte{0x1e}), []byte{0x1e})
		if len(parts) > 1 && len(b) > batchBytes+200 {
			t.Errorf("poll %d: %d records in %d bytes", polls, len(parts), len(b))
		}
		for _, p := range parts {
			m, err := protocol.ParseMessage(p, protocol.Lenient)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, m)
		}
	}
	if len(recs) != msgs+1 || recs[msgs].Type != protocol.TypeClose {
		t.Fatalf("got %d records (last type %d), want %d invocations then Close", len(recs), recs[len(recs)-1].Type, msgs)
	}
	for i := range msgs {
		if recs[i].Type != protocol.TypeInvocation || !strings.HasPrefix(string(recs[i].Arguments), "["+strconv.Itoa(i)+",") {
			t.Fatalf("record %d: type %d", i, recs[i].Type)
		}
	}
	if polls < 4 {
		t.Errorf("%d polls carried %d KiB: not bounded", polls, msgs*10)
	}
}
