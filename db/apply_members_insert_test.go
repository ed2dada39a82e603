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

// TestInsertLiveMembersEqualsChecked compares the set-based insert with the
// path it replaced (requireLive on every id, then multi-row inserts): the
// same rows, or an error of the same kind, on both databases. The large
// case crosses memberIDsPerStatement.
func TestInsertLiveMembersEqualsChecked(t *testing.T) {
	onBothStores(t, testInsertLiveMembers)
}

// checkedInsertMembers is the former path, kept as the reference.
func checkedInsertMembers(tx *gorm.DB, account string, rows []memberRow, per int) error {
	var userIDs, groupIDs []string
	for _, r := range rows {
		if r.MemberType == "User" {
			userIDs = append(userIDs, r.MemberID)
		} else {
			groupIDs = append(groupIDs, r.MemberID)
		}
	}
	if err := requireLive(tx, account, "users", dedupe(userIDs), "member user"); err != nil {
		return err
	}
	if err := requireLive(tx, account, "groups", dedupe(groupIDs), "member group"); err != nil {
		return err
	}
	for chunk := range slices.Chunk(rows, per) {
		if err := tx.Create(&chunk).Error; err != nil {
			return err
		}
	}
	return nil
}

func testInsertLiveMembers(t *testing.T, s *Store) {
	const acct, other = bridge.DefaultAccount, "other"
	ctx := t.Context()
	for _, a := range []string{acct, other} {
		if _, err := s.EnsureAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	n := memberIDsPerStatement + 7
	users := make([]bridge.User, n)
	for i := range users {
		users[i] = bridge.User{ID: uuid.NewString(), ExternalID: uuid.NewString(), Source: bridge.SourceAD,
			UserName: fmt.Sprintf("u%d", i), Status: bridge.StatusActive, Active: true}
	}
	var groups []bridge.Group
	for i := range 3 {
		groups = append(groups, bridge.Group{ID: uuid.NewString(), Source: bridge.SourceAD, Kind: bridge.KindSecurity,
			DisplayName: fmt.Sprintf("g%d", i), Status: bridge.StatusActive})
	}
	if err := s.Apply(ctx, acct, bridge.Changes{Users: users, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	foreignUser := bridge.User{ID: uuid.NewString(), Source: bridge.SourceAD, UserName: "f", Status: bridge.StatusActive}
	foreignGroup := bridge.Group{ID: uuid.NewString(), Source: bridge.SourceAD, DisplayName: "f", Status: bridge.StatusActive}
	if err := s.Apply(ctx, other, bridge.Changes{Users: []bridge.User{foreignUser}, Groups: []bridge.Group{foreignGroup}}); err != nil {
		t.Fatal(err)
	}
	goneUser, goneGroup := users[n-1], groups[2]
	if err := s.Apply(ctx, acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: goneUser.ID, Reason: "x"}},
		DeleteGroups: []bridge.Deletion{{ID: goneGroup.ID, Reason: "x"}}}); err != nil {
		t.Fatal(err)
	}

	row := func(g int, id, typ string) memberRow {
		return memberRow{AccountID: acct, GroupID: groups[g].ID, MemberID: id, MemberType: typ}
	}
	var all []memberRow
	for _, u := range users[:n-1] {
		all = append(all, row(0, u.ID, "User"))
	}
	// Unsorted on purpose, users and groups mixed, two groups.
	mixed := []memberRow{row(1, users[3].ID, "User"), row(1, groups[0].ID, "Group"), row(0, users[2].ID, "User"),
		row(1, users[1].ID, "User"), row(0, groups[1].ID, "Group")}
	cases := []struct {
		name string
		rows []memberRow
		err  error
	}{
		{"none", nil, nil},
		{"mixed and unsorted", mixed, nil},
		{"more than one statement", all, nil},
		{"a deleted user at the end of a large list", append(slices.Clone(all), row(0, goneUser.ID, "User")), bridge.ErrNotFound},
		{"a deleted group", []memberRow{row(1, goneGroup.ID, "Group")}, bridge.ErrNotFound},
		{"a user of another account", []memberRow{row(1, users[0].ID, "User"), row(1, foreignUser.ID, "User")}, bridge.ErrNotFound},
		{"a group of another account", []memberRow{row(1, foreignGroup.ID, "Group")}, bridge.ErrNotFound},
		{"a group named as a user", []memberRow{row(1, groups[0].ID, "User")}, bridge.ErrNotFound},
		{"a user named as a group", []memberRow{row(1, users[0].ID, "Group")}, bridge.ErrNotFound},
		{"an unknown id", []memberRow{row(1, uuid.NewString(), "User")}, bridge.ErrNotFound},
	}
	stored := func(tx *gorm.DB) []string {
		var rs []memberRow
		if err := tx.Where("account_id = ?", acct).Find(&rs).Error; err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.AccountID + "/" + r.GroupID + "/" + r.MemberID + "/" + r.MemberType
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]string
			var errs [2]error
			for i, fn := range []func(*gorm.DB) error{
				func(tx *gorm.DB) error { return insertLiveMembers(tx, acct, tc.rows) },
				func(tx *gorm.DB) error { return checkedInsertMembers(tx, acct, tc.rows, s.rowsPerInsert(4)) },
			} {
				tx := s.db.Begin()
				errs[i] = fn(tx)
				got[i] = stored(tx)
				tx.Rollback()
			}
			if !errors.Is(errs[0], tc.err) || !errors.Is(errs[1], tc.err) {
				t.Fatalf("errors: bulk %v, checked %v, want %v", errs[0], errs[1], tc.err)
			}
			if tc.err == nil && !slices.Equal(got[0], got[1]) {
				t.Fatalf("bulk leaves %d rows, checked %d", len(got[0]), len(got[1]))
			}
			if tc.err == nil && len(got[0]) != len(tc.rows) {
				t.Fatalf("%d rows stored, want %d", len(got[0]), len(tc.rows))
			}
		})
	}
}
