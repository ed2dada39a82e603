package synctest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// flakyEndStore fails the first writes of a finished run's report, as a
// database restarting at that moment would.
type flakyEndStore struct {
	bridge.Store
	failures atomic.Int32
}

func (s *flakyEndStore) UpdateRun(ctx context.Context, r bridge.Run) error {
	if r.Status != bridge.RunRunning && s.failures.Add(-1) >= 0 {
		return errors.New("connection reset by peer")
	}
	return s.Store.UpdateRun(ctx, r)
}

// A run whose end cannot be written at once retries, so its report does not
// stay "running" until the next serve start.
func TestRunRetriesRecordingItsEnd(t *testing.T) {
	ad := startAD(t)
	store := openSQLite(t)
	flaky := &flakyEndStore{Store: store}
	flaky.failures.Store(2)
	e := newEnv(t, store)
	e.engine.Store = flaky
	const acct = "acme"
	e.configure(acct, ad.settings())
	r, err := e.engine.Run(context.Background(), bridge.RunOptions{Account: acct})
	if err != nil || r.Status != bridge.RunSucceeded {
		t.Fatalf("run: %v %s %q", err, r.Status, r.Error)
	}
	stored, err := store.GetRun(context.Background(), acct, r.ID)
	if err != nil || stored.Status != bridge.RunSucceeded || stored.FinishedAt == nil {
		t.Fatalf("stored run: %v %+v", err, stored)
	}
}
