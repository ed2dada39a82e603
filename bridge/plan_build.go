package bridge

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// planBuilder turns a directory read into a plan, in two passes that
// stream: index (during the read) gives every object its SCIM id (the
// stored one, found by objectGUID, or a new UUID) and indexes its DN;
// emit (after the read, from a spill of the entries) maps each object, with
// manager, member and parent DNs resolved to those ids, and hands its
// PlanItem to a sink. Between them, finish decides what is missing and
// settles userName clashes. Only compact per-object state stays in memory.
//
// A full run reads the whole scope, and every stored object it did not
// see is missing. A delta run (delta != nil) reads only what changed: the
// DN index falls back to the stored objects, and only tombstoned or
// out-of-scope objects are missing.
type planBuilder struct {
	mapper   *Mapper
	settings Settings
	// states holds stored AD objects by lower-case objectGUID and local
	// objects under "local:"+id (see loadStates).
	states *stateSet
	prots  protections
	now    time.Time
	delta  *deltaState

	refs map[string]Ref // normalized DN -> object that will exist after the run
	ids  *idMap         // objectGUID read -> SCIM id

	live    int
	early   []PlanItem // errors found while indexing (no objectGUID)
	ous     []Entry    // OUs are few: kept whole, emitted parents first
	users   []userRec
	missing []PlanItem
	// ouMembers are the members of each OU group (normalized DN).
	ouMembers map[string][]Member
	// stream, when set, plans users during the read (plan_stream.go).
	stream *userStream
}

// userRec is what the builder keeps of a user between index and emit.
type userRec struct {
	id        string
	guid      string
	userName  string
	key       string // normalized DN
	parent    string // normalized parent DN (a substring of key when plain)
	errMsg    string
	stored    bool // stored as a user (b.state finds it)
	deferred  bool
	streamed  bool // planned during the read (plan_stream.go)
	unspilled bool // planned as it was read, so its entry is not in the spill
}

// st is the user's stored state, nil when new.
func (b *planBuilder) st(p userRec) *ObjectState {
	if !p.stored {
		return nil
	}
	return b.state(p.guid, ObjectUser)
}

// build plans a read held in memory (tests, small reads).
func (b *planBuilder) build(r dirRead) Plan {
	b.begin()
	var kept dirRead
	for _, list := range []struct {
		in  []Entry
		out *[]Entry
	}{{r.ous, &kept.ous}, {r.users, &kept.users}, {r.groups, &kept.groups}} {
		for _, e := range list.in {
			if b.index(e) {
				*list.out = append(*list.out, e)
			}
		}
	}
	b.finish()
	plan := Plan{Live: b.live}
	_ = b.emit(memSource{kept}, func(it PlanItem) error {
		plan.Items = append(plan.Items, it)
		return nil
	})
	return plan
}

func (b *planBuilder) begin() {
	b.refs = map[string]Ref{}
	b.ids = newIDMap()
	b.live = 0
	if b.delta != nil && b.delta.load != nil {
		return // counted by the store when the delta deletes (planDelta)
	}
	b.states.each(func(k string, st ObjectState) bool {
		if !strings.HasPrefix(k, "local:") && st.Status != StatusDeleted {
			b.live++
		}
		return true
	})
}

// keep reports whether an entry read is planned at all: entries without an
// objectGUID become errors, distribution lists are dropped unless imported.
func (b *planBuilder) keep(e Entry) bool {
	if e.GUID == "" {
		t := ObjectGroup
		switch e.Kind {
		case EntryOU:
			t = ObjectOU
		case EntryUser:
			return true // an error item in emit, in read order
		}
		b.early = append(b.early, PlanItem{Action: ActionError, ObjectType: t, DN: e.DN, Name: RDNValue(e.DN), Reason: "has no objectGUID"})
		return false
	}
	if e.Kind == EntryGroup && !e.SecurityGroup() && !b.settings.DistributionLists.Import {
		return false // a directory that returned it anyway; it stays unseen
	}
	return true
}

// index is pass 1 for one entry, in read order (OUs, users, groups). It
// returns false when the entry is not planned (see keep).
func (b *planBuilder) index(e Entry) bool {
	if !b.keep(e) {
		return false
	}
	switch e.Kind {
	case EntryOU:
		id, st := b.assign(e, ObjectOU)
		b.ous = append(b.ous, e)
		if b.exists(e, st) {
			b.refs[NormalizeDN(e.DN)] = Ref{ID: id, Kind: EntryOU, Name: e.Get("ou")}
		}
	case EntryUser:
		id, st := b.assign(e, ObjectUser)
		r := userRec{id: id, guid: e.GUID, stored: st != nil, userName: b.mapper.UserName(e), key: NormalizeDN(e.DN)}
		if b.settings.ImportsOUs() {
			r.parent = ParentDN(r.key)
		}
		b.users = append(b.users, r)
		// Assume no userName clash; finish takes the rare clash back out.
		if b.exists(e, st) {
			b.refs[r.key] = Ref{ID: id, Kind: EntryUser, Name: userRefName(e, r.userName)}
		}
	case EntryGroup:
		id, st := b.assign(e, ObjectGroup)
		if b.exists(e, st) {
			b.refs[NormalizeDN(e.DN)] = Ref{ID: id, Kind: EntryGroup, Name: firstOf(e, "displayName", "cn")}
		}
	}
	return true
}

func userRefName(e Entry, userName string) string {
	if name := firstOf(e, "displayName", "cn"); name != "" {
		return name
	}
	return userName
}

// finish runs after the read: stored objects that are missing, userName
// clashes, OU group members.
func (b *planBuilder) finish() {
	// Stored AD objects the complete read did not return (a delta: those
	// AD reported deleted or out of scope). A missing user that is deleted
	// frees its userName, but only in the deletion phase: a new user taking
	// it is written after the deletions (deferred). One that is kept
	// (protected, owner) keeps its name.
	var missing []ObjectState
	reasons := map[string]string{}
	if b.delta != nil {
		for g, reason := range b.delta.gone {
			if st, ok := b.states.get(g); ok && !b.saw(g) {
				missing = append(missing, st)
				reasons[g] = reason
			}
		}
	} else {
		b.states.each(func(k string, st ObjectState) bool {
			if !strings.HasPrefix(k, "local:") && !b.saw(k) {
				missing = append(missing, st)
			}
			return true
		})
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].ID < missing[j].ID })
	taken := map[string]string{} // lower userName -> who holds it
	freed := map[string]bool{}
	b.missing = nil
	for _, st := range missing {
		why := ReasonNotFound
		if r, ok := reasons[normGUID(st.ExternalID)]; ok {
			why = r
		}
		action, reason, ok := decideMissing(st, b.prots.role(st.ExternalID, st.ID), why)
		if !ok {
			continue
		}
		b.missing = append(b.missing, PlanItem{Action: action, ObjectType: stateObjectType(st), ID: st.ID,
			ExternalID: st.ExternalID, DN: st.DN, Name: st.Name, Reason: reason, missing: true})
		if st.Type == ObjectUser && st.Name != "" {
			if action == ActionDelete {
				freed[strings.ToLower(st.Name)] = true
			} else {
				taken[strings.ToLower(st.Name)] = fmt.Sprintf("user %s (%s), which is no longer in scope but is kept: %s", st.ID, st.DN, reason)
			}
		}
	}
	holdName := func(k string, st ObjectState) {
		if st.Type != ObjectUser || st.Status == StatusDeleted || st.Name == "" {
			return
		}
		switch {
		case strings.HasPrefix(k, "local:"):
			taken[strings.ToLower(st.Name)] = "the local user " + st.ID
		case b.delta != nil && !b.saw(k) && b.delta.gone[k] == "":
			// Unchanged since the last run: it keeps its name.
			if _, ok := taken[strings.ToLower(st.Name)]; !ok {
				taken[strings.ToLower(st.Name)] = "the AD user " + st.DN
			}
		}
	}
	if b.delta != nil && b.delta.load != nil {
		// Only the names the users read ask for can clash.
		for _, st := range b.delta.nameHolders(b) {
			k := "local:" + st.ID
			if st.Source == SourceAD && st.ExternalID != "" {
				k = normGUID(st.ExternalID)
			}
			holdName(k, st)
		}
	} else {
		b.states.each(func(k string, st ObjectState) bool {
			holdName(k, st)
			return true
		})
	}

	// userName clashes (the store keeps live userNames unique): local users
	// keep theirs, and among AD users the first read wins. The users read
	// hold their names in takenBy, by index: a holder's description is
	// only made for a clash.
	takenBy := make(map[string]int32, len(b.users))
	for i := range b.users {
		p := &b.users[i]
		switch {
		case p.guid == "":
			p.errMsg = "has no objectGUID"
		case p.userName == "":
			p.errMsg = errNoUserName.Error()
		default:
			key := strings.ToLower(p.userName)
			if other, ok := taken[key]; ok {
				p.errMsg = fmt.Sprintf("userName %q is already used by %s", p.userName, other)
			} else if j, ok := takenBy[key]; ok {
				p.errMsg = fmt.Sprintf("userName %q is already used by %s", p.userName, "the AD user "+b.users[j].key)
			} else {
				takenBy[key] = int32(i)
				p.deferred = freed[key]
			}
		}
		if st := b.st(*p); p.errMsg != "" && !(st != nil && st.Status != StatusDeleted) {
			// Not written and not live before: nothing may point at it.
			if r, ok := b.refs[p.key]; ok && r.ID == p.id {
				delete(b.refs, p.key)
			}
		}
	}

	// OU group members: the users directly in the OU and its child OUs.
	b.ouMembers = map[string][]Member{}
	if b.settings.ImportsOUs() {
		if b.delta != nil {
			if b.delta.affected == nil {
				_, _ = b.delta.prepare(b) // complete states: no queries, no error
			}
			b.delta.ouMembers(b)
			return
		}
		for _, e := range b.ous {
			if r, ok := b.refs[NormalizeDN(e.DN)]; ok {
				p := ParentDN(e.DN)
				b.ouMembers[p] = append(b.ouMembers[p], Member{ID: r.ID, Type: "Group"})
			}
		}
		for _, p := range b.users {
			if r, ok := b.refs[p.key]; ok && r.ID == p.id {
				b.ouMembers[p.parent] = append(b.ouMembers[p.parent], Member{ID: p.id, Type: "User"})
			}
		}
	}
}

// release drops what the builder holds per object once the plan has been
// emitted, so the sink's last phases (memberships, deletions) do not run
// beside it.
func (b *planBuilder) release() {
	b.states, b.refs, b.ids, b.users, b.ouMembers, b.ous = nil, nil, nil, nil, nil, nil
}

// lookup resolves a DN to an object that exists after the run.
func (b *planBuilder) lookup(dn string) (Ref, bool) {
	key := NormalizeDN(dn)
	if r, ok := b.refs[key]; ok {
		return r, true
	}
	if b.delta != nil {
		return b.delta.lookup(b, key)
	}
	return Ref{}, false
}

// saw reports whether the read returned the objectGUID g (every GUID read
// has an id).
func (b *planBuilder) saw(g string) bool {
	ok := b.ids.has(g)
	return ok
}

// assign gives the entry its SCIM id: the stored one when the objectGUID is
// known as the same type of object, a new UUID otherwise.
func (b *planBuilder) assign(e Entry, t ObjectType) (string, *ObjectState) {
	g := normGUID(e.GUID)
	if id, ok := b.ids.get(g); ok && g != "" {
		return id, b.state(e.GUID, t)
	}
	id := uuid.Must(uuid.NewV7()).String()
	st := b.state(e.GUID, t)
	if st != nil {
		id = st.ID
	}
	if g != "" {
		b.ids.set(g, id)
	}
	return id, st
}

// state is the stored state for an objectGUID, when it is the same type
// of object (user or group).
func (b *planBuilder) state(guid string, t ObjectType) *ObjectState {
	if guid == "" {
		return nil
	}
	st, ok := b.states.get(normGUID(guid))
	if !ok {
		return nil
	}
	if (st.Type == ObjectUser) != (t == ObjectUser) {
		return nil
	}
	return &st
}

// exists reports whether the object will exist as a live object after the
// run, so references to it may be written: everything read, except a
// protected object that is deleted in the store (it is not restored).
func (b *planBuilder) exists(e Entry, st *ObjectState) bool {
	if e.GUID == "" {
		return false
	}
	if st != nil && st.Status == StatusDeleted && b.prots.role(e.GUID, st.ID) == RoleProtected {
		return false
	}
	return true
}

func stateID(st *ObjectState) string {
	if st == nil {
		return ""
	}
	return st.ID
}

func firstOf(e Entry, attrs ...string) string {
	for _, a := range attrs {
		if v := strings.TrimSpace(e.Get(a)); v != "" {
			return v
		}
	}
	return ""
}
