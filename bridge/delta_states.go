package bridge

import (
	"context"
	"sort"
	"strings"
)

// stateLoader gives a delta run the stored states it looks at, asked from
// a DeltaStore a list at a time, instead of every object of the account:
// a delta then costs what changed and what that touches (groups that list
// a changed object, OU groups that gain or lose one), not the directory's
// size. The states it loads go into the run's states map with the keys
// loadStates uses, so a key present there holds what the complete map
// would hold; only code that walks the whole map needs another way (see
// deltaState: lookup, ouMembers, emitHolders; planBuilder: begin, finish).
type stateLoader struct {
	ctx     context.Context
	store   DeltaStore
	account string
	states  *stateSet
	asked   map[string]bool // objectGUIDs asked
	// byDN holds, for every normalized DN asked, the live stored objects
	// with that DN (usually none or one).
	byDN map[string][]ObjectState
	// err is the first failure of a query made where no error can be
	// returned (lookups while planning); the run fails with it.
	err error
}

func newStateLoader(ctx context.Context, store DeltaStore, account string, states *stateSet) *stateLoader {
	return &stateLoader{ctx: ctx, store: store, account: account, states: states,
		asked: map[string]bool{}, byDN: map[string][]ObjectState{}}
}

// put files a state under the key loadStates would use.
func (l *stateLoader) put(st ObjectState) { l.states.put(st) }

// byGUID loads the states of the objectGUIDs not asked yet.
func (l *stateLoader) byGUID(guids []string) error {
	var ask []string
	for _, g := range guids {
		g = normGUID(g)
		if g != "" && !l.asked[g] {
			l.asked[g] = true
			ask = append(ask, g)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	sts, err := l.store.StatesByExternalID(l.ctx, l.account, ask)
	if err != nil {
		return err
	}
	// Users come first: a group with the same objectGUID wins, as in
	// loadStates, which reads users then groups.
	for _, st := range sts {
		l.put(st)
	}
	return nil
}

// resolveDNs loads the live stored objects of the DNs not asked yet.
// dns maps a normalized DN to a spelling as AD wrote it (or ""): the store
// compares lower(dn), so the lower-cased raw spelling finds a DN whose
// escapes or spaces the normalization would change.
func (l *stateLoader) resolveDNs(dns map[string]string) error {
	var ask []string
	want := map[string]bool{}
	for key, raw := range dns {
		if _, ok := l.byDN[key]; ok || key == "" {
			continue
		}
		l.byDN[key] = nil
		want[key] = true
		ask = append(ask, key)
		if raw != "" {
			ask = append(ask, strings.ToLower(raw), asciiLower(raw))
		}
	}
	if len(ask) == 0 {
		return nil
	}
	sts, err := l.store.LiveStatesByDN(l.ctx, l.account, ask)
	if err != nil {
		return err
	}
	sort.Slice(sts, func(i, j int) bool { return sts[i].ID < sts[j].ID })
	for _, st := range sts {
		if k := NormalizeDN(st.DN); want[k] {
			l.byDN[k] = append(l.byDN[k], st)
			l.put(st)
		}
	}
	return nil
}

// storedAt is the live AD object stored with the normalized DN key, as the
// complete map's DN index finds it; the DN is resolved now when it was not
// asked before (a lookup no preload foresaw).
func (l *stateLoader) storedAt(key string) (ObjectState, bool) {
	if _, ok := l.byDN[key]; !ok {
		if err := l.resolveDNs(map[string]string{key: ""}); err != nil && l.err == nil {
			l.err = err
		}
	}
	for _, st := range l.byDN[key] {
		if st.Source == SourceAD && st.ExternalID != "" && st.Status != StatusDeleted && st.DN != "" {
			return st, true
		}
	}
	return ObjectState{}, false
}

// fail records err as the loader's failure, if it is the first.
func (l *stateLoader) fail(err error) {
	if err != nil && l.err == nil {
		l.err = err
	}
}

// asciiLower lower-cases ASCII letters only, as SQLite's lower() does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// rawParent is dn without its first RDN, spelled as in dn ("" for a
// single RDN): the first comma not escaped by a backslash ends the RDN.
func rawParent(dn string) string {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return strings.TrimSpace(dn[i+1:])
		}
	}
	return ""
}

// storedRefOf is how a stored object is referenced (the complete map's
// DN index, deltaState.lookup).
func storedRefOf(st ObjectState) Ref {
	kind := EntryGroup
	name := st.Name
	switch {
	case st.Type == ObjectUser:
		kind = EntryUser
		if st.Display != "" {
			name = st.Display
		}
	case st.Kind == KindOU:
		kind = EntryOU
	}
	return Ref{ID: st.ID, Kind: kind, Name: name}
}

// nameHolders returns the live stored users that hold the userNames of
// the users read: the only names a clash can be about.
func (d *deltaState) nameHolders(b *planBuilder) []ObjectState {
	var names []string
	for _, p := range b.users {
		if p.userName != "" {
			names = append(names, strings.ToLower(p.userName))
		}
	}
	if len(names) == 0 {
		return nil
	}
	sts, err := d.load.store.LiveUsersByName(d.load.ctx, d.load.account, names)
	d.load.fail(err)
	for _, st := range sts {
		d.load.put(st)
	}
	return sts
}

// preload resolves, in a few queries, the DNs the plan's second pass looks
// up and the read does not hold: managers and parent OUs of the users
// read, members of the groups read, parents of the OUs read.
func (d *deltaState) preload(b *planBuilder, r dirRead) error {
	dns := map[string]string{}
	add := func(raw string) {
		if key := NormalizeDN(raw); key != "" {
			if _, ok := b.refs[key]; !ok {
				dns[key] = raw
			}
		}
	}
	for _, e := range r.users {
		if m := e.Get("manager"); m != "" {
			add(m)
		}
		add(rawParent(e.DN))
	}
	for _, e := range r.ous {
		add(rawParent(e.DN))
	}
	for _, e := range r.groups {
		for _, m := range e.Members {
			add(m)
		}
	}
	return d.load.resolveDNs(dns)
}
