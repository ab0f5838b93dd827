package capture

import (
	"bytes"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// This file decodes MessagePack captures: length-prefixed records, after
// the JSON handshake that opens every connection whatever its protocol.

func (s *stream) binaryFramer(direction string, limit int) *protocol.BinaryFramer {
	f, ok := s.bframers[direction]
	if !ok {
		f = &protocol.BinaryFramer{MaxRecordSize: limit}
		s.bframers[direction] = f
	}
	return f
}

// feedBinaryRaw takes a chunk of a raw MessagePack capture. While the
// stream still starts with `{"` or `{}`, it holds the JSON handshake
// (a MessagePack record never starts so: its array follows a length of
// 123, and a record of 123 bytes starting with a quote is no array), whose
// 0x1E-ended records are decoded as JSON; the rest is length-prefixed.
func (d *decoder) feedBinaryRaw(s *stream, p []byte, t time.Time) {
	f := s.binaryFramer("", d.maxRecord)
	if s.pastHead {
		f.Feed(p)
		d.drain(s, f, t, d.binaryRecord)
		return
	}
	s.head = append(s.head, p...)
	for {
		if len(s.head) < 2 {
			return
		}
		if s.head[0] != '{' || s.head[1] != '"' && s.head[1] != '}' {
			break
		}
		i := bytes.IndexByte(s.head, protocol.RecordSeparator)
		if i < 0 {
			if len(s.head) > d.maxRecord {
				break
			}
			return
		}
		d.record(s, s.head[:i], t)
		s.head = s.head[i+1:]
	}
	s.pastHead = true
	f.Feed(s.head)
	s.head = nil
	d.drain(s, f, t, d.binaryRecord)
}

// binaryRecord decodes one MessagePack record.
func (d *decoder) binaryRecord(s *stream, rec []byte, t time.Time) {
	s.seen, s.afterReq = true, false
	m, err := s.mp.Parse(rec)
	if err != nil {
		d.errorLine(s, t, err.Error(), rec)
		return
	}
	ctx := s.ctx
	if d.raw {
		ctx.Raw = rec
	}
	d.emit(s, protocol.AppendMessageEvent(d.line[:0], t, &m, ctx))
}

// finishBinary reports what is left of the stream's MessagePack records
// (and a handshake that never ended) at the end of the capture.
func (d *decoder) finishBinary(s *stream, t time.Time) {
	if head := s.head; len(head) > 0 {
		s.head, s.pastHead = nil, true
		if head[0] == '{' && (len(head) == 1 || head[1] == '"' || head[1] == '}') {
			d.errorLine(s, t, protocol.ErrIncomplete, head)
		} else {
			f := s.binaryFramer(s.direction, d.maxRecord)
			f.Feed(head)
			d.drain(s, f, t, d.binaryRecord)
		}
	}
	f, ok := s.bframers[s.direction]
	if !ok {
		return
	}
	if rest, text := f.Leftover(); rest != nil {
		d.errorLine(s, t, text, rest)
	}
}
