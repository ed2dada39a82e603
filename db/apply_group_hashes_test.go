package db

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

// TestApplyGroupHashes: Changes.GroupHashes stores each group's hash in the
// transaction that sets its members, and a hash for a group that is not a
// live group of the account fails the whole Apply.
func TestApplyGroupHashes(t *testing.T) {
	onBothStores(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const acct = "acme"
		if _, err := s.EnsureAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		u := bridge.User{ID: uuid.NewString(), Source: bridge.SourceAD, UserName: "ann", Status: bridge.StatusActive, Active: true}
		g := bridge.Group{ID: uuid.NewString(), Source: bridge.SourceAD, DisplayName: "Staff", Status: bridge.StatusActive}
		if err := s.Apply(ctx, acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g}}); err != nil {
			t.Fatal(err)
		}
		hash := func() string {
			var h string
			if err := s.db.Table("groups").Where("id = ?", g.ID).Pluck("hash", &h).Error; err != nil {
				t.Fatal(err)
			}
			return h
		}
		members := map[string][]bridge.Member{g.ID: {{ID: u.ID, Type: "User"}}}
		for _, tc := range []struct {
			name    string
			hashes  map[string]string
			wantErr error
			want    string
		}{
			{"set with the members", map[string]string{g.ID: "m1:abc"}, nil, "m1:abc"},
			{"a group of no account fails the batch", map[string]string{g.ID: "m1:def", uuid.NewString(): "m1:x"}, bridge.ErrNotFound, "m1:abc"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.Apply(ctx, acct, bridge.Changes{SetMembers: members, GroupHashes: tc.hashes})
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Apply: %v, want %v", err, tc.wantErr)
				}
				if got := hash(); got != tc.want {
					t.Errorf("hash %q, want %q", got, tc.want)
				}
			})
		}
	})
}
