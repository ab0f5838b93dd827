package protocol

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendTimeMatchesLayout checks the cached formatting against
// time.AppendFormat: times within one second and across seconds, zones
// that alternate on the same second, a daylight-saving change, the zero
// time and years past 9999.
func TestAppendTimeMatchesLayout(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	zones := []*time.Location{time.UTC, time.Local, ny, time.FixedZone("", 5*3600+1800), time.FixedZone("X", -45)}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC) // 1:59:58 in New York, before the change
	var times []time.Time
	for i := range 2000 {
		d := time.Duration(rng.Int64N(int64(4 * time.Second)))
		if i%7 == 0 {
			d = time.Duration(i) * time.Second
		}
		times = append(times, base.Add(d).In(zones[rng.IntN(len(zones))]))
	}
	times = append(times, time.Time{}, time.Date(12345, 6, 7, 8, 9, 10, 11, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), base.Truncate(time.Second))
	for _, tm := range times {
		want := tm.AppendFormat(nil, timeLayout)
		if got := appendTime(nil, tm); string(got) != string(want) {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func BenchmarkAppendTime(b *testing.B) {
	now := time.Now()
	buf := make([]byte, 0, 64)
	b.Run("cached", func(b *testing.B) {
		for i := range b.N {
			buf = appendTime(buf[:0], now.Add(time.Duration(i)))
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		for i := range b.N {
			buf = now.Add(time.Duration(i)).AppendFormat(buf[:0], timeLayout)
		}
	})
}
