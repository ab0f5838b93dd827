package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

// benchRecord is the chat invocation of issue 2 (130 bytes with its
// 0x1E); the same buffer
// is built by interop/parse-bench.mjs for the official parser, and
// interop/bench-parse.sh runs both.
const benchRecord = `{"type":1,"target":"newMessage","arguments":[{"sender":"alice","text":"hello world, this is a chat message","ts":1732800000000}]}`

const benchCopies = 100

func benchBuffer() []byte {
	return bytes.Repeat([]byte(benchRecord+"\x1e"), benchCopies)
}

func TestBenchRecordSize(t *testing.T) {
	// 129 bytes of JSON and the separator: the 130 bytes of the issue.
	if len(benchRecord)+1 != 130 {
		t.Fatalf("benchmark record is %d bytes with its separator, want 130", len(benchRecord)+1)
	}
	var f Framer
	f.Feed(benchBuffer())
	n := 0
	for {
		rec, ok, err := f.Next()
		if err != nil || !ok {
			break
		}
		if _, err := ParseMessage(rec, Strict); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != benchCopies {
		t.Fatalf("%d records", n)
	}
}

// BenchmarkDecode is what a receiver does with one WebSocket read holding
// 100 records: feed the Framer, take each record, copy it (the Framer's
// buffer is reused by the next read, and each message must outlive it), and
// parse it. One op is the whole buffer; msgs/s counts messages. The
// encoding-json case is the standard library's decoder doing the same job
// (see jsonMessage), a reference beside the official TypeScript parser.
func BenchmarkDecode(b *testing.B) {
	for _, mode := range []Mode{Lenient, Strict} {
		b.Run(mode.String(), func(b *testing.B) {
			buf := benchBuffer()
			var f Framer
			var sink Message
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				f.Feed(buf)
				for {
					rec, ok, err := f.Next()
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
					own := bytes.Clone(rec)
					m, err := ParseMessage(own, mode)
					if err != nil {
						b.Fatal(err)
					}
					sink = m
				}
			}
			_ = sink
			b.ReportMetric(float64(b.N)*benchCopies/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCopies, "ns/msg")
		})
	}
	b.Run("encoding-json", func(b *testing.B) {
		buf := benchBuffer()
		var f Framer
		var sink jsonMessage
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			f.Feed(buf)
			for {
				rec, ok, err := f.Next()
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					break
				}
				// No copy first: Unmarshal copies what it keeps.
				var m jsonMessage
				if err := json.Unmarshal(rec, &m); err != nil {
					b.Fatal(err)
				}
				sink = m
			}
		}
		if sink.Target != "newMessage" || len(sink.Arguments) == 0 {
			b.Fatalf("decoded %+v", sink)
		}
		b.ReportMetric(float64(b.N)*benchCopies/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCopies, "ns/msg")
	})
}

// jsonMessage is Message as encoding/json decodes it: the same fields, the
// values Message keeps raw kept raw, and no validation beyond JSON.
type jsonMessage struct {
	Type           int             `json:"type"`
	InvocationID   string          `json:"invocationId"`
	Target         string          `json:"target"`
	Arguments      json.RawMessage `json:"arguments"`
	StreamIDs      []string        `json:"streamIds"`
	Headers        json.RawMessage `json:"headers"`
	Item           json.RawMessage `json:"item"`
	Result         json.RawMessage `json:"result"`
	Error          string          `json:"error"`
	AllowReconnect bool            `json:"allowReconnect"`
	SequenceID     int64           `json:"sequenceId"`
}

// BenchmarkEncode writes the same invocation into a reused buffer.
func BenchmarkEncode(b *testing.B) {
	m, err := ParseMessage([]byte(benchRecord), Strict)
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMessage(buf[:0], &m)
	}
	if len(buf) != len(benchRecord)+1 {
		b.Fatalf("encoded %d bytes", len(buf))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// TestDecodeAllocations pins the allocation goal: at most two allocations
// per decoded message beyond the copy of the record that holds its
// arguments. Here at most one: the target string, which is interned, so
// usually none.
func TestDecodeAllocations(t *testing.T) {
	rec := []byte(benchRecord)
	for _, mode := range []Mode{Lenient, Strict} {
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := ParseMessage(rec, mode); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 {
			t.Errorf("%s: %.1f allocations per ParseMessage, want at most 1", mode, allocs)
		}
	}
	var f Framer
	buf := benchBuffer()
	f.Feed(buf) // grow the buffer once
	for {
		if _, ok, _ := f.Next(); !ok {
			break
		}
	}
	allocs := testing.AllocsPerRun(50, func() {
		f.Feed(buf)
		for {
			if _, ok, _ := f.Next(); !ok {
				break
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Framer: %.1f allocations per 100-record feed, want 0", allocs)
	}
	m, _ := ParseMessage(rec, Strict)
	out := make([]byte, 0, 256)
	if a := testing.AllocsPerRun(100, func() { out = AppendMessage(out[:0], &m) }); a != 0 {
		t.Errorf("AppendMessage: %.1f allocations", a)
	}
}
