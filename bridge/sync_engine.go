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
const DefaultBatchSize = 500

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
}

// RunOptions says what run to make.
type RunOptions struct {
	Account string
	Trigger Trigger
	// DryRun plans and reports without writing any user or group.
	DryRun bool
	// Full asks for a full enumeration. Every run is full for now.
	Full bool
	// ApproveRunID names an earlier held run of the account whose deletions
	// the admin approved: this run may go over the deletion threshold, as
	// long as it deletes no more than the held run would have.
	ApproveRunID string
}

const kindReasonNoDelta = "delta sync is not implemented yet; full enumeration"

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
		ID:         uuid.NewString(),
		AccountID:  opt.Account,
		Trigger:    trigger,
		Kind:       RunFull,
		DryRun:     opt.DryRun,
		Status:     RunRunning,
		StartedAt:  e.now(),
		KindReason: "",
	}
	if !opt.Full {
		run.KindReason = kindReasonNoDelta
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
	s.execute(ctx)
	done := e.now()
	run.FinishedAt = &done
	if err := e.Store.UpdateRun(context.WithoutCancel(ctx), run); err != nil {
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
	e   *Engine
	opt RunOptions
	run *Run
	log *slog.Logger
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

	states, err := loadStates(ctx, store, account)
	if err != nil {
		s.end(ctx, RunFailed, "loading the stored objects failed: "+err.Error()+"; nothing was changed")
		return
	}
	prots, err := store.ListProtections(ctx, account)
	if err != nil {
		s.end(ctx, RunFailed, "loading the protected objects failed: "+err.Error()+"; nothing was changed")
		return
	}

	mapper := NewMapper(settings)
	scope := settings.Scope()
	// Ask for every attribute the mapping reads (ldapsync adds its own and
	// drops duplicates), so a reader with a shorter default list still works.
	scope.Attributes = append(DefaultMappingAttributes(), mapper.Attributes()...)
	started := time.Now()
	read, err := readScope(ctx, dir, scope, settings.ImportsOUs())
	if err != nil {
		if ctx.Err() != nil {
			s.end(ctx, RunCancelled, "the run was cancelled while reading the directory; nothing was changed")
		} else {
			s.end(ctx, RunFailed, "reading the directory failed: "+err.Error()+"; nothing was changed")
		}
		return
	}
	// A connection that drops can look like the normal end of a search to
	// an LDAP client library (no result, no error). Trust the read only if
	// the directory still answers on the same connection afterwards.
	if _, err := dir.ServerInfo(ctx); err != nil {
		if ctx.Err() != nil {
			s.end(ctx, RunCancelled, "the run was cancelled while reading the directory; nothing was changed")
		} else {
			s.end(ctx, RunFailed, "reading the directory failed: the connection did not survive the read ("+err.Error()+"); nothing was changed")
		}
		return
	}
	s.log.Info("directory read", "users", len(read.users), "groups", len(read.groups), "ous", len(read.ous),
		"duration", time.Since(started).Round(time.Millisecond))

	b := &planBuilder{
		mapper:   mapper,
		settings: settings,
		states:   states,
		prots:    newProtections(prots),
		now:      s.e.now(),
	}
	plan := b.build(read)
	if err := s.fillChanges(ctx, &plan, states); err != nil {
		s.end(ctx, RunFailed, "loading stored objects to compare failed: "+err.Error()+"; nothing was changed")
		return
	}
	if err := s.explainMissing(ctx, dir, settings, &plan, states); err != nil {
		s.end(ctx, RunFailed, "checking whether unseen objects are still in Active Directory failed: "+err.Error()+"; nothing was changed")
		return
	}

	deletes := plan.Deletions()
	s.run.Counts = plan.Counts()
	if ThresholdExceeded(deletes, plan.Live, settings.DeletionThreshold) {
		switch {
		case allowance < 0:
			s.hold(ctx, plan, heldMessage(deletes, plan.Live, settings.DeletionThreshold, s.run.ID))
			return
		case deletes > allowance:
			s.hold(ctx, plan, fmt.Sprintf("approved run %s would have deleted %s objects, but this run would delete %s; %s",
				s.opt.ApproveRunID, thousands(allowance), thousands(deletes),
				heldMessage(deletes, plan.Live, settings.DeletionThreshold, s.run.ID)))
			return
		}
		s.log.Info("deletion threshold exceeded but approved", "deletes", deletes, "approvedRun", s.opt.ApproveRunID)
	}

	if s.opt.DryRun {
		if err := s.recordEvents(ctx, plan.Items, func(PlanItem) bool { return true }); err != nil {
			s.end(ctx, RunFailed, "recording the dry run's events failed: "+err.Error())
			return
		}
		s.end(ctx, RunSucceeded, "")
		return
	}

	if msg := s.apply(ctx, plan); msg != "" {
		s.end(ctx, RunFailed, msg)
		return
	}
	cursor, _ := json.Marshal(struct {
		HighestCommittedUSN int64  `json:"highestCommittedUSN"`
		InvocationID        string `json:"invocationId,omitempty"`
		DNSHostName         string `json:"dnsHostName,omitempty"`
	}{info.HighestCommittedUSN, info.InvocationID, info.DNSHostName})
	s.run.Cursor = string(cursor)
	s.end(ctx, RunSucceeded, "")
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

// hold ends the run without applying anything and records what it would
// have done.
func (s *syncRun) hold(ctx context.Context, plan Plan, msg string) {
	s.log.Warn("sync run held by the deletion threshold", "message", msg)
	if err := s.recordEvents(ctx, plan.Items, func(PlanItem) bool { return true }); err != nil {
		s.end(ctx, RunFailed, msg+" (recording the events failed: "+err.Error()+")")
		return
	}
	s.end(ctx, RunHeld, msg)
}

// recordEvents stores one event per item that is not unchanged and passes
// keep, in batches.
func (s *syncRun) recordEvents(ctx context.Context, items []PlanItem, keep func(PlanItem) bool) error {
	var batch []RunEvent
	for _, it := range items {
		if it.Action == ActionUnchanged || !keep(it) {
			continue
		}
		batch = append(batch, s.event(it))
		if len(batch) >= s.e.batchSize() {
			if err := s.e.Store.AddRunEvents(ctx, batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if len(batch) > 0 {
		return s.e.Store.AddRunEvents(ctx, batch)
	}
	return nil
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

// fillChanges loads the stored content of every object an item rewrites,
// to name the attributes that changed.
func (s *syncRun) fillChanges(ctx context.Context, plan *Plan, states map[string]ObjectState) error {
	for i := range plan.Items {
		it := &plan.Items[i]
		switch it.Action {
		case ActionUpdate, ActionDeactivate, ActionReactivate:
		default:
			continue
		}
		switch {
		case it.User != nil:
			old, err := s.e.Store.GetUser(ctx, s.opt.Account, it.ID)
			if err != nil {
				return fmt.Errorf("user %s: %w", it.ID, err)
			}
			it.Changed = changedAttributes(old.Attributes, it.User.Attributes)
		case it.Group != nil:
			old, err := s.e.Store.GetGroup(ctx, s.opt.Account, it.ID)
			if err != nil {
				return fmt.Errorf("group %s: %w", it.ID, err)
			}
			it.Changed = changedAttributes(old.Attributes, it.Group.Attributes)
			if membersChanged(old.Members, it.Group.Members) {
				it.Changed = append(it.Changed, "members")
			}
		}
	}
	return nil
}

// loadStates reads the stored state of every AD-sourced object, keyed by
// lower-case objectGUID, and of local users (for userName clashes) under
// "local:"+id.
func loadStates(ctx context.Context, store Store, account string) (map[string]ObjectState, error) {
	out := map[string]ObjectState{}
	err := store.ObjectStates(ctx, account, func(st ObjectState) error {
		if st.Source == SourceAD && st.ExternalID != "" {
			out[normGUID(st.ExternalID)] = st
		} else {
			out["local:"+st.ID] = st
		}
		return nil
	})
	return out, err
}
