package protocol

import (
	"bytes"
	"fmt"
)

// DefaultMaxRecordSize is the largest record Framer buffers by default.
const DefaultMaxRecordSize = 1 << 20

// ErrIncomplete is the official text for bytes left without a terminating
// record separator.
const ErrIncomplete = "Message is incomplete."

// RecordTooLargeError reports a record that grew past the Framer's limit
// without its record separator; the bytes are dropped up to the next
// separator so that one hostile record cannot grow memory without bound.
type RecordTooLargeError struct {
	Limit int
	// Length is the length a MessagePack record's prefix announced; zero
	// for a 0x1E-separated record, whose length is not known.
	Length int
}

func (e *RecordTooLargeError) Error() string {
	if e.Length > 0 {
		return fmt.Sprintf("record of %d bytes exceeds the %d-byte limit; raise the limit if such records are expected", e.Length, e.Limit)
	}
	return fmt.Sprintf("record exceeds the %d-byte limit without a record separator (0x1E); raise the limit if such records are expected", e.Limit)
}

// Framer splits a byte stream into 0x1E-terminated records. Bytes of a
// record that has not ended yet are kept for the next Feed, so records
// split across WebSocket frames, SSE events or HTTP reads come out whole.
// The zero value is ready to use.
type Framer struct {
	// MaxRecordSize caps a record that has not ended. Zero means
	// DefaultMaxRecordSize (1 MiB).
	MaxRecordSize int

	buf      []byte
	off      int  // start of unread bytes in buf
	scanned  int  // bytes after off known to hold no separator
	skipping bool // dropping an oversized record up to its separator
}

func (f *Framer) limit() int {
	if f.MaxRecordSize > 0 {
		return f.MaxRecordSize
	}
	return DefaultMaxRecordSize
}

// Feed adds bytes to the stream. It copies p, so the caller may reuse it.
func (f *Framer) Feed(p []byte) {
	f.buf, f.off = appendUnread(f.buf, f.off, p)
}

// Next returns the next complete record without its separator, or ok
// false when none is complete yet. The record aliases the Framer's buffer
// and is valid until the next call to Feed or Next. An error means a
// record exceeded MaxRecordSize; its bytes are dropped and framing resumes
// after its separator.
func (f *Framer) Next() (record []byte, ok bool, err error) {
	for {
		rest := f.buf[f.off:]
		i := bytes.IndexByte(rest[f.scanned:], RecordSeparator)
		if i < 0 {
			f.scanned = len(rest)
			if f.skipping {
				f.buf, f.off, f.scanned = f.buf[:0], 0, 0
				return nil, false, nil
			}
			if len(rest) > f.limit() {
				f.skipping = true
				f.buf, f.off, f.scanned = f.buf[:0], 0, 0
				return nil, false, &RecordTooLargeError{Limit: f.limit()}
			}
			return nil, false, nil
		}
		end := f.scanned + i
		f.off += end + 1
		f.scanned = 0
		if f.skipping {
			f.skipping = false
			continue
		}
		if end > f.limit() {
			return nil, false, &RecordTooLargeError{Limit: f.limit()}
		}
		return rest[:end], true, nil
	}
}

// SplitOwned appends to dst the records that frame completes, for a
// caller that hands over frame and never modifies it again, as a
// WebSocket library that returns a fresh slice per message allows. The
// records alias frame, so they stay valid for as long as the caller keeps
// them and cost no copy; only a record that spans frames is assembled in a
// slice of its own. It shares the partial-record state and the size limit
// with Feed and Next, so the two styles must not be mixed mid-record. An
// oversized record is dropped and reported, and the rest of the frame is
// still split.
func (f *Framer) SplitOwned(dst [][]byte, frame []byte) ([][]byte, error) {
	var err error
	limit := f.limit()
	if f.Buffered() > 0 || f.skipping {
		i := bytes.IndexByte(frame, RecordSeparator)
		if i < 0 {
			f.Feed(frame)
			_, _, err = f.Next() // applies the limit to the growing record
			return dst, err
		}
		switch {
		case f.skipping:
			f.Reset()
		case f.Buffered()+i > limit:
			f.Reset()
			err = &RecordTooLargeError{Limit: limit}
		default:
			rec := make([]byte, 0, f.Buffered()+i)
			rec = append(append(rec, f.buf[f.off:]...), frame[:i]...)
			f.Reset()
			dst = append(dst, rec)
		}
		frame = frame[i+1:]
	}
	for {
		i := bytes.IndexByte(frame, RecordSeparator)
		if i < 0 {
			break
		}
		if i > limit {
			err = &RecordTooLargeError{Limit: limit}
		} else {
			dst = append(dst, frame[:i:i])
		}
		frame = frame[i+1:]
	}
	if len(frame) > 0 {
		if len(frame) > limit {
			f.skipping = true
			err = &RecordTooLargeError{Limit: limit}
		} else {
			f.buf = append(f.buf[:0], frame...)
			f.off, f.scanned = 0, len(frame)
		}
	}
	return dst, err
}

// Buffered returns how many bytes of an unfinished record are held.
func (f *Framer) Buffered() int { return len(f.buf) - f.off }

// Remainder returns a copy of the bytes held after the last record and
// empties the framer: what follows the JSON handshake on a connection
// whose messages are framed otherwise.
func (f *Framer) Remainder() []byte {
	rest := bytes.Clone(f.buf[f.off:])
	f.Reset()
	return rest
}

// Reset drops everything buffered, for a new connection.
func (f *Framer) Reset() { f.buf, f.off, f.scanned, f.skipping = f.buf[:0], 0, 0, false }

// SplitRecords splits a whole buffer the way the TS TextMessageFormat does:
// it must end with a separator, otherwise it fails with "Message is
// incomplete.". Records alias buf.
func SplitRecords(buf []byte) ([][]byte, error) {
	if len(buf) == 0 || buf[len(buf)-1] != RecordSeparator {
		return nil, perr(ErrIncomplete)
	}
	parts := bytes.Split(buf[:len(buf)-1], []byte{RecordSeparator})
	return parts, nil
}

// appendUnread appends p to the unread bytes buf[off:] of a framer's
// buffer, first dropping what was read when that is all of it or most of
// the buffer, so the buffer stays as large as an unfinished record.
func appendUnread(buf []byte, off int, p []byte) ([]byte, int) {
	if off > 0 && off == len(buf) {
		buf, off = buf[:0], 0
	} else if off > 0 && off > cap(buf)/2 {
		n := copy(buf, buf[off:])
		buf, off = buf[:n], 0
	}
	return append(buf, p...), off
}
