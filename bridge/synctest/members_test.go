package synctest

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// parallelFailStore lets a sync write memberships two transactions at a
// time (bridge.ParallelStore, as PostgreSQL does) and fails the second
// membership transaction it is given, as a dropped connection would.
type parallelFailStore struct {
	bridge.Store
	memberApplies atomic.Int32
}

func (s *parallelFailStore) Writers() int { return 2 }

func (s *parallelFailStore) Apply(ctx context.Context, account string, c bridge.Changes) error {
	if len(c.SetMembers) > 0 && s.memberApplies.Add(1) == 2 {
		return errors.New("read tcp 127.0.0.1:5432: connection reset by peer")
	}
	return s.Store.Apply(ctx, account, c)
}

// TestAdsimMembershipWriteFailure: when one of the membership transactions
// a sync runs side by side fails, the run fails with that reason, deletes
// nothing, and the next run leaves what one clean sync leaves.
func TestAdsimMembershipWriteFailure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		store := open(t)
		e := newEnv(t, store)
		e.engine.BatchSize = 2 // several membership transactions
		failing := &parallelFailStore{Store: store}
		e.engine.Store = failing
		const acct = "acme"
		e.configure(acct, ad.settings())

		r := e.run(bridge.RunOptions{Account: acct})
		if r.Status != bridge.RunFailed || !strings.HasPrefix(r.Error, "setting group memberships failed") ||
			!strings.Contains(r.Error, "connection reset by peer") || !strings.HasSuffix(r.Error, "nothing was deleted") {
			t.Fatalf("run: %s %q, want failed setting memberships, nothing deleted", r.Status, r.Error)
		}
		if n := failing.memberApplies.Load(); n < 2 {
			t.Fatalf("%d membership transactions, want several", n)
		}
		if r.Counts.Users.Deleted+r.Counts.Groups.Deleted != 0 {
			t.Errorf("a failed run deleted: %s", r.Summary())
		}

		e.engine.Store = store
		e.completesLikeACleanSync(acct, ad.settings())
	})
}
