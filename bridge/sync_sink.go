package bridge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// sink receives the plan item by item. In plan-only mode (dry runs, held
// runs) it records events and counts; otherwise it applies the plan in
// batches of BatchSize objects, each batch one Store.Apply transaction, in
// phases:
//
//  1. upserts as the items come: OU groups (parents first), users, then
//     security and distribution groups, each with its event;
//  2. memberships of the groups added, restored, or whose members changed
//     (every member exists by now);
//  3. deletions, only when everything before succeeded;
//  4. users that take over the userName of a user deleted in phase 3
//     (rare: an AD account deleted and created again), and the memberships
//     that name them.
//
// Only the current batch, the member lists still to set and the deferred
// items are held, so memory does not grow with the directory.
type sink struct {
	s        *syncRun
	planOnly bool
	size     int
	planned  RunCounts // every item seen
	counts   RunCounts // what was committed (apply mode)
	events   []RunEvent
	batch    []PlanItem
	members  []PlanItem // groups whose members to set
	deletes  []PlanItem
	later    []PlanItem
	laterIDs map[string]bool
	written  int
	total    int
	err      string // the run's error message, once something failed

	// Upsert batches go to a writer goroutine, so mapping the next batch
	// overlaps writing this one; at most writeAhead batches wait.
	writes  chan []PlanItem
	wdone   chan struct{}
	wmu     sync.Mutex
	werr    string
	wcounts RunCounts
	failed  atomic.Bool
}

const writeAhead = 2

func newSink(s *syncRun, planOnly bool) *sink {
	return &sink{s: s, planOnly: planOnly, size: s.e.batchSize(), laterIDs: map[string]bool{}}
}

// writer applies upsert batches in order until the channel closes; after
// a failure it drops the rest.
func (k *sink) writer(ctx context.Context) {
	defer close(k.wdone)
	for batch := range k.writes {
		if k.failed.Load() {
			continue
		}
		if msg := k.applyUpserts(ctx, batch); msg != "" {
			k.wmu.Lock()
			k.werr = msg
			k.wmu.Unlock()
			k.failed.Store(true)
		}
	}
}

// drain waits for the writer and reports its failure, if any.
func (k *sink) drain() string {
	if k.writes == nil {
		return ""
	}
	close(k.writes)
	<-k.wdone
	k.writes = nil
	k.wmu.Lock()
	defer k.wmu.Unlock()
	addCounts(&k.counts, k.wcounts)
	k.wcounts = RunCounts{}
	return k.werr
}

func addCounts(dst *RunCounts, c RunCounts) {
	for _, p := range []struct{ d, s *Counts }{{&dst.Users, &c.Users}, {&dst.Groups, &c.Groups}} {
		p.d.Added += p.s.Added
		p.d.Updated += p.s.Updated
		p.d.Deactivated += p.s.Deactivated
		p.d.Reactivated += p.s.Reactivated
		p.d.Deleted += p.s.Deleted
		p.d.Unchanged += p.s.Unchanged
		p.d.Skipped += p.s.Skipped
		p.d.Refused += p.s.Refused
		p.d.Errors += p.s.Errors
	}
}

// errSinkFailed stops the plan's emission once a write failed.
var errSinkFailed = fmt.Errorf("sync: applying the plan failed")

func (k *sink) put(ctx context.Context, it PlanItem) error {
	if k.failed.Load() {
		return errSinkFailed
	}
	if it.ouRefresh {
		var err error
		if it, err = k.s.refreshOU(ctx, it); err != nil {
			k.err = "loading a stored OU group failed: " + err.Error() + "; nothing was deleted"
			return errSinkFailed
		}
		if it.Action == "" {
			return nil
		}
	}
	switch it.Action {
	case ActionUpdate, ActionDeactivate, ActionReactivate:
		if !it.ouRefresh {
			if err := k.s.fillChange(ctx, &it); err != nil {
				k.err = "loading stored objects to compare failed: " + err.Error() + "; nothing was deleted"
				return errSinkFailed
			}
		}
	}
	countItem(&k.planned, it)
	if it.Action == ActionUnchanged {
		return nil
	}
	if k.planOnly || !it.Writes() {
		if !k.planOnly {
			countItem(&k.counts, it)
		}
		k.events = append(k.events, k.s.event(it))
		if len(k.events) >= k.size {
			return k.flushEvents(ctx)
		}
		return nil
	}
	k.total++
	pending := false
	if it.Group != nil && !it.membersByDeletion && (it.Action == ActionAdd || it.Action == ActionReactivate || contains(it.Changed, "members")) {
		// Its members and content hash: phase 2 writes the hash together
		// with the members (sync_members.go), so that a run failing before
		// then leaves the group looking changed and the next run sets them.
		k.members = append(k.members, PlanItem{ID: it.ID, Group: &Group{Members: it.Group.Members, Hash: it.Group.Hash}})
		pending = true
	}
	switch {
	case it.Action == ActionDelete:
		k.deletes = append(k.deletes, it)
		return nil
	case it.deferred:
		k.later = append(k.later, it)
		k.laterIDs[it.ID] = true
		return nil
	}
	if it.Group != nil {
		// Members travel separately (phase 2); do not keep them twice.
		g := *it.Group
		g.Members = nil
		if pending {
			g.Hash = "" // matches no content: see above
		}
		it.Group = &g
	}
	k.batch = append(k.batch, it)
	if len(k.batch) >= k.size {
		return k.flushUpserts(ctx)
	}
	return nil
}

func (k *sink) flushEvents(ctx context.Context) error {
	if len(k.events) == 0 {
		return nil
	}
	if err := k.s.e.Store.AddRunEvents(ctx, k.events); err != nil {
		msg := "recording the run's events failed: " + err.Error()
		if !k.planOnly {
			msg += "; nothing was deleted"
		}
		k.err = msg
		return errSinkFailed
	}
	k.events = k.events[:0]
	return nil
}

// flushUpserts hands the current batch to the writer.
func (k *sink) flushUpserts(ctx context.Context) error {
	if len(k.batch) == 0 {
		return nil
	}
	if k.writes == nil {
		k.writes = make(chan []PlanItem, writeAhead)
		k.wdone = make(chan struct{})
		go k.writer(ctx)
	}
	k.writes <- k.batch
	k.batch = make([]PlanItem, 0, k.size)
	if k.failed.Load() {
		return errSinkFailed
	}
	return nil
}

// applyUpserts writes one batch (writer goroutine) and returns "" or the
// run's error message.
func (k *sink) applyUpserts(ctx context.Context, batch []PlanItem) string {
	if err := ctx.Err(); err != nil {
		return fmt.Sprintf("cancelled after writing %d objects; nothing was deleted", k.written)
	}
	s := k.s
	now := s.e.now()
	var c Changes
	for _, it := range batch {
		c.Events = append(c.Events, s.event(it))
		if it.User != nil {
			u := *it.User
			u.AccountID = s.opt.Account
			u.UpdatedAt = now
			if it.Action == ActionAdd {
				u.CreatedAt = now
			}
			c.Users = append(c.Users, u)
		} else {
			g := *it.Group
			g.AccountID = s.opt.Account
			g.UpdatedAt = now
			if it.Action == ActionAdd {
				g.CreatedAt = now
			}
			c.Groups = append(c.Groups, g)
		}
	}
	if err := s.e.Store.Apply(ctx, s.opt.Account, c); err != nil {
		return fmt.Sprintf("writing to the store failed after %d objects: %v; nothing was deleted", k.written, err)
	}
	k.wmu.Lock()
	k.written += len(batch)
	for _, it := range batch {
		countItem(&k.wcounts, it)
	}
	k.wmu.Unlock()
	return ""
}

// finish runs the phases after the stream: the last batch, memberships,
// deletions, deferred users. It returns "" or the run's error message.
func (k *sink) finish(ctx context.Context) string {
	if k.err == "" && !k.planOnly {
		_ = k.flushUpserts(ctx)
	}
	if msg := k.drain(); msg != "" {
		return msg
	}
	if k.err != "" {
		return k.err
	}
	if err := k.flushEvents(ctx); err != nil {
		return k.err
	}
	if k.planOnly {
		return ""
	}
	var now, after []PlanItem
	for _, m := range k.members {
		if hasMember(m.Group.Members, k.laterIDs) {
			after = append(after, m)
		} else {
			now = append(now, m)
		}
	}
	if msg := k.memberships(ctx, now); msg != "" {
		return msg + "; nothing was deleted"
	}
	if msg := k.deletions(ctx); msg != "" {
		return msg
	}
	if len(k.later) > 0 {
		if msg := k.applyUpserts(ctx, k.later); msg != "" {
			return msg
		}
		k.wmu.Lock()
		addCounts(&k.counts, k.wcounts)
		k.wcounts = RunCounts{}
		k.wmu.Unlock()
	}
	return k.memberships(ctx, after)
}

func (k *sink) deletions(ctx context.Context) string {
	s := k.s
	items := k.deletes
	deleted := 0
	now := s.e.now()
	for start := 0; start < len(items); start += k.size {
		if err := ctx.Err(); err != nil {
			return fmt.Sprintf("cancelled after %d of %d deletions", deleted, len(items))
		}
		batch := items[start:min(start+k.size, len(items))]
		var c Changes
		for _, it := range batch {
			c.Events = append(c.Events, s.event(it))
			d := Deletion{ID: it.ID, Reason: it.Reason, At: now}
			if it.ObjectType == ObjectUser {
				c.DeleteUsers = append(c.DeleteUsers, d)
			} else {
				c.DeleteGroups = append(c.DeleteGroups, d)
			}
		}
		if err := s.e.Store.Apply(ctx, s.opt.Account, c); err != nil {
			return fmt.Sprintf("deleting failed after %d of %d deletions: %v", deleted, len(items), err)
		}
		deleted += len(batch)
		k.written += len(batch)
		for _, it := range batch {
			countItem(&k.counts, it)
		}
	}
	return ""
}

// fillChange names the attributes an update changes, from the stored
// content.
func (s *syncRun) fillChange(ctx context.Context, it *PlanItem) error {
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
	return nil
}

// refreshOU turns a delta's OU refresh into an update of the stored OU
// group's members, or nothing when they are the same.
func (s *syncRun) refreshOU(ctx context.Context, it PlanItem) (PlanItem, error) {
	old, err := s.e.Store.GetGroup(ctx, s.opt.Account, it.ID)
	if err != nil {
		return it, fmt.Errorf("group %s: %w", it.ID, err)
	}
	if it.refreshDrop != nil {
		it.refreshMembers = nil
		for _, m := range old.Members {
			if !it.refreshDrop[m.ID] {
				it.refreshMembers = append(it.refreshMembers, m)
			}
		}
	}
	if old.Status == StatusDeleted || !membersChanged(old.Members, it.refreshMembers) {
		it.Action = ""
		return it, nil
	}
	out := PlanItem{ObjectType: objectTypeOf(old.Kind), ID: old.ID, ExternalID: old.ExternalID, DN: old.DN, Name: old.DisplayName,
		Changed: []string{"members"}, ouRefresh: true}
	if s.prots.role(old.ExternalID, old.ID) == RoleProtected {
		out.Action, out.Reason = ActionSkip, ReasonProtected
		return out, nil
	}
	g := old
	g.Members = append([]Member(nil), it.refreshMembers...)
	sortMembers(g.Members)
	g.Hash = contentHash(g.Attributes, g.Members)
	out.Action, out.Reason, out.Group = ActionUpdate, ReasonChanged, &g
	// Rewriting a large group's member rows to drop a few deleted members
	// would cost as much as the group is large; the deletion drops them.
	now := make(map[string]bool, len(g.Members))
	for _, m := range g.Members {
		now[m.ID] = true
	}
	out.membersByDeletion = true
	for _, m := range old.Members {
		if !now[m.ID] && !s.deleting[m.ID] {
			out.membersByDeletion = false
		}
	}
	if len(g.Members) > len(old.Members) {
		out.membersByDeletion = false
	} else {
		was := make(map[string]bool, len(old.Members))
		for _, m := range old.Members {
			was[m.ID] = true
		}
		for _, m := range g.Members {
			if !was[m.ID] {
				out.membersByDeletion = false
				break
			}
		}
	}
	return out, nil
}
