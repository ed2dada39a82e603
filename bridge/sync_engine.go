package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SecretOpener decrypts the sealed bind password (SecretBox.Open).
type SecretOpener func(sealed []byte) (string, error)

// DefaultBatchSize is how many objects one Store.Apply transaction writes.
// Each commit writes every page the batch dirtied, and a batch of users
// dirties pages all over the indexes keyed by objectGUID and names: 2,000
// per commit cut the SQLite writer's CPU by 9% against 500 (commits 2.1 s
// to 1.4 s at 100,000 users) at the same peak RSS; 5,000 added 30 MiB.
const DefaultBatchSize = 2000

// Engine runs syncs: it reads an account's directory completely, maps it,
// plans against the store and applies the plan in batches. One Engine
// serves every account; the store's account lock keeps one run per account
// at a time, cluster-wide.
type Engine struct {
	Store   Store
	Open    DirectoryOpener
	Secrets SecretOpener
	Log     *slog.Logger
	// Now is the clock (time.Now when nil); expiry is judged against it.
	Now func() time.Time
	// BatchSize is the number of objects per Apply transaction
	// (DefaultBatchSize when 0).
	BatchSize int
	// FullEvery is how old the last full run may be before a run is full
	// again (DefaultFullEvery when 0).
	FullEvery time.Duration
	// SpillDir holds a full read's entries between the plan's passes
	// (os.TempDir when "").
	SpillDir string
}

// RunOptions says what run to make.
type RunOptions struct {
	Account string
	Trigger Trigger
	// DryRun plans and reports without writing any user or group.
	DryRun bool
	// Full asks for a full enumeration; otherwise a run is a delta when
	// the last run's cursor allows (see chooseKind).
	Full bool
	// ApproveRunID names an earlier held run of the account whose deletions
	// the admin approved: this run may go over the deletion threshold, as
	// long as it deletes no more than the held run would have.
	ApproveRunID string
}

// Run makes one sync run and returns its report. The outcome is in
// Run.Status and Run.Error: a run that failed, was cancelled or was held is
// still a report, and err is nil. err is non-nil only when no report could
// be kept: the account is busy (ErrRunInProgress, and no run row is
// created), or the store failed to record the run.
func (e *Engine) Run(ctx context.Context, opt RunOptions) (Run, error) {
	if opt.Account == "" {
		return Run{}, fmt.Errorf("%w: no account given", ErrInvalid)
	}
	unlock, err := e.Store.LockAccount(ctx, opt.Account)
	if err != nil {
		return Run{}, err
	}
	defer unlock()

	trigger := opt.Trigger
	if trigger == "" {
		trigger = TriggerManual
	}
	run := Run{
		ID:        uuid.NewString(),
		AccountID: opt.Account,
		Trigger:   trigger,
		Kind:      RunFull,
		DryRun:    opt.DryRun,
		Status:    RunRunning,
		StartedAt: e.now(),
	}
	if err := e.Store.CreateRun(ctx, run); err != nil {
		return Run{}, fmt.Errorf("recording the run: %w", err)
	}
	s := &syncRun{
		e:   e,
		opt: opt,
		run: &run,
		log: e.logger().With("account", opt.Account, "run", run.ID),
	}
	s.log.Info("sync run started", "trigger", trigger, "dryRun", opt.DryRun)
	restoreGC := tightenGC() // gc_headroom.go
	s.execute(ctx)
	restoreGC()
	done := e.now()
	run.FinishedAt = &done
	if err := e.recordEnd(context.WithoutCancel(ctx), run, s.log); err != nil {
		return run, fmt.Errorf("recording the end of run %s: %w", run.ID, err)
	}
	s.log.Info("sync run finished", "status", run.Status, "error", run.Error,
		"duration", done.Sub(run.StartedAt).Round(time.Millisecond), "summary", run.Summary())
	return run, nil
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Engine) batchSize() int {
	if e.BatchSize > 0 {
		return e.BatchSize
	}
	return DefaultBatchSize
}

// syncRun is the state of one run.
type syncRun struct {
	e     *Engine
	opt   RunOptions
	run   *Run
	log   *slog.Logger
	prots protections
	// deleting holds the ids the plan soft-deletes.
	deleting map[string]bool
}

// end records the outcome. A cancelled context turns a failure into
// "cancelled".
func (s *syncRun) end(ctx context.Context, status RunStatus, msg string) {
	if status == RunFailed && ctx.Err() != nil {
		status = RunCancelled
	}
	// Say who cancelled when the canceller said (Runner: ErrRunCancelled).
	if cause := context.Cause(ctx); status == RunCancelled && cause != nil &&
		!errors.Is(cause, context.Canceled) && !strings.Contains(msg, cause.Error()) {
		msg = cause.Error() + ": " + msg
	}
	s.run.Status = status
	s.run.Error = msg
}

func (s *syncRun) execute(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("sync run panicked", "panic", p, "stack", string(debug.Stack()))
			s.end(ctx, RunFailed, fmt.Sprintf("internal error: %v; nothing more was changed", p))
		}
	}()
	store := s.e.Store
	account := s.opt.Account

	// An approval is checked first: a wrong run id should not cost a read.
	allowance := -1
	if s.opt.ApproveRunID != "" {
		n, msg := s.checkApproval(ctx)
		if msg != "" {
			s.end(ctx, RunFailed, msg)
			return
		}
		allowance = n
		s.run.ApprovedRunID = s.opt.ApproveRunID
	}

	stored, err := store.GetSettings(ctx, account)
	if err != nil {
		if errors.Is(err, ErrNotConfigured) {
			s.end(ctx, RunFailed, ErrNotConfigured.Error()+"; nothing was changed")
		} else {
			s.end(ctx, RunFailed, "loading the directory settings failed: "+err.Error()+"; nothing was changed")
		}
		return
	}
	settings := stored.Settings.WithDefaults()
	password := settings.Connection.Password
	if len(stored.SealedPassword) > 0 {
		if s.e.Secrets == nil {
			s.end(ctx, RunFailed, "the stored bind password cannot be decrypted: no secret key is configured; nothing was changed")
			return
		}
		if password, err = s.e.Secrets(stored.SealedPassword); err != nil {
			s.end(ctx, RunFailed, "the stored bind password cannot be decrypted: "+err.Error()+"; nothing was changed")
			return
		}
	}
	dir, err := s.e.Open(ctx, settings.Connection, password, s.log)
	if err != nil {
		s.end(ctx, RunFailed, "connecting to the directory failed: "+err.Error()+"; nothing was changed")
		return
	}
	defer dir.Close()
	info, err := dir.ServerInfo(ctx)
	if err != nil {
		s.end(ctx, RunFailed, "reading the directory's rootDSE failed: "+err.Error()+"; nothing was changed")
		return
	}

	prots, err := store.ListProtections(ctx, account)
	if err != nil {
		s.end(ctx, RunFailed, "loading the protected objects failed: "+err.Error()+"; nothing was changed")
		return
	}

	s.prots = newProtections(prots)
	hash := settingsHash(settings, prots)
	prev, err := s.previousCursor(ctx)
	if err != nil {
		s.end(ctx, RunFailed, "loading the last run's cursor failed: "+err.Error()+"; nothing was changed")
		return
	}
	s.run.Kind, s.run.KindReason = s.chooseKind(prev, info, dir, hash)

	mapper := NewMapper(settings)
	scope := settings.Scope()
	// Ask for every attribute the mapping reads (ldapsync adds its own and
	// drops duplicates), so a reader with a shorter default list still works.
	scope.Attributes = append(DefaultMappingAttributes(), mapper.Attributes()...)
	b := &planBuilder{
		mapper:   mapper,
		settings: settings,
		prots:    s.prots,
		now:      s.e.now(),
	}
	sp := newSpill(s.e.SpillDir)
	defer sp.Close()
	var src entrySource = sp
	var k *sink // made before the read when it streams users
	if s.run.Kind == RunDelta {
		kept, ok := s.planDelta(ctx, dir, b, scope, info, prev.HighestCommittedUSN)
		if !ok {
			return
		}
		src = kept
	}
	if s.run.Kind == RunFull {
		states, ok := s.loadAll(ctx)
		if !ok {
			return
		}
		b.states = states
		b.begin()
		if !s.opt.DryRun && b.canStream() {
			k = newSink(s, false) // plan_stream.go
			b.startStream(func(it PlanItem) error { return k.put(ctx, it) })
		}
		started := time.Now()
		counts, err := readFull(ctx, dir, scope, settings.ImportsOUs(), b, sp)
		b.endStream()
		if k != nil && err != nil {
			s.failStream(ctx, dir, k, err)
			return
		}
		if !s.readOK(ctx, dir, err) {
			if k != nil {
				s.failStream(ctx, dir, k, nil)
			}
			return
		}
		s.log.Info("directory read", "users", counts[EntryUser], "groups", counts[EntryGroup], "ous", counts[EntryOU],
			"streamed", b.streamed(), "duration", time.Since(started).Round(time.Millisecond))
		b.finish()
	}
	s.deleting = map[string]bool{}
	for _, it := range b.missing {
		if it.Action == ActionDelete {
			s.deleting[it.ID] = true
		}
	}
	missing := Plan{Items: b.missing, Live: b.live}
	if b.delta == nil {
		if err := s.explainMissing(ctx, dir, settings, &missing); err != nil {
			s.end(ctx, RunFailed, "checking whether unseen objects are still in Active Directory failed: "+err.Error()+"; nothing was changed")
			return
		}
	}

	deletes := missing.Deletions()
	held := ""
	if ThresholdExceeded(deletes, b.live, settings.DeletionThreshold) {
		switch {
		case allowance < 0:
			held = heldMessage(deletes, b.live, settings.DeletionThreshold, s.run.ID)
		case deletes > allowance:
			held = fmt.Sprintf("approved run %s would have deleted %s objects, but this run would delete %s; %s",
				s.opt.ApproveRunID, thousands(allowance), thousands(deletes),
				heldMessage(deletes, b.live, settings.DeletionThreshold, s.run.ID))
		default:
			s.log.Info("deletion threshold exceeded but approved", "deletes", deletes, "approvedRun", s.opt.ApproveRunID)
		}
	}

	if k == nil {
		k = newSink(s, s.opt.DryRun || held != "")
	}
	emitStarted := time.Now()
	err = b.emit(src, func(it PlanItem) error { return k.put(ctx, it) })
	b.release()
	if err != nil && !errors.Is(err, errSinkFailed) {
		k.err = "reading the spilled directory read failed: " + err.Error() + "; nothing was deleted"
	}
	if err := b.delta.loadErr(); err != nil && k.err == "" {
		// A reference may have been left out: keep the cursor, delete nothing.
		k.err = "looking up stored objects failed: " + err.Error() + "; nothing was deleted"
	}
	msg := k.finish(ctx)
	s.log.Info("plan applied", "kind", s.run.Kind, "planOnly", k.planOnly, "written", k.written,
		"duration", time.Since(emitStarted).Round(time.Millisecond))
	switch {
	case held != "" && msg == "":
		s.run.Counts = k.planned
		s.log.Warn("sync run held by the deletion threshold", "message", held)
		s.end(ctx, RunHeld, held)
		return
	case held != "":
		s.run.Counts = k.planned
		s.end(ctx, RunFailed, held+" (recording the events failed: "+msg+")")
		return
	case s.opt.DryRun:
		s.run.Counts = k.planned
		if msg != "" {
			s.end(ctx, RunFailed, "recording the dry run's events failed: "+msg)
			return
		}
		s.end(ctx, RunSucceeded, "")
		return
	case msg != "":
		s.run.Counts = k.counts
		s.end(ctx, RunFailed, msg)
		return
	}
	s.run.Counts = k.planned
	lastFull := s.run.StartedAt
	if s.run.Kind == RunDelta {
		lastFull = prev.LastFullAt
	}
	cursor, _ := json.Marshal(deltaCursor{V: cursorVersion, HighestCommittedUSN: info.HighestCommittedUSN,
		InvocationID: info.InvocationID, DNSHostName: info.DNSHostName, Settings: hash, LastFullAt: lastFull})
	s.run.Cursor = string(cursor)
	s.end(ctx, RunSucceeded, "")
}

// readOK ends the run when the read failed. A connection that drops can
// look like the normal end of a search to an LDAP client library (no
// result, no error), so the read is trusted only if the directory still
// answers on the same connection afterwards.
func (s *syncRun) readOK(ctx context.Context, dir Directory, err error) bool {
	if err == nil {
		if _, err2 := dir.ServerInfo(ctx); err2 != nil {
			if ctx.Err() != nil {
				s.end(ctx, RunCancelled, "the run was cancelled while reading the directory; nothing was changed")
			} else {
				s.end(ctx, RunFailed, "reading the directory failed: the connection did not survive the read ("+err2.Error()+"); nothing was changed")
			}
			return false
		}
		return true
	}
	if ctx.Err() != nil {
		s.end(ctx, RunCancelled, "the run was cancelled while reading the directory; nothing was changed")
	} else {
		s.end(ctx, RunFailed, "reading the directory failed: "+err.Error()+"; nothing was changed")
	}
	return false
}

// checkApproval loads the held run being approved and returns the number of
// deletions it was held for, or a message saying why it cannot be approved.
func (s *syncRun) checkApproval(ctx context.Context) (int, string) {
	id := s.opt.ApproveRunID
	held, err := s.e.Store.GetRun(ctx, s.opt.Account, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, fmt.Sprintf("run %s to approve does not exist in account %s; nothing was changed", id, s.opt.Account)
	case err != nil:
		return 0, fmt.Sprintf("loading run %s to approve failed: %v; nothing was changed", id, err)
	case held.Status != RunHeld:
		return 0, fmt.Sprintf("run %s is %s, not held; only a held run can be approved; nothing was changed", id, held.Status)
	}
	runs, _, err := s.e.Store.ListRuns(ctx, s.opt.Account, 0, 200)
	if err != nil {
		return 0, fmt.Sprintf("listing runs failed: %v; nothing was changed", err)
	}
	for _, r := range runs {
		if r.ID != s.run.ID && r.ApprovedRunID == id && !r.DryRun && r.Status == RunSucceeded {
			return 0, fmt.Sprintf("run %s was already approved and carried out by run %s; nothing was changed", id, r.ID)
		}
	}
	return held.Counts.Users.Deleted + held.Counts.Groups.Deleted, ""
}

func (s *syncRun) event(it PlanItem) RunEvent {
	return RunEvent{
		RunID:      s.run.ID,
		AccountID:  s.opt.Account,
		ObjectType: it.ObjectType,
		Action:     it.Action,
		DN:         it.DN,
		ExternalID: it.ExternalID,
		ResourceID: it.ID,
		Name:       it.Name,
		Reason:     it.Reason,
		Changed:    it.Changed,
		At:         s.e.now(),
	}
}

// loadStates adds the stored state of every object to states: AD-sourced
// ones keyed by lower-case objectGUID, local ones (for userName clashes)
// under "local:"+id (stateKey). It returns how many it read.
func loadStates(ctx context.Context, store Store, account string, states *stateSet) (int, error) {
	n := 0
	err := store.ObjectStates(ctx, account, func(st ObjectState) error {
		states.put(st)
		n++
		return nil
	})
	return n, err
}

// endRetries and endRetryWait bound how long a run keeps trying to record
// its end: a database that restarts at that moment would otherwise leave
// the run "running" until the next serve start marks it abandoned.
var (
	endRetries   = 6
	endRetryWait = 500 * time.Millisecond
)

// recordEnd writes the run's final report, retrying with a growing wait.
func (e *Engine) recordEnd(ctx context.Context, run Run, log *slog.Logger) error {
	wait := endRetryWait
	var err error
	for i := 0; i < endRetries; i++ {
		if err = e.Store.UpdateRun(ctx, run); err == nil {
			return nil
		}
		log.Warn("recording the end of the run failed; retrying", "attempt", i+1, "err", err)
		time.Sleep(wait)
		wait *= 2
	}
	return err
}
