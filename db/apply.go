package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/scimbridge/scimbridge/bridge"
)

// batchSize rows per multi-row statement on PostgreSQL, and per IN (...)
// list everywhere. 500 rows of the widest table (users, 18 columns) stay
// far below PostgreSQL's 65535 bound parameters.
const batchSize = 500

// sqliteParams caps the bound parameters of one SQLite statement. The
// driver (glebarez/go-sqlite) matches each placeholder to its argument by
// a linear scan, so binding costs grow with the square of the parameter
// count: a few hundred parameters per statement is several times faster
// than thousands (see BenchmarkApplyUsers).
const sqliteParams = 256

// rowsPerInsert is how many rows of cols columns one INSERT carries.
func (s *Store) rowsPerInsert(cols int) int {
	if s.dialect == DialectSQLite {
		return max(1, sqliteParams/cols)
	}
	return batchSize
}

// Columns an upsert overwrites. id, account_id and created_at never change;
// version is bumped separately. deleted_at and delete_reason are in the
// list because the incoming row always carries them empty: upserting an
// object brings it back from a soft delete.
var (
	userUpdateColumns = []string{"external_id", "source", "user_name", "user_name_lower", "display_name",
		"active", "status", "dn", "ou_path", "attributes", "hash", "deleted_at", "delete_reason", "updated_at"}
	groupUpdateColumns = []string{"external_id", "source", "kind", "display_name", "dn", "parent_id",
		"status", "attributes", "hash", "deleted_at", "delete_reason", "updated_at"}
)

// upsert builds INSERT ... ON CONFLICT (id) DO UPDATE, restricted to rows of
// the same account: an id that belongs to another account is left alone and
// shows up as a missing row in RowsAffected, which Apply turns into
// ErrConflict.
func upsert(table string, cols []string) clause.OnConflict {
	set := make([]clause.Assignment, 0, len(cols)+1)
	for _, c := range cols {
		set = append(set, clause.Assignment{Column: clause.Column{Name: c}, Value: clause.Column{Table: "excluded", Name: c}})
	}
	set = append(set, clause.Assignment{Column: clause.Column{Name: "version"}, Value: clause.Expr{SQL: table + ".version + 1"}})
	return clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: set,
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: table + ".account_id = excluded.account_id"}}},
	}
}

// groupUpsert writes groups on SQLite; users there and both on PostgreSQL
// go through apply_sqlite.go and apply_postgres.go, with the same clause.
var groupUpsert = upsert("groups", groupUpdateColumns)

// Apply writes one batch of a plan in a single transaction, in this order:
// users, groups, memberships, deletions, events. Any failure rolls the
// whole batch back. Group.Members is ignored here: only SetMembers changes
// memberships.
func (s *Store) Apply(ctx context.Context, account string, c bridge.Changes) error {
	if account == "" {
		return fmt.Errorf("db: apply: empty account: %w", bridge.ErrInvalid)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.upsertUsers(tx, account, c.Users); err != nil {
			return err
		}
		if err := upsertGroups(tx, account, c.Groups, s.rowsPerInsert(16)); err != nil {
			return err
		}
		touched := memberChanges{}                                                                     // apply_versions.go
		if err := setMembersDiff(tx, account, c.SetMembers, s.rowsPerInsert(4), touched); err != nil { // apply_members_delta.go
			return err
		}
		if err := softDelete(tx, account, "users", c.DeleteUsers, touched); err != nil {
			return err
		}
		if err := softDelete(tx, account, "groups", c.DeleteGroups, touched); err != nil {
			return err
		}
		if err := touched.bump(tx, account, c); err != nil {
			return err
		}
		if err := setGroupHashes(tx, account, c.GroupHashes); err != nil {
			return err
		}
		return s.insertEvents(tx, account, c.Events)
	})
	return wrap("apply", err)
}

func checkUniqueIDs(kind string, n int, id func(int) string) error {
	seen := make(map[string]struct{}, n)
	for i := range n {
		v := id(i)
		if v == "" {
			return fmt.Errorf("%s without id: %w", kind, bridge.ErrInvalid)
		}
		if _, dup := seen[v]; dup {
			// PostgreSQL refuses to upsert one row twice in a statement.
			return fmt.Errorf("%s %s appears twice in one batch: %w", kind, v, bridge.ErrInvalid)
		}
		seen[v] = struct{}{}
	}
	return nil
}

func (s *Store) upsertUsers(tx *gorm.DB, account string, users []bridge.User) error {
	per := batchSize
	if err := checkUniqueIDs("user", len(users), func(i int) string { return users[i].ID }); err != nil {
		return err
	}
	rows := make([]userRow, 0, min(len(users), per))
	for chunk := range slices.Chunk(users, per) {
		rows = rows[:0]
		for _, u := range chunk {
			r, err := userToRow(account, u)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		var n int64
		var err error
		if s.dialect == DialectSQLite {
			n, err = sqliteUpsertUsers(tx, rows)
		} else {
			n, err = pgUpsertUsers(tx, account, rows) // apply_postgres.go
		}
		if err != nil {
			return fmt.Errorf("upsert users: %w", err)
		}
		if n != int64(len(rows)) {
			return fmt.Errorf("upsert users: an id belongs to another account: %w", bridge.ErrConflict)
		}
	}
	return nil
}

func upsertGroups(tx *gorm.DB, account string, groups []bridge.Group, per int) error {
	if err := checkUniqueIDs("group", len(groups), func(i int) string { return groups[i].ID }); err != nil {
		return err
	}
	rows := make([]groupRow, 0, min(len(groups), per))
	for chunk := range slices.Chunk(groups, per) {
		rows = rows[:0]
		for _, g := range chunk {
			r, err := groupToRow(account, g)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		var n int64
		var err error
		if tx.Dialector.Name() == "postgres" {
			n, err = pgUpsertGroups(tx, account, rows) // apply_postgres.go
		} else {
			res := tx.Clauses(groupUpsert).Create(&rows)
			n, err = res.RowsAffected, res.Error
		}
		if err != nil {
			return fmt.Errorf("upsert groups: %w", err)
		}
		if n != int64(len(rows)) {
			return fmt.Errorf("upsert groups: an id belongs to another account: %w", bridge.ErrConflict)
		}
	}
	return nil
}

// memberType canonicalises "user"/"group" to the SCIM spelling.
func memberType(t string) (string, bool) {
	switch {
	case strings.EqualFold(t, "User"):
		return "User", true
	case strings.EqualFold(t, "Group"):
		return "Group", true
	}
	return "", false
}

func dedupe(ids []string) []string {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// requireLive fails with ErrNotFound unless every id is a live (not
// soft-deleted) row of table in account.
func requireLive(tx *gorm.DB, account, table string, ids []string, what string) error {
	for chunk := range slices.Chunk(ids, batchSize) {
		var found []string
		err := tx.Table(table).Where("account_id = ? AND id IN ? AND status <> ?", account, chunk, bridge.StatusDeleted).
			Pluck("id", &found).Error
		if err != nil {
			return fmt.Errorf("check %ss: %w", what, err)
		}
		if len(found) == len(chunk) {
			continue
		}
		have := make(map[string]bool, len(found))
		for _, id := range found {
			have[id] = true
		}
		for _, id := range chunk {
			if !have[id] {
				return fmt.Errorf("%s %s is not a live object of account %s: %w", what, id, account, bridge.ErrNotFound)
			}
		}
	}
	return nil
}

// softDelete marks objects deleted and removes their memberships: a
// deleted user leaves every group, a deleted group loses its members and
// leaves its parent groups. Deletions are grouped by (reason, time) so a
// large batch costs one UPDATE per 500 objects.
func softDelete(tx *gorm.DB, account, table string, dels []bridge.Deletion, touched memberChanges) error {
	if len(dels) == 0 {
		return nil
	}
	type key struct {
		reason string
		at     time.Time
	}
	byKey := map[key][]string{}
	var order []key
	for _, d := range dels {
		if d.ID == "" {
			return fmt.Errorf("delete from %s: empty id: %w", table, bridge.ErrInvalid)
		}
		at := norm(d.At)
		if d.At.IsZero() {
			at = now()
		}
		k := key{d.Reason, at}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], d.ID)
	}
	t := now()
	for _, k := range order {
		for chunk := range slices.Chunk(dedupe(byKey[k]), batchSize) {
			res := tx.Table(table).Where("account_id = ? AND id IN ?", account, chunk).Updates(map[string]any{
				"status":        bridge.StatusDeleted,
				"deleted_at":    k.at,
				"delete_reason": k.reason,
				"version":       gorm.Expr("version + 1"),
				"updated_at":    t,
			})
			if res.Error != nil {
				return fmt.Errorf("soft-delete %s: %w", table, res.Error)
			}
			if res.RowsAffected != int64(len(chunk)) {
				return fmt.Errorf("soft-delete %s: an id is not in account %s: %w", table, account, bridge.ErrNotFound)
			}
			if err := touched.addHolders(tx, account, chunk); err != nil {
				return err
			}
			q := tx.Where("account_id = ? AND member_id IN ?", account, chunk)
			if table == "groups" {
				q = tx.Where("account_id = ? AND (group_id IN ? OR member_id IN ?)", account, chunk, chunk)
			}
			if err := q.Delete(&memberRow{}).Error; err != nil {
				return fmt.Errorf("drop memberships of deleted %s: %w", table, err)
			}
		}
	}
	return nil
}

func (s *Store) insertEvents(tx *gorm.DB, account string, events []bridge.RunEvent) error {
	per := batchSize
	rows := make([]runEventRow, 0, min(len(events), per))
	for chunk := range slices.Chunk(events, per) {
		rows = rows[:0]
		for _, e := range chunk {
			r, err := eventToRow(account, e)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		var err error
		if s.dialect == DialectSQLite {
			err = sqliteInsertEvents(tx, rows)
		} else {
			err = pgInsertEvents(tx, account, rows) // apply_postgres.go
		}
		if err != nil {
			return fmt.Errorf("insert run events: %w", err)
		}
	}
	return nil
}
