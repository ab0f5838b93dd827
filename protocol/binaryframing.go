package protocol

import "github.com/tinylib/msgp/msgp"

// MessagePack records are framed by a length prefix rather than a
// separator: a varint of 1 to 5 bytes, seven bits a byte, least
// significant first, holding a length below 2 GiB.

// maxVarintLen is the longest length prefix.
const maxVarintLen = 5

// The official TypeScript client's framing errors (BinaryMessageFormat).
const (
	// ErrMessageSize is a length prefix cut off by the end of the input.
	ErrMessageSize = "Cannot read message size."
	// ErrMessageTooBig is a length prefix past 2 GiB, after which the
	// stream cannot be framed any more.
	ErrMessageTooBig = "Messages bigger than 2GB are not supported."
	// ErrBinaryIncomplete is a record shorter than its length prefix.
	ErrBinaryIncomplete = "Incomplete message."
)

// AppendVarint appends n as a length prefix.
func AppendVarint(dst []byte, n uint32) []byte {
	for n >= 0x80 {
		dst = append(dst, byte(n)|0x80)
		n >>= 7
	}
	return append(dst, byte(n))
}

// readVarint reads a length prefix. It returns the length and the bytes it
// took; 0 bytes means the input ends inside the prefix, and an error text
// a prefix that is not valid.
func readVarint(b []byte) (n int, size int, errText string) {
	var v uint32
	for i := 0; i < maxVarintLen; i++ {
		if i >= len(b) {
			return 0, 0, ""
		}
		c := b[i]
		if i == maxVarintLen-1 && c > 7 {
			return 0, 0, ErrMessageTooBig
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return int(v), i + 1, ""
		}
	}
	return 0, 0, ErrMessageTooBig
}

// SplitBinaryRecords splits a whole buffer of length-prefixed records as
// the TypeScript BinaryMessageFormat.parse does: every record must be
// complete. Records alias buf.
func SplitBinaryRecords(buf []byte) ([][]byte, error) {
	var out [][]byte
	for len(buf) > 0 {
		n, size, text := readVarint(buf)
		switch {
		case text != "":
			return out, perr(text)
		case size == 0:
			return out, perr(ErrMessageSize)
		case len(buf)-size < n:
			return out, perr(ErrBinaryIncomplete)
		}
		out = append(out, buf[size:size+n:size+n])
		buf = buf[size+n:]
	}
	return out, nil
}

// BinaryFramer splits a byte stream into length-prefixed records, as
// Framer does for 0x1E-separated ones: bytes of a record that has not
// ended yet are kept for the next Feed, and a record longer than the
// limit is reported as soon as its prefix is read and its bytes skipped
// without being held. A prefix past 2 GiB leaves no way to find the next
// record, so the framer reports it once and then drops everything until
// Reset. The zero value is ready to use.
type BinaryFramer struct {
	// MaxRecordSize caps a record. Zero means DefaultMaxRecordSize (1 MiB).
	MaxRecordSize int

	buf    []byte
	off    int  // start of unread bytes in buf
	skip   int  // bytes of an oversized record still to drop
	broken bool // framing lost: a prefix past 2 GiB
}

func (f *BinaryFramer) limit() int {
	if f.MaxRecordSize > 0 {
		return f.MaxRecordSize
	}
	return DefaultMaxRecordSize
}

// Feed adds bytes to the stream. It copies p, so the caller may reuse it.
func (f *BinaryFramer) Feed(p []byte) {
	if f.broken {
		return
	}
	if f.skip > 0 {
		n := min(f.skip, len(p))
		f.skip -= n
		p = p[n:]
	}
	f.buf, f.off = appendUnread(f.buf, f.off, p)
}

// Next returns the next complete record without its prefix, or ok false
// when none is complete yet. The record aliases the framer's buffer and is
// valid until the next call to Feed or Next. An error is a record over the
// limit (dropped, and framing goes on) or a prefix past 2 GiB (framing
// stops until Reset).
func (f *BinaryFramer) Next() (record []byte, ok bool, err error) {
	if f.broken {
		return nil, false, nil
	}
	rest := f.buf[f.off:]
	if f.skip > 0 {
		n := min(f.skip, len(rest))
		f.skip -= n
		f.off += n
		rest = rest[n:]
		if f.skip > 0 {
			return nil, false, nil
		}
	}
	n, size, text := readVarint(rest)
	if text != "" {
		f.broken = true
		f.buf, f.off = nil, 0
		return nil, false, perr(text)
	}
	if size == 0 {
		return nil, false, nil
	}
	if n > f.limit() {
		f.off += size
		f.skip = n
		// Drop what is already here; Feed drops the rest as it comes.
		avail := len(f.buf) - f.off
		drop := min(avail, f.skip)
		f.off += drop
		f.skip -= drop
		return nil, false, &RecordTooLargeError{Limit: f.limit(), Length: n}
	}
	if len(rest)-size < n {
		return nil, false, nil
	}
	f.off += size + n
	return rest[size : size+n : size+n], true, nil
}

// SplitOwned appends to dst the records that frame completes, for a
// caller that hands over frame and never modifies it again: records that
// lie wholly in frame alias it and cost no copy; one that spans frames is
// assembled in a slice of its own. It shares its state with Feed and Next,
// so the two styles must not be mixed mid-record.
func (f *BinaryFramer) SplitOwned(dst [][]byte, frame []byte) ([][]byte, error) {
	var err error
	if f.Buffered() > 0 || f.skip > 0 || f.broken {
		f.Feed(frame)
		for {
			rec, ok, e := f.Next()
			if e != nil {
				err = e
				continue
			}
			if !ok {
				return dst, err
			}
			dst = append(dst, append([]byte(nil), rec...))
		}
	}
	for len(frame) > 0 {
		n, size, text := readVarint(frame)
		if text != "" {
			f.broken = true
			return dst, perr(text)
		}
		if size == 0 || len(frame)-size < n {
			if n > f.limit() {
				break
			}
			f.buf = append(f.buf[:0], frame...)
			f.off = 0
			return dst, err
		}
		if n > f.limit() {
			err = &RecordTooLargeError{Limit: f.limit(), Length: n}
		} else {
			dst = append(dst, frame[size:size+n:size+n])
		}
		frame = frame[size+n:]
	}
	if len(frame) > 0 {
		// An oversized record that goes on past this frame.
		n, size, _ := readVarint(frame)
		f.skip = n - (len(frame) - size)
		err = &RecordTooLargeError{Limit: f.limit(), Length: n}
	}
	return dst, err
}

// Buffered returns how many bytes of an unfinished record are held.
func (f *BinaryFramer) Buffered() int { return len(f.buf) - f.off }

// Reset drops everything buffered, for a new connection.
func (f *BinaryFramer) Reset() {
	f.buf, f.off, f.skip, f.broken = f.buf[:0], 0, 0, false
}

// Leftover returns the bytes of an unfinished record and the official text
// for them: a prefix cut off, or a record shorter than its prefix says.
// It is for the end of a capture; the framer is left empty.
func (f *BinaryFramer) Leftover() ([]byte, string) {
	rest := f.buf[f.off:]
	f.buf, f.off = f.buf[:0], 0
	if len(rest) == 0 {
		return nil, ""
	}
	if _, size, _ := readVarint(rest); size == 0 {
		return rest, ErrMessageSize
	}
	return rest, ErrBinaryIncomplete
}

// IsTrackableMessagePack is IsTrackable for a MessagePack record with its
// length prefix: whether its type is 1 to 5, read from the array's first
// element.
func IsTrackableMessagePack(record []byte) bool {
	_, size, text := readVarint(record)
	if size == 0 || text != "" {
		return false
	}
	record = record[size:]
	n, rest, err := msgp.ReadArrayHeaderBytes(record)
	if err != nil || n == 0 {
		return false
	}
	t, _, err := msgp.ReadInt64Bytes(rest)
	return err == nil && MessageType(t).Trackable()
}
