// Package procstat reads what this process has spent so far: CPU time,
// heap allocations and memory. Two samples give what a stretch of work
// cost the process, without a profiler and without stopping the world.
package procstat

import (
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// processMetrics are read with runtime/metrics, which, unlike
// runtime.ReadMemStats, does not stop the world: the sample must not
// disturb the fan-out it measures.
var processMetrics = []string{
	"/gc/heap/allocs:objects",
	"/gc/heap/tiny/allocs:objects",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
}

// Read samples this process's counters. Allocs equals
// runtime.MemStats.Mallocs and HeapInuse runtime.MemStats.HeapInuse.
func Read() protocol.ProcessStats {
	samples := make([]metrics.Sample, len(processMetrics))
	for i, name := range processMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	u := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	return protocol.ProcessStats{
		Time:       time.Now(),
		CPUSeconds: cpuSeconds(),
		Allocs:     u(0) + u(1),
		RSS:        residentBytes(),
		HeapInuse:  int64(u(2) + u(3)),
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
