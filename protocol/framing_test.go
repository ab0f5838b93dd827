package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestSplitRecordsVectors is TextMessageFormat.test.ts.
func TestSplitRecordsVectors(t *testing.T) {
	ok := []struct {
		in   string
		want []string
	}{
		{"\x1e", []string{""}},
		{"\x1e\x1e", []string{"", ""}},
		{"Hello\x1e", []string{"Hello"}},
		{"Hello,\x1eWorld!\x1e", []string{"Hello,", "World!"}},
	}
	for _, c := range ok {
		got, err := SplitRecords([]byte(c.in))
		if err != nil {
			t.Errorf("SplitRecords(%q): %v", c.in, err)
			continue
		}
		if strs := toStrings(got); !reflect.DeepEqual(strs, c.want) {
			t.Errorf("SplitRecords(%q) = %q, want %q", c.in, strs, c.want)
		}
	}
	for _, in := range []string{"", "ABC", "ABC\x1eXYZ"} {
		_, err := SplitRecords([]byte(in))
		if err == nil || err.Error() != ErrIncomplete || ErrIncomplete != "Message is incomplete." {
			t.Errorf("SplitRecords(%q) = %v, want %q", in, err, ErrIncomplete)
		}
	}
}

func toStrings(recs [][]byte) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r)
	}
	return out
}

// drain collects every complete record, copied, and the errors met.
func drain(f *Framer) (recs []string, errs []error) {
	for {
		rec, ok, err := f.Next()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			return recs, errs
		}
		recs = append(recs, string(rec))
	}
}

var framingStream = []string{
	`{"protocol":"json","version":1}`,
	`{}`,
	`{"type":6}`,
	``,
	`{"type":1,"target":"newMessage","arguments":[{"sender":"зоя","text":"héllo ☃ 😀"}]}`,
	`{"type":7,"error":"bye","allowReconnect":true}`,
}

func joinRecords(recs []string) []byte {
	var b []byte
	for _, r := range recs {
		b = append(b, r...)
		b = append(b, RecordSeparator)
	}
	return b
}

// TestFramerEveryBoundary feeds the stream in two pieces split at every
// byte boundary, then in three pieces, then byte by byte: the records that
// come out are always the same.
func TestFramerEveryBoundary(t *testing.T) {
	stream := joinRecords(framingStream)
	check := func(name string, pieces ...[]byte) {
		t.Helper()
		var f Framer
		var got []string
		for _, p := range pieces {
			f.Feed(p)
			recs, errs := drain(&f)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", name, errs)
			}
			got = append(got, recs...)
		}
		if !reflect.DeepEqual(got, framingStream) {
			t.Fatalf("%s: got %q", name, got)
		}
		if f.Buffered() != 0 {
			t.Fatalf("%s: %d bytes still buffered", name, f.Buffered())
		}
	}
	for i := 0; i <= len(stream); i++ {
		check("split", stream[:i], stream[i:])
	}
	for i := 0; i <= len(stream); i += 7 {
		for j := i; j <= len(stream); j += 5 {
			check("three", stream[:i], stream[i:j], stream[j:])
		}
	}
	var bytewise [][]byte
	for i := range stream {
		bytewise = append(bytewise, stream[i:i+1])
	}
	check("bytewise", bytewise...)
}

// TestFramerFeedCopies: Feed copies its input, so a reader may reuse its
// buffer between reads.
func TestFramerFeedCopies(t *testing.T) {
	var f Framer
	buf := []byte(`{"type":`)
	f.Feed(buf)
	copy(buf, "XXXXXXXX")
	f.Feed([]byte("6}\x1e"))
	recs, errs := drain(&f)
	if len(errs) > 0 || !reflect.DeepEqual(recs, []string{`{"type":6}`}) {
		t.Fatalf("got %q %v", recs, errs)
	}
}

// TestFramerManyPerFeed: one feed holding many records, and a partial one
// kept for the next feed.
func TestFramerManyPerFeed(t *testing.T) {
	var f Framer
	one := `{"type":1,"target":"t","arguments":[1]}`
	f.Feed(append(bytes.Repeat([]byte(one+"\x1e"), 500), `{"type":`...))
	recs, errs := drain(&f)
	if len(errs) > 0 || len(recs) != 500 {
		t.Fatalf("%d records, %v", len(recs), errs)
	}
	for _, r := range recs {
		if r != one {
			t.Fatalf("record %q", r)
		}
	}
	if f.Buffered() != len(`{"type":`) {
		t.Fatalf("Buffered = %d", f.Buffered())
	}
	f.Feed([]byte("6}\x1e"))
	recs, _ = drain(&f)
	if !reflect.DeepEqual(recs, []string{`{"type":6}`}) {
		t.Fatalf("got %q", recs)
	}
	f.Feed([]byte("abc"))
	f.Reset()
	if f.Buffered() != 0 {
		t.Fatal("Reset kept bytes")
	}
	f.Feed([]byte("{}\x1e"))
	if recs, _ := drain(&f); !reflect.DeepEqual(recs, []string{"{}"}) {
		t.Fatalf("after Reset: %q", recs)
	}
}

// TestFramerOversized: a record past the limit gives one
// RecordTooLargeError, its bytes are dropped, and framing resumes after its
// separator, whether the separator comes in the same feed or much later.
func TestFramerOversized(t *testing.T) {
	const limit = 64
	big := strings.Repeat("x", 200)
	t.Run("complete in one feed", func(t *testing.T) {
		f := Framer{MaxRecordSize: limit}
		f.Feed(joinRecords([]string{"a", big, "b"}))
		recs, errs := drain(&f)
		checkTooLarge(t, errs, limit)
		if !reflect.DeepEqual(recs, []string{"a", "b"}) {
			t.Fatalf("records %q", recs)
		}
	})
	t.Run("separator much later", func(t *testing.T) {
		f := Framer{MaxRecordSize: limit}
		f.Feed([]byte("a\x1e"))
		var recs []string
		var errs []error
		for range 100 {
			f.Feed([]byte(big))
			r, e := drain(&f)
			recs, errs = append(recs, r...), append(errs, e...)
			if f.Buffered() > limit+len(big) {
				t.Fatalf("buffered %d bytes while skipping", f.Buffered())
			}
		}
		f.Feed([]byte("tail\x1eb\x1e"))
		r, e := drain(&f)
		recs, errs = append(recs, r...), append(errs, e...)
		checkTooLarge(t, errs, limit)
		if !reflect.DeepEqual(recs, []string{"a", "b"}) {
			t.Fatalf("records %q", recs)
		}
	})
	t.Run("exactly at the limit", func(t *testing.T) {
		f := Framer{MaxRecordSize: limit}
		exact := strings.Repeat("y", limit)
		f.Feed([]byte(exact))
		if _, ok, err := f.Next(); ok || err != nil {
			t.Fatalf("partial record at the limit: ok=%v err=%v", ok, err)
		}
		f.Feed([]byte("\x1e"))
		recs, errs := drain(&f)
		if len(errs) > 0 || !reflect.DeepEqual(recs, []string{exact}) {
			t.Fatalf("records %q errs %v", recs, errs)
		}
	})
}

func checkTooLarge(t *testing.T, errs []error, limit int) {
	t.Helper()
	if len(errs) != 1 {
		t.Fatalf("errors %v, want exactly one", errs)
	}
	var tl *RecordTooLargeError
	if !errors.As(errs[0], &tl) || tl.Limit != limit {
		t.Fatalf("error %v is not a RecordTooLargeError with limit %d", errs[0], limit)
	}
	if !strings.Contains(errs[0].Error(), "64-byte limit") {
		t.Fatalf("error text %q does not state the limit", errs[0])
	}
}

// TestFramerNoSeparatorBounded: a peer that never sends 0x1E cannot make
// the Framer hold more than the default 1 MiB plus one feed.
func TestFramerNoSeparatorBounded(t *testing.T) {
	var f Framer
	chunk := bytes.Repeat([]byte("z"), 64<<10)
	errCount := 0
	for range 64 { // 4 MiB in all
		f.Feed(chunk)
		_, errs := drain(&f)
		errCount += len(errs)
		if f.Buffered() > DefaultMaxRecordSize+len(chunk) {
			t.Fatalf("buffered %d bytes", f.Buffered())
		}
	}
	if errCount != 1 {
		t.Fatalf("%d errors, want one", errCount)
	}
	if cap(f.buf) > 2*DefaultMaxRecordSize+2*len(chunk) {
		t.Fatalf("buffer capacity grew to %d", cap(f.buf))
	}
}

// TestHandshakeThenMessagesInOneFeed: the server may send its handshake
// response and hub messages in one frame (HubConnection.test.ts).
func TestHandshakeThenMessagesInOneFeed(t *testing.T) {
	var f Framer
	f.Feed([]byte("{}\x1e{\"type\":6}\x1e"))
	rec, ok, err := f.Next()
	if !ok || err != nil {
		t.Fatalf("handshake record: %v %v", ok, err)
	}
	hr, err := ParseHandshakeResponse(rec)
	if err != nil || hr.HasError {
		t.Fatalf("ParseHandshakeResponse: %+v %v", hr, err)
	}
	rec, ok, err = f.Next()
	if !ok || err != nil {
		t.Fatalf("ping record: %v %v", ok, err)
	}
	m, err := ParseMessage(rec, Strict)
	if err != nil || m.Type != TypePing {
		t.Fatalf("ping: %+v %v", m, err)
	}
	// Binary handshake bytes 0x7b 0x7d 0x1e complete it too.
	f.Feed([]byte{0x7b, 0x7d, 0x1e})
	rec, ok, _ = f.Next()
	if !ok || string(rec) != "{}" {
		t.Fatalf("binary handshake: %q %v", rec, ok)
	}
}
