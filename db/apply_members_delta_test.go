package db

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// TestSetMembersDiffEqualsRewrite checks that writing only the difference
// leaves the rows, and fails with the errors, that a rewrite of every
// member (setMembers) does, on both databases.
func TestSetMembersDiffEqualsRewrite(t *testing.T) {
	onBothStores(t, testSetMembersDiff)
}

func testSetMembersDiff(t *testing.T, s *Store) {
	const acct = bridge.DefaultAccount
	if _, err := s.EnsureAccount(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	var users []bridge.User
	for i := range 6 {
		users = append(users, bridge.User{ID: uuid.NewString(), ExternalID: uuid.NewString(), Source: bridge.SourceAD,
			UserName: fmt.Sprintf("u%d", i), Status: bridge.StatusActive, Active: true, Attributes: map[string]any{}})
	}
	var groups []bridge.Group
	for i := range 4 {
		groups = append(groups, bridge.Group{ID: uuid.NewString(), ExternalID: uuid.NewString(), Source: bridge.SourceAD,
			Kind: bridge.KindOU, DisplayName: fmt.Sprintf("g%d", i), Status: bridge.StatusActive, Attributes: map[string]any{}})
	}
	if err := s.Apply(t.Context(), acct, bridge.Changes{Users: users, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	gone := users[5]
	if err := s.Apply(t.Context(), acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: gone.ID, Reason: "x"}}}); err != nil {
		t.Fatal(err)
	}
	u := func(i int) bridge.Member { return bridge.Member{ID: users[i].ID, Type: "User"} }
	g := func(i int) bridge.Member { return bridge.Member{ID: groups[i].ID, Type: "Group"} }
	g0, g1, g2 := groups[0].ID, groups[1].ID, groups[2].ID
	steps := []struct {
		name string
		set  map[string][]bridge.Member
		err  error
	}{
		{"first members", map[string][]bridge.Member{g0: {u(0), u(1), g(1)}, g1: {u(2)}}, nil},
		{"add one, keep the rest", map[string][]bridge.Member{g0: {u(0), u(1), g(1), u(3)}}, nil},
		{"remove one, add one, other group untouched", map[string][]bridge.Member{g0: {u(1), g(1), u(4)}, g2: {}}, nil},
		{"duplicates and lower-case type", map[string][]bridge.Member{g1: {u(2), u(2), {ID: users[3].ID, Type: "user"}}}, nil},
		{"member type changes", map[string][]bridge.Member{g0: {u(1), {ID: groups[1].ID, Type: "User"}}}, bridge.ErrNotFound},
		{"a deleted member", map[string][]bridge.Member{g0: {u(1), {ID: gone.ID, Type: "User"}}}, bridge.ErrNotFound},
		{"a bad type", map[string][]bridge.Member{g0: {{ID: users[0].ID, Type: "Device"}}}, bridge.ErrInvalid},
		{"an unknown group", map[string][]bridge.Member{uuid.NewString(): {u(0)}}, bridge.ErrNotFound},
		{"clear", map[string][]bridge.Member{g0: nil, g1: {u(0)}}, nil},
	}
	rows := func(tx *gorm.DB) []string {
		var rs []memberRow
		if err := tx.Where("account_id = ?", acct).Find(&rs).Error; err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.GroupID+"/"+r.MemberID+"/"+r.MemberType)
		}
		slices.Sort(out)
		return out
	}
	for _, st := range steps {
		// Each way in a transaction that is rolled back, then the diff for real.
		var got [2][]string
		var errs [2]error
		per := s.rowsPerInsert(4)
		for i, fn := range []func(*gorm.DB) error{
			func(tx *gorm.DB) error { return setMembers(tx, acct, st.set, per) },
			func(tx *gorm.DB) error { return setMembersDiff(tx, acct, st.set, per, nil) },
		} {
			tx := s.db.Begin()
			errs[i] = fn(tx)
			got[i] = rows(tx)
			tx.Rollback()
		}
		if !errors.Is(errs[0], st.err) || !errors.Is(errs[1], st.err) {
			t.Fatalf("%s: errors rewrite %v, diff %v, want %v", st.name, errs[0], errs[1], st.err)
		}
		if st.err == nil && fmt.Sprint(got[0]) != fmt.Sprint(got[1]) {
			t.Fatalf("%s: rewrite leaves %v, diff leaves %v", st.name, got[0], got[1])
		}
		if st.err == nil {
			if err := s.db.Transaction(func(tx *gorm.DB) error { return setMembersDiff(tx, acct, st.set, s.rowsPerInsert(4), nil) }); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
	}
}
