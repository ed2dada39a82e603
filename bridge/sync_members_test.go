package bridge

import (
	"slices"
	"strconv"
	"testing"
)

func TestMembershipBatches(t *testing.T) {
	group := func(id string, members int) PlanItem {
		g := &Group{ID: id}
		for i := range members {
			g.Members = append(g.Members, Member{ID: id + "/" + strconv.Itoa(i), Type: "User"})
		}
		return PlanItem{ID: id, Group: g}
	}
	for _, tc := range []struct {
		name              string
		sizes             []int
		maxGroups, maxRow int
		want              [][]string // group ids per batch, in the order returned
	}{
		{"nothing", nil, 10, 100, nil},
		{"one small batch", []int{3, 4, 0}, 10, 100, [][]string{{"g0", "g1", "g2"}}},
		{"bounded by groups", []int{1, 1, 1, 1, 1}, 2, 100, [][]string{{"g0", "g1"}, {"g2", "g3"}, {"g4"}}},
		{"bounded by rows, largest first", []int{40, 40, 40, 10}, 10, 100, [][]string{{"g0", "g1"}, {"g2", "g3"}}},
		{"a group larger than the bound is alone", []int{5, 300, 5, 5}, 10, 100, [][]string{{"g1"}, {"g2", "g3"}, {"g0"}}},
		{"an empty member list still counts", []int{0, 0, 0}, 10, 2, [][]string{{"g0", "g1"}, {"g2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var items []PlanItem
			for i, n := range tc.sizes {
				items = append(items, group("g"+strconv.Itoa(i), n))
			}
			var got [][]string
			seen := 0
			for _, b := range membershipBatches(items, tc.maxGroups, tc.maxRow) {
				var ids []string
				for _, it := range b {
					ids = append(ids, it.ID)
				}
				got = append(got, ids)
				seen += len(b)
			}
			if seen != len(items) {
				t.Fatalf("%d groups in the batches, want each of the %d once", seen, len(items))
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal[[]string]) {
				t.Errorf("batches %v, want %v", got, tc.want)
			}
		})
	}
}
