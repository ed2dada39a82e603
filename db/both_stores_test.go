package db

import (
	"testing"

	"github.com/scimbridge/scimbridge/internal/pgtest"
)

// onBothStores runs fn as subtests on a fresh SQLite store and a fresh
// PostgreSQL one: the store's own tests of internals must hold on both.
func onBothStores(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) *Store
	}{
		{"sqlite", func(t *testing.T) *Store { return openSQLite(t, t.TempDir()) }},
		{"postgres", func(t *testing.T) *Store { return openPostgres(t, pgtest.NewDatabase(t)) }},
	} {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}
