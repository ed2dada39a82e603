package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Scheduler starts scheduled runs. Every replica runs one. Each tick, for
// every account with an enabled schedule, it finds the latest slot that
// passed since the account's last run (or since its settings were saved,
// so a new schedule does not fire at once for a start in the past) and
// starts one run for it. A slot missed while every replica was down is
// therefore run once at start, not once per slot.
//
// Exactly one replica runs a slot: the run starts under the account's
// cluster-wide lock, and under that lock the scheduler checks again that no
// run started at or after the slot. The replica that wins records its run
// before it releases the lock, so the others see it and stand down.
type Scheduler struct {
	Runner *Runner
	Log    *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaxWait bounds the sleep between ticks (1 minute when 0): the
	// scheduler wakes at the next slot or after MaxWait, whichever is
	// first, so an edited schedule takes effect within MaxWait.
	MaxWait time.Duration
}

// errSlotTaken means another replica already ran the slot.
var errSlotTaken = errors.New("the slot already has a run")

// Serve ticks until ctx ends.
func (s *Scheduler) Serve(ctx context.Context) error {
	for {
		next := s.Tick(ctx)
		wait := s.maxWait()
		if !next.IsZero() {
			if d := next.Sub(s.now()); d < wait {
				wait = max(d, 0) + 50*time.Millisecond // past the slot, never before it
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Tick starts the runs that are due and returns the earliest next slot of
// any account (zero when none).
func (s *Scheduler) Tick(ctx context.Context) time.Time {
	store := s.Runner.Store()
	accounts, err := store.ListAccounts(ctx)
	if err != nil {
		s.log().Warn("scheduler: listing accounts failed", "err", err)
		return time.Time{}
	}
	var earliest time.Time
	for _, a := range accounts {
		next, err := s.tickAccount(ctx, a.ID)
		if err != nil {
			s.log().Warn("scheduler: account skipped this tick", "account", a.ID, "err", err)
		}
		if !next.IsZero() && (earliest.IsZero() || next.Before(earliest)) {
			earliest = next
		}
	}
	return earliest
}

func (s *Scheduler) tickAccount(ctx context.Context, account string) (time.Time, error) {
	store := s.Runner.Store()
	st, err := store.GetSettings(ctx, account)
	if errors.Is(err, ErrNotConfigured) || errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	sch := st.Settings.Schedule
	if !sch.Enabled {
		return time.Time{}, nil
	}
	now := s.now()
	next, err := sch.NextRuns(now, 1)
	if err != nil {
		return time.Time{}, fmt.Errorf("the schedule is invalid: %w", err)
	}
	last, err := lastRunStart(ctx, store, account)
	if err != nil {
		return next[0], err
	}
	if st.UpdatedAt.After(last) {
		last = st.UpdatedAt
	}
	slot, due, err := sch.MissedSlot(last, now)
	if err != nil || !due {
		return next[0], err
	}
	g := func(ctx context.Context, store Store) error {
		l, err := lastRunStart(ctx, store, account)
		if err != nil {
			return err
		}
		if !l.Before(slot) {
			return errSlotTaken
		}
		return nil
	}
	run, err := s.Runner.start(ctx, RunOptions{Account: account, Trigger: TriggerSchedule}, g)
	switch {
	case errors.Is(err, errSlotTaken):
		s.log().Debug("scheduler: slot already run by another replica", "account", account, "slot", slot)
	case errors.Is(err, ErrRunInProgress):
		// Another replica (or a manual run) holds the lock: it either runs
		// this slot or started after it, which covers it.
		s.log().Debug("scheduler: a run is in progress; slot covered", "account", account, "slot", slot)
	case err != nil:
		return next[0], fmt.Errorf("starting the scheduled run for %s: %w", slot.Format(time.RFC3339), err)
	default:
		s.log().Info("scheduler: started scheduled run", "account", account, "slot", slot.Format(time.RFC3339), "run", run.ID)
	}
	return next[0], nil
}

// lastRunStart is when the account's latest run that was not a dry run
// started (zero when none). Dry runs change nothing, so they do not stand
// in for a scheduled run.
func lastRunStart(ctx context.Context, store Store, account string) (time.Time, error) {
	for offset := 0; ; offset += 50 {
		runs, total, err := store.ListRuns(ctx, account, offset, 50)
		if err != nil {
			return time.Time{}, err
		}
		for _, r := range runs {
			if !r.DryRun {
				return r.StartedAt, nil
			}
		}
		if len(runs) == 0 || offset+len(runs) >= total || offset >= 500 {
			return time.Time{}, nil
		}
	}
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) maxWait() time.Duration {
	if s.MaxWait > 0 {
		return s.MaxWait
	}
	return time.Minute
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}
