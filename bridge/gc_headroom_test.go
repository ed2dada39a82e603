package bridge

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestRunMemoryLimit(t *testing.T) {
	tests := []struct {
		live uint64
		want int64
	}{
		{0, runMemoryBase},
		{80 << 20, runMemoryBase}, // 100,000 users: the base holds
		{runMemoryBase * 2 / 3, runMemoryBase},
		{160 << 20, 240 << 20}, // 200,000 users: half again the live heap
		{1 << 30, 3 << 29},
	}
	for _, tt := range tests {
		if got := runMemoryLimit(tt.live); got != tt.want {
			t.Errorf("runMemoryLimit(%d MiB) = %d MiB, want %d MiB", tt.live>>20, got>>20, tt.want>>20)
		}
	}
}

func TestTightenGC(t *testing.T) {
	orig := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(orig)
	current := func() int64 { return debug.SetMemoryLimit(-1) }
	tests := []struct {
		name   string
		before int64
		during int64
	}{
		{"no limit: the run's while runs go", math.MaxInt64, runMemoryBase},
		{"an operator's GOMEMLIMIT is kept", 1 << 30, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(tt.before)
			a := tightenGC()
			b := tightenGC() // a second account's run overlapping the first
			if got := current(); got != tt.during {
				t.Errorf("during two runs: limit %d, want %d", got, tt.during)
			}
			a()
			a() // restoring twice counts once
			if got := current(); got != tt.during {
				t.Errorf("after the first run ended: limit %d, want %d", got, tt.during)
			}
			b()
			if got := current(); got != tt.before {
				t.Errorf("after both runs: limit %d, want %d", got, tt.before)
			}
		})
	}
}
