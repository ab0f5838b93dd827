package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
)

// FuzzParseMessagePack: never panics in either mode; errors are
// ProtocolErrors; what parses holds valid JSON; and a message that parses
// and is written back reaches a fixed point after one round (the first
// round may drop what MessagePack cannot say twice, such as an empty
// Close error, which the official writers also write as nil).
func FuzzParseMessagePack(f *testing.F) {
	f.Fuzz(func(t *testing.T, record []byte) {
		for _, mode := range []Mode{Strict, Lenient} {
			m, err := ParseMessagePack(record, mode)
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Text == "" {
					t.Fatalf("%s: error %T %q", mode, err, err)
				}
				continue
			}
			for _, v := range [][]byte{m.Arguments, m.Item, m.Result, m.Headers} {
				if v != nil && !json.Valid(v) {
					t.Fatalf("%s: invalid JSON %q", mode, v)
				}
			}
			line := AppendMessageEvent(nil, time.Time{}, &m, EventContext{})
			if !json.Valid(line) {
				t.Fatalf("%s: invalid event line %q", mode, line)
			}
			if !m.Type.Known() || m.Has(FieldArguments) && !isJSONArray(m.Arguments) {
				// Lenient mode takes arguments that are no array, which
				// no writer may send.
				continue
			}
			m1 := roundTripMsgpack(t, &m, mode)
			m2 := roundTripMsgpack(t, &m1, mode)
			a := AppendMessageEvent(nil, time.Time{}, &m1, EventContext{})
			b := AppendMessageEvent(nil, time.Time{}, &m2, EventContext{})
			if !bytes.Equal(a, b) {
				t.Fatalf("%s: not a fixed point:\n%s%s", mode, a, b)
			}
		}
	})
}

func roundTripMsgpack(t *testing.T, m *Message, mode Mode) Message {
	t.Helper()
	out, err := AppendMessagePack(nil, m)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	recs, err := SplitBinaryRecords(out)
	if err != nil || len(recs) != 1 {
		t.Fatalf("framing of what was written: %v", err)
	}
	back, err := ParseMessagePack(recs[0], mode)
	if err != nil {
		t.Fatalf("what was written does not parse: %v (%x)", err, recs[0])
	}
	return back
}

// FuzzBinaryFramer feeds data in pieces cut where split says, through
// Feed/Next and through SplitOwned, and checks both against
// SplitBinaryRecords: the same records in order, then the same failure;
// with a small limit, records past it are reported once each and skipped
// while the framer never holds more than the limit and a prefix.
func FuzzBinaryFramer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, split uint64) {
		want, wantErr := SplitBinaryRecords(data)
		pieces := cut(data, split)

		fr := BinaryFramer{MaxRecordSize: math.MaxInt32}
		var got [][]byte
		var gotErr error
		for _, p := range pieces {
			fr.Feed(p)
			for {
				rec, ok, err := fr.Next()
				if err != nil {
					gotErr = err
					break
				}
				if !ok {
					break
				}
				got = append(got, bytes.Clone(rec))
			}
		}
		checkRecords(t, "Feed/Next", got, want)
		if wantErr != nil && wantErr.Error() == ErrMessageTooBig {
			if gotErr == nil || gotErr.Error() != ErrMessageTooBig {
				t.Fatalf("Feed/Next: error %v, want %v", gotErr, wantErr)
			}
		} else if gotErr != nil {
			t.Fatalf("Feed/Next: error %v", gotErr)
		} else if rest, text := fr.Leftover(); (wantErr == nil) != (rest == nil) || wantErr != nil && wantErr.Error() != text {
			t.Fatalf("Leftover %q %q, want %v", rest, text, wantErr)
		}

		owned := BinaryFramer{MaxRecordSize: math.MaxInt32}
		got, gotErr = nil, nil
		for _, p := range pieces {
			var err error
			got, err = owned.SplitOwned(got, bytes.Clone(p))
			if err != nil && gotErr == nil {
				gotErr = err
			}
		}
		checkRecords(t, "SplitOwned", got, want)

		const limit = 8
		small := BinaryFramer{MaxRecordSize: limit}
		var within [][]byte
		over := 0
		for _, r := range want {
			if len(r) > limit {
				over++
			} else {
				within = append(within, r)
			}
		}
		got, errs := nil, 0
		for _, p := range pieces {
			small.Feed(p)
			if small.Buffered() > limit+maxVarintLen+len(p) {
				t.Fatalf("holds %d bytes with a limit of %d", small.Buffered(), limit)
			}
			for {
				rec, ok, err := small.Next()
				var tl *RecordTooLargeError
				if errors.As(err, &tl) {
					errs++
					continue
				}
				if err != nil || !ok {
					break
				}
				got = append(got, bytes.Clone(rec))
			}
		}
		if wantErr == nil {
			checkRecords(t, "small limit", got, within)
			if errs != over {
				t.Fatalf("small limit: %d errors for %d oversized records", errs, over)
			}
		}
	})
}

func checkRecords(t *testing.T, how string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", how, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: record %d = %x, want %x", how, i, got[i], want[i])
		}
	}
}
