// Package pgtest gives tests a PostgreSQL database of their own: created
// with a random name on the server SCIMBRIDGE_TEST_POSTGRES_URL names, and
// dropped when the test ends, since the server outlives every test run.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// DefaultURL is the local server the tests use when
// SCIMBRIDGE_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// NewDatabase creates a database with a random name and returns its URL; it
// is dropped (with FORCE, in case a failed test left sessions) when the test
// ends. Without a reachable server the test is skipped, unless CI=true,
// where that is a failure: CI must never pass by skipping.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("SCIMBRIDGE_TEST_POSTGRES_URL")
	if admin == "" {
		admin = DefaultURL
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
