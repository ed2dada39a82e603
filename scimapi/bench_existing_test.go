package scimapi

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", for VACUUM INTO

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
)

// BenchmarkSCIM on a store the sync produced (the Samba lab's, say)
// instead of a generated one:
//
//	SCIMBRIDGE_BENCH_SCIM_SQLITE=/path/to/data/scimbridge.db   (SQLite file)
//	SCIMBRIDGE_BENCH_SCIM_POSTGRES=postgres://...               (PostgreSQL URL)
//	SCIMBRIDGE_BENCH_SCIM_ACCOUNT=default                       (the account, by id)
//
// Either one replaces that backend's generated store (the other backend
// is skipped). The store is only read: a SQLite file is copied first with
// VACUUM INTO (a consistent snapshot; the copy is migrated and thrown
// away), and a PostgreSQL database is opened without migrating, in
// read-only transactions, with the benchmark's token held in memory
// instead of written. The requests use the store's own users (ids,
// userNames, externalIds, spread over the table) and its largest group.

// benchExisting returns the knob's store for backend, nil when the knob
// is not set, and whether any knob is (the other backend is then skipped).
func benchExisting(b *testing.B, backend string) (*benchStore, bool) {
	sqlitePath, pgURL := os.Getenv("SCIMBRIDGE_BENCH_SCIM_SQLITE"), os.Getenv("SCIMBRIDGE_BENCH_SCIM_POSTGRES")
	if sqlitePath == "" && pgURL == "" {
		return nil, false
	}
	acct := os.Getenv("SCIMBRIDGE_BENCH_SCIM_ACCOUNT")
	if acct == "" {
		acct = bridge.DefaultAccount
	}
	start := time.Now()
	var s *db.Store
	var err error
	ctx := context.Background()
	switch {
	case backend == "sqlite" && sqlitePath != "":
		dir, derr := os.MkdirTemp("", "scimbench-existing")
		if derr != nil {
			b.Fatal(derr)
		}
		benchTB{b}.Cleanup(func() { os.RemoveAll(dir) })
		if err := snapshotSQLite(sqlitePath, filepath.Join(dir, db.SQLiteFile)); err != nil {
			b.Fatalf("copy %s: %v", sqlitePath, err)
		}
		s, err = db.Open(ctx, db.Config{DataDir: dir})
	case backend == "postgres" && pgURL != "":
		s, err = db.OpenWithoutMigrating(ctx, db.Config{URL: readOnlyURL(pgURL)})
	default:
		return nil, true
	}
	if err != nil {
		b.Fatalf("open the %s store: %v", backend, err)
	}
	benchTB{b}.Cleanup(func() { s.Close() })
	sdb, err := s.SQLDB()
	if err != nil {
		b.Fatal(err)
	}
	var probe int
	if err := sdb.QueryRow("SELECT COUNT(*) FROM scim_changes").Scan(&probe); err != nil {
		b.Fatalf("the store is behind this code's schema (run `scimbridge migrate` on it first): %v", err)
	}
	bs := &benchStore{seedDur: time.Since(start)}
	if err := pickBenchRows(sdb, s.Dialect() == "postgres", acct, bs); err != nil {
		b.Fatalf("read the store: %v", err)
	}
	tok, hash, err := bridge.NewTokenSecret()
	if err != nil {
		b.Fatal(err)
	}
	store := &benchTokens{Store: s, tok: bridge.Token{ID: "bench", AccountID: acct, Role: bridge.TokenSCIM, Hash: hash}}
	bs.e = &env{t: benchTB{b}, store: s, token: tok, acct: acct,
		h: NewRouter(Options{Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SCIMBaseURL: "https://scim.example.com/scim/v2"})}
	b.Logf("%s: existing store, account %s: %d users sampled, largest group %s", backend, acct, len(bs.ids), bs.big)
	return bs, true
}

// snapshotSQLite copies the database at src to dst as one read
// transaction of a read-only connection: src is not written.
func snapshotSQLite(src, dst string) error {
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return err
	}
	sdb, err := sql.Open("sqlite", "file:"+abs+"?mode=ro")
	if err != nil {
		return err
	}
	defer sdb.Close()
	_, err = sdb.Exec("VACUUM INTO ?", dst)
	return err
}

// readOnlyURL makes every transaction of the connection read-only.
func readOnlyURL(u string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "default_transaction_read_only=on"
}

// pickBenchRows samples up to 20,000 live users of the account spread
// over the id order, and the group with the most members.
func pickBenchRows(sdb *sql.DB, pg bool, acct string, bs *benchStore) error {
	q := func(s string) string {
		if !pg {
			return s
		}
		n := 0
		var out strings.Builder
		for _, c := range s {
			if c == '?' {
				n++
				out.WriteString("$" + string(rune('0'+n)))
				continue
			}
			out.WriteRune(c)
		}
		return out.String()
	}
	var live int
	if err := sdb.QueryRow(q("SELECT COUNT(*) FROM users WHERE account_id = ? AND status <> 'deleted'"), acct).Scan(&live); err != nil {
		return err
	}
	step := max(live/20000, 1)
	rows, err := sdb.Query(q(`SELECT id, user_name, external_id FROM (
		SELECT id, user_name, external_id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM users
		WHERE account_id = ? AND status <> 'deleted') x WHERE n % ? = 0`), acct, step)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, ext string
		if err := rows.Scan(&id, &name, &ext); err != nil {
			return err
		}
		if ext == "" {
			continue // externalId eq "" is not a one-row lookup
		}
		bs.ids, bs.userNames, bs.externalIDs = append(bs.ids, id), append(bs.userNames, name), append(bs.externalIDs, ext)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(bs.ids) == 0 {
		return fmt.Errorf("account %s has no live user with an externalId", acct)
	}
	return sdb.QueryRow(q(`SELECT m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id
		WHERE m.account_id = ? AND g.status <> 'deleted' GROUP BY m.group_id ORDER BY COUNT(*) DESC, m.group_id LIMIT 1`), acct).Scan(&bs.big)
}

// benchTokens is the store with the benchmark's token held in memory, so
// that an existing store is not written to.
type benchTokens struct {
	*db.Store
	tok bridge.Token
}

func (s *benchTokens) FindToken(ctx context.Context, hash []byte) (bridge.Token, error) {
	if bytes.Equal(hash, s.tok.Hash) {
		return s.tok, nil
	}
	return s.Store.FindToken(ctx, hash)
}
