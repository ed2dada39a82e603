package bridge

import (
	"context"
	"fmt"
	"time"
)

// apply writes the plan in batches of at most BatchSize objects, each batch
// one Store.Apply transaction, in phases:
//
//  1. upserts: OU groups (parents first), users, then security and
//     distribution groups, each with its event;
//  2. memberships of the groups added, restored, or whose members changed
//     (every member exists by now);
//  3. deletions, only when everything before succeeded;
//  4. users that take over the userName of a user deleted in phase 3
//     (rare: an AD account deleted and created again), and the memberships
//     that name them.
//
// Events of items that write nothing (skip, refuse, error) are recorded
// first. It returns "" on success, or the run's error message; the run's
// counts are then what was committed.
func (s *syncRun) apply(ctx context.Context, plan Plan) string {
	a := &applier{s: s, size: s.e.batchSize(), now: s.e.now()}
	plannedCounts := s.run.Counts
	defer func() { s.run.Counts = a.counts }()

	if err := s.recordEvents(ctx, plan.Items, func(it PlanItem) bool { return !it.Writes() }); err != nil {
		return "recording the run's events failed: " + err.Error() + "; nothing was changed"
	}
	for _, it := range plan.Items {
		if !it.Writes() {
			countItem(&a.counts, it)
		}
	}

	deferredIDs := map[string]bool{}
	var upserts, later, deletes, memberships, laterMemberships []PlanItem
	for _, it := range plan.Items {
		switch {
		case !it.Writes():
		case it.Action == ActionDelete:
			deletes = append(deletes, it)
		case it.deferred:
			later = append(later, it)
			deferredIDs[it.ID] = true
		default:
			upserts = append(upserts, it)
		}
	}
	for _, it := range plan.Items {
		if it.Group == nil || !it.Writes() || !(it.Action == ActionAdd || it.Action == ActionReactivate || contains(it.Changed, "members")) {
			continue
		}
		if hasMember(it.Group.Members, deferredIDs) {
			laterMemberships = append(laterMemberships, it)
		} else {
			memberships = append(memberships, it)
		}
	}
	a.total = len(upserts) + len(later) + len(deletes)

	if msg := a.upserts(ctx, upserts); msg != "" {
		return msg + "; nothing was deleted"
	}
	if msg := a.memberships(ctx, memberships); msg != "" {
		return msg + "; nothing was deleted"
	}
	if msg := a.deletions(ctx, deletes); msg != "" {
		return msg
	}
	if msg := a.upserts(ctx, later); msg != "" {
		return msg
	}
	if msg := a.memberships(ctx, laterMemberships); msg != "" {
		return msg
	}
	a.counts = plannedCounts
	return ""
}

type applier struct {
	s       *syncRun
	size    int
	now     time.Time
	counts  RunCounts
	written int
	total   int
}

func (a *applier) upserts(ctx context.Context, items []PlanItem) string {
	s := a.s
	for start := 0; start < len(items); start += a.size {
		if err := ctx.Err(); err != nil {
			return fmt.Sprintf("cancelled after writing %d of %d objects", a.written, a.total)
		}
		batch := items[start:min(start+a.size, len(items))]
		var c Changes
		for _, it := range batch {
			c.Events = append(c.Events, s.event(it))
			if it.User != nil {
				u := *it.User
				u.AccountID = s.opt.Account
				u.UpdatedAt = a.now
				if it.Action == ActionAdd {
					u.CreatedAt = a.now
				}
				c.Users = append(c.Users, u)
			} else {
				g := *it.Group
				g.AccountID = s.opt.Account
				g.UpdatedAt = a.now
				if it.Action == ActionAdd {
					g.CreatedAt = a.now
				}
				c.Groups = append(c.Groups, g)
			}
		}
		if err := s.e.Store.Apply(ctx, s.opt.Account, c); err != nil {
			return fmt.Sprintf("writing to the store failed after %d of %d objects: %v", a.written, a.total, err)
		}
		a.written += len(batch)
		for _, it := range batch {
			countItem(&a.counts, it)
		}
	}
	return ""
}

func (a *applier) memberships(ctx context.Context, items []PlanItem) string {
	s := a.s
	for start := 0; start < len(items); start += a.size {
		if err := ctx.Err(); err != nil {
			return fmt.Sprintf("cancelled after writing %d of %d objects, before all group memberships were set", a.written, a.total)
		}
		batch := items[start:min(start+a.size, len(items))]
		c := Changes{SetMembers: map[string][]Member{}}
		for _, it := range batch {
			c.SetMembers[it.ID] = nonNilMembers(it.Group.Members)
		}
		if err := s.e.Store.Apply(ctx, s.opt.Account, c); err != nil {
			return fmt.Sprintf("setting group memberships failed after %d of %d objects were written: %v", a.written, a.total, err)
		}
	}
	return ""
}

func (a *applier) deletions(ctx context.Context, items []PlanItem) string {
	s := a.s
	deleted := 0
	for start := 0; start < len(items); start += a.size {
		if err := ctx.Err(); err != nil {
			return fmt.Sprintf("cancelled after %d of %d deletions", deleted, len(items))
		}
		batch := items[start:min(start+a.size, len(items))]
		var c Changes
		for _, it := range batch {
			c.Events = append(c.Events, s.event(it))
			d := Deletion{ID: it.ID, Reason: it.Reason, At: a.now}
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
		a.written += len(batch)
		for _, it := range batch {
			countItem(&a.counts, it)
		}
	}
	return ""
}

func hasMember(ms []Member, ids map[string]bool) bool {
	if len(ids) == 0 {
		return false
	}
	for _, m := range ms {
		if ids[m.ID] {
			return true
		}
	}
	return false
}

func nonNilMembers(ms []Member) []Member {
	if ms == nil {
		return []Member{}
	}
	return ms
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
