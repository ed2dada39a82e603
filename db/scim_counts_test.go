package db

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

// TestSCIMCounts checks that scim_counts (kept by the triggers of migration
// 0003) equals COUNT(*) of live rows after every kind of write: Apply's
// upserts, soft deletes and revivals, the SCIM writes, and two accounts.
func TestSCIMCounts(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t)
			ctx := context.Background()
			if err := s.CreateAccount(ctx, bridge.Account{ID: "other"}); err != nil {
				t.Fatal(err)
			}
			check := func(step string) {
				t.Helper()
				for _, acct := range []string{bridge.DefaultAccount, "other"} {
					for _, table := range []string{"users", "groups"} {
						var counter, actual int64
						if err := s.db.Raw("SELECT live FROM scim_counts WHERE account_id = ? AND resource = ?", acct, table).Scan(&counter).Error; err != nil {
							t.Fatalf("%s: read counter: %v", step, err)
						}
						if err := s.db.Raw("SELECT COUNT(*) FROM "+table+" WHERE account_id = ? AND status <> 'deleted'", acct).Scan(&actual).Error; err != nil {
							t.Fatalf("%s: count: %v", step, err)
						}
						if counter != actual {
							t.Fatalf("%s: %s/%s counter %d, live rows %d", step, acct, table, counter, actual)
						}
					}
				}
			}
			check("empty")

			user := func(i int, status bridge.Status) bridge.User {
				return bridge.User{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), ExternalID: fmt.Sprintf("ext-%d", i),
					UserName: fmt.Sprintf("user%d", i), Active: status == bridge.StatusActive, Status: status}
			}
			var users []bridge.User
			for i := range 700 { // more than one statement's worth
				st := bridge.StatusActive
				if i%10 == 0 {
					st = bridge.StatusDeactivated
				}
				users = append(users, user(i, st))
			}
			groups := []bridge.Group{{ID: uuid.NewString(), DisplayName: "G1"}, {ID: uuid.NewString(), DisplayName: "G2"}}
			apply := func(acct string, c bridge.Changes) {
				t.Helper()
				if err := s.Apply(ctx, acct, c); err != nil {
					t.Fatalf("apply: %v", err)
				}
			}
			apply(bridge.DefaultAccount, bridge.Changes{Users: users, Groups: groups})
			check("insert")
			apply(bridge.DefaultAccount, bridge.Changes{Users: users[:600], Groups: groups})
			check("upsert unchanged")
			at := time.Now()
			var dels []bridge.Deletion
			for _, u := range users[100:300] {
				dels = append(dels, bridge.Deletion{ID: u.ID, Reason: "gone", At: at})
			}
			apply(bridge.DefaultAccount, bridge.Changes{DeleteUsers: dels, DeleteGroups: []bridge.Deletion{{ID: groups[0].ID, At: at}}})
			check("soft delete")
			apply(bridge.DefaultAccount, bridge.Changes{Users: users[250:350], Groups: groups[:1]})
			check("revive")
			apply("other", bridge.Changes{Users: []bridge.User{user(5000, bridge.StatusActive)}})
			check("other account")

			if _, err := s.CreateUser(ctx, bridge.DefaultAccount, user(6000, bridge.StatusActive)); err != nil {
				t.Fatal(err)
			}
			check("SCIM create")
			if err := s.DeleteUser(ctx, bridge.DefaultAccount, users[1].ID, 0); err != nil {
				t.Fatal(err)
			}
			check("SCIM delete")
			if _, err := s.CreateGroup(ctx, bridge.DefaultAccount, bridge.Group{ID: uuid.NewString(), DisplayName: "G3"}); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteGroup(ctx, bridge.DefaultAccount, groups[1].ID, 0); err != nil {
				t.Fatal(err)
			}
			check("SCIM groups")
		})
	}
}
