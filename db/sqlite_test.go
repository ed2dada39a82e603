package db

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db/storetest"
)

func openSQLite(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open SQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteStore(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) bridge.Store { return openSQLite(t, t.TempDir()) })
}
