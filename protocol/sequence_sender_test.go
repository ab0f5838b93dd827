package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// numbered returns an encoded invocation whose argument is n, padded to
// about size bytes, so a test can tell records apart by their text.
func numbered(n, size int) []byte {
	arg := strconv.Itoa(n)
	if pad := size - 40 - len(arg); pad > 0 {
		arg += `,"` + string(bytes.Repeat([]byte("x"), pad)) + `"`
	}
	m := NewInvocation("n", []byte("["+arg+"]"))
	return AppendMessage(nil, &m)
}

// TestSequenceSenderZero: the zero value has nothing kept and numbers
// from 1.
func TestSequenceSenderZero(t *testing.T) {
	var s SequenceSender
	if s.Next() != 1 {
		t.Fatalf("Next %d, want 1", s.Next())
	}
	if n, b := s.Pending(); n != 0 || b != 0 {
		t.Fatalf("Pending %d, %d", n, b)
	}
	if got, next := s.Replay(nil, 1, 100); len(got) != 0 || next != 1 {
		t.Fatalf("Replay of nothing: %d records, next %d", len(got), next)
	}
	if s.Ack(5) != 0 || s.Next() != 1 {
		t.Fatalf("an Ack of nothing changed the sender: Next %d", s.Next())
	}
	if id := s.Add(numbered(1, 0)); id != 1 {
		t.Fatalf("first id %d", id)
	}
}

// TestSequenceSenderAck: ids count up across Acks; an Ack drops up to its
// id, an old Ack drops nothing, one past the latest drops everything,
// and Pending follows in records and bytes.
func TestSequenceSenderAck(t *testing.T) {
	var s SequenceSender
	recs := make([][]byte, 6)
	total := 0
	for i := range recs {
		recs[i] = numbered(i+1, 50+10*i)
		total += len(recs[i])
		if id := s.Add(recs[i]); id != int64(i+1) {
			t.Fatalf("record %d got id %d", i+1, id)
		}
	}
	if n, b := s.Pending(); n != 6 || b != total {
		t.Fatalf("Pending %d, %d; want 6, %d", n, b, total)
	}
	if d := s.Ack(2); d != 2 || s.Next() != 3 {
		t.Fatalf("Ack 2 dropped %d, Next %d", d, s.Next())
	}
	total -= len(recs[0]) + len(recs[1])
	if n, b := s.Pending(); n != 4 || b != total {
		t.Fatalf("after Ack 2: Pending %d, %d; want 4, %d", n, b, total)
	}
	if d := s.Ack(1); d != 0 || s.Next() != 3 {
		t.Fatalf("an old Ack dropped %d, Next %d", d, s.Next())
	}
	if d := s.Ack(0); d != 0 {
		t.Fatalf("Ack 0 dropped %d", d)
	}
	if d := s.Ack(3); d != 1 || s.Next() != 4 {
		t.Fatalf("Ack 3 dropped %d, Next %d", d, s.Next())
	}
	if d := s.Ack(100); d != 3 || s.Next() != 7 {
		t.Fatalf("an Ack past the latest dropped %d, Next %d; want 3, 7", d, s.Next())
	}
	if n, b := s.Pending(); n != 0 || b != 0 {
		t.Fatalf("all acknowledged: Pending %d, %d", n, b)
	}
	if id := s.Add(numbered(7, 0)); id != 7 || s.Next() != 7 {
		t.Fatalf("after everything was acknowledged: id %d, Next %d; want 7, 7", id, s.Next())
	}
}

// TestSequenceSenderReplayChunks: a replay comes in chunks of at most the
// budget, oldest first; a record larger than the budget goes alone; a
// budget of 0 gives one record a chunk; from before the oldest kept
// record starts at the oldest, from the middle starts there, from past
// the latest gives nothing.
func TestSequenceSenderReplayChunks(t *testing.T) {
	var s SequenceSender
	sizes := []int{100, 100, 100, 500, 100, 100, 60}
	for i, n := range sizes {
		s.Add(numbered(i+1, n))
	}
	s.Ack(1) // 2 to 7 are kept
	ids := func(chunk [][]byte) []int { return replayIDs(t, chunk) }
	rec := func(i int) int { return len(numbered(i, sizes[i-1])) }

	// A budget of two small records: 2-3, then 4 alone (larger than the
	// budget), then 5-6, then 7, then nothing.
	budget := rec(2) + rec(3)
	want := [][]int{{2, 3}, {4}, {5, 6}, {7}}
	from := s.Next()
	var chunk [][]byte
	for i, w := range want {
		chunk, from = s.Replay(chunk[:0], from, budget)
		if got := ids(chunk); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("chunk %d: %v, want %v", i, got, w)
		}
		if len(chunk) > 1 && size(chunk) > budget {
			t.Fatalf("chunk %d: %d bytes over the budget of %d", i, size(chunk), budget)
		}
	}
	if chunk, next := s.Replay(chunk[:0], from, budget); len(chunk) != 0 || next != 8 {
		t.Fatalf("after the latest: %v, next %d; want nothing, 8", ids(chunk), next)
	}
	// A budget just short of two records takes one.
	if chunk, next := s.Replay(nil, 2, budget-1); fmt.Sprint(ids(chunk)) != "[2]" || next != 3 {
		t.Fatalf("budget short of two: %v next %d", ids(chunk), next)
	}
	// Budget 0: one record each.
	if chunk, next := s.Replay(nil, 5, 0); fmt.Sprint(ids(chunk)) != "[5]" || next != 6 {
		t.Fatalf("budget 0: %v next %d", ids(chunk), next)
	}
	// From the middle, everything.
	if chunk, next := s.Replay(nil, 5, 1<<20); fmt.Sprint(ids(chunk)) != "[5 6 7]" || next != 8 {
		t.Fatalf("from 5: %v next %d", ids(chunk), next)
	}
	// From 0: ids start at 1, and 1 was acknowledged.
	if chunk, next := s.Replay(nil, 0, 1<<20); fmt.Sprint(ids(chunk)) != "[0 2 3 4 5 6 7]" || next != 8 {
		t.Fatalf("from 0: %v next %d; want a placeholder for 1, then 2 to 7", ids(chunk), next)
	}
	// From past the latest.
	if chunk, next := s.Replay(nil, 20, 1<<20); len(chunk) != 0 || next != 20 {
		t.Fatalf("from 20: %v next %d", ids(chunk), next)
	}
	// The records are the ones added, not copies.
	chunk, _ = s.Replay(nil, 2, 1<<20)
	if &chunk[0][0] != &s.recs[0][0] {
		t.Fatal("Replay copied a record")
	}
}

// replayIDs returns the number each record of chunk carries, 0 for a
// ReplayPlaceholder.
func replayIDs(t *testing.T, chunk [][]byte) []int {
	t.Helper()
	var out []int
	for _, r := range chunk {
		if string(r) == ReplayPlaceholder {
			out = append(out, 0)
			continue
		}
		m, err := ParseMessage(bytes.TrimSuffix(r, []byte{RecordSeparator}), Strict)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		fmt.Sscanf(string(m.Arguments), "[%d", &n)
		out = append(out, n)
	}
	return out
}

// size returns the bytes of chunk.
func size(chunk [][]byte) int {
	n := 0
	for _, r := range chunk {
		n += len(r)
	}
	return n
}

// TestSequenceSenderReplaySkipsAcked: an Ack that arrives between two
// chunks turns what it covers, of what is left to replay, into
// placeholders that keep the ids in place, within the same budget.
func TestSequenceSenderReplaySkipsAcked(t *testing.T) {
	var s SequenceSender
	for i := 1; i <= 10; i++ {
		s.Add(numbered(i, 100))
	}
	one := len(numbered(1, 100))
	chunk, from := s.Replay(nil, s.Next(), 2*one)
	if fmt.Sprint(replayIDs(t, chunk)) != "[1 2]" || from != 3 {
		t.Fatalf("first chunk %v, next %d", replayIDs(t, chunk), from)
	}
	s.Ack(6) // the peer had up to 6
	var got []int
	for {
		chunk, from = s.Replay(chunk[:0], from, 2*one)
		if len(chunk) == 0 {
			break
		}
		if len(chunk) > 1 && size(chunk) > 2*one {
			t.Fatalf("chunk of %d bytes over the budget of %d", size(chunk), 2*one)
		}
		got = append(got, replayIDs(t, chunk)...)
	}
	if fmt.Sprint(got) != "[0 0 0 0 7 8 9 10]" || from != 11 {
		t.Fatalf("after Ack 6: %v next %d; want placeholders for 3 to 6, then 7 to 10", got, from)
	}
	if 4*len(ReplayPlaceholder) >= 4*one/2 {
		t.Fatalf("a placeholder (%d bytes) saves little against a %d-byte record", len(ReplayPlaceholder), one)
	}
}

// TestSequenceSenderModel checks the sender against a plain model over
// random adds, acks and chunked replays from random ids: ids, Next,
// Pending and every replay (order, budget, content, placeholders for
// what was acknowledged) agree.
func TestSequenceSenderModel(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var s SequenceSender
		model := map[int64][]byte{} // kept records by id
		var sent, acked int64
		for range 400 {
			switch op := rng.IntN(10); {
			case op < 5:
				r := numbered(int(sent+1), rng.IntN(300))
				sent++
				model[sent] = r
				if id := s.Add(r); id != sent {
					t.Fatalf("seed %d: id %d, want %d", seed, id, sent)
				}
			case op < 7:
				id := acked + int64(rng.IntN(8)) - 2
				if rng.IntN(20) == 0 {
					id = sent + 5
				}
				dropped := 0
				for k := acked + 1; k <= min(id, sent); k++ {
					delete(model, k)
					dropped++
				}
				acked = max(acked, min(id, sent))
				if d := s.Ack(id); d != dropped {
					t.Fatalf("seed %d: Ack %d dropped %d, want %d", seed, id, d, dropped)
				}
			default:
				from := acked + 1 + int64(rng.IntN(10)) - 3
				budget := rng.IntN(1000)
				var chunk [][]byte
				next := from
				want := max(from, 1)
				for {
					chunk, next = s.Replay(chunk[:0], next, budget)
					if len(chunk) == 0 {
						break
					}
					total := 0
					for _, r := range chunk {
						exp := placeholder
						if want > acked {
							exp = model[want]
						}
						if !bytes.Equal(r, exp) {
							t.Fatalf("seed %d: replay from %d: the record for %d is wrong", seed, from, want)
						}
						want++
						total += len(r)
					}
					if len(chunk) > 1 && total > budget {
						t.Fatalf("seed %d: chunk of %d bytes over the budget %d", seed, total, budget)
					}
				}
				if want != max(sent+1, from, 1) || next != want {
					t.Fatalf("seed %d: replay from %d ended at %d (next %d), want %d", seed, from, want, next, sent+1)
				}
			}
			n, b := s.Pending()
			mb := 0
			for _, r := range model {
				mb += len(r)
			}
			if n != len(model) || b != mb || s.Next() != acked+1 {
				t.Fatalf("seed %d: Pending %d, %d, Next %d; model %d, %d, %d", seed, n, b, s.Next(), len(model), mb, acked+1)
			}
		}
	}
}

// TestAppendResume: Sequence first, then the Ack when something was
// received.
func TestAppendResume(t *testing.T) {
	if got := string(AppendResume(nil, 4, 9)); got != `{"type":9,"sequenceId":4}`+"\x1e"+`{"type":8,"sequenceId":9}`+"\x1e" {
		t.Fatalf("got %q", got)
	}
	if got := string(AppendResume([]byte("x"), 1, 0)); got != `x{"type":9,"sequenceId":1}`+"\x1e" {
		t.Fatalf("nothing received yet: %q", got)
	}
}

// TestResumeMakesProgress plays both ends of stateful reconnect over a
// link that drops after a fixed number of bytes and loses the message it
// was carrying, as a WebSocket cut mid-message does. The sender starts
// each transport with AppendResume and replays in ReplayChunkSize chunks;
// the receiver's Ack of what it has, sent right after its own Sequence,
// lands after the first chunk, and the rest of the replay skips what it
// covers. Every record then arrives once, in order (placeholders are
// dropped as duplicates, so no id shifts), no Sequence is refused, and
// no two transports in a row deliver nothing new (one that carries only
// the first chunk, whose records the previous transport delivered, may).
// A replay written as one message (the budget of the whole backlog) gets
// nowhere on the same link: the livelock this design removes.
func TestResumeMakesProgress(t *testing.T) {
	const total = 2000 // about 200 KB of records
	run := func(budget int, links ...int) (delivered, transports int) {
		idle := 0
		var s SequenceSender
		for i := 1; i <= total; i++ {
			s.Add(numbered(i, 100))
		}
		r := NewSequenceReceiver()
		var f Framer
		for transports = 1; transports <= 200; transports++ {
			left := links[transports%len(links)]
			deliver := func(p []byte) bool {
				if len(p) > left {
					return false // cut mid-message: the message is lost
				}
				left -= len(p)
				f.Feed(p)
				for {
					rec, ok, err := f.Next()
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						return true
					}
					m, err := ParseMessage(rec, Strict)
					if err != nil {
						t.Fatal(err)
					}
					process, _, errText := r.Receive(&m)
					if errText != "" {
						t.Fatalf("transport %d: %s", transports, errText)
					}
					if !process || m.Type == TypeSequence {
						continue
					}
					var n int
					if m.Type == TypeInvocation {
						fmt.Sscanf(string(m.Arguments), "[%d", &n)
					}
					if n != delivered+1 {
						t.Fatalf("delivered %s after %d", rec, delivered)
					}
					delivered++
				}
			}
			before := delivered
			ack := r.Latest() // what the receiver will acknowledge on this resume
			from := s.Next()
			p := AppendResume(nil, from, 0)
			var chunk [][]byte
			for first := true; ; first = false {
				chunk, from = s.Replay(chunk[:0], from, budget-len(p))
				for _, rec := range chunk {
					p = append(p, rec...)
				}
				if len(p) == 0 || !deliver(p) {
					break
				}
				if first {
					s.Ack(ack) // the receiver's Ack arrives after the first chunk
				}
				p = p[:0]
			}
			if delivered == total {
				return delivered, transports
			}
			if idle++; delivered > before {
				idle = 0
			}
			if idle > 1 && budget == ReplayChunkSize {
				t.Fatalf("links %v: transports %d and %d delivered nothing new (%d so far)", links, transports-1, transports, delivered)
			}
			r.Resume()
			f.Reset()
		}
		return delivered, transports - 1
	}
	// A link that carries two chunks; one that carries only one; and one
	// that carries three, then one, so that a transport is cut before its
	// replay reaches what the receiver has: the next Sequence is then
	// ahead of the receiver's position, though not of what it received.
	for _, links := range [][]int{{40_000}, {ReplayChunkSize + 1000}, {60_000, ReplayChunkSize + 1000}} {
		if d, n := run(ReplayChunkSize, links...); d != total {
			t.Fatalf("in chunks, links %v: %d of %d delivered after %d transports", links, d, total, n)
		} else {
			t.Logf("in %d-byte chunks: all %d delivered over %d transports carrying %v bytes", ReplayChunkSize, total, n, links)
		}
	}
	if d, n := run(1<<30, 40_000); d != 0 {
		t.Fatalf("as one message: %d delivered after %d transports; the link cannot carry it, want 0", d, n)
	}
}
