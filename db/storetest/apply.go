package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

const acct = bridge.DefaultAccount

var applyTests = []test{
	{"InsertSetsVersionOne", func(t *testing.T, s bridge.Store) {
		u, g := user("ann"), group("Staff", bridge.KindSecurity)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g}})
		gotU := getUser(t, s, acct, u.ID)
		if gotU.Version != 1 || gotU.UserName != "ann" || gotU.ExternalID != u.ExternalID || gotU.AccountID != acct ||
			gotU.DN != u.DN || gotU.OUPath != "Staff" || !gotU.Active || gotU.Status != bridge.StatusActive ||
			gotU.Hash != "h-ann" || gotU.Attributes["title"] != "Engineer" || gotU.CreatedAt.IsZero() || gotU.DeletedAt != nil {
			t.Errorf("user = %+v", gotU)
		}
		gotG := getGroup(t, s, acct, g.ID)
		if gotG.Version != 1 || gotG.DisplayName != "Staff" || gotG.Kind != bridge.KindSecurity || gotG.Attributes["displayName"] != "Staff" {
			t.Errorf("group = %+v", gotG)
		}
	}},
	{"UpdateBumpsVersionKeepsCreatedAt", func(t *testing.T, s bridge.Store) {
		u := user("ann")
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}})
		first := getUser(t, s, acct, u.ID)
		u.DisplayName, u.Hash, u.Active, u.Status = "Ann B.", "h2", false, bridge.StatusDeactivated
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}})
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}})
		got := getUser(t, s, acct, u.ID)
		if got.Version != 3 || got.DisplayName != "Ann B." || got.Hash != "h2" || got.Active || got.Status != bridge.StatusDeactivated {
			t.Errorf("after two updates: %+v", got)
		}
		if !sameTime(got.CreatedAt, first.CreatedAt) {
			t.Errorf("CreatedAt changed from %v to %v", first.CreatedAt, got.CreatedAt)
		}
	}},
	{"GroupUpdateKeepsMembersUnlessSet", func(t *testing.T, s bridge.Store) {
		u, g := user("ann"), group("Staff", bridge.KindSecurity)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g},
			SetMembers: map[string][]bridge.Member{g.ID: {userMember(u)}}})
		g.DisplayName = "Staff 2"
		mustApply(t, s, acct, bridge.Changes{Groups: []bridge.Group{g}})
		got := getGroup(t, s, acct, g.ID)
		if got.Version != 2 || got.DisplayName != "Staff 2" || len(got.Members) != 1 {
			t.Errorf("group after update = %+v", got)
		}
	}},
	{"SetMembersReplaces", func(t *testing.T, s bridge.Store) {
		a, b, c := user("a"), user("b"), user("c")
		parent, child := group("Parent", bridge.KindOU), group("Child", bridge.KindOU)
		child.ParentID = parent.ID
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{a, b, c}, Groups: []bridge.Group{parent, child},
			SetMembers: map[string][]bridge.Member{
				parent.ID: {userMember(a), userMember(b), groupMember(child), userMember(a) /* duplicate */},
				child.ID:  {userMember(c)},
			}})
		got := memberIDs(getGroup(t, s, acct, parent.ID))
		if len(got) != 3 || got[a.ID] != "User" || got[child.ID] != "Group" {
			t.Errorf("parent members = %v", got)
		}
		if getGroup(t, s, acct, child.ID).ParentID != parent.ID {
			t.Errorf("ParentID lost")
		}
		mustApply(t, s, acct, bridge.Changes{SetMembers: map[string][]bridge.Member{parent.ID: {userMember(c)}}})
		got = memberIDs(getGroup(t, s, acct, parent.ID))
		if len(got) != 1 || got[c.ID] != "User" {
			t.Errorf("parent members after replace = %v", got)
		}
		if n := len(getGroup(t, s, acct, child.ID).Members); n != 1 {
			t.Errorf("child lost its members: %d", n)
		}
		mustApply(t, s, acct, bridge.Changes{SetMembers: map[string][]bridge.Member{parent.ID: nil}})
		if n := len(getGroup(t, s, acct, parent.ID).Members); n != 0 {
			t.Errorf("empty SetMembers left %d members", n)
		}
	}},
	{"SetMembersRejectsUnknownOrForeignMembers", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		foreign := user("foreign")
		mustApply(t, s, "other", bridge.Changes{Users: []bridge.User{foreign}})
		g := group("Staff", bridge.KindSecurity)
		mustApply(t, s, acct, bridge.Changes{Groups: []bridge.Group{g}})
		for name, m := range map[string]bridge.Member{
			"foreign user": userMember(foreign),
			"unknown user": {ID: newID(), Type: "User"},
			"bad type":     {ID: g.ID, Type: "Robot"},
		} {
			err := s.Apply(ctx(t), acct, bridge.Changes{SetMembers: map[string][]bridge.Member{g.ID: {m}}})
			if err == nil {
				t.Errorf("%s: Apply accepted member %+v", name, m)
			}
		}
		err := s.Apply(ctx(t), acct, bridge.Changes{SetMembers: map[string][]bridge.Member{newID(): nil}})
		wantErr(t, "SetMembers of unknown group", err, bridge.ErrNotFound)
	}},
	{"SoftDeleteUserLeavesGroups", func(t *testing.T, s bridge.Store) {
		a, b := user("a"), user("b")
		g1, g2 := group("G1", bridge.KindSecurity), group("G2", bridge.KindDistribution)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{a, b}, Groups: []bridge.Group{g1, g2},
			SetMembers: map[string][]bridge.Member{g1.ID: {userMember(a), userMember(b)}, g2.ID: {userMember(a)}}})
		at := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: a.ID, Reason: "gone from AD", At: at}}})
		got := getUser(t, s, acct, a.ID)
		if got.Status != bridge.StatusDeleted || got.DeletedAt == nil || !sameTime(*got.DeletedAt, at) ||
			got.DeleteReason != "gone from AD" || got.Version != 2 {
			t.Errorf("deleted user = %+v", got)
		}
		if m := memberIDs(getGroup(t, s, acct, g1.ID)); len(m) != 1 || m[b.ID] == "" {
			t.Errorf("g1 members = %v, want only b", m)
		}
		if m := getGroup(t, s, acct, g2.ID).Members; len(m) != 0 {
			t.Errorf("g2 members = %v, want none", m)
		}
		st := states(t, s, acct)[a.ID]
		if st.Status != bridge.StatusDeleted || st.Version != 2 {
			t.Errorf("ObjectStates of deleted user = %+v", st)
		}
	}},
	{"GroupVersionFollowsItsMembers", func(t *testing.T, s bridge.Store) {
		// A group's representation lists its members: every Apply that
		// changes them moves its version once, and one that does not
		// leaves it alone.
		a, b := user("a"), user("b")
		g, other := group("Staff", bridge.KindSecurity), group("Other", bridge.KindSecurity)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{a, b}, Groups: []bridge.Group{g, other},
			SetMembers: map[string][]bridge.Member{g.ID: {userMember(a)}}})
		version := func(id string) int64 { t.Helper(); return getGroup(t, s, acct, id).Version }
		if v := version(g.ID); v != 1 {
			t.Fatalf("group created with its members: version %d, want 1", v)
		}
		steps := []struct {
			name string
			c    bridge.Changes
			want int64
		}{
			{"member added", bridge.Changes{SetMembers: map[string][]bridge.Member{g.ID: {userMember(a), userMember(b)}}}, 2},
			{"same members again", bridge.Changes{SetMembers: map[string][]bridge.Member{g.ID: {userMember(b), userMember(a)}}}, 2},
			{"member removed", bridge.Changes{SetMembers: map[string][]bridge.Member{g.ID: {userMember(b)}}}, 3},
			{"upserted and members set in one Apply", bridge.Changes{Groups: []bridge.Group{g},
				SetMembers: map[string][]bridge.Member{g.ID: {userMember(a), userMember(b)}}}, 4},
			{"member soft-deleted", bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: a.ID, Reason: "gone"}}}, 5},
			{"its last member deleted, another group left as it was", bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: b.ID, Reason: "gone"}},
				SetMembers: map[string][]bridge.Member{other.ID: nil}}, 6},
		}
		for _, st := range steps {
			mustApply(t, s, acct, st.c)
			if v := version(g.ID); v != st.want {
				t.Errorf("%s: version %d, want %d", st.name, v, st.want)
			}
		}
		if v := version(other.ID); v != 1 {
			t.Errorf("untouched group: version %d, want 1", v)
		}
	}},
	{"SoftDeleteGroupDropsItsMembershipsBothWays", func(t *testing.T, s bridge.Store) {
		a := user("a")
		parent, child := group("Parent", bridge.KindOU), group("Child", bridge.KindOU)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{a}, Groups: []bridge.Group{parent, child},
			SetMembers: map[string][]bridge.Member{parent.ID: {userMember(a), groupMember(child)}, child.ID: {userMember(a)}}})
		mustApply(t, s, acct, bridge.Changes{DeleteGroups: []bridge.Deletion{{ID: child.ID, Reason: "OU removed"}}})
		gotChild := getGroup(t, s, acct, child.ID)
		if gotChild.Status != bridge.StatusDeleted || len(gotChild.Members) != 0 || gotChild.DeletedAt == nil || gotChild.Version != 2 {
			t.Errorf("deleted group = %+v", gotChild)
		}
		if m := memberIDs(getGroup(t, s, acct, parent.ID)); len(m) != 1 || m[a.ID] != "User" {
			t.Errorf("parent members = %v, want only the user", m)
		}
	}},
	{"UpsertAfterDeleteRevives", func(t *testing.T, s bridge.Store) {
		u := user("ann")
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: u.ID, Reason: "gone"}}})
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}})
		got := getUser(t, s, acct, u.ID)
		if got.Status != bridge.StatusActive || got.DeletedAt != nil || got.DeleteReason != "" || got.Version != 3 {
			t.Errorf("revived user = %+v", got)
		}
	}},
	{"DeletedUserDoesNotBlockUserName", func(t *testing.T, s bridge.Store) {
		old := user("Ann@Example.com")
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{old}})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: old.ID, Reason: "gone"}}})
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{user("ann@example.com")}})
		// Reviving the old one now collides with the live user.
		err := s.Apply(ctx(t), acct, bridge.Changes{Users: []bridge.User{old}})
		wantErr(t, "revive onto a taken userName", err, bridge.ErrConflict)
	}},
	{"UniquenessConflicts", func(t *testing.T, s bridge.Store) {
		u, g := user("ann"), group("Staff", bridge.KindSecurity)
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g}})
		sameName := user("ANN") // userName is unique case-insensitively
		wantErr(t, "same userName", s.Apply(ctx(t), acct, bridge.Changes{Users: []bridge.User{sameName}}), bridge.ErrConflict)
		sameExt := user("bob")
		sameExt.ExternalID = u.ExternalID
		wantErr(t, "same user externalId", s.Apply(ctx(t), acct, bridge.Changes{Users: []bridge.User{sameExt}}), bridge.ErrConflict)
		sameGExt := group("Other", bridge.KindSecurity)
		sameGExt.ExternalID = g.ExternalID
		wantErr(t, "same group externalId", s.Apply(ctx(t), acct, bridge.Changes{Groups: []bridge.Group{sameGExt}}), bridge.ErrConflict)
		// Empty externalIds (local objects) do not collide.
		l1, l2 := user("local1"), user("local2")
		l1.ExternalID, l2.ExternalID, l1.Source, l2.Source = "", "", bridge.SourceLocal, bridge.SourceLocal
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{l1, l2}})
	}},
	{"AtomicOnConflict", func(t *testing.T, s bridge.Store) {
		taken := user("taken")
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{taken}})
		run := mustRun(t, s, acct, time.Now())
		fresh, g, clash := user("fresh"), group("G", bridge.KindSecurity), user("TAKEN")
		err := s.Apply(ctx(t), acct, bridge.Changes{
			Users:       []bridge.User{fresh, clash},
			Groups:      []bridge.Group{g},
			DeleteUsers: []bridge.Deletion{{ID: taken.ID, Reason: "x"}},
			Events:      []bridge.RunEvent{{RunID: run.ID, ObjectType: bridge.ObjectUser, Action: bridge.ActionAdd, Name: "fresh"}},
		})
		wantErr(t, "Apply with a clashing user", err, bridge.ErrConflict)
		if _, err := s.GetUser(ctx(t), acct, fresh.ID); err == nil {
			t.Errorf("a user of the failed batch was written")
		}
		if _, err := s.GetGroup(ctx(t), acct, g.ID); err == nil {
			t.Errorf("a group of the failed batch was written")
		}
		if got := getUser(t, s, acct, taken.ID); got.Status != bridge.StatusActive {
			t.Errorf("a deletion of the failed batch was written")
		}
		if _, n, _ := s.ListRunEvents(ctx(t), acct, run.ID, bridge.EventFilter{}); n != 0 {
			t.Errorf("%d events of the failed batch were written", n)
		}
	}},
	{"AtomicOnLaterStep", func(t *testing.T, s bridge.Store) {
		fresh := user("fresh")
		err := s.Apply(ctx(t), acct, bridge.Changes{Users: []bridge.User{fresh},
			DeleteUsers: []bridge.Deletion{{ID: newID(), Reason: "no such user"}}})
		wantErr(t, "deleting an unknown user", err, bridge.ErrNotFound)
		if _, err := s.GetUser(ctx(t), acct, fresh.ID); err == nil {
			t.Errorf("the batch's upsert survived its failed deletion")
		}
	}},
	{"AccountIsolation", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		// The same AD object (same objectGUID, same userName) in two accounts.
		mine, theirs := user("ann"), user("ann")
		theirs.ExternalID = mine.ExternalID
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{mine}})
		mustApply(t, s, "other", bridge.Changes{Users: []bridge.User{theirs}})
		// Another account's id is invisible...
		_, err := s.GetUser(ctx(t), acct, theirs.ID)
		wantErr(t, "GetUser of another account's id", err, bridge.ErrNotFound)
		// ...cannot be deleted...
		err = s.Apply(ctx(t), acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: theirs.ID, Reason: "x"}}})
		wantErr(t, "deleting another account's user", err, bridge.ErrNotFound)
		// ...nor overwritten through an upsert.
		hijack := theirs
		hijack.UserName = "hijacked"
		err = s.Apply(ctx(t), acct, bridge.Changes{Users: []bridge.User{hijack}})
		wantErr(t, "upserting another account's id", err, bridge.ErrConflict)
		// Deleting in one account never touches the other.
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: mine.ID, Reason: "gone"}}})
		got := getUser(t, s, "other", theirs.ID)
		if got.Status != bridge.StatusActive || got.UserName != "ann" || got.Version != 1 {
			t.Errorf("other account's user changed: %+v", got)
		}
	}},
	{"GroupIsolation", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		theirs := group("Staff", bridge.KindSecurity)
		mustApply(t, s, "other", bridge.Changes{Groups: []bridge.Group{theirs}})
		_, err := s.GetGroup(ctx(t), acct, theirs.ID)
		wantErr(t, "GetGroup of another account's id", err, bridge.ErrNotFound)
		err = s.Apply(ctx(t), acct, bridge.Changes{SetMembers: map[string][]bridge.Member{theirs.ID: nil}})
		wantErr(t, "SetMembers on another account's group", err, bridge.ErrNotFound)
		err = s.Apply(ctx(t), acct, bridge.Changes{DeleteGroups: []bridge.Deletion{{ID: theirs.ID}}})
		wantErr(t, "deleting another account's group", err, bridge.ErrNotFound)
		if got := getGroup(t, s, "other", theirs.ID); got.Status != bridge.StatusActive {
			t.Errorf("other account's group changed: %+v", got)
		}
	}},
	{"EventsWritten", func(t *testing.T, s bridge.Store) {
		run := mustRun(t, s, acct, time.Now())
		u := user("ann")
		mustApply(t, s, acct, bridge.Changes{Users: []bridge.User{u}, Events: []bridge.RunEvent{{
			RunID: run.ID, ObjectType: bridge.ObjectUser, Action: bridge.ActionAdd, DN: u.DN,
			ExternalID: u.ExternalID, ResourceID: u.ID, Name: u.UserName, Reason: "new in AD",
			Changed: []string{"userName", "title"}}}})
		evs, n, err := s.ListRunEvents(ctx(t), acct, run.ID, bridge.EventFilter{})
		noErr(t, "ListRunEvents", err)
		if n != 1 || len(evs) != 1 {
			t.Fatalf("events = %d (%d)", len(evs), n)
		}
		e := evs[0]
		if e.ID == 0 || e.AccountID != acct || e.ResourceID != u.ID || e.Reason != "new in AD" || len(e.Changed) != 2 || e.At.IsZero() {
			t.Errorf("event = %+v", e)
		}
	}},
	{"LargeBatch", func(t *testing.T, s bridge.Store) {
		const n = 1234 // more than one statement's worth
		users := make([]bridge.User, n)
		members := make([]bridge.Member, n)
		dels := make([]bridge.Deletion, 0, n/2)
		for i := range users {
			users[i] = user(fmt.Sprintf("user%05d", i))
			members[i] = userMember(users[i])
			if i%2 == 0 {
				dels = append(dels, bridge.Deletion{ID: users[i].ID, Reason: "gone"})
			}
		}
		g := group("Everyone", bridge.KindSecurity)
		mustApply(t, s, acct, bridge.Changes{Users: users, Groups: []bridge.Group{g}, SetMembers: map[string][]bridge.Member{g.ID: members}})
		if got := len(getGroup(t, s, acct, g.ID).Members); got != n {
			t.Errorf("members = %d, want %d", got, n)
		}
		mustApply(t, s, acct, bridge.Changes{Users: users[1:2]})
		mustApply(t, s, acct, bridge.Changes{DeleteUsers: dels})
		if got := len(getGroup(t, s, acct, g.ID).Members); got != n-len(dels) {
			t.Errorf("members after deletions = %d, want %d", got, n-len(dels))
		}
		_, live, err := s.ListUsers(ctx(t), acct, bridge.StatusActive, 0, 1)
		noErr(t, "ListUsers", err)
		if live != n-len(dels) {
			t.Errorf("active users = %d, want %d", live, n-len(dels))
		}
		if st := states(t, s, acct); len(st) != n+1 || st[users[1].ID].Version != 2 {
			t.Errorf("ObjectStates: %d objects, users[1] version %d", len(st), st[users[1].ID].Version)
		}
	}},
	{"InvalidInput", func(t *testing.T, s bridge.Store) {
		u := user("ann")
		wantErr(t, "duplicate id in one batch", s.Apply(ctx(t), acct, bridge.Changes{Users: []bridge.User{u, u}}), bridge.ErrInvalid)
		noID := user("bob")
		noID.ID = ""
		wantErr(t, "user without id", s.Apply(ctx(t), acct, bridge.Changes{Users: []bridge.User{noID}}), bridge.ErrInvalid)
		wantErr(t, "unknown account", s.Apply(ctx(t), "nope", bridge.Changes{Users: []bridge.User{user("x")}}), bridge.ErrNotFound)
	}},
}
