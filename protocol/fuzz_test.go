package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// The fuzz targets below run their committed seed corpus
// (testdata/fuzz/FuzzName/) as ordinary tests; `go test -fuzz=FuzzName`
// explores from there.

// FuzzFramer feeds data in pieces cut where split says and checks the
// records against a plain split on 0x1E: with the default limit every
// complete record comes out whole and the tail stays buffered; with a small
// limit exactly the records within it come out, and each one past it gives
// one RecordTooLargeError.
func FuzzFramer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, split uint64) {
		pieces := cut(data, split)
		parts := bytes.Split(data, []byte{RecordSeparator})
		complete, tail := parts[:len(parts)-1], parts[len(parts)-1]

		var big Framer
		var got [][]byte
		for _, p := range pieces {
			big.Feed(p)
			for {
				rec, ok, err := big.Next()
				if err != nil {
					t.Fatalf("default limit: %v", err)
				}
				if !ok {
					break
				}
				got = append(got, bytes.Clone(rec))
			}
		}
		if len(got) != len(complete) {
			t.Fatalf("%d records, want %d", len(got), len(complete))
		}
		for i := range got {
			if !bytes.Equal(got[i], complete[i]) {
				t.Fatalf("record %d = %q, want %q", i, got[i], complete[i])
			}
		}
		if big.Buffered() != len(tail) {
			t.Fatalf("Buffered = %d, want %d", big.Buffered(), len(tail))
		}

		const limit = 16
		small := Framer{MaxRecordSize: limit}
		var want [][]byte
		wantErrs := 0
		for _, r := range complete {
			if len(r) > limit {
				wantErrs++
			} else {
				want = append(want, r)
			}
		}
		got, errs := nil, 0
		maxBuffered := 0
		for _, p := range pieces {
			small.Feed(p)
			maxBuffered = max(maxBuffered, small.Buffered()-len(p))
			for {
				rec, ok, err := small.Next()
				if err != nil {
					var tl *RecordTooLargeError
					if !errors.As(err, &tl) {
						t.Fatalf("error %T", err)
					}
					errs++
					continue
				}
				if !ok {
					break
				}
				got = append(got, bytes.Clone(rec))
			}
		}
		if len(tail) > limit {
			wantErrs++ // the unfinished record already went past the limit
		}
		if errs != wantErrs || len(got) != len(want) {
			t.Fatalf("limit %d: %d records and %d errors, want %d and %d", limit, len(got), errs, len(want), wantErrs)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("limit %d: record %d = %q, want %q", limit, i, got[i], want[i])
			}
		}
		if maxBuffered > limit {
			t.Fatalf("limit %d: held %d bytes of an unfinished record between feeds", limit, maxBuffered)
		}
	})
}

// cut splits data into up to 8 pieces at offsets drawn from split.
func cut(data []byte, split uint64) [][]byte {
	var pieces [][]byte
	for len(data) > 0 && split != 0 && len(pieces) < 7 {
		n := int(split%uint64(len(data)+1)) % (len(data) + 1)
		split /= uint64(len(data) + 1)
		pieces = append(pieces, data[:n])
		data = data[n:]
	}
	return append(pieces, data)
}

// FuzzParseMessage: never panics in either mode; errors are
// ProtocolErrors; a message that parses re-encodes to one record of valid
// JSON that parses, in the same mode, to an equal message, and encoding is
// then a fixed point.
func FuzzParseMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, record []byte) {
		for _, mode := range []Mode{Strict, Lenient} {
			m, err := ParseMessage(record, mode)
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Text == "" {
					t.Fatalf("%s: error %T %q", mode, err, err)
				}
				continue
			}
			enc := AppendMessage(nil, &m)
			body := enc[:len(enc)-1]
			if enc[len(enc)-1] != RecordSeparator {
				t.Fatalf("%s: encoding does not end with 0x1E", mode)
			}
			if mode == Strict && !json.Valid(body) {
				t.Fatalf("%s: re-encoding is not valid JSON: %q", mode, body)
			}
			m2, err := ParseMessage(body, mode)
			if err != nil {
				t.Fatalf("%s: %q re-encoded as %q, which fails: %v", mode, record, body, err)
			}
			if !sameOnWire(m, m2) {
				t.Fatalf("%s: %q re-encoded as %q\n got %+v\nwant %+v", mode, record, body, m2, m)
			}
			if enc2 := AppendMessage(nil, &m2); !bytes.Equal(enc, enc2) {
				t.Fatalf("%s: encoding not stable: %q then %q", mode, enc, enc2)
			}
		}
	})
}

// sameOnWire compares what AppendMessage writes of two messages: the
// encoder leaves out what the official writer leaves out (empty ids,
// `{}` headers, allowReconnect false, an empty Completion error) and
// writes strings as valid UTF-8.
func sameOnWire(a, b Message) bool {
	if a.Type != b.Type {
		return false
	}
	// Ping, Close, Ack and Sequence carry only their own fields.
	switch a.Type {
	case TypePing:
		return b.Fields == 0
	case TypeClose:
		return a.Has(FieldError) == b.Has(FieldError) && validUTF8(a.Error) == b.Error && a.AllowReconnect == b.AllowReconnect
	case TypeAck, TypeSequence:
		return a.SequenceID == b.SequenceID
	}
	if validUTF8(a.InvocationID) != b.InvocationID {
		return false
	}
	if !isEmptyObject(a.Headers) && !bytes.Equal(a.Headers, b.Headers) {
		return false
	}
	switch a.Type {
	case TypeInvocation, TypeStreamInvocation:
		args := a.Arguments
		if len(args) == 0 {
			args = []byte("[]")
		}
		if validUTF8(a.Target) != b.Target || !bytes.Equal(args, b.Arguments) || len(a.StreamIDs) != len(b.StreamIDs) {
			return false
		}
		for i := range a.StreamIDs {
			if validUTF8(a.StreamIDs[i]) != b.StreamIDs[i] {
				return false
			}
		}
	case TypeStreamItem:
		return bytes.Equal(a.Item, b.Item)
	case TypeCompletion:
		if a.Error != "" {
			return validUTF8(a.Error) == b.Error && !b.Has(FieldResult)
		}
		return a.Has(FieldResult) == b.Has(FieldResult) && bytes.Equal(a.Result, b.Result)
	case TypeCancelInvocation:
	default:
		return validUTF8(a.Target) == b.Target && bytes.Equal(a.Arguments, b.Arguments)
	}
	return true
}

// validUTF8 is s as appendString writes it: each invalid byte becomes
// U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// FuzzHandshake: the request and response parsers never panic, and what
// they accept writes back to a record they parse to the same value.
func FuzzHandshake(f *testing.F) {
	f.Fuzz(func(t *testing.T, record []byte) {
		if req, err := ParseHandshakeRequest(record); err == nil {
			enc := AppendHandshakeRequest(nil, req)
			back, err := ParseHandshakeRequest(enc[:len(enc)-1])
			if err != nil || back.Protocol != validUTF8(req.Protocol) || back.Version != req.Version {
				t.Fatalf("request %q -> %q -> %+v %v", record, enc, back, err)
			}
		} else if _, ok := err.(*ProtocolError); !ok {
			t.Fatalf("request error %T", err)
		}
		if resp, err := ParseHandshakeResponse(record); err == nil {
			enc := AppendHandshakeResponse(nil, resp.Error)
			back, err := ParseHandshakeResponse(enc[:len(enc)-1])
			if err != nil || back.Error != validUTF8(resp.Error) || back.HasError != (resp.Error != "") {
				t.Fatalf("response %q -> %q -> %+v %v", record, enc, back, err)
			}
		} else if _, ok := err.(*ProtocolError); !ok {
			t.Fatalf("response error %T", err)
		}
	})
}

// FuzzParseNegotiateResponse: never panics; what it accepts marshals back
// to JSON that parses to the same value.
func FuzzParseNegotiateResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseNegotiateResponse(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseNegotiateResponse(enc)
		if err != nil {
			t.Fatalf("%q -> %s: %v", body, enc, err)
		}
		enc2, _ := json.Marshal(r2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("%q: %s then %s", body, enc, enc2)
		}
	})
}

// FuzzParseConnectionString: never panics; errors carry the operation
// prefix; what it accepts formats with String to a string that parses to
// the same value.
func FuzzParseConnectionString(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConnectionString(s)
		if err != nil {
			if !bytes.HasPrefix([]byte(err.Error()), []byte("connection string: ")) {
				t.Fatalf("error without prefix: %q", err)
			}
			return
		}
		back, err := ParseConnectionString(c.String())
		if err != nil || back != c {
			t.Fatalf("%q -> %#v -> %q -> %#v %v", s, c, c.String(), back, err)
		}
	})
}
