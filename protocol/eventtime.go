package protocol

import (
	"sync/atomic"
	"time"
)

// timeLayout is the `time` of an event line: RFC 3339 with nanoseconds,
// always nine digits, in the time's own zone.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// secondLine is the part of an event line's time that changes once a
// second: the date and clock up to the seconds, and the zone, for one
// second of one UTC offset.
type secondLine struct {
	sec    int64 // Unix seconds
	offset int   // seconds east of UTC
	date   []byte
	zone   []byte
}

// lastSecond is the second appendTime formatted last. A receive loop
// writes many lines a second; formatting the date, the clock and the zone
// once for all of them, rather than walking the layout every time, is
// most of what writing a line's time costs.
var lastSecond atomic.Pointer[secondLine]

// appendTime appends t in timeLayout.
func appendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	_, offset := t.Zone()
	s := lastSecond.Load()
	if s == nil || s.sec != sec || s.offset != offset {
		s = &secondLine{
			sec:    sec,
			offset: offset,
			date:   t.AppendFormat(nil, "2006-01-02T15:04:05"),
			zone:   t.AppendFormat(nil, "Z07:00"),
		}
		lastSecond.Store(s)
	}
	dst = append(dst, s.date...)
	ns := t.Nanosecond()
	var frac [10]byte
	frac[0] = '.'
	for i := 9; i > 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	dst = append(dst, frac[:]...)
	return append(dst, s.zone...)
}
