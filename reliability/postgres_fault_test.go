package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

const loadBase = "DC=load,DC=test"

// loadDirectory starts an adsim server with n generated users and a few
// groups; the bind account is svc / Load-Passw0rd!.
func loadDirectory(t *testing.T, n int) (*adsim.Server, bridge.Settings) {
	t.Helper()
	const bindDN, pw = "CN=svc,DC=load,DC=test", "Load-Passw0rd!"
	srv, err := adsim.New(adsim.Options{BaseDN: loadBase, BindDN: bindDN, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddAll(adsim.Generate(loadBase, n, 5)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, bridge.Settings{
		Connection: bridge.Connection{Host: srv.Host(), Port: srv.Port(), Security: bridge.SecurityNone,
			BaseDN: loadBase, BindDN: bindDN, Password: pw, TimeoutSeconds: 30},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUAll},
		DistributionLists:   bridge.DistributionLists{Import: true},
		Users:               bridge.UserRules{Mapping: bridge.MappingDefault},
	}.WithDefaults()
}

// applyRecorder records every batch the engine applies and what Apply
// answered; before batch `at` it calls fault.
type applyRecorder struct {
	bridge.Store
	mu      sync.Mutex
	batches []recordedBatch
	at      int
	// fault returns a function called when the batch's Apply returned.
	fault func(ctx context.Context) (stop func())
}

type recordedBatch struct {
	users, groups []string
	err           error
}

func (r *applyRecorder) Apply(ctx context.Context, account string, c bridge.Changes) error {
	r.mu.Lock()
	i := len(r.batches)
	r.mu.Unlock()
	stop := func() {}
	if i == r.at && r.fault != nil {
		stop = r.fault(ctx)
	}
	err := r.Store.Apply(ctx, account, c)
	stop()
	b := recordedBatch{err: err}
	for _, u := range c.Users {
		b.users = append(b.users, u.ID)
	}
	for _, g := range c.Groups {
		b.groups = append(b.groups, g.ID)
	}
	r.mu.Lock()
	r.batches = append(r.batches, b)
	r.mu.Unlock()
	return err
}

// TestPostgresConnectionKilledDuringApply kills the store's PostgreSQL
// connections while the engine applies a run in 500-object batches, in
// three ways, and checks that each batch is all or nothing, that the run
// fails cleanly (or succeeds, having reconnected) and that the next run
// leaves the store complete.
func TestPostgresConnectionKilledDuringApply(t *testing.T) {
	const users = 1200
	var killers sync.WaitGroup
	cases := []struct {
		name string
		// fault runs before batch 1 (the second); it gets the proxy and a direct
		// connection to the test database.
		fault func(t *testing.T, p *faultProxy, direct *sql.DB, dbName string) func(ctx context.Context) func()
		// mustFail: the fault cannot be survived by a reconnect.
		mustFail bool
	}{
		{"connection cut mid-transaction (proxy)", func(t *testing.T, p *faultProxy, _ *sql.DB, _ string) func(context.Context) func() {
			return func(context.Context) func() { p.armUpCut(32 << 10); return p.reset }
		}, true},
		{"backends terminated between batches (pg_terminate_backend)", func(t *testing.T, _ *faultProxy, direct *sql.DB, name string) func(context.Context) func() {
			return func(context.Context) func() { terminateBackends(t, direct, name); return func() {} }
		}, false},
		{"backends terminated during the batch (pg_terminate_backend)", func(t *testing.T, _ *faultProxy, direct *sql.DB, name string) func(context.Context) func() {
			return func(context.Context) func() {
				// Kill the transaction the batch opens, while it is open.
				done := make(chan struct{})
				killers.Add(1)
				go func() {
					defer killers.Done()
					for {
						select {
						case <-done:
							return
						default:
						}
						if terminateBackends(t, direct, name, "state = 'idle in transaction'", "(state = 'active' AND query ILIKE '%users%')") > 0 {
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
				return func() { close(done); killers.Wait() }
			}
		}, false},
	}
	_, settings := loadDirectory(t, users)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, name := createPostgresDB(t)
			p := newFaultProxy(t, hostOf(t, u))
			store, err := db.Open(context.Background(), db.Config{URL: withHost(t, u, p.Addr())})
			if err != nil {
				t.Fatalf("open PostgreSQL through the proxy: %v", err)
			}
			defer store.Close()
			// The test's own connections are spared by name.
			direct, err := sql.Open("pgx", u+"&application_name=reliability-test")
			if err != nil {
				t.Fatal(err)
			}
			defer direct.Close()
			rec := &applyRecorder{Store: store, at: 1}
			rec.fault = c.fault(t, p, direct, name)
			e := newSyncEnv(t, rec)
			// 500 per batch: the 1,200 users span three, so the fault lands
			// in the middle of the users (the default, 2,000, is one batch).
			e.engine.BatchSize = 500
			const acct = "pgkill"
			e.configure(acct, settings)
			r := e.run(acct)
			t.Logf("run under the fault: %s %q; batches %d", r.Status, r.Error, len(rec.batches))

			failed := 0
			for i, b := range rec.batches {
				if b.err != nil {
					failed++
				}
				present := countPresent(t, direct, "users", b.users) + countPresent(t, direct, "groups", b.groups)
				want := 0
				if b.err == nil {
					want = len(b.users) + len(b.groups)
				}
				if present != want {
					t.Errorf("batch %d (err %v): %d of its %d objects are stored, want %d: a batch was half-applied",
						i, b.err, present, len(b.users)+len(b.groups), want)
				}
			}
			if c.mustFail && (failed == 0 || r.Status != bridge.RunFailed) {
				t.Fatalf("the cut went unnoticed: run %s, %d failed batches", r.Status, failed)
			}
			if failed > 0 && r.Status != bridge.RunFailed {
				t.Fatalf("a batch failed but the run is %s %q", r.Status, r.Error)
			}
			if r.Status == bridge.RunFailed && r.Error == "" {
				t.Fatal("a failed run without a reason")
			}
			stored, err := store.GetRun(e.ctx, acct, r.ID)
			if err != nil || stored.Status != r.Status || stored.FinishedAt == nil {
				t.Fatalf("the run's end was not recorded: %+v %v", stored, err)
			}
			// The next run repairs everything.
			rec.fault = nil
			r2 := e.run(acct)
			if r2.Status != bridge.RunSucceeded {
				t.Fatalf("run after the fault: %s %q", r2.Status, r2.Error)
			}
			s := takeSnapshot(t, store, acct)
			if n := s.count("user:", "active"); n != users {
				t.Errorf("%d active users after the repair, want %d", n, users)
			}
			if r3 := e.run(acct); r3.Status != bridge.RunSucceeded || r3.Counts.Users.Unchanged != users {
				t.Errorf("a third run is not a no-op: %s %+v", r3.Status, r3.Counts)
			}
		})
	}
}

// terminateBackends kills the test database's connections other than
// direct's own (matching where, when given).
func terminateBackends(t *testing.T, direct *sql.DB, dbName string, where ...string) int {
	q := "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'reliability-test'"
	if len(where) > 0 {
		q += " AND (" + strings.Join(where, " OR ") + ")"
	}
	var n int
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := direct.QueryRowContext(ctx, q, dbName).Scan(&n); err != nil {
		t.Errorf("pg_terminate_backend: %v", err)
	}
	return n
}

func countPresent(t *testing.T, direct *sql.DB, table string, ids []string) int {
	t.Helper()
	if len(ids) == 0 {
		return 0
	}
	args := make([]any, len(ids))
	ph := make([]string, len(ids))
	for i, id := range ids {
		args[i] = id
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	var n int
	q := "SELECT count(*) FROM " + table + " WHERE id IN (" + strings.Join(ph, ",") + ")"
	if err := direct.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
