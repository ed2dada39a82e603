package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

var objectTests = []test{
	{"ObjectStatesCoversUsersAndGroups", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		u, g := user("ann"), group("Sales", bridge.KindDistribution)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g}})
		mustApply(t, s, "other", bridge.Changes{Users: []bridge.User{user("zed")}})
		st := states(t, s, acct)
		if len(st) != 2 {
			t.Fatalf("states = %v", st)
		}
		su, sg := st[u.ID], st[g.ID]
		if su.Type != bridge.ObjectUser || su.ExternalID != u.ExternalID || su.Name != "ann" || su.Hash != u.Hash ||
			su.DN != u.DN || su.Status != bridge.StatusActive || su.Source != bridge.SourceAD || su.Version != 1 {
			t.Errorf("user state = %+v", su)
		}
		if sg.Type != bridge.ObjectGroup || sg.Kind != bridge.KindDistribution || sg.Name != "Sales" || sg.Hash != g.Hash {
			t.Errorf("group state = %+v", sg)
		}
	}},
	{"ObjectStatesStreamsManyAndStopsOnError", func(t *testing.T, s bridge.Store) {
		const n = 4321 // several pages
		users := make([]bridge.User, n)
		for i := range users {
			users[i] = user(fmt.Sprintf("u%05d", i))
		}
		mustApply(t, s, acct, bridge.Changes{Users: users})
		if got := len(states(t, s, acct)); got != n {
			t.Errorf("states = %d, want %d", got, n)
		}
		stop := errors.New("stop")
		calls := 0
		err := s.ObjectStates(ctx(t), acct, func(bridge.ObjectState) error {
			calls++
			if calls == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 10 {
			t.Errorf("ObjectStates after fn error: err %v, %d calls", err, calls)
		}
	}},
	{"ObjectStatesMayWriteFromCallback", func(t *testing.T, s bridge.Store) {
		users := []bridge.User{user("a"), user("b"), user("c")}
		mustApply(t, s, acct, bridge.Changes{Users: users})
		// The engine may apply while it reads: this must not deadlock.
		err := s.ObjectStates(ctx(t), acct, func(st bridge.ObjectState) error {
			return s.Apply(ctx(t), acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: st.ID, Reason: "x"}}})
		})
		noErr(t, "ObjectStates with Apply inside", err)
	}},
	{"GetUnknownNotFound", func(t *testing.T, s bridge.Store) {
		_, err := s.GetUser(ctx(t), acct, newID())
		wantErr(t, "GetUser", err, bridge.ErrNotFound)
		_, err = s.GetGroup(ctx(t), acct, newID())
		wantErr(t, "GetGroup", err, bridge.ErrNotFound)
		u := user("ann")
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}})
		_, err = s.GetGroup(ctx(t), acct, u.ID)
		wantErr(t, "GetGroup with a user id", err, bridge.ErrNotFound)
	}},
	{"ListUsersPagesInUserNameOrder", func(t *testing.T, s bridge.Store) {
		names := []string{"dave", "alice", "carol", "bob", "erin"}
		var users []bridge.User
		for _, n := range names {
			users = append(users, user(n))
		}
		users[4].Status, users[4].Active = bridge.StatusDeactivated, false
		mustApply(t, s, acct, bridge.Changes{Users: users})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: users[3].ID, Reason: "gone"}}}) // bob
		for _, tc := range []struct {
			name          string
			status        bridge.Status
			offset, limit int
			want          []string
			total         int
		}{
			{"all", "", 0, 0, []string{"alice", "bob", "carol", "dave", "erin"}, 5},
			{"first page", "", 0, 2, []string{"alice", "bob"}, 5},
			{"second page", "", 2, 2, []string{"carol", "dave"}, 5},
			{"past the end", "", 10, 2, nil, 5},
			{"active", bridge.StatusActive, 0, 0, []string{"alice", "carol", "dave"}, 3},
			{"deactivated", bridge.StatusDeactivated, 0, 0, []string{"erin"}, 1},
			{"deleted", bridge.StatusDeleted, 0, 0, []string{"bob"}, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.ListUsers(ctx(t), acct, tc.status, tc.offset, tc.limit)
				noErr(t, "ListUsers", err)
				var gotNames []string
				for _, u := range got {
					gotNames = append(gotNames, u.UserName)
				}
				if fmt.Sprint(gotNames) != fmt.Sprint(tc.want) || total != tc.total {
					t.Errorf("got %v (total %d), want %v (total %d)", gotNames, total, tc.want, tc.total)
				}
			})
		}
		if _, total, _ := s.ListUsers(ctx(t), "nope", "", 0, 0); total != 0 {
			t.Errorf("unknown account lists %d users", total)
		}
	}},
	{"ListGroupsWithMembers", func(t *testing.T, s bridge.Store) {
		a := user("a")
		g1, g2, g3 := group("Beta", bridge.KindSecurity), group("Alpha", bridge.KindOU), group("Gamma", bridge.KindLocal)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{a}, Groups: []bridge.Group{g1, g2, g3},
			SetMembers: map[string][]bridge.Member{g1.ID: {userMember(a)}, g2.ID: {userMember(a), groupMember(g1)}}})
		got, total, err := s.ListGroups(ctx(t), acct, 0, 2)
		noErr(t, "ListGroups", err)
		if total != 3 || len(got) != 2 || got[0].DisplayName != "Alpha" || got[1].DisplayName != "Beta" {
			t.Fatalf("ListGroups = %+v (total %d)", got, total)
		}
		if len(got[0].Members) != 2 || len(got[1].Members) != 1 {
			t.Errorf("members: Alpha %v, Beta %v", got[0].Members, got[1].Members)
		}
		got, _, err = s.ListGroups(ctx(t), acct, 2, 2)
		noErr(t, "ListGroups page 2", err)
		if len(got) != 1 || got[0].DisplayName != "Gamma" || len(got[0].Members) != 0 {
			t.Errorf("page 2 = %+v", got)
		}
	}},
}
