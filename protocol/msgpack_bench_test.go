package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// officialBenchRecord is the chat invocation as the official TypeScript
// MessagePackHubProtocol.writeMessage writes it (with streamIds: []),
// length prefix included.
const officialBenchRecord = "55960180c0aa6e65774d6573736167659183a673656e646572a5616c696365a474657874d92368656c6c6f20776f726c642c207468697320697320612063686174206d657373616765a27473cf0000019372edb00090"

// TestMsgpackBenchRecord: sigr writes the benchmark's record byte for byte
// as the official client does, so both parsers get the same buffer.
func TestMsgpackBenchRecord(t *testing.T) {
	want, _ := hex.DecodeString(officialBenchRecord)
	if got := msgpackBenchBuffer(t); !bytes.Equal(got[:len(got)/benchCopies], want) {
		t.Fatalf("record %x, want the official %x", got[:len(got)/benchCopies], want)
	}
}

// msgpackBenchBuffer is benchRecord's invocation in MessagePack (86 bytes
// with its prefix), 100 copies: the buffer interop/parse-bench.mjs builds
// for the official MessagePack parser.
func msgpackBenchBuffer(tb testing.TB) []byte {
	m := NewInvocation("newMessage", json.RawMessage(`[{"sender":"alice","text":"hello world, this is a chat message","ts":1732800000000}]`))
	one, err := AppendMessagePack(nil, &m)
	if err != nil {
		tb.Fatal(err)
	}
	var buf []byte
	for range benchCopies {
		buf = append(buf, one...)
	}
	return buf
}

// BenchmarkDecodeMessagePack is BenchmarkDecodeOwned for MessagePack: split
// a transport's frame of 100 records in place and parse each into a
// Message whose values are JSON, with one MessagePackDecoder as a
// connection keeps.
func BenchmarkDecodeMessagePack(b *testing.B) {
	for _, mode := range []Mode{Lenient, Strict} {
		b.Run(mode.String(), func(b *testing.B) {
			buf := msgpackBenchBuffer(b)
			var f BinaryFramer
			var recs [][]byte
			var sink Message
			d := MessagePackDecoder{Mode: mode}
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				recs, err = f.SplitOwned(recs[:0], buf)
				if err != nil || len(recs) != benchCopies {
					b.Fatal(err, len(recs))
				}
				for _, rec := range recs {
					m, err := d.Parse(rec)
					if err != nil {
						b.Fatal(err)
					}
					sink = m
				}
			}
			if sink.Target != "newMessage" {
				b.Fatal(sink.Target)
			}
			b.ReportMetric(float64(b.N)*benchCopies/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchCopies, "ns/msg")
		})
	}
}

// BenchmarkEncodeMessagePack writes the chat invocation from its JSON
// arguments, what the emulator does once per broadcast for its MessagePack
// connections.
func BenchmarkEncodeMessagePack(b *testing.B) {
	m := NewInvocation("newMessage", json.RawMessage(`[{"sender":"alice","text":"hello world, this is a chat message","ts":1732800000000}]`))
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendMessagePack(buf[:0], &m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
