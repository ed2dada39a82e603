package bridge

import (
	"context"
	"fmt"
	"strings"
)

// dirRead is a complete read of an account's scope.
type dirRead struct {
	ous, users, groups []Entry
}

// readScope reads every OU (when OUs become groups), user and group in
// scope. Any error means the read is incomplete and must not be used to
// delete anything. An entry returned twice (overlapping selected subtrees)
// counts once.
func readScope(ctx context.Context, dir Directory, scope Scope, withOUs bool) (dirRead, error) {
	var r dirRead
	seen := map[string]bool{}
	collect := func(kind EntryKind, into *[]Entry) error {
		err := dir.Stream(ctx, scope, kind, func(e Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			key := string(kind) + "/" + normGUID(e.GUID)
			if e.GUID == "" {
				key = string(kind) + "/dn:" + NormalizeDN(e.DN)
			}
			if seen[key] {
				return nil
			}
			seen[key] = true
			*into = append(*into, e)
			return nil
		})
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("%ss: %w", kindLabel(kind), err)
		}
		return nil
	}
	if withOUs {
		if err := collect(EntryOU, &r.ous); err != nil {
			return dirRead{}, err
		}
	}
	if err := collect(EntryUser, &r.users); err != nil {
		return dirRead{}, err
	}
	if err := collect(EntryGroup, &r.groups); err != nil {
		return dirRead{}, err
	}
	return r, nil
}

func kindLabel(k EntryKind) string {
	switch k {
	case EntryOU:
		return "organizational unit"
	default:
		return string(k)
	}
}

func normGUID(g string) string { return strings.ToLower(strings.TrimSpace(g)) }

// objectTypeOf names a group kind for events and protections.
func objectTypeOf(k GroupKind) ObjectType {
	switch k {
	case KindOU:
		return ObjectOU
	case KindDistribution:
		return ObjectDistribution
	}
	return ObjectGroup
}

func stateObjectType(st ObjectState) ObjectType {
	if st.Type == ObjectUser {
		return ObjectUser
	}
	return objectTypeOf(st.Kind)
}

// explainMissing refines the reason of each stored object the read did not
// return: "not found in Active Directory" when it is gone, "out of scope:
// ..." when it still exists but the account's scope leaves it out (selected
// OUs, user filters, distribution lists or OU groups not imported). Where
// the scope is narrower than the whole base DN for a kind of object and
// such objects are missing, one extra read of that kind over the whole base
// DN, without filters, tells which. It only runs when something is about to
// be deleted, which is rare, so a normal run costs nothing extra.
func (s *syncRun) explainMissing(ctx context.Context, dir Directory, settings Settings, plan *Plan) error {
	scope := settings.Scope()
	narrowed := map[EntryKind]bool{
		EntryUser:  len(scope.Subtrees) > 0 || scope.InclusionFilter != "" || scope.ExclusionFilter != "",
		EntryGroup: len(scope.Subtrees) > 0 || !scope.DistributionLists,
		EntryOU:    len(scope.Subtrees) > 0,
	}
	missing := map[EntryKind]map[string]*PlanItem{}
	for i := range plan.Items {
		it := &plan.Items[i]
		if !it.missing {
			continue
		}
		if it.ObjectType == ObjectOU && !settings.ImportsOUs() {
			it.setMissingReason(ReasonOutOfScope + ": OU groups are not imported (organizationalUnits mode none)")
			continue
		}
		kind := EntryGroup
		switch it.ObjectType {
		case ObjectUser:
			kind = EntryUser
		case ObjectOU:
			kind = EntryOU
		}
		if !narrowed[kind] {
			continue
		}
		if missing[kind] == nil {
			missing[kind] = map[string]*PlanItem{}
		}
		missing[kind][normGUID(it.ExternalID)] = it
	}
	whole := Scope{BaseDN: scope.BaseDN, DistributionLists: true}
	for _, kind := range []EntryKind{EntryOU, EntryUser, EntryGroup} {
		items := missing[kind]
		if len(items) == 0 {
			continue
		}
		err := dir.Stream(ctx, whole, kind, func(e Entry) error {
			it := items[normGUID(e.GUID)]
			if it == nil {
				return nil
			}
			it.setMissingReason(outOfScopeReason(kind, e, scope))
			return nil
		})
		if err != nil {
			return fmt.Errorf("%ss: %w", kindLabel(kind), err)
		}
	}
	return nil
}

func outOfScopeReason(kind EntryKind, e Entry, scope Scope) string {
	if len(scope.Subtrees) > 0 {
		within := false
		for _, t := range scope.Subtrees {
			if DNWithin(e.DN, t) {
				within = true
				break
			}
		}
		if !within {
			return ReasonOutOfScope + ": outside the selected OUs"
		}
	}
	switch kind {
	case EntryUser:
		if scope.InclusionFilter != "" || scope.ExclusionFilter != "" {
			return ReasonOutOfScope + ": left out by the user inclusion or exclusion filter"
		}
	case EntryGroup:
		if !e.SecurityGroup() && !scope.DistributionLists {
			return ReasonOutOfScope + ": distribution lists are not imported"
		}
	}
	return ReasonOutOfScope
}

// setMissingReason replaces the reason a missing object is deleted or
// skipped for.
func (it *PlanItem) setMissingReason(reason string) {
	switch it.Action {
	case ActionDelete:
		it.Reason = reason
	case ActionSkip:
		it.Reason = ReasonProtectedNoDel + " (" + reason + ")"
	}
}
