package bridge

import (
	"testing"
	"time"
)

func TestRunSummary(t *testing.T) {
	start := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	end := start.Add(1500 * time.Millisecond)
	tests := []struct {
		name string
		run  Run
		want string
	}{
		{"succeeded", Run{ID: "r1", Status: RunSucceeded, Kind: RunFull, StartedAt: start, FinishedAt: &end,
			Counts: RunCounts{Users: Counts{Added: 3, Deactivated: 1, Unchanged: 1200}, Groups: Counts{Updated: 2}}},
			"run r1 succeeded (full) in 1.5s: users 3 added, 1 deactivated, 1,200 unchanged; groups 2 updated"},
		{"held dry run", Run{ID: "r2", Status: RunHeld, Kind: RunFull, DryRun: true, Error: "would delete 9 of 10 objects",
			Counts: RunCounts{Users: Counts{Deleted: 9}}},
			"run r2 held (full, dry run): users 9 deleted; groups nothing\nwould delete 9 of 10 objects"},
		{"approval", Run{ID: "r3", Status: RunFailed, ApprovedRunID: "r2", Error: "boom"},
			"run r3 failed (approving run r2): users nothing; groups nothing\nboom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.run.Summary(); got != tt.want {
				t.Errorf("Summary() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
