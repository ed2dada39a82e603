package bridge

import (
	"fmt"
	"strconv"
)

// ThresholdExceeded reports whether deleting deletes of live objects goes
// over the account's deletion threshold: more than MaxCount objects, or more
// than MaxPercent of the live AD-sourced objects (users and groups). Only
// deletions count, not deactivations (see Plan.Deletions). t should have
// its defaults filled (Settings.WithDefaults).
func ThresholdExceeded(deletes, live int, t DeletionThreshold) bool {
	if deletes <= 0 {
		return false
	}
	if deletes > t.MaxCount {
		return true
	}
	// deletes/live > MaxPercent/100, in integers.
	return deletes*100 > t.MaxPercent*live
}

// heldMessage is the Error of a held run.
func heldMessage(deletes, live int, t DeletionThreshold, runID string) string {
	return fmt.Sprintf("would delete %s of %s objects (%s), above the threshold of %s or %d%%; approve run %s to apply",
		thousands(deletes), thousands(live), percent(deletes, live), thousands(t.MaxCount), t.MaxPercent, runID)
}

// percent formats part of whole as a whole percentage, rounded down, with
// "<1%" for a small but non-zero share.
func percent(part, whole int) string {
	if whole <= 0 {
		return "100%"
	}
	p := part * 100 / whole
	if p == 0 && part > 0 {
		return "<1%"
	}
	return strconv.Itoa(p) + "%"
}

// thousands formats n with comma separators: 3000 -> "3,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
