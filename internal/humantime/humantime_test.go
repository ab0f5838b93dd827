package humantime

import (
	"testing"
	"time"
)

func TestRelative(t *testing.T) {
	now := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at     time.Duration
		expiry bool
		want   string
	}{
		{59 * time.Minute, true, "in 59 minutes"},
		{time.Second, false, "in 1 second"},
		{-3 * time.Hour, false, "3 hours ago"},
		{-2 * time.Minute, true, "EXPIRED 2 minutes ago"},
		{2*time.Hour + 5*time.Minute, true, "in 2 hours 5 minutes"},
		{72 * time.Hour, true, "in 3 days"},
		{1500 * time.Millisecond, false, "in 2 seconds"},
	} {
		if got := Relative(now.Add(tc.at), now, tc.expiry); got != tc.want {
			t.Errorf("Relative(%v, expiry %v) = %q, want %q", tc.at, tc.expiry, got, tc.want)
		}
	}
}

func TestWords(t *testing.T) {
	cases := map[time.Duration]string{
		30 * time.Second:                "30 seconds",
		time.Minute:                     "1 minute",
		59*time.Minute + 59*time.Second: "59 minutes",
		2 * time.Hour:                   "2 hours",
		26*time.Hour + 5*time.Minute:    "26 hours 5 minutes",
		72 * time.Hour:                  "3 days",
	}
	for d, want := range cases {
		if got := Words(d); got != want {
			t.Errorf("Words(%s) = %q, want %q", d, got, want)
		}
	}
}
