package scimapi

import (
	"net/http"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"
	"github.com/scimbridge/scimbridge/bridge"
)

// Group member operations of a PATCH, turned into a bridge.MemberChange.

// memberPatch collects member operations as a bridge.MemberChange.
type memberPatch struct {
	s      *server
	r      *http.Request
	group  bridge.Group
	change bridge.MemberChange
	err    error
}

func (p *memberPatch) apply(op, filterText string, value any) error {
	var list []any
	if value != nil {
		var ok bool
		if list, ok = value.([]any); !ok {
			list = []any{value}
		}
	}
	switch {
	case op == "remove" && filterText != "":
		ids, err := p.filterIDs(filterText)
		if err != nil {
			return err
		}
		p.remove(ids)
	case op == "remove" && value == nil:
		p.change = bridge.MemberChange{Replace: true, Set: []bridge.Member{}}
	case op == "remove":
		ms, err := p.resolve(list, false)
		if err != nil {
			return err
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		p.remove(ids)
	case filterText != "":
		return badRequest(scimerrors.ScimTypeInvalidPath, "members[...] only applies to remove.")
	case op == "add":
		ms, err := p.resolve(list, true)
		if err != nil {
			return err
		}
		if p.change.Replace {
			p.change.Set = appendNew(p.change.Set, ms)
		} else {
			p.change.Add = appendNew(p.change.Add, ms)
			p.change.Remove = without(p.change.Remove, ms)
		}
	case op == "replace":
		ms, err := p.resolve(list, true)
		if err != nil {
			return err
		}
		p.change = bridge.MemberChange{Replace: true, Set: ms}
	}
	return nil
}

func (p *memberPatch) resolve(list []any, mustExist bool) ([]bridge.Member, error) {
	if !mustExist {
		// Removing: ids that are not (or no longer) members are fine.
		out := make([]bridge.Member, 0, len(list))
		for _, el := range list {
			m, ok := el.(map[string]any)
			if !ok {
				return nil, badRequest(scimerrors.ScimTypeInvalidValue, "Each member must be an object with a value.")
			}
			v, _ := findKey(m, "value")
			id, _ := v.(string)
			if id == "" {
				return nil, badRequest(scimerrors.ScimTypeInvalidValue, "Each member needs a value (the member's id).")
			}
			out = append(out, bridge.Member{ID: id})
		}
		return out, nil
	}
	return p.s.members(p.r, p.group.ID, list)
}

// filterIDs resolves members[filter] to ids. `value eq "x"` (and or-ed
// lists of those) needs no read; other filters are evaluated against the
// group's members.
func (p *memberPatch) filterIDs(text string) ([]string, error) {
	expr, err := filter.ParseFilter([]byte(text))
	if err != nil {
		// As for other value filters (applyOne): invalidFilter.
		return nil, badRequest(scimerrors.ScimTypeInvalidFilter, "Invalid members filter.")
	}
	top := groupType.core.attr("members")
	f, err := convertExpr(groupType, expr, &resolved{schema: groupType.core, top: top})
	if err != nil {
		return nil, badRequest(scimerrors.ScimTypeInvalidFilter, "Invalid members filter: %s.", err)
	}
	if ids, ok := valueEqIDs(f); ok {
		return ids, nil
	}
	g, err := p.s.store.LiveGroup(p.r.Context(), account(p.r), p.group.ID, true)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range g.Members {
		if matchElem(f, map[string]any{"value": m.ID, "type": m.Type}) {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil, badRequest(scimerrors.ScimTypeNoTarget, "No member matches the filter.")
	}
	return ids, nil
}

func valueEqIDs(f bridge.Filter) ([]string, bool) {
	switch f := f.(type) {
	case *bridge.Compare:
		if s, ok := f.Value.(string); ok && f.Op == bridge.OpEq && f.Path.Sub == "value" {
			return []string{s}, true
		}
	case *bridge.Or:
		l, ok1 := valueEqIDs(f.Left)
		r, ok2 := valueEqIDs(f.Right)
		return append(l, r...), ok1 && ok2
	}
	return nil, false
}

func (p *memberPatch) remove(ids []string) {
	if p.change.Replace {
		set := map[string]bool{}
		for _, id := range ids {
			set[id] = true
		}
		out := p.change.Set[:0:0]
		for _, m := range p.change.Set {
			if !set[m.ID] {
				out = append(out, m)
			}
		}
		p.change.Set = out
		return
	}
	rm := make([]bridge.Member, len(ids))
	for i, id := range ids {
		rm[i] = bridge.Member{ID: id}
	}
	p.change.Add = without(p.change.Add, rm)
	p.change.Remove = append(p.change.Remove, ids...)
}

func appendNew(list, add []bridge.Member) []bridge.Member {
	seen := map[string]bool{}
	for _, m := range list {
		seen[m.ID] = true
	}
	for _, m := range add {
		if !seen[m.ID] {
			seen[m.ID] = true
			list = append(list, m)
		}
	}
	return list
}

func without[T bridge.Member | string](list []T, rm []bridge.Member) []T {
	drop := map[string]bool{}
	for _, m := range rm {
		drop[m.ID] = true
	}
	out := list[:0:0]
	for _, x := range list {
		var id string
		switch v := any(x).(type) {
		case bridge.Member:
			id = v.ID
		case string:
			id = v
		}
		if !drop[id] {
			out = append(out, x)
		}
	}
	return out
}
