package scimapi

import (
	"reflect"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/bridge"
)

// Value filters inside PATCH paths: emails[type eq "work"].value, and the
// rules for multi-valued attributes they touch (one primary value).

// applyFiltered applies op to the elements of a multi-valued attribute that
// match f.
func applyFiltered(c map[string]any, r resolved, op string, f bridge.Filter, value any, path string) error {
	name := r.top.name
	list, _ := c[name].([]any)
	matched := 0
	out := list[:0:0]
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok || !matchElem(f, m) {
			out = append(out, el)
			continue
		}
		matched++
		switch {
		case op == "remove" && r.sub == nil:
			continue // drop the element
		case op == "remove":
			delete(m, r.sub.name)
		case r.sub != nil:
			m[r.sub.name] = value
		default:
			vm, ok := value.(map[string]any)
			if !ok {
				return badRequest(scimerrors.ScimTypeInvalidValue, "The value for %q must be an object.", path)
			}
			for k, v := range vm {
				m[k] = v
			}
		}
		out = append(out, m)
	}
	if matched == 0 {
		if op != "add" {
			return badRequest(scimerrors.ScimTypeNoTarget, "No value matches %q.", path)
		}
		// add through a filter that matches nothing: create the element
		// the filter's equality terms describe.
		el := map[string]any{}
		if !equalityTerms(f, el) {
			return badRequest(scimerrors.ScimTypeNoTarget, "No value matches %q.", path)
		}
		if r.sub != nil {
			el[r.sub.name] = value
		} else if vm, ok := value.(map[string]any); ok {
			for k, v := range vm {
				el[k] = v
			}
		}
		out = append(out, el)
	}
	if len(out) == 0 {
		delete(c, name)
		return nil
	}
	c[name] = onePrimary(out, -1)
	return nil
}

// equalityTerms fills el from `a eq v and b eq w` filters.
func equalityTerms(f bridge.Filter, el map[string]any) bool {
	switch f := f.(type) {
	case *bridge.Compare:
		if f.Op != bridge.OpEq || f.Value == nil {
			return false
		}
		el[f.Path.Sub] = f.Value
		return true
	case *bridge.And:
		return equalityTerms(f.Left, el) && equalityTerms(f.Right, el)
	}
	return false
}

// matchElem evaluates a value filter against one element of a
// multi-valued attribute of the resource being patched (a few values in
// memory; list queries are always compiled to SQL).
func matchElem(f bridge.Filter, el map[string]any) bool {
	switch f := f.(type) {
	case *bridge.And:
		return matchElem(f.Left, el) && matchElem(f.Right, el)
	case *bridge.Or:
		return matchElem(f.Left, el) || matchElem(f.Right, el)
	case *bridge.Not:
		return !matchElem(f.Filter, el)
	case *bridge.Compare:
		var v any
		for k, x := range el {
			if strings.EqualFold(k, f.Path.Sub) {
				v = x
			}
		}
		return compareAny(v, f)
	}
	return false
}

func compareAny(v any, f *bridge.Compare) bool {
	if f.Op == bridge.OpPresent {
		return v != nil && v != ""
	}
	if f.Value == nil {
		return (v == nil) == (f.Op == bridge.OpEq)
	}
	switch want := f.Value.(type) {
	case bool:
		got, ok := v.(bool)
		if s, isStr := v.(string); isStr {
			got, ok = strings.EqualFold(s, "true"), true
		}
		return ok && (got == want) == (f.Op == bridge.OpEq)
	case string:
		got, ok := v.(string)
		if !ok {
			return f.Op == bridge.OpNe
		}
		if !f.Path.CaseExact {
			got, want = strings.ToLower(got), strings.ToLower(want)
		}
		switch f.Op {
		case bridge.OpEq:
			return got == want
		case bridge.OpNe:
			return got != want
		case bridge.OpCo:
			return strings.Contains(got, want)
		case bridge.OpSw:
			return strings.HasPrefix(got, want)
		case bridge.OpEw:
			return strings.HasSuffix(got, want)
		case bridge.OpGt:
			return got > want
		case bridge.OpGe:
			return got >= want
		case bridge.OpLt:
			return got < want
		case bridge.OpLe:
			return got <= want
		}
	}
	return false
}

func containsValue(list []any, v any) bool {
	for _, x := range list {
		if reflect.DeepEqual(x, v) {
			return true
		}
	}
	return false
}

func removeValues(c map[string]any, name string, value any) {
	list, _ := c[name].([]any)
	rm, ok := value.([]any)
	if !ok {
		rm = []any{value}
	}
	out := list[:0:0]
	for _, el := range list {
		drop := false
		em, _ := el.(map[string]any)
		for _, x := range rm {
			xm, _ := x.(map[string]any)
			if reflect.DeepEqual(el, x) || (em != nil && xm != nil && xm["value"] != nil && em["value"] == xm["value"]) {
				drop = true
			}
		}
		if !drop {
			out = append(out, el)
		}
	}
	if len(out) == 0 {
		delete(c, name)
	} else {
		c[name] = out
	}
}

// onePrimary keeps one primary value: a value set primary by this
// operation (from index start on, or the last one marked) wins, as RFC
// 7644 3.5.2 asks.
func onePrimary(list []any, start int) []any {
	winner := -1
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && isTrue(m["primary"]) {
			if start < 0 || i >= start || winner < 0 {
				winner = i
			}
		}
	}
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && i != winner && isTrue(m["primary"]) {
			m["primary"] = false
		}
	}
	return list
}

func isTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}
