package bridge

import (
	"slices"
	"strings"
)

func hasMember(ms []Member, ids map[string]bool) bool {
	if len(ids) == 0 {
		return false
	}
	for _, m := range ms {
		if ids[m.ID] {
			return true
		}
	}
	return false
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

// firstOfEachID drops the members whose id came earlier in ms, in place.
// A sort does it without a set of every id, which for a group of 100,000
// members costs more than the list; the order it leaves does not matter
// (the mapping sorts members).
func firstOfEachID(ms []Member) []Member {
	slices.SortStableFunc(ms, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return slices.CompactFunc(ms, func(a, b Member) bool { return a.ID == b.ID })
}
