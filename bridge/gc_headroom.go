package bridge

import (
	"runtime/debug"
	"sync"
)

// runGCPercent is the GC target while any run is going. A full run holds
// a directory's worth of compact state (about 80 MB of live heap at
// 100,000 users) and makes garbage at the rate it maps entries; with Go's
// default GOGC=100 the heap grows to twice the live size before each
// collection, which took a 100,000-user full sync on SQLite to 250 to
// 310 MiB of RSS (issue #6 wants under 256 MB). At 50 the same run peaked
// at 210 to 220 MiB for about 3% more CPU (bridge/synctest BenchmarkEngine).
// A lower setting the operator chose (GOGC, or GC off) is kept.
const runGCPercent = 50

var runGC struct {
	mu   sync.Mutex
	runs int
	prev int
}

// tightenGC lowers the GC target for the duration of a run; the returned
// func restores it when the last concurrent run ends (runs of different
// accounts overlap, and the setting is process-wide).
func tightenGC() (restore func()) {
	runGC.mu.Lock()
	defer runGC.mu.Unlock()
	if runGC.runs == 0 {
		runGC.prev = debug.SetGCPercent(runGCPercent)
		if runGC.prev >= 0 && runGC.prev < runGCPercent || runGC.prev < 0 {
			debug.SetGCPercent(runGC.prev)
		}
	}
	runGC.runs++
	var once sync.Once
	return func() {
		once.Do(func() {
			runGC.mu.Lock()
			defer runGC.mu.Unlock()
			runGC.runs--
			if runGC.runs == 0 {
				debug.SetGCPercent(runGC.prev)
			}
		})
	}
}
