package db

import (
	"fmt"

	"gorm.io/gorm"
)

// pgAnalyzeUnknown runs ANALYZE on table when PostgreSQL holds no row
// estimate for it, which is the case of every table during the first
// full sync into a new database (autovacuum analyzes a table a minute or
// more after it grows, too late for that sync).
//
// Why it matters: each membership row's foreign-key check runs
// SELECT 1 FROM groups WHERE id = $1 AND account_id = $2 FOR KEY SHARE.
// Without statistics every index of groups that starts with account_id
// costs the same as the unique (id, account_id) index, and the planner
// took groups_account_dn_lower_idx: the check then walks every group of
// the account, per membership row. Measured on the 100,000-user engine
// benchmark (100 groups), that check took 184 ms of each 291 ms
// statement of 5,000 members. With statistics it probes the unique index.
//
// ANALYZE runs in the caller's transaction, so its lock (SHARE UPDATE
// EXCLUSIVE, which DML does not wait for) is held until commit, and a
// rollback discards the statistics with the rest.
func pgAnalyzeUnknown(tx *gorm.DB, table string) error {
	var unknown bool
	// reltuples is -1 before the first ANALYZE or VACUUM on PostgreSQL 14
	// and later, 0 on older versions (and for an analyzed empty table,
	// which the caller is about to reference, so it is stale too).
	if err := tx.Raw("SELECT reltuples <= 0 FROM pg_class WHERE oid = CAST(? AS regclass)", table).
		Row().Scan(&unknown); err != nil {
		return fmt.Errorf("read statistics of %s: %w", table, err)
	}
	if !unknown {
		return nil
	}
	if err := tx.Exec("ANALYZE " + table).Error; err != nil {
		return fmt.Errorf("analyze %s: %w", table, err)
	}
	return nil
}
