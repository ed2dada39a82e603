package bridge

import (
	"runtime/debug"
	"testing"
)

func TestTightenGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	current := func() int {
		v := debug.SetGCPercent(-1)
		debug.SetGCPercent(v)
		return v
	}
	tests := []struct {
		name          string
		before        int
		during, after int
	}{
		{"default is lowered for the run", 100, runGCPercent, 100},
		{"a lower setting is kept", 20, 20, 20},
		{"GC off stays off", -1, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(tt.before)
			a := tightenGC()
			b := tightenGC() // a second account's run overlapping the first
			if got := current(); got != tt.during {
				t.Errorf("during two runs: GOGC %d, want %d", got, tt.during)
			}
			a()
			a() // restoring twice counts once
			if got := current(); got != tt.during {
				t.Errorf("after the first run ended: GOGC %d, want %d", got, tt.during)
			}
			b()
			if got := current(); got != tt.after {
				t.Errorf("after both runs: GOGC %d, want %d", got, tt.after)
			}
		})
	}
}
