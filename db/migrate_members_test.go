package db

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestSQLiteMembersRebuildKeepsRows: 0013 rebuilds group_members WITHOUT
// ROWID; the memberships a store held before it are all there after it,
// and the rebuilt table still refuses a membership in another account's
// group (its key to groups is deferred, not gone).
func TestSQLiteMembersRebuildKeepsRows(t *testing.T) {
	ctx := context.Background()
	cfg := Config{DataDir: t.TempDir()}
	s, err := OpenWithoutMigrating(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// Migrate to just before 0013, by hand.
	ms, err := loadMigrations(DialectSQLite)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := s.db.Exec(`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at DATETIME NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version >= 13 {
			break
		}
		if err := s.db.Exec(m.SQL).Error; err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if err := s.db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Exec(`INSERT INTO accounts (id, name, created_at) VALUES ('a', '', ?), ('b', '', ?)`, now, now).Error; err != nil {
		t.Fatal(err)
	}
	group := uuid.NewString()
	if err := s.db.Exec(`INSERT INTO groups (id, account_id, source, kind, status, created_at, updated_at) VALUES (?, 'a', 'ad', 'security', 'active', ?, ?)`,
		group, now, now).Error; err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for range 50 {
		u := uuid.NewString()
		want[u] = true
		if err := s.db.Exec(`INSERT INTO group_members (account_id, group_id, member_id, member_type) VALUES ('a', ?, ?, 'User')`, group, u).Error; err != nil {
			t.Fatal(err)
		}
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var ddl string
	if err := s.db.Raw(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'group_members'`).Scan(&ddl).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "WITHOUT ROWID") || !strings.Contains(ddl, "DEFERRABLE INITIALLY DEFERRED") {
		t.Errorf("group_members after 0013:\n%s", ddl)
	}
	var got []string
	if err := s.db.Raw(`SELECT member_id FROM group_members WHERE group_id = ?`, group).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d memberships after the rebuild, want %d", len(got), len(want))
	}
	for _, id := range got {
		if !want[id] {
			t.Errorf("unexpected member %s", id)
		}
	}
	// The deferred key still holds: a membership of account b in a's group
	// fails at commit, and the transaction leaves nothing behind.
	err = s.db.Exec(`INSERT INTO group_members (account_id, group_id, member_id, member_type) VALUES ('b', ?, ?, 'User')`, group, uuid.NewString()).Error
	if err == nil {
		t.Fatal("a membership naming another account's group was stored")
	}
	var n int64
	s.db.Raw(`SELECT COUNT(*) FROM group_members WHERE account_id = 'b'`).Scan(&n)
	if n != 0 {
		t.Errorf("%d rows of account b after the refused insert", n)
	}
	// Deleting the account still removes its memberships, through groups.
	if err := s.DeleteAccount(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s.db.Raw(`SELECT COUNT(*) FROM group_members`).Scan(&n)
	if n != 0 {
		t.Errorf("%d memberships left after deleting their account", n)
	}
}
