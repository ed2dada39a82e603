package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrDeletedNotReadable says the bind account cannot list the Deleted
// Objects container, so a delta run would miss deletions.
var ErrDeletedNotReadable = errors.New("the bind account cannot read the Deleted Objects container")

// readFull streams the whole scope into the builder's first pass and the
// spill (OUs stay in the builder). An entry returned twice (overlapping
// selected subtrees) counts once. Any error means the read is incomplete
// and must not be used to delete anything.
func readFull(ctx context.Context, dir Directory, scope Scope, withOUs bool, b *planBuilder, sp *spill) (map[EntryKind]int, error) {
	counts := map[EntryKind]int{}
	seen := newReadSeen()
	kinds := []EntryKind{EntryUser, EntryGroup}
	if withOUs {
		kinds = append([]EntryKind{EntryOU}, kinds...)
	}
	for _, kind := range kinds {
		err := dir.Stream(ctx, scope, kind, func(e Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			e.Kind = kind
			if !seen.first(e) {
				return nil
			}
			counts[kind]++
			if !b.index(e) || kind == EntryOU {
				return nil
			}
			// A user planned the moment it is read needs no second pass.
			if now, err := b.streamUser(e); now || err != nil {
				if now {
					b.users[len(b.users)-1].unspilled = true
				}
				return err
			}
			return sp.add(e)
		})
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return counts, fmt.Errorf("%ss: %w", kindLabel(kind), err)
		}
	}
	return counts, nil
}

// deltaRead is what changed since the cursor.
type deltaRead struct {
	read    dirRead // changed and in scope
	gone    map[string]string
	changed int
	tombs   int
}

// readDelta reads the changes since usn: every changed object twice, once
// with the account's scope (subtrees, user filters, distribution lists)
// and once over the whole base DN without them, so an object that changed
// and fell out of scope is seen; the subtrees of renamed or moved OUs
// (their objects' DNs changed without a new uSNChanged of their own); the
// reports of users whose name changed (their manager's displayName); and
// the tombstones. need loads the stored states of objectGUIDs into states
// before they are looked at (a no-op when states holds every object).
func readDelta(ctx context.Context, dir DeltaDirectory, settings Settings, scope Scope, info ServerInfo, usn int64,
	states *stateSet, need func(guids []string) error) (*deltaRead, error) {
	d := &deltaRead{gone: map[string]string{}}
	withOUs := settings.ImportsOUs()
	in := map[string]bool{}
	var outside []Entry
	add := func(e Entry) {
		g := normGUID(e.GUID)
		if e.GUID != "" && in[string(e.Kind)+"/"+g] {
			return
		}
		in[string(e.Kind)+"/"+g] = true
		switch e.Kind {
		case EntryOU:
			d.read.ous = append(d.read.ous, e)
		case EntryUser:
			d.read.users = append(d.read.users, e)
		default:
			d.read.groups = append(d.read.groups, e)
		}
	}
	whole := Scope{BaseDN: scope.BaseDN, DistributionLists: true, Attributes: scope.Attributes}
	read := func(sc, all Scope, kind EntryKind, inScope bool) error {
		if inScope {
			err := dir.Stream(ctx, sc, kind, func(e Entry) error {
				e.Kind = kind
				add(e)
				return nil
			})
			if err != nil {
				return fmt.Errorf("changed %ss: %w", kindLabel(kind), err)
			}
		}
		return dir.Stream(ctx, all, kind, func(e Entry) error {
			e.Kind = kind
			outside = append(outside, e)
			return nil
		})
	}

	sc, all := scope, whole
	sc.ChangedAfter, all.ChangedAfter = usn, usn
	// OUs first: a renamed or moved OU means a re-read of its subtree.
	var movedOUs []string
	var changedOUs []Entry
	err := dir.Stream(ctx, all, EntryOU, func(e Entry) error {
		e.Kind = EntryOU
		changedOUs = append(changedOUs, e)
		return nil
	})
	if err == nil {
		err = need(entryGUIDs(changedOUs))
	}
	if err != nil {
		return nil, fmt.Errorf("changed organizational units: %w", err)
	}
	for _, e := range changedOUs {
		st, ok := states.get(normGUID(e.GUID))
		if !ok || !EqualDN(st.DN, e.DN) {
			movedOUs = append(movedOUs, e.DN)
		}
		if withOUs {
			outside = append(outside, e)
		}
	}
	if withOUs {
		if err := dir.Stream(ctx, sc, EntryOU, func(e Entry) error { e.Kind = EntryOU; add(e); return nil }); err != nil {
			return nil, fmt.Errorf("changed organizational units: %w", err)
		}
	}
	for _, kind := range []EntryKind{EntryUser, EntryGroup} {
		if err := read(sc, all, kind, true); err != nil {
			return nil, err
		}
	}
	for _, ou := range outermost(movedOUs) {
		subAll := whole
		subAll.Subtrees = []string{ou}
		subIn, ok := narrow(scope, ou)
		kinds := []EntryKind{EntryUser, EntryGroup}
		if withOUs {
			kinds = append(kinds, EntryOU)
		}
		for _, kind := range kinds {
			if err := read(subIn, subAll, kind, ok); err != nil {
				return nil, err
			}
		}
	}

	// Objects new to the store that existed before the cursor (moved into
	// scope, back in scope): groups that already list them did not change
	// in AD, but a full run would add the member. An object created since
	// the cursor is only in groups that changed since, and were read.
	if err := need(append(entryGUIDs(d.read.users), entryGUIDs(d.read.groups)...)); err != nil {
		return nil, fmt.Errorf("stored state of changed objects: %w", err)
	}
	var arrivals []string
	for _, list := range [][]Entry{d.read.users, d.read.groups} {
		for _, e := range list {
			if e.USNCreated > usn {
				continue
			}
			if st, ok := states.get(normGUID(e.GUID)); !ok || st.Status == StatusDeleted {
				arrivals = append(arrivals, e.DN)
			}
		}
	}
	if err := streamAnyOf(ctx, dir, scope, EntryGroup, "member", arrivals, add); err != nil {
		return nil, fmt.Errorf("groups of new objects: %w", err)
	}

	// Users whose displayed name changed: their reports carry it as
	// manager.displayName.
	var renamed []string
	for _, e := range d.read.users {
		st, ok := states.get(normGUID(e.GUID))
		if ok && st.Status != StatusDeleted && st.Display != firstOf(e, "displayName", "cn") {
			renamed = append(renamed, e.DN)
		}
	}
	if err := streamAnyOf(ctx, dir, scope, EntryUser, "manager", renamed, add); err != nil {
		return nil, fmt.Errorf("reports of renamed users: %w", err)
	}
	if err := need(append(entryGUIDs(outside), append(entryGUIDs(d.read.users), entryGUIDs(d.read.groups)...)...)); err != nil {
		return nil, fmt.Errorf("stored state of changed objects: %w", err)
	}

	alive := map[string]bool{}
	for _, e := range outside {
		g := normGUID(e.GUID)
		alive[g] = true
		if e.GUID == "" || in[string(e.Kind)+"/"+g] {
			continue
		}
		if st, ok := states.get(g); ok && st.Status != StatusDeleted && (st.Type == ObjectUser) == (e.Kind == EntryUser) {
			d.gone[g] = outOfScopeReason(e.Kind, e, scope)
		}
	}

	nc := info.DefaultNamingContext
	if nc == "" {
		nc = scope.BaseDN
	}
	var tombs []string
	err = dir.Deleted(ctx, nc, usn, func(t Tombstone) error {
		d.tombs++
		tombs = append(tombs, normGUID(t.GUID))
		return nil
	})
	if err == nil {
		err = need(tombs)
	}
	if err != nil {
		return nil, fmt.Errorf("deleted objects: %w", err)
	}
	for _, g := range tombs {
		// A GUID alive in the reads was deleted and restored (reanimated).
		if st, ok := states.get(g); ok && st.Status != StatusDeleted && !alive[g] && !in[string(EntryUser)+"/"+g] && !in[string(EntryGroup)+"/"+g] && !in[string(EntryOU)+"/"+g] {
			d.gone[g] = ReasonNotFound
		}
	}
	d.changed = len(d.read.ous) + len(d.read.users) + len(d.read.groups)
	return d, nil
}

// entryGUIDs lists the entries' objectGUIDs (lower-case), skipping empty ones.
func entryGUIDs(list []Entry) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		if e.GUID != "" {
			out = append(out, normGUID(e.GUID))
		}
	}
	return out
}

// streamAnyOf reads the objects of kind in scope whose attr holds any of
// values, in searches of up to 50 values ORed together.
func streamAnyOf(ctx context.Context, dir Directory, scope Scope, kind EntryKind, attr string, values []string, add func(Entry)) error {
	const per = 50
	for start := 0; start < len(values); start += per {
		var b strings.Builder
		b.WriteString("(|")
		for _, v := range values[start:min(start+per, len(values))] {
			b.WriteString("(" + attr + "=" + escapeFilterValue(v) + ")")
		}
		b.WriteString(")")
		r := scope
		r.Where = b.String()
		if err := dir.Stream(ctx, r, kind, func(x Entry) error { x.Kind = kind; add(x); return nil }); err != nil {
			return err
		}
	}
	return nil
}

// outermost drops DNs that lie under another in the list.
func outermost(dns []string) []string {
	var out []string
	for i, a := range dns {
		inner := false
		for j, b := range dns {
			if i != j && DNWithin(a, b) && (!EqualDN(a, b) || j < i) {
				inner = true
				break
			}
		}
		if !inner {
			out = append(out, a)
		}
	}
	return out
}

// narrow limits scope to the subtree ou: false when nothing under ou is in
// scope.
func narrow(scope Scope, ou string) (Scope, bool) {
	s := scope
	if len(scope.Subtrees) == 0 {
		s.Subtrees = []string{ou}
		return s, true
	}
	var subs []string
	for _, t := range scope.Subtrees {
		switch {
		case DNWithin(ou, t):
			subs = []string{ou}
		case DNWithin(t, ou):
			subs = append(subs, t)
		}
		if len(subs) == 1 && EqualDN(subs[0], ou) {
			break
		}
	}
	s.Subtrees = subs
	return s, len(subs) > 0
}

// escapeFilterValue escapes a value for an LDAP filter (RFC 4515).
func escapeFilterValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '*', '(', ')', '\\', 0:
			fmt.Fprintf(&b, "\\%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
