// Package humantime says durations and instants in words, as sigr shows
// token lifetimes: "in 59 minutes", "3 hours ago".
package humantime

import (
	"fmt"
	"time"
)

// Relative says when t is relative to now, in words: "in 59 minutes", "3
// hours ago"; a past expiry (expiry set) reads "EXPIRED 2 minutes ago".
func Relative(t, now time.Time, expiry bool) string {
	d := t.Sub(now)
	if d >= 0 {
		return "in " + Words(d)
	}
	if expiry {
		return "EXPIRED " + Words(-d) + " ago"
	}
	return Words(-d) + " ago"
}

// Words says d rounded to the second in its largest units: "1 second",
// "59 minutes", "2 hours 5 minutes", "3 days".
func Words(d time.Duration) string {
	d = d.Round(time.Second)
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d < time.Minute:
		return unit(int64(d/time.Second), "second")
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		h := int64(d / time.Hour)
		m := int64(d%time.Hour) / int64(time.Minute)
		if m == 0 {
			return unit(h, "hour")
		}
		return unit(h, "hour") + " " + unit(m, "minute")
	default:
		return unit(int64(d/(24*time.Hour)), "day")
	}
}
