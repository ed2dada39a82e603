package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db/storetest"
)

const defaultTestPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// postgresTestDB creates a database with a random name and returns its
// URL; it is dropped when the test ends. Without a reachable server the
// test is skipped, unless CI=true, where that is a failure.
func postgresTestDB(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("SCIMBRIDGE_TEST_POSTGRES_URL")
	if admin == "" {
		admin = defaultTestPostgresURL
	}
	unreachable := func(err error) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable at SCIMBRIDGE_TEST_POSTGRES_URL: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (set SCIMBRIDGE_TEST_POSTGRES_URL): %v", err)
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		unreachable(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := adb.PingContext(ctx); err != nil {
		adb.Close()
		unreachable(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "scimbridge_test_" + hex.EncodeToString(b[:])
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a test that failed half-way may leave sessions behind.
		if _, err := adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		adb.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse SCIMBRIDGE_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

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
	url := postgresTestDB(t)
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
