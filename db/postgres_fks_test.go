package db

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/pgtest"
)

// TestPostgresAccountDeleteCascades: group_members and run_events hold
// no key to accounts of their own since 0012; deleting an account still
// removes their rows, through groups and runs, and leaves other accounts'.
func TestPostgresAccountDeleteCascades(t *testing.T) {
	s := openPostgres(t, pgtest.NewDatabase(t))
	ctx := t.Context()
	for _, acct := range []string{"gone", "kept"} {
		if _, err := s.EnsureAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		run := bridge.Run{ID: uuid.NewString(), AccountID: acct, Trigger: bridge.TriggerManual, Status: bridge.RunRunning, StartedAt: time.Now()}
		if err := s.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		u := bridge.User{ID: uuid.NewString(), Source: bridge.SourceAD, UserName: "ann", Status: bridge.StatusActive, Active: true}
		g := bridge.Group{ID: uuid.NewString(), Source: bridge.SourceAD, DisplayName: "Staff", Status: bridge.StatusActive}
		if err := s.Apply(ctx, acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g},
			SetMembers: map[string][]bridge.Member{g.ID: {{ID: u.ID, Type: "User"}}},
			Events:     []bridge.RunEvent{{RunID: run.ID, ObjectType: bridge.ObjectUser, Action: bridge.ActionAdd}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAccount(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		table, account string
		want           int64
	}{
		{"group_members", "gone", 0},
		{"run_events", "gone", 0},
		{"group_members", "kept", 1},
		{"run_events", "kept", 1},
	} {
		var n int64
		if err := s.db.Table(tc.table).Where("account_id = ?", tc.account).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("%s rows of account %s = %d, want %d", tc.table, tc.account, n, tc.want)
		}
	}
}
