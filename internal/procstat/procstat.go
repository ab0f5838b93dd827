// Package procstat reads what this process has spent so far: CPU time,
// heap allocations and memory. Two samples give what a stretch of work
// cost the process, without a profiler and without stopping the world.
package procstat

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// Read samples this process's counters. It reads runtime.MemStats, which
// stops the world for a moment (tens of microseconds): runtime/metrics
// does not, but counts a span's allocations only when the span is given
// back, so its count lags by up to a span per size class per P.
func Read() protocol.ProcessStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return protocol.ProcessStats{
		Time:       time.Now(),
		CPUSeconds: cpuSeconds(),
		Allocs:     ms.Mallocs,
		RSS:        residentBytes(),
		HeapInuse:  int64(ms.HeapInuse),
		Goroutines: runtime.NumGoroutine(),
	}
}

// residentBytes reads the resident set from /proc (Linux); 0 elsewhere.
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
