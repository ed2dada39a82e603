package bridge

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// planBuilder turns a complete directory read into a plan, in two passes:
// first every object gets its SCIM id (the stored one, found by objectGUID,
// or a new UUID) and its DN is indexed; then each object is mapped, with
// manager, member and parent DNs resolved to those ids.
type planBuilder struct {
	mapper   *Mapper
	settings Settings
	// states holds stored AD objects by lower-case objectGUID and local
	// objects under "local:"+id (see loadStates).
	states map[string]ObjectState
	prots  protections
	now    time.Time

	refs map[string]Ref // normalized DN -> object that will exist after the run
	ids  map[string]string
	seen map[string]bool // objectGUIDs the read returned
}

type userPrep struct {
	e        Entry
	id       string
	st       *ObjectState
	errMsg   string
	userName string
	deferred bool
}

func (b *planBuilder) build(r dirRead) Plan {
	b.refs = map[string]Ref{}
	b.ids = map[string]string{}
	b.seen = map[string]bool{}

	var plan Plan
	for k, st := range b.states {
		if !strings.HasPrefix(k, "local:") && st.Status != StatusDeleted {
			plan.Live++
		}
	}

	// Pass 1: every object read gets its id; what was read is "seen".
	var ous, groups []Entry
	for _, e := range r.ous {
		if e.GUID == "" {
			plan.Items = append(plan.Items, PlanItem{Action: ActionError, ObjectType: ObjectOU, DN: e.DN, Name: RDNValue(e.DN), Reason: "has no objectGUID"})
			continue
		}
		ous = append(ous, e)
	}
	sort.SliceStable(ous, func(i, j int) bool { return len(parseDN(ous[i].DN)) < len(parseDN(ous[j].DN)) })
	for _, e := range r.groups {
		if e.GUID == "" {
			plan.Items = append(plan.Items, PlanItem{Action: ActionError, ObjectType: ObjectGroup, DN: e.DN, Name: RDNValue(e.DN), Reason: "has no objectGUID"})
			continue
		}
		if !e.SecurityGroup() && !b.settings.DistributionLists.Import {
			continue // a directory that returned it anyway; it stays unseen
		}
		groups = append(groups, e)
	}
	for _, e := range ous {
		b.assign(e, ObjectOU)
	}
	users := make([]userPrep, 0, len(r.users))
	for _, e := range r.users {
		id, st := b.assign(e, ObjectUser)
		users = append(users, userPrep{e: e, id: id, st: st, userName: b.mapper.UserName(e)})
	}
	for _, e := range groups {
		b.assign(e, ObjectGroup)
	}

	// Stored AD objects the complete read did not return. A missing user
	// that is deleted frees its userName, but only in the deletion phase:
	// a new user taking it is written after the deletions (deferred). One
	// that is kept (protected, owner) keeps its name.
	var missing []ObjectState
	for k, st := range b.states {
		if strings.HasPrefix(k, "local:") || b.seen[k] {
			continue
		}
		missing = append(missing, st)
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].ID < missing[j].ID })
	var missingItems []PlanItem
	taken := map[string]string{} // lower userName -> who holds it
	freed := map[string]bool{}
	for _, st := range missing {
		action, reason, ok := decideMissing(st, b.prots.role(st.ExternalID, st.ID), ReasonNotFound)
		if !ok {
			continue
		}
		missingItems = append(missingItems, PlanItem{Action: action, ObjectType: stateObjectType(st), ID: st.ID,
			ExternalID: st.ExternalID, DN: st.DN, Name: st.Name, Reason: reason, missing: true})
		if st.Type == ObjectUser && st.Name != "" {
			if action == ActionDelete {
				freed[strings.ToLower(st.Name)] = true
			} else {
				taken[strings.ToLower(st.Name)] = fmt.Sprintf("user %s (%s), which is no longer in scope but is kept: %s", st.ID, st.DN, reason)
			}
		}
	}
	for k, st := range b.states {
		if strings.HasPrefix(k, "local:") && st.Type == ObjectUser && st.Status != StatusDeleted && st.Name != "" {
			taken[strings.ToLower(st.Name)] = "the local user " + st.ID
		}
	}

	// userName clashes (the store keeps live userNames unique): local users
	// keep theirs, and among AD users the first read wins.
	for i := range users {
		p := &users[i]
		switch {
		case p.e.GUID == "":
			p.errMsg = "has no objectGUID"
		case p.userName == "":
			p.errMsg = errNoUserName.Error()
		default:
			key := strings.ToLower(p.userName)
			if other, ok := taken[key]; ok {
				p.errMsg = fmt.Sprintf("userName %q is already used by %s", p.userName, other)
			} else {
				taken[key] = "the AD user " + p.e.DN
				p.deferred = freed[key]
			}
		}
	}

	// The DN index: objects that exist after the run, so that a reference
	// to them (manager, member, parent) can be written.
	for _, e := range ous {
		id, st := b.ids[normGUID(e.GUID)], b.state(e.GUID, ObjectOU)
		if b.exists(e, st) {
			b.refs[NormalizeDN(e.DN)] = Ref{ID: id, Kind: EntryOU, Name: e.Get("ou")}
		}
	}
	for _, p := range users {
		if (p.errMsg == "" && b.exists(p.e, p.st)) || (p.errMsg != "" && p.st != nil && p.st.Status != StatusDeleted) {
			name := firstOf(p.e, "displayName", "cn")
			if name == "" {
				name = p.userName
			}
			b.refs[NormalizeDN(p.e.DN)] = Ref{ID: p.id, Kind: EntryUser, Name: name}
		}
	}
	for _, e := range groups {
		id, st := b.ids[normGUID(e.GUID)], b.state(e.GUID, ObjectGroup)
		if b.exists(e, st) {
			b.refs[NormalizeDN(e.DN)] = Ref{ID: id, Kind: EntryGroup, Name: firstOf(e, "displayName", "cn")}
		}
	}
	lookup := func(dn string) (Ref, bool) {
		r, ok := b.refs[NormalizeDN(dn)]
		return r, ok
	}

	// OU group members: the users directly in the OU and its child OUs.
	ouMembers := map[string][]Member{}
	if b.settings.ImportsOUs() {
		for _, e := range ous {
			if r, ok := lookup(e.DN); ok {
				p := ParentDN(e.DN)
				ouMembers[p] = append(ouMembers[p], Member{ID: r.ID, Type: "Group"})
			}
		}
		for _, p := range users {
			if r, ok := lookup(p.e.DN); ok {
				parent := ParentDN(p.e.DN)
				ouMembers[parent] = append(ouMembers[parent], Member{ID: r.ID, Type: "User"})
			}
		}
	}

	// Pass 2: map and decide.
	for _, e := range ous {
		id, st := b.ids[normGUID(e.GUID)], b.state(e.GUID, ObjectOU)
		parent := ""
		if r, ok := lookup(ParentDN(e.DN)); ok && r.Kind == EntryOU {
			parent = r.ID
		}
		role := b.prots.role(e.GUID, id)
		g := b.mapper.Group(e, GroupFacts{ID: id, Kind: KindOU, ParentID: parent,
			Members: ouMembers[NormalizeDN(e.DN)], Protected: role == RoleProtected})
		plan.Items = append(plan.Items, b.groupItem(g, st, role, 0))
	}
	for _, p := range users {
		role := b.prots.role(p.e.GUID, p.id)
		if p.errMsg != "" {
			plan.Items = append(plan.Items, PlanItem{Action: ActionError, ObjectType: ObjectUser, ID: stateID(p.st),
				ExternalID: p.e.GUID, DN: p.e.DN, Name: p.userName, Reason: p.errMsg})
			continue
		}
		u, err := b.mapper.User(p.e, UserFacts{ID: p.id, Protected: role == RoleProtected, Now: b.now}, lookup)
		if err != nil {
			plan.Items = append(plan.Items, PlanItem{Action: ActionError, ObjectType: ObjectUser, ID: stateID(p.st),
				ExternalID: p.e.GUID, DN: p.e.DN, Reason: err.Error()})
			continue
		}
		action, reason := decideUser(&u, p.st, role, !p.e.Disabled() && p.e.Expired(b.now))
		it := PlanItem{Action: action, ObjectType: ObjectUser, ID: u.ID, ExternalID: u.ExternalID,
			DN: u.DN, Name: u.UserName, Reason: reason}
		if it.Writes() {
			it.User = &u
			it.deferred = p.deferred
		}
		plan.Items = append(plan.Items, it)
	}
	for _, e := range groups {
		id, st := b.ids[normGUID(e.GUID)], b.state(e.GUID, ObjectGroup)
		kind := KindSecurity
		if !e.SecurityGroup() {
			kind = KindDistribution
		}
		var members []Member
		dup := map[string]bool{}
		outside := 0
		for _, dn := range e.Members {
			r, ok := lookup(dn)
			if !ok || r.Kind == EntryOU {
				outside++
				continue
			}
			if dup[r.ID] || r.ID == id {
				continue
			}
			dup[r.ID] = true
			typ := "User"
			if r.Kind == EntryGroup {
				typ = "Group"
			}
			members = append(members, Member{ID: r.ID, Type: typ})
		}
		role := b.prots.role(e.GUID, id)
		g := b.mapper.Group(e, GroupFacts{ID: id, Kind: kind, Members: members, Protected: role == RoleProtected})
		plan.Items = append(plan.Items, b.groupItem(g, st, role, outside))
	}
	plan.Items = append(plan.Items, missingItems...)
	return plan
}

func (b *planBuilder) groupItem(g Group, st *ObjectState, role ProtectionRole, outside int) PlanItem {
	action, reason := decideGroup(&g, st, role)
	if outside > 0 && action != ActionUnchanged {
		reason += "; " + fmt.Sprintf(reasonOutsideMembersFm, outside)
	}
	it := PlanItem{Action: action, ObjectType: objectTypeOf(g.Kind), ID: g.ID, ExternalID: g.ExternalID,
		DN: g.DN, Name: g.DisplayName, Reason: reason, OutsideMembers: outside}
	if it.Writes() {
		it.Group = &g
	}
	return it
}

// assign gives the entry its SCIM id: the stored one when the objectGUID is
// known as the same type of object, a new UUID otherwise.
func (b *planBuilder) assign(e Entry, t ObjectType) (string, *ObjectState) {
	g := normGUID(e.GUID)
	if id, ok := b.ids[g]; ok && g != "" {
		return id, b.state(e.GUID, t)
	}
	id := uuid.NewString()
	st := b.state(e.GUID, t)
	if st != nil {
		id = st.ID
	}
	if g != "" {
		b.ids[g] = id
		b.seen[g] = true
	}
	return id, st
}

// state is the stored state for an objectGUID, when it is the same type
// of object (user or group).
func (b *planBuilder) state(guid string, t ObjectType) *ObjectState {
	if guid == "" {
		return nil
	}
	st, ok := b.states[normGUID(guid)]
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
