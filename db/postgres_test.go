package db

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/internal/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db/storetest"
)

func openPostgres(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{URL: url})
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPostgresStore runs the suite on one database per run of the suite:
// each test gets a new Store on it, emptied first. (A database per test
// costs most of a second to create; truncating costs milliseconds.)
func TestPostgresStore(t *testing.T) {
	url := pgtest.NewDatabase(t)
	storetest.RunTests(t, func(t *testing.T) bridge.Store {
		s := openPostgres(t, url)
		if err := s.db.Exec(`TRUNCATE accounts, directory_settings, users, groups, group_members, runs,
			run_events, protections, api_tokens, sync_locks CASCADE`).Error; err != nil {
			t.Fatalf("empty the test database: %v", err)
		}
		if _, err := s.EnsureAccount(t.Context(), bridge.DefaultAccount); err != nil {
			t.Fatal(err)
		}
		return s
	})
}
