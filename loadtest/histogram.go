package loadtest

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram buckets: values below subCount microseconds are exact; above,
// each power of two is split into subCount/2 buckets, which bounds the
// error of a reported percentile to under 2% at any scale while keeping
// memory fixed however many samples a long run records.
const (
	subBits    = 7
	subCount   = 1 << subBits
	halfCount  = subCount / 2
	maxBuckets = subCount + 40*halfCount
)

// histogram is a concurrent latency histogram in microseconds. Many
// connection goroutines add to one histogram with atomics, so recording a
// sample never takes a lock.
type histogram struct {
	counts [maxBuckets]atomic.Int64
	n      atomic.Int64
	sum    atomic.Int64
	max    atomic.Int64
}

func bucketOf(us int64) int {
	if us < 0 {
		us = 0
	}
	if us < subCount {
		return int(us)
	}
	e := bits.Len64(uint64(us)) - subBits
	i := subCount + (e-1)*halfCount + int(us>>e) - halfCount
	if i >= maxBuckets {
		return maxBuckets - 1
	}
	return i
}

// bucketValue is the midpoint of bucket i, in microseconds.
func bucketValue(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	e := (i-subCount)/halfCount + 1
	sub := int64((i-subCount)%halfCount + halfCount)
	return sub<<e + (1<<e)/2
}

// add records one sample.
func (h *histogram) add(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	h.sum.Add(us)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// summary reads the percentiles. Call it once recording has stopped.
func (h *histogram) summary() Percentiles {
	n := h.n.Load()
	if n == 0 {
		return Percentiles{}
	}
	at := func(q float64) float64 {
		rank := int64(q*float64(n) + 0.999999)
		if rank < 1 {
			rank = 1
		}
		var seen int64
		for i := range h.counts {
			seen += h.counts[i].Load()
			if seen >= rank {
				v := bucketValue(i)
				if m := h.max.Load(); v > m {
					v = m
				}
				return float64(v) / 1000
			}
		}
		return float64(h.max.Load()) / 1000
	}
	return Percentiles{
		Count: n,
		P50:   at(0.50),
		P90:   at(0.90),
		P99:   at(0.99),
		Max:   float64(h.max.Load()) / 1000,
		Mean:  float64(h.sum.Load()) / float64(n) / 1000,
	}
}

// Percentiles summarise a set of durations, in milliseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
	Mean  float64 `json:"meanMs"`
}
