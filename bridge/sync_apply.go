package bridge

import (
	"context"
	"fmt"
)

// apply writes the plan in batches of at most BatchSize objects, each batch
// one Store.Apply transaction, in three phases:
//
//  1. upserts: OU groups (parents first), users, then security and
//     distribution groups, each with its event;
//  2. memberships of the groups added, restored, or whose members changed
//     (every member exists by now);
//  3. deletions, only when everything before succeeded.
//
// Events of items that write nothing (skip, refuse, error) are recorded
// first. It returns "" on success, or the run's error message; the run's
// counts are then what was committed.
func (s *syncRun) apply(ctx context.Context, plan Plan) string {
	var applied RunCounts
	plannedCounts := s.run.Counts
	defer func() { s.run.Counts = applied }()

	if err := s.recordEvents(ctx, plan.Items, func(it PlanItem) bool { return !it.Writes() }); err != nil {
		applied = RunCounts{}
		return "recording the run's events failed: " + err.Error() + "; nothing was changed"
	}
	for _, it := range plan.Items {
		if !it.Writes() {
			countItem(&applied, it)
		}
	}

	var upserts, memberships, deletes []PlanItem
	for _, it := range plan.Items {
		switch {
		case !it.Writes():
		case it.Action == ActionDelete:
			deletes = append(deletes, it)
		default:
			upserts = append(upserts, it)
			if it.Group != nil && (it.Action == ActionAdd || it.Action == ActionReactivate || contains(it.Changed, "members")) {
				memberships = append(memberships, it)
			}
		}
	}
	total := len(upserts) + len(deletes)
	written := 0
	size := s.e.batchSize()
	now := s.e.now()

	for start := 0; start < len(upserts); start += size {
		if err := ctx.Err(); err != nil {
			return fmt.Sprintf("cancelled after writing %d of %d objects; nothing was deleted", written, total)
		}
		batch := upserts[start:min(start+size, len(upserts))]
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
			return fmt.Sprintf("writing to the store failed after %d of %d objects: %v; nothing was deleted", written, total, err)
		}
		written += len(batch)
		for _, it := range batch {
			countItem(&applied, it)
		}
	}

	for start := 0; start < len(memberships); start += size {
		if err := ctx.Err(); err != nil {
			return fmt.Sprintf("cancelled after writing %d of %d objects, before all group memberships were set; nothing was deleted", written, total)
		}
		batch := memberships[start:min(start+size, len(memberships))]
		c := Changes{SetMembers: map[string][]Member{}}
		for _, it := range batch {
			c.SetMembers[it.ID] = nonNilMembers(it.Group.Members)
		}
		if err := s.e.Store.Apply(ctx, s.opt.Account, c); err != nil {
			return fmt.Sprintf("setting group memberships failed: %v; %d of %d objects were written, nothing was deleted", err, written, total)
		}
	}

	deleted := 0
	for start := 0; start < len(deletes); start += size {
		if err := ctx.Err(); err != nil {
			return fmt.Sprintf("cancelled after %d of %d deletions", deleted, len(deletes))
		}
		batch := deletes[start:min(start+size, len(deletes))]
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
			return fmt.Sprintf("deleting failed after %d of %d deletions: %v", deleted, len(deletes), err)
		}
		deleted += len(batch)
		for _, it := range batch {
			countItem(&applied, it)
		}
	}
	applied = plannedCounts
	return ""
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
