package bridge_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
)

// emptyDirectory is a directory with nothing in scope; Stream can be made
// to block until released, to hold a run open.
type emptyDirectory struct{ block chan struct{} }

func (d *emptyDirectory) ServerInfo(context.Context) (bridge.ServerInfo, error) {
	return bridge.ServerInfo{DNSHostName: "dc.test", DefaultNamingContext: "DC=test", SupportsPaging: true}, nil
}

func (d *emptyDirectory) Stream(ctx context.Context, _ bridge.Scope, _ bridge.EntryKind, _ func(bridge.Entry) error) error {
	if d.block != nil {
		select {
		case <-d.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (d *emptyDirectory) Count(context.Context, bridge.Scope) (bridge.ScopeCounts, error) {
	return bridge.ScopeCounts{}, nil
}
func (d *emptyDirectory) OUTree(context.Context, string) ([]bridge.OUNode, error) { return nil, nil }
func (d *emptyDirectory) Close() error                                            { return nil }

func opener(dir bridge.Directory) bridge.DirectoryOpener {
	return func(context.Context, bridge.Connection, string, *slog.Logger) (bridge.Directory, error) {
		return dir, nil
	}
}

// backends opens one store per "replica" on a fresh database of each kind.
type backend struct {
	name string
	open func(t *testing.T) func() *db.Store // returns a function opening another replica
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T) func() *db.Store {
			dir := t.TempDir()
			return func() *db.Store { return openStore(t, db.Config{DataDir: dir}) }
		}},
		{"postgres", func(t *testing.T) func() *db.Store {
			u := pgtest.NewDatabase(t)
			return func() *db.Store { return openStore(t, db.Config{URL: u}) }
		}},
	}
}

func openStore(t *testing.T, cfg db.Config) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable clock shared by the engines and schedulers.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func putSchedule(t *testing.T, s bridge.Store, account string, sch bridge.Schedule) {
	t.Helper()
	settings := bridge.Settings{
		Connection: bridge.Connection{Host: "dc.test", Security: bridge.SecurityNone, BaseDN: "DC=test",
			BindDN: "CN=svc,DC=test", Password: "pw"},
		Schedule: sch,
	}.WithDefaults()
	if err := s.PutSettings(context.Background(), account, bridge.StoredSettings{Settings: settings}); err != nil {
		t.Fatalf("put settings: %v", err)
	}
}

func newRunner(s bridge.Store, dir bridge.Directory, c *clock) *bridge.Runner {
	return bridge.NewRunner(bridge.Engine{Store: s, Open: opener(dir), Now: c.Now}, nil)
}

func waitIdle(t *testing.T, runners ...*bridge.Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, r := range runners {
		if err := r.Wait(ctx); err != nil {
			t.Fatalf("runs did not finish: %v", err)
		}
	}
}

func scheduledRuns(t *testing.T, s bridge.Store, account string) []bridge.Run {
	t.Helper()
	runs, _, err := s.ListRuns(context.Background(), account, 0, 1000)
	if err != nil {
		t.Fatalf("list runs: %v", err)
	}
	var out []bridge.Run
	for _, r := range runs {
		if r.Trigger == bridge.TriggerSchedule {
			out = append(out, r)
		}
	}
	return out
}

// TestSchedulerReplicasRunASlotOnce: two replicas on one database tick at
// the same instant, slot after slot; every slot gets exactly one run.
func TestSchedulerReplicasRunASlotOnce(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			replica := be.open(t)
			s1, s2 := replica(), replica()
			c := &clock{}
			c.Set(time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC))
			putSchedule(t, s1, bridge.DefaultAccount, bridge.Schedule{Enabled: true, Frequency: bridge.FrequencyDaily,
				Start: "2031-03-01T02:00", TimeZone: "Europe/Berlin"})
			const slots = 6
			var r1, r2 *bridge.Runner
			for i := 0; i < slots; i++ {
				r1, r2 = newRunner(s1, &emptyDirectory{}, c), newRunner(s2, &emptyDirectory{}, c)
				sc1 := &bridge.Scheduler{Runner: r1, Now: c.Now}
				sc2 := &bridge.Scheduler{Runner: r2, Now: c.Now}
				// Slot i: 02:00 Berlin (01:00 UTC) on March 1+i.
				c.Set(time.Date(2031, 3, 1+i, 1, 0, 30, 0, time.UTC))
				var wg sync.WaitGroup
				for _, sc := range []*bridge.Scheduler{sc1, sc2, sc1, sc2} {
					wg.Add(1)
					go func() { defer wg.Done(); sc.Tick(context.Background()) }()
				}
				wg.Wait()
				waitIdle(t, r1, r2)
				// Later ticks in the same day do nothing.
				r1 = newRunner(s1, &emptyDirectory{}, c)
				c.Add(10 * time.Minute)
				(&bridge.Scheduler{Runner: r1, Now: c.Now}).Tick(context.Background())
				waitIdle(t, r1)
			}
			runs := scheduledRuns(t, s1, bridge.DefaultAccount)
			if len(runs) != slots {
				t.Fatalf("got %d scheduled runs for %d slots", len(runs), slots)
			}
			for _, r := range runs {
				if r.Status != bridge.RunSucceeded {
					t.Errorf("run %s: status %s (%s)", r.ID, r.Status, r.Error)
				}
			}
		})
	}
}

// TestSchedulerMissedSlotsRunOnce: every replica was down for five slots;
// the first tick runs once, and a new schedule does not fire for a start in
// the past.
func TestSchedulerMissedSlotsRunOnce(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			s := be.open(t)()
			c := &clock{}
			c.Set(time.Now().UTC())
			// Saved now, with a start long past: nothing is due yet.
			putSchedule(t, s, bridge.DefaultAccount, bridge.Schedule{Enabled: true, Frequency: bridge.FrequencyDaily,
				Start: "2020-01-01T02:00", TimeZone: "UTC"})
			r := newRunner(s, &emptyDirectory{}, c)
			next := (&bridge.Scheduler{Runner: r, Now: c.Now}).Tick(context.Background())
			waitIdle(t, r)
			if n := len(scheduledRuns(t, s, bridge.DefaultAccount)); n != 0 {
				t.Fatalf("a new schedule fired %d runs for past slots", n)
			}
			if next.IsZero() || !next.After(c.Now()) {
				t.Fatalf("next slot = %v, want after now", next)
			}
			// Five days pass with no replica up.
			c.Add(5 * 24 * time.Hour)
			for i := 0; i < 3; i++ {
				r := newRunner(s, &emptyDirectory{}, c)
				(&bridge.Scheduler{Runner: r, Now: c.Now}).Tick(context.Background())
				waitIdle(t, r)
				c.Add(time.Minute)
			}
			if n := len(scheduledRuns(t, s, bridge.DefaultAccount)); n != 1 {
				t.Fatalf("got %d runs after five missed slots, want 1", n)
			}
		})
	}
}

// TestRunnerStartConflictCancel: Run Now answers with the running run, a
// second start is refused while it runs, and cancel stops it, also from
// another replica.
func TestRunnerStartConflictCancel(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			replica := be.open(t)
			s1, s2 := replica(), replica()
			c := &clock{}
			c.Set(time.Now().UTC())
			putSchedule(t, s1, bridge.DefaultAccount, bridge.Schedule{})
			ctx := context.Background()
			for _, remote := range []bool{false, true} {
				dir := &emptyDirectory{block: make(chan struct{})}
				r1 := newRunner(s1, dir, c)
				r1.PollInterval = 50 * time.Millisecond
				watchCtx, stopWatch := context.WithCancel(ctx)
				go r1.Watch(watchCtx)
				r2 := newRunner(s2, &emptyDirectory{}, c)
				run, err := r1.Start(ctx, bridge.RunOptions{Account: bridge.DefaultAccount, Trigger: bridge.TriggerManual})
				if err != nil {
					t.Fatalf("start: %v", err)
				}
				if run.ID == "" || run.Status != bridge.RunRunning {
					t.Fatalf("started run = %+v, want a running run with an id", run)
				}
				if _, err := r2.Start(ctx, bridge.RunOptions{Account: bridge.DefaultAccount}); !errors.Is(err, bridge.ErrRunInProgress) {
					t.Fatalf("second start error = %v, want ErrRunInProgress", err)
				}
				got, ok, err := bridge.RunningRun(ctx, s2, bridge.DefaultAccount)
				if err != nil || !ok || got.ID != run.ID {
					t.Fatalf("RunningRun = %v %v %v, want %s", got.ID, ok, err, run.ID)
				}
				canceller := r1
				if remote {
					canceller = r2
				}
				if _, err := canceller.Cancel(ctx, bridge.DefaultAccount, run.ID); err != nil {
					t.Fatalf("cancel (remote=%v): %v", remote, err)
				}
				waitIdle(t, r1, r2)
				stopWatch()
				final, err := s1.GetRun(ctx, bridge.DefaultAccount, run.ID)
				if err != nil {
					t.Fatalf("get run: %v", err)
				}
				if final.Status != bridge.RunCancelled || final.FinishedAt == nil {
					t.Fatalf("after cancel (remote=%v): status %s, finished %v; want cancelled and finished", remote, final.Status, final.FinishedAt)
				}
				if _, err := r2.Cancel(ctx, bridge.DefaultAccount, run.ID); !errors.Is(err, bridge.ErrConflict) {
					t.Fatalf("cancelling a finished run: %v, want ErrConflict", err)
				}
			}
		})
	}
}
