package db

import (
	"context"
	"sync"
	"time"
)

// PostgreSQL chooses between an index and a scan from table statistics.
// After a bulk load (a first full sync of 50,000 users) they stay stale
// until autovacuum analyzes the tables, a minute or more later; until then
// the planner believes the account has a hundred rows and answers every IN
// list of a delta by reading all of them through the account index (40 ms
// per list at 50,000 users instead of 10, measured). So before a delta's
// queries, when the planner's row estimate for users (pg_class.reltuples)
// is far below the live rows that scim_counts keeps exactly, the tables
// the delta reads are analyzed: once after a bulk load, then not again.

// statsCheckEvery bounds how often the statistics are checked.
const statsCheckEvery = 30 * time.Second

var statsChecked sync.Map // *Store -> time.Time of the last check

// freshStats analyzes users, groups and group_members when a bulk write
// left their statistics stale (PostgreSQL only: SQLite, without ANALYZE,
// plans these queries by their indexes alone).
func (s *Store) freshStats(ctx context.Context) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	if t, ok := statsChecked.Load(s); ok && time.Since(t.(time.Time)) < statsCheckEvery {
		return nil
	}
	var estimate float64
	var live int64
	err := s.read.WithContext(ctx).Raw(`SELECT COALESCE((SELECT reltuples FROM pg_class WHERE oid = to_regclass('users')), -1),
		(SELECT COALESCE(SUM(live), 0) FROM scim_counts WHERE resource = 'users')`).Row().Scan(&estimate, &live)
	if err != nil {
		return wrap("table statistics", err)
	}
	if live > 1000 && float64(live) > 2*max(estimate, 0)+1000 {
		for _, table := range []string{"users", "groups", "group_members"} {
			if err := s.db.WithContext(ctx).Exec("ANALYZE " + table).Error; err != nil {
				return wrap("analyze "+table, err)
			}
		}
	}
	statsChecked.Store(s, time.Now())
	return nil
}
