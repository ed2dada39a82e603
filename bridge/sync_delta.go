package bridge

import (
	"context"
	"errors"
	"slices"
	"time"
)

// planDelta reads the changes since usn and plans them: the first pass
// and finish of the plan builder, the groups that held a gone object. It
// returns the entries for the second pass. When the Deleted Objects
// container turns out unreadable it switches the run to full (Kind) and
// returns ok with nothing planned; ok is false when the run has ended.
//
// With a DeltaStore the builder sees only the stored states the changes
// look at (stateLoader); otherwise every state is loaded first.
func (s *syncRun) planDelta(ctx context.Context, dir Directory, b *planBuilder, scope Scope, info ServerInfo, usn int64) (entrySource, bool) {
	store, account := s.e.Store, s.opt.Account
	states := newStateSet()
	need := func([]string) error { return nil }
	var load *stateLoader
	if ds, ok := store.(DeltaStore); ok {
		load = newStateLoader(ctx, ds, account, states)
		need = load.byGUID
	} else {
		var ok bool
		if states, ok = s.loadAll(ctx); !ok {
			return nil, false
		}
	}
	started := time.Now()
	d, err := readDelta(ctx, dir.(DeltaDirectory), b.settings, scope, info, usn, states, need)
	if errors.Is(err, ErrDeletedNotReadable) && ctx.Err() == nil {
		s.log.Warn("delta run impossible, running a full one", "err", err)
		s.run.Kind, s.run.KindReason = RunFull, err.Error()+": deletions cannot be seen; full enumeration"
		return nil, true
	}
	if !s.readOK(ctx, dir, err) {
		return nil, false
	}
	s.log.Info("directory changes read", "since", usn, "changed", d.changed, "tombstones", d.tombs, "gone", len(d.gone),
		"storedLoaded", states.len(), "duration", time.Since(started).Round(time.Millisecond))

	planned := time.Now()
	b.states = states
	b.delta = &deltaState{gone: d.gone, load: load}
	b.begin()
	var kept dirRead
	for _, list := range []struct {
		in  []Entry
		out *[]Entry
	}{{d.read.ous, &kept.ous}, {d.read.users, &kept.users}, {d.read.groups, &kept.groups}} {
		for _, e := range list.in {
			if b.index(e) {
				*list.out = append(*list.out, e)
			}
		}
	}
	ok, err := b.delta.prepare(b)
	if err == nil && !ok {
		// An OU group whose members the store's memberships cannot tell
		// (new, restored or protected): plan from every stored object.
		s.log.Info("an affected OU group is new, restored or protected: loading every stored object")
		if err = s.loadInto(ctx, states); err == nil {
			b.delta.load = nil
			_, err = b.delta.prepare(b)
		}
	}
	if err == nil {
		b.finish()
		err = b.delta.loadErr()
	}
	if err == nil && b.delta.load != nil {
		err = b.delta.preload(b, kept)
	}
	if err == nil && load != nil && slices.ContainsFunc(b.missing, func(it PlanItem) bool { return it.Action == ActionDelete }) {
		// The deletion threshold's base, needed only when the delta deletes:
		// a COUNT still visits every row of the account.
		b.live, err = load.store.LiveADCount(ctx, account)
	}
	if err != nil {
		s.end(ctx, RunFailed, "loading the stored objects failed: "+err.Error()+"; nothing was changed")
		return nil, false
	}
	if len(b.delta.gone) > 0 {
		if ms, ok := store.(MembershipStore); ok {
			var ids []string
			for g := range b.delta.gone {
				if st, ok := states.get(g); ok {
					ids = append(ids, st.ID)
				}
			}
			if b.delta.holders, err = ms.GroupsContaining(ctx, account, ids); err == nil {
				err = b.delta.loadHolders()
			}
			if err != nil {
				s.end(ctx, RunFailed, "loading the groups of deleted objects failed: "+err.Error()+"; nothing was changed")
				return nil, false
			}
		}
	}
	s.log.Info("delta planned", "storedLoaded", states.len(), "live", b.live,
		"affectedOUs", len(b.delta.affected), "holders", len(b.delta.holders), "duration", time.Since(planned).Round(time.Millisecond))
	return memSource{kept}, true
}

// loadAll loads every stored state (loadStates), or ends the run.
func (s *syncRun) loadAll(ctx context.Context) (*stateSet, bool) {
	states := newStateSet()
	if err := s.loadInto(ctx, states); err != nil {
		s.end(ctx, RunFailed, "loading the stored objects failed: "+err.Error()+"; nothing was changed")
		return nil, false
	}
	return states, true
}

// loadInto adds every stored state to states (loadStates).
func (s *syncRun) loadInto(ctx context.Context, states *stateSet) error {
	started := time.Now()
	n, err := loadStates(ctx, s.e.Store, s.opt.Account, states)
	if err != nil {
		return err
	}
	s.log.Info("stored objects loaded", "objects", n, "duration", time.Since(started).Round(time.Millisecond))
	return nil
}

// loadErr is the failure of a store query made while planning, if any.
func (d *deltaState) loadErr() error {
	if d == nil || d.load == nil {
		return nil
	}
	return d.load.err
}
