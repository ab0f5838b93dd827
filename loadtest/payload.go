package loadtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
)

// payload builds and reads the one argument of every benchmark message:
// {"run":"<prefix>","seq":N,"sentNs":T,"pad":"..."}. The run marker keeps
// other runs' and other senders' messages out of the figures; sentNs is
// the sender's clock, the same process's as the receiver's.
type payload struct {
	marker []byte // `"run":"<prefix>"`
	pad    string
}

func newPayload(prefix string, size int) payload {
	q, _ := json.Marshal(prefix)
	p := payload{marker: append([]byte(`"run":`), q...)}
	if n := size - 80; n > 0 {
		p.pad = strings.Repeat("x", n)
	}
	return p
}

// args encodes the arguments array of message seq sent at sentNs.
func (p payload) args(seq, sentNs int64) json.RawMessage {
	b := make([]byte, 0, 96+len(p.pad))
	b = append(b, "[{"...)
	b = append(b, p.marker...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"sentNs":`...)
	b = strconv.AppendInt(b, sentNs, 10)
	if p.pad != "" {
		b = append(b, `,"pad":"`...)
		b = append(b, p.pad...)
		b = append(b, '"')
	}
	b = append(b, "}]"...)
	return b
}

// parse reads seq and sentNs from an arguments array, reporting false for
// a message of another run or one that does not carry them. It scans for
// the keys instead of decoding, since it runs once per delivery; a
// service that re-serialises the JSON (spaces after colons) is still read.
func (p payload) parse(args []byte) (seq, sentNs int64, ok bool) {
	if !containsRun(args, p.marker) {
		return 0, 0, false
	}
	seq, ok1 := intAfter(args, `"seq"`)
	sentNs, ok2 := intAfter(args, `"sentNs"`)
	return seq, sentNs, ok1 && ok2
}

// containsRun finds the run marker, tolerating white space after the colon.
func containsRun(args, marker []byte) bool {
	if bytes.Contains(args, marker) {
		return true
	}
	key, val, _ := bytes.Cut(marker, []byte(":"))
	i := bytes.Index(args, key)
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(args[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), val)
}

func intAfter(b []byte, key string) (int64, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	b = bytes.TrimLeft(b[i+len(key):], " \t\r\n")
	if len(b) == 0 || b[0] != ':' {
		return 0, false
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	n := 0
	for n < len(b) && (b[n] >= '0' && b[n] <= '9' || (n == 0 && b[n] == '-')) {
		n++
	}
	v, err := strconv.ParseInt(string(b[:n]), 10, 64)
	return v, err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
