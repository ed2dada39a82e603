package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// deltaTests cover bridge.DeltaStore: the targeted queries of a delta run.
// A store without it is skipped (the engine then loads every state).
var deltaTests = []test{
	{"StatesByExternalIDAndID", func(t *testing.T, s bridge.Store) {
		ds := deltaStore(t, s)
		mustAccount(t, s, "other")
		ann, bob, sales := user("ann"), user("bob"), group("Sales", bridge.KindSecurity)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{ann, bob}, Groups: []bridge.Group{sales}})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: bob.ID, Reason: "gone"}}})
		zed := user("zed")
		mustApply(t, s, "other", bridge.Changes{Users: []bridge.User{zed}})
		// 700 unknown ids: the lists are cut into chunks.
		var unknown []string
		for range 700 {
			unknown = append(unknown, newID())
		}
		for _, tc := range []struct {
			name string
			get  func(ids []string) ([]bridge.ObjectState, error)
			ids  []string
		}{
			{"external id", func(ids []string) ([]bridge.ObjectState, error) { return ds.StatesByExternalID(ctx(t), acct, ids) },
				append(slices.Clone(unknown), ann.ExternalID, bob.ExternalID, sales.ExternalID, zed.ExternalID, ann.ExternalID)},
			{"id", func(ids []string) ([]bridge.ObjectState, error) { return ds.StatesByID(ctx(t), acct, ids) },
				append(slices.Clone(unknown), ann.ID, bob.ID, sales.ID, zed.ID, ann.ID)},
		} {
			got, err := tc.get(tc.ids)
			noErr(t, tc.name, err)
			want := map[string]string{ann.ID: "user/active", bob.ID: "user/deleted", sales.ID: "group/active"}
			have := map[string]string{}
			for _, st := range got {
				have[st.ID] = string(st.Type) + "/" + string(st.Status)
			}
			if fmt.Sprint(have) != fmt.Sprint(want) || len(got) != len(want) {
				t.Errorf("by %s: got %v, want %v", tc.name, have, want)
			}
			for _, st := range got {
				if st.ID == sales.ID && (st.Kind != bridge.KindSecurity || st.Name != "Sales" || st.DN != sales.DN || st.Hash != sales.Hash) {
					t.Errorf("by %s: group state %+v", tc.name, st)
				}
				if st.ID == ann.ID && (st.Name != "ann" || st.Display != "User ann" || st.ExternalID != ann.ExternalID || st.Source != bridge.SourceAD) {
					t.Errorf("by %s: user state %+v", tc.name, st)
				}
			}
		}
	}},
	{"LiveStatesByDN", func(t *testing.T, s bridge.Store) {
		ds := deltaStore(t, s)
		mustAccount(t, s, "other")
		ann, bob, ou := user("ann"), user("bob"), group("Staff", bridge.KindOU)
		ou.DN = "OU=Staff,DC=example,DC=com"
		uml := user("uml")
		uml.DN = "CN=Ümit Müller,OU=Staff,DC=example,DC=com"
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{ann, bob, uml}, Groups: []bridge.Group{ou}})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: bob.ID, Reason: "gone"}}})
		twin := user("twin")
		twin.DN = ann.DN
		mustApply(t, s, "other", bridge.Changes{Users: []bridge.User{twin}})
		for _, tc := range []struct {
			name string
			dns  []string
			want []string
		}{
			{"lower-case user and OU", []string{strings.ToLower(ann.DN), strings.ToLower(ou.DN)}, []string{ann.ID, ou.ID}},
			{"deleted left out", []string{strings.ToLower(bob.DN)}, nil},
			{"as stored is not lower-case", []string{ann.DN}, nil},
			{"non-ASCII, Unicode lower", []string{strings.ToLower(uml.DN)}, []string{uml.ID}},
			{"unknown", []string{"cn=nobody,dc=example,dc=com"}, nil},
		} {
			got, err := ds.LiveStatesByDN(ctx(t), acct, tc.dns)
			noErr(t, tc.name, err)
			if ids := stateIDs(got); fmt.Sprint(ids) != fmt.Sprint(sorted(tc.want)) {
				// SQLite's lower() folds ASCII only: Ü stays upper-case there,
				// and the engine asks for that spelling too.
				if tc.name == "non-ASCII, Unicode lower" {
					got, err = ds.LiveStatesByDN(ctx(t), acct, []string{asciiLower(uml.DN)})
					noErr(t, tc.name, err)
					if ids := stateIDs(got); fmt.Sprint(ids) == fmt.Sprint(sorted(tc.want)) {
						continue
					}
				}
				t.Errorf("%s: got %v, want %v", tc.name, ids, sorted(tc.want))
			}
		}
	}},
	{"LiveUsersByName", func(t *testing.T, s bridge.Store) {
		ds := deltaStore(t, s)
		ann, bob, loc := user("Ann"), user("bob"), user("carol")
		loc.Source, loc.ExternalID = bridge.SourceLocal, ""
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{ann, bob, loc}})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: bob.ID, Reason: "gone"}}})
		got, err := ds.LiveUsersByName(ctx(t), acct, []string{"ann", "BOB", "Carol", "dave"})
		noErr(t, "LiveUsersByName", err)
		if ids := stateIDs(got); fmt.Sprint(ids) != fmt.Sprint(sorted([]string{ann.ID, loc.ID})) {
			t.Errorf("got %v, want ann and carol", got)
		}
	}},
	{"LiveADCount", func(t *testing.T, s bridge.Store) {
		ds := deltaStore(t, s)
		mustAccount(t, s, "other")
		a, b, loc, noGUID := user("a"), user("b"), user("loc"), user("noguid")
		loc.Source = bridge.SourceLocal
		noGUID.ExternalID = ""
		g1, g2 := group("G1", bridge.KindSecurity), group("G2", bridge.KindOU)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{a, b, loc, noGUID}, Groups: []bridge.Group{g1, g2}})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: b.ID, Reason: "gone"}},
			DeleteGroups: []bridge.Deletion{{ID: g2.ID, Reason: "gone"}}})
		mustApply(t, s, "other", bridge.Changes{Users: []bridge.User{user("z")}})
		n, err := ds.LiveADCount(ctx(t), acct)
		noErr(t, "LiveADCount", err)
		// The engine's own count over every state must agree.
		want := 0
		for _, st := range states(t, s, acct) {
			if st.Source == bridge.SourceAD && st.ExternalID != "" && st.Status != bridge.StatusDeleted {
				want++
			}
		}
		if n != 2 || n != want {
			t.Errorf("LiveADCount = %d, want 2 (a and G1; states say %d)", n, want)
		}
	}},
	{"GroupMembers", func(t *testing.T, s bridge.Store) {
		ds := deltaStore(t, s)
		mustAccount(t, s, "other")
		a, b := user("a"), user("b")
		g1, g2, empty := group("G1", bridge.KindOU), group("G2", bridge.KindOU), group("Empty", bridge.KindOU)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{a, b}, Groups: []bridge.Group{g1, g2, empty}})
		mustApply(t, s, acct, bridge.Changes{SetMembers: map[string][]bridge.Member{
			g1.ID: {userMember(a), userMember(b), groupMember(g2)}, g2.ID: {userMember(b)}}})
		z, zg := user("z"), group("Z", bridge.KindOU)
		mustApply(t, s, "other", bridge.Changes{Users: []bridge.User{z}, Groups: []bridge.Group{zg}})
		mustApply(t, s, "other", bridge.Changes{SetMembers: map[string][]bridge.Member{zg.ID: {userMember(z)}}})
		got, err := ds.GroupMembers(ctx(t), acct, []string{g1.ID, g2.ID, empty.ID, zg.ID, g1.ID})
		noErr(t, "GroupMembers", err)
		want := map[string][]bridge.Member{g1.ID: getGroup(t, s, acct, g1.ID).Members, g2.ID: {userMember(b)}}
		if len(got) != 2 || fmt.Sprint(got[g1.ID]) != fmt.Sprint(want[g1.ID]) || fmt.Sprint(got[g2.ID]) != fmt.Sprint(want[g2.ID]) {
			t.Errorf("GroupMembers = %v, want %v", got, want)
		}
		if len(got[g1.ID]) != 3 {
			t.Errorf("G1 members = %v, want 3", got[g1.ID])
		}
	}},
}

func deltaStore(t *testing.T, s bridge.Store) bridge.DeltaStore {
	t.Helper()
	ds, ok := s.(bridge.DeltaStore)
	if !ok {
		t.Skip("the store does not implement bridge.DeltaStore")
	}
	return ds
}

func stateIDs(sts []bridge.ObjectState) []string {
	var ids []string
	for _, st := range sts {
		ids = append(ids, st.ID)
	}
	return sorted(ids)
}

func sorted(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
