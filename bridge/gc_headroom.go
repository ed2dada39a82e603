package bridge

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// While a run is going the process gets a soft memory limit instead of
// Go's default, which lets the heap grow to twice its live size between
// collections. A full run holds a directory's worth of compact state
// (about 80 MB of live heap at 100,000 users) and makes garbage as fast as
// it maps entries, so with the default a 100,000-user full sync on SQLite
// peaked at 250 to 310 MiB of RSS (issue #6 wants under 256 MB; SQLite's
// own memory comes on top of Go's). Measured (bridge/synctest
// BenchmarkEngine and the Samba lab):
//
//   - GOGC=50 for the run: 185 MiB, but the collector ran twice as often
//     throughout, and a 50,000-user first sync against Samba, which shares
//     the two cores with the directory, took 12% longer;
//   - a fixed 176 MiB limit: 205 to 215 MiB at 100,000 users and the
//     Samba sync as fast as with the default, but at 200,000 users the
//     live heap neared the limit and the unchanged full run took twice as
//     long, collecting without end.
//
// So the limit is runMemoryBase or half again the live heap, whichever is
// larger, re-read a few times a second: below about 120 MB of live heap
// the process stays under runMemoryBase, above it a collection comes
// every half live heap of allocation (GOGC=50) instead of never-ending
// ones. A limit the operator set (GOMEMLIMIT) is left alone.
const (
	runMemoryBase  = 176 << 20
	runMemoryEvery = 250 * time.Millisecond
)

// runMemoryLimit is the limit for a live heap of live bytes.
func runMemoryLimit(live uint64) int64 {
	return max(int64(runMemoryBase), int64(live+live/2))
}

var runGC struct {
	mu   sync.Mutex
	runs int
	prev int64
	stop chan struct{}
	done chan struct{}
}

// tightenGC sets the run's memory limit; the returned func restores the
// previous one when the last concurrent run ends (runs of different
// accounts overlap, and the limit is process-wide).
func tightenGC() (restore func()) {
	runGC.mu.Lock()
	defer runGC.mu.Unlock()
	if runGC.runs == 0 {
		runGC.prev = debug.SetMemoryLimit(-1)
		runGC.stop = nil
		if runGC.prev == math.MaxInt64 { // no limit set by the operator
			debug.SetMemoryLimit(runMemoryBase)
			runGC.stop, runGC.done = make(chan struct{}), make(chan struct{})
			go followLiveHeap(runGC.stop, runGC.done)
		}
	}
	runGC.runs++
	var once sync.Once
	return func() {
		once.Do(func() {
			runGC.mu.Lock()
			defer runGC.mu.Unlock()
			runGC.runs--
			if runGC.runs == 0 && runGC.stop != nil {
				close(runGC.stop)
				<-runGC.done
				debug.SetMemoryLimit(runGC.prev)
			}
		})
	}
}

// followLiveHeap raises (or lowers) the limit with the live heap until
// stop closes.
func followLiveHeap(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(runMemoryEvery)
	defer t.Stop()
	set := int64(runMemoryBase)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			continue
		}
		if want := runMemoryLimit(sample[0].Value.Uint64()); want != set {
			debug.SetMemoryLimit(want)
			set = want
		}
	}
}
