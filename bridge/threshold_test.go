package bridge

import "testing"

func TestThresholdExceeded(t *testing.T) {
	def := DeletionThreshold{MaxCount: 500, MaxPercent: 20}
	tests := []struct {
		name          string
		deletes, live int
		threshold     DeletionThreshold
		want          bool
	}{
		{"nothing deleted", 0, 3000, def, false},
		{"nothing live", 0, 0, def, false},
		{"below both", 100, 3000, def, false},
		{"at the count", 500, 3000, def, false},
		{"one over the count", 501, 3000, def, true},
		{"exactly the percentage", 600, 3000, DeletionThreshold{MaxCount: 1000, MaxPercent: 20}, false},
		{"just over the percentage", 601, 3000, DeletionThreshold{MaxCount: 1000, MaxPercent: 20}, true},
		{"percentage of a small directory", 1, 4, def, true},
		{"one of five is 20 percent", 1, 5, def, false},
		{"everything", 10, 10, def, true},
		{"percent 100 never holds by share", 10, 10, DeletionThreshold{MaxCount: 500, MaxPercent: 100}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ThresholdExceeded(tt.deletes, tt.live, tt.threshold); got != tt.want {
				t.Errorf("ThresholdExceeded(%d, %d, %+v) = %v, want %v", tt.deletes, tt.live, tt.threshold, got, tt.want)
			}
		})
	}
}

func TestHeldMessage(t *testing.T) {
	got := heldMessage(812, 3000, DeletionThreshold{MaxCount: 500, MaxPercent: 20}, "r1")
	want := "would delete 812 of 3,000 objects (27%), above the threshold of 500 or 20%; approve run r1 to apply"
	if got != want {
		t.Errorf("heldMessage =\n%s\nwant\n%s", got, want)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4000: "-4,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := percent(1, 1000); got != "<1%" {
		t.Errorf("percent(1, 1000) = %q", got)
	}
}
