package db

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/pgtest"
)

// TestFreshStatsAfterBulkLoad: after a bulk load the planner's estimate
// for users is far below the rows; a delta query analyzes the tables.
func TestFreshStatsAfterBulkLoad(t *testing.T) {
	s := openPostgres(t, pgtest.NewDatabase(t))
	const acct = bridge.DefaultAccount
	if _, err := s.EnsureAccount(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	// Autovacuum could analyze the table between the load and the check
	// and leave nothing for the delta to do: keep it off this test's table.
	if err := s.db.Exec(`ALTER TABLE users SET (autovacuum_enabled = false)`).Error; err != nil {
		t.Fatal(err)
	}
	estimate := func() float64 {
		var n float64
		if err := s.db.Raw(`SELECT reltuples FROM pg_class WHERE oid = to_regclass('users')`).Row().Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	users := make([]bridge.User, 3000)
	for i := range users {
		users[i] = bridge.User{ID: uuid.NewString(), ExternalID: uuid.NewString(), Source: bridge.SourceAD, UserName: fmt.Sprintf("u%d", i),
			Status: bridge.StatusActive, Active: true, DN: fmt.Sprintf("CN=u%d,DC=x", i), Attributes: map[string]any{}}
	}
	if err := s.Apply(t.Context(), acct, bridge.Changes{Users: users}); err != nil {
		t.Fatal(err)
	}
	if e := estimate(); e > 1000 {
		t.Fatalf("users estimate right after the load = %.0f: already analyzed, the test proves nothing", e)
	}
	if _, err := s.LiveStatesByDN(t.Context(), acct, []string{"cn=u1,dc=x"}); err != nil {
		t.Fatal(err)
	}
	if e := estimate(); e < 2000 {
		t.Errorf("users estimate after a delta query = %.0f, want about 3000 (analyzed)", e)
	}
}
