package bridge

import (
	"fmt"
	"sort"
)

// Pass 2 of the plan (plan_build.go has pass 1 and what joins them): the
// entries index kept are mapped, in order, into plan items for a sink.

// entrySource replays the entries index kept, in the same order.
type entrySource interface {
	each(kind EntryKind, fn func(Entry) error) error
}

type memSource struct{ r dirRead }

func (m memSource) each(kind EntryKind, fn func(Entry) error) error {
	list := m.r.users
	switch kind {
	case EntryOU:
		list = m.r.ous
	case EntryGroup:
		list = m.r.groups
	}
	for _, e := range list {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// emit is pass 2: every planned object in order (OUs parents first, users,
// groups, then the missing ones), each handed to sink.
func (b *planBuilder) emit(src entrySource, sink func(PlanItem) error) error {
	for _, it := range b.early {
		if err := sink(it); err != nil {
			return err
		}
	}
	ous := append([]Entry(nil), b.ous...)
	sort.SliceStable(ous, func(i, j int) bool { return len(parseDN(ous[i].DN)) < len(parseDN(ous[j].DN)) })
	for _, e := range ous {
		id, _ := b.ids.get(normGUID(e.GUID))
		st := b.state(e.GUID, ObjectOU)
		parent := ""
		if r, ok := b.lookup(ParentDN(e.DN)); ok && r.Kind == EntryOU {
			parent = r.ID
		}
		role := b.prots.role(e.GUID, id)
		g := b.mapper.Group(e, GroupFacts{ID: id, Kind: KindOU, ParentID: parent,
			Members: b.ouMembers[NormalizeDN(e.DN)], Protected: role == RoleProtected})
		if err := sink(b.groupItem(g, st, role, 0)); err != nil {
			return err
		}
	}
	if b.delta != nil {
		if err := b.delta.emitOUs(b, sink); err != nil {
			return err
		}
	}
	// Each phase's state goes as soon as the phase ends: a large group's
	// members are resolved below while the users' records would still be
	// held otherwise.
	b.ouMembers = nil
	i := 0
	err := src.each(EntryUser, func(e Entry) error {
		for b.users[i].unspilled {
			i++
		}
		p := b.users[i]
		i++
		if p.streamed {
			return nil // planned later in the read, when its manager came
		}
		return sink(b.userItem(e, p))
	})
	if err != nil {
		return err
	}
	b.users = nil
	err = src.each(EntryGroup, func(e Entry) error {
		return sink(b.securityGroupItem(e))
	})
	if err != nil {
		return err
	}
	if b.delta != nil {
		if err := b.delta.emitHolders(b, sink); err != nil {
			return err
		}
	}
	for _, it := range b.missing {
		if err := sink(it); err != nil {
			return err
		}
	}
	return nil
}

func (b *planBuilder) userItem(e Entry, p userRec) PlanItem {
	role := b.prots.role(e.GUID, p.id)
	st := b.st(p)
	if p.errMsg != "" {
		return PlanItem{Action: ActionError, ObjectType: ObjectUser, ID: stateID(st),
			ExternalID: e.GUID, DN: e.DN, Name: p.userName, Reason: p.errMsg}
	}
	u, err := b.mapper.User(e, UserFacts{ID: p.id, Protected: role == RoleProtected, Now: b.now}, b.lookup)
	if err != nil {
		return PlanItem{Action: ActionError, ObjectType: ObjectUser, ID: stateID(st),
			ExternalID: e.GUID, DN: e.DN, Reason: err.Error()}
	}
	action, reason := decideUser(&u, st, role, !e.Disabled() && e.Expired(b.now))
	it := PlanItem{Action: action, ObjectType: ObjectUser, ID: u.ID, ExternalID: u.ExternalID,
		DN: u.DN, Name: u.UserName, Reason: reason}
	if it.Writes() {
		it.User = &u
		it.deferred = p.deferred
	}
	return it
}

func (b *planBuilder) securityGroupItem(e Entry) PlanItem {
	id, _ := b.ids.get(normGUID(e.GUID))
	st := b.state(e.GUID, ObjectGroup)
	kind := KindSecurity
	if !e.SecurityGroup() {
		kind = KindDistribution
	}
	members := make([]Member, 0, len(e.Members))
	outside := 0
	for _, dn := range e.Members {
		r, ok := b.lookup(dn)
		if !ok || r.Kind == EntryOU {
			outside++
			continue
		}
		if r.ID == id {
			continue
		}
		typ := "User"
		if r.Kind == EntryGroup {
			typ = "Group"
		}
		members = append(members, Member{ID: r.ID, Type: typ})
	}
	members = firstOfEachID(members)
	role := b.prots.role(e.GUID, id)
	g := b.mapper.group(e, GroupFacts{ID: id, Kind: kind, Members: members, Protected: role == RoleProtected})
	return b.groupItem(g, st, role, outside)
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
