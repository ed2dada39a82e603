package bridge

import (
	"context"
	"time"
)

// SyncHealth is where an account's syncs stand, for /readyz and for the
// last-success metric after a restart.
type SyncHealth struct {
	Account       string     `json:"account"`
	LastStatus    RunStatus  `json:"lastRunStatus,omitempty"`
	LastFinished  *time.Time `json:"lastRunFinishedAt,omitempty"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
}

// healthWindow is how many recent runs are looked at for the last success;
// an account whose last 50 runs all failed or were dry runs reports none.
const healthWindow = 50

// SyncHealthOf reads the last real (not dry) run of every account and the
// last one that succeeded.
func SyncHealthOf(ctx context.Context, store Store) ([]SyncHealth, error) {
	accounts, err := store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SyncHealth, 0, len(accounts))
	for _, a := range accounts {
		runs, _, err := store.ListRuns(ctx, a.ID, 0, healthWindow)
		if err != nil {
			return nil, err
		}
		h := SyncHealth{Account: a.ID}
		for _, r := range runs { // newest first
			if r.DryRun {
				continue
			}
			if h.LastStatus == "" {
				h.LastStatus, h.LastFinished = r.Status, r.FinishedAt
			}
			if r.Status == RunSucceeded && r.FinishedAt != nil {
				h.LastSuccessAt = r.FinishedAt
				break
			}
		}
		out = append(out, h)
	}
	return out, nil
}
