package protocol

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestSplitOwnedMatchesNext cuts random streams at random places and
// checks that SplitOwned yields exactly the records Feed and Next yield.
func TestSplitOwnedMatchesNext(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 2000; round++ {
		var stream []byte
		for n := rng.IntN(6); n > 0; n-- {
			stream = append(stream, bytes.Repeat([]byte{'a' + byte(rng.IntN(26))}, rng.IntN(40))...)
			stream = append(stream, RecordSeparator)
		}
		stream = append(stream, bytes.Repeat([]byte{'z'}, rng.IntN(5))...)
		limit := 16 + rng.IntN(40)

		var want [][]byte
		var wantErrs int
		ref := Framer{MaxRecordSize: limit}
		var got [][]byte
		var gotErrs int
		own := Framer{MaxRecordSize: limit}
		for rest := stream; len(rest) > 0; {
			cut := 1 + rng.IntN(len(rest))
			chunk := bytes.Clone(rest[:cut])
			rest = rest[cut:]
			ref.Feed(chunk)
			for {
				rec, ok, err := ref.Next()
				if err != nil {
					wantErrs++
					continue
				}
				if !ok {
					break
				}
				want = append(want, bytes.Clone(rec))
			}
			var err error
			got, err = own.SplitOwned(got, chunk)
			var tooLarge *RecordTooLargeError
			if err != nil && !errors.As(err, &tooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			if err != nil {
				gotErrs++
			}
		}
		if len(got) != len(want) {
			t.Fatalf("round %d (limit %d, stream %q): got %d records %q, want %d %q", round, limit, stream, len(got), got, len(want), want)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("round %d record %d: got %q want %q", round, i, got[i], want[i])
			}
		}
		if (gotErrs == 0) != (wantErrs == 0) {
			t.Fatalf("round %d (limit %d, stream %q): errors %d vs %d", round, limit, stream, gotErrs, wantErrs)
		}
		if own.Buffered() != ref.Buffered() && !ref.skipping {
			t.Fatalf("round %d: buffered %d vs %d", round, own.Buffered(), ref.Buffered())
		}
	}
}

// BenchmarkDecodeOwned is the receive path when the transport hands over
// each frame as a fresh slice (coder/websocket's Read does): records are
// split in place and parsed, with no copy. One op is the 100-record buffer.
func BenchmarkDecodeOwned(b *testing.B) {
	for _, mode := range []Mode{Lenient, Strict} {
		b.Run(mode.String(), func(b *testing.B) {
			buf := benchBuffer()
			var f Framer
			var recs [][]byte
			msgs := make([]Message, benchCopies)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				recs, err = f.SplitOwned(recs[:0], buf)
				if err != nil {
					b.Fatal(err)
				}
				for i, rec := range recs {
					if msgs[i], err = ParseMessage(rec, mode); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)*benchCopies/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCopies, "ns/msg")
		})
	}
}
