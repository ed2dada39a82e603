package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// RunCanceller is implemented by stores that can mark a run of another
// process as cancelled (db.Store does): the update only happens while the
// run is still running or held, so it never rewrites a finished report.
type RunCanceller interface {
	MarkRunCancelled(ctx context.Context, account, id, reason string) (bool, error)
}

// Runner starts sync runs in the background for the API and the scheduler,
// keeps their cancel functions, and cancels runs cluster-wide: a run of
// this process is cancelled directly; a run of another replica is marked
// cancelled in the store, and the replica running it notices within
// PollInterval and stops it.
type Runner struct {
	engine Engine
	log    *slog.Logger
	// OnFinish, when set, is called with every finished run (metrics).
	OnFinish func(r Run, took time.Duration)
	// PollInterval is how often local runs are checked for cancellation
	// requested elsewhere (2 s when 0).
	PollInterval time.Duration

	base   context.Context
	stop   context.CancelFunc
	mu     sync.Mutex
	active map[string]*activeRun // by run id
	wg     sync.WaitGroup
}

type activeRun struct {
	account string
	cancel  context.CancelCauseFunc
}

// ErrRunCancelled is the cause given to a run's context when an admin
// cancels it.
var ErrRunCancelled = errors.New("the run was cancelled by an admin")

// NewRunner returns a Runner for engine. Close it to cancel and wait for
// the runs it started.
func NewRunner(engine Engine, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, stop := context.WithCancel(context.Background())
	r := &Runner{engine: engine, log: log, base: base, stop: stop, active: map[string]*activeRun{}}
	return r
}

// Store is the store the runner's engine uses.
func (r *Runner) Store() Store { return r.engine.Store }

// Start begins a run and returns its report as first recorded (status
// running) as soon as the run exists; the run goes on in the background,
// independent of ctx. When the account is busy it fails with
// ErrRunInProgress.
func (r *Runner) Start(ctx context.Context, opt RunOptions) (Run, error) {
	return r.start(ctx, opt, nil)
}

// guard runs once the account lock is held and before the run is recorded;
// an error from it abandons the run (the scheduler uses it to check, under
// the lock, that no other replica already ran the slot).
type guard func(ctx context.Context, store Store) error

func (r *Runner) start(ctx context.Context, opt RunOptions, g guard) (Run, error) {
	if err := r.base.Err(); err != nil {
		return Run{}, fmt.Errorf("the server is shutting down: %w", err)
	}
	runCtx, cancel := context.WithCancelCause(r.base)
	created := make(chan Run, 1)
	hs := &hookStore{Store: r.engine.Store, guard: g}
	hs.onCreate = func(run Run) {
		r.mu.Lock()
		r.active[run.ID] = &activeRun{account: run.AccountID, cancel: cancel}
		r.mu.Unlock()
		created <- run
	}
	e := r.engine
	e.Store = hs
	type result struct {
		run Run
		err error
	}
	done := make(chan result, 1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel(nil)
		began := time.Now()
		run, err := e.Run(runCtx, opt)
		if run.ID != "" {
			r.mu.Lock()
			delete(r.active, run.ID)
			r.mu.Unlock()
		}
		if err == nil && r.OnFinish != nil {
			r.OnFinish(run, time.Since(began))
		}
		if err != nil && run.ID != "" {
			r.log.Error("sync run could not be recorded", "account", opt.Account, "run", run.ID, "err", err)
		}
		done <- result{run, err}
	}()
	select {
	case run := <-created:
		return run, nil
	case res := <-done:
		// The run ended before it was recorded: the account was busy, the
		// guard refused, or the store failed.
		select {
		case run := <-created:
			return run, nil
		default:
		}
		if res.err == nil {
			return res.run, nil
		}
		return Run{}, res.err
	case <-ctx.Done():
		// The caller stopped waiting; the run goes on.
		return Run{}, ctx.Err()
	}
}

// Cancel stops a running run, or rejects a held one. It fails with
// ErrNotFound when the run does not exist and ErrConflict when it already
// finished.
func (r *Runner) Cancel(ctx context.Context, account, id string) (Run, error) {
	r.mu.Lock()
	a, ok := r.active[id]
	r.mu.Unlock()
	if ok && a.account == account {
		a.cancel(ErrRunCancelled)
		return r.engine.Store.GetRun(ctx, account, id)
	}
	run, err := r.engine.Store.GetRun(ctx, account, id)
	if err != nil {
		return Run{}, err
	}
	if run.Status != RunRunning && run.Status != RunHeld {
		return run, fmt.Errorf("%w: run %s is %s; only a running or held run can be cancelled", ErrConflict, id, run.Status)
	}
	rc, ok := r.engine.Store.(RunCanceller)
	if !ok {
		return run, fmt.Errorf("%w: run %s runs in another process and this store cannot signal it", ErrConflict, id)
	}
	reason := "cancelled by an admin"
	if run.Status == RunHeld {
		reason = "held run rejected by an admin; nothing was deleted"
	}
	marked, err := rc.MarkRunCancelled(ctx, account, id, reason)
	if err != nil {
		return run, err
	}
	if !marked {
		run, _ = r.engine.Store.GetRun(ctx, account, id)
		return run, fmt.Errorf("%w: run %s finished before it could be cancelled", ErrConflict, id)
	}
	return r.engine.Store.GetRun(ctx, account, id)
}

// Running reports whether this process runs the run.
func (r *Runner) Running(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.active[id]
	return ok
}

// Watch checks, every PollInterval until ctx ends, whether another replica
// asked to cancel one of this process's runs, and cancels it.
func (r *Runner) Watch(ctx context.Context) {
	every := r.PollInterval
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.base.Done():
			return
		case <-t.C:
			r.pollCancellations(ctx)
		}
	}
}

func (r *Runner) pollCancellations(ctx context.Context) {
	r.mu.Lock()
	ids := make(map[string]*activeRun, len(r.active))
	for id, a := range r.active {
		ids[id] = a
	}
	r.mu.Unlock()
	for id, a := range ids {
		run, err := r.engine.Store.GetRun(ctx, a.account, id)
		if err != nil {
			continue
		}
		if run.Status == RunCancelled {
			r.log.Info("cancelling run on request from another replica", "account", a.account, "run", id)
			a.cancel(ErrRunCancelled)
		}
	}
}

// Close cancels the runs this process started and waits for them to record
// their end, or for ctx. The runner starts no run after Close.
func (r *Runner) Close(ctx context.Context) error {
	r.stop()
	return r.Wait(ctx)
}

// Wait waits for the runs this process started to end, or for ctx.
func (r *Runner) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RunningRun returns the account's running run, if the store shows one.
func RunningRun(ctx context.Context, store Store, account string) (Run, bool, error) {
	runs, _, err := store.ListRuns(ctx, account, 0, 20)
	if err != nil {
		return Run{}, false, err
	}
	for _, run := range runs {
		if run.Status == RunRunning {
			return run, true, nil
		}
	}
	return Run{}, false, nil
}

// hookStore wraps the engine's store to learn a run's id as soon as it is
// recorded and to check a guard under the account lock.
type hookStore struct {
	Store
	guard    guard
	onCreate func(Run)
	once     sync.Once
}

func (h *hookStore) LockAccount(ctx context.Context, account string) (func(), error) {
	unlock, err := h.Store.LockAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	if h.guard != nil {
		if err := h.guard(ctx, h.Store); err != nil {
			unlock()
			return nil, err
		}
	}
	return unlock, nil
}

func (h *hookStore) CreateRun(ctx context.Context, run Run) error {
	if err := h.Store.CreateRun(ctx, run); err != nil {
		return err
	}
	h.once.Do(func() { h.onCreate(run) })
	return nil
}
