package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/internal/labseed"
	"github.com/scimbridge/scimbridge/ldapsync"
)

// ci reports whether a missing Samba lab or PostgreSQL must fail the test.
func ci() bool { return os.Getenv("CI") == "true" }

func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if ci() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// backend is a real store, with what the tests need to reach behind it.
type backend struct {
	name string
	open func(t *testing.T) *testDB
}

var backends = []backend{{"sqlite", openSQLite}, {"postgres", openPostgres}}

// testDB is a database of one test: its store and, on PostgreSQL, the URL
// (for a second store or a proxy) and a direct admin connection.
type testDB struct {
	store   *db.Store
	dataDir string  // SQLite
	url     string  // PostgreSQL
	admin   *sql.DB // PostgreSQL, connected to the test database directly
	name    string  // PostgreSQL database name
}

func openSQLite(t *testing.T) *testDB {
	t.Helper()
	dir := t.TempDir()
	s, err := db.Open(context.Background(), db.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open SQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return &testDB{store: s, dataDir: dir}
}

func postgresAdminURL() string {
	if u := os.Getenv("SCIMBRIDGE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// createPostgresDB creates a database with a random name, dropped when the
// test ends, and returns its URL. Without a server the test skips, unless
// CI=true.
func createPostgresDB(t *testing.T) (dbURL, name string) {
	t.Helper()
	adb, err := sql.Open("pgx", postgresAdminURL())
	if err != nil {
		unavailable(t, "PostgreSQL unreachable at SCIMBRIDGE_TEST_POSTGRES_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := adb.PingContext(ctx); err != nil {
		adb.Close()
		unavailable(t, "PostgreSQL unreachable at SCIMBRIDGE_TEST_POSTGRES_URL: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name = "scimbridge_reliability_" + hex.EncodeToString(b[:])
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
	u, err := url.Parse(postgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String(), name
}

func openPostgres(t *testing.T) *testDB {
	t.Helper()
	u, name := createPostgresDB(t)
	s, err := db.Open(context.Background(), db.Config{URL: u})
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	direct, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	return &testDB{store: s, url: u, admin: direct, name: name}
}

// withHost returns u with its host:port replaced (to go through a proxy).
func withHost(t *testing.T, u, hostport string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.Host = hostport
	return p.String()
}

func hostOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

// sambaLab returns the running lab's coordinates from the environment or
// its env file; without a lab the test skips, unless CI=true.
func sambaLab(t *testing.T) labseed.Lab {
	t.Helper()
	lab, ok, err := labseed.LabFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		path := os.Getenv("SCIMBRIDGE_LAB_ENV_FILE")
		if path == "" {
			path = labseed.DefaultEnvFile
		}
		if lab, err = labseed.ReadLabFile(path); err != nil {
			unavailable(t, "Samba lab not available (%v); run scripts/samba-lab.sh up", err)
		}
	}
	if _, err := os.Stat(lab.CAFile); err != nil {
		unavailable(t, "Samba lab not available (%v); run scripts/samba-lab.sh up", err)
	}
	return lab
}

// logBuffer is a Debug-level logger that keeps everything, for tests that
// search the logs (secrets) or print them on failure.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	lb := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", lb.String())
		}
	})
	return lb.logger(), lb
}

// syncEnv is one store, one sealing key and one engine.
type syncEnv struct {
	t      *testing.T
	ctx    context.Context
	store  bridge.Store
	box    *bridge.SecretBox
	engine *bridge.Engine
}

func newSyncEnv(t *testing.T, store bridge.Store) *syncEnv {
	t.Helper()
	key := make([]byte, bridge.SecretKeySize)
	_, _ = rand.Read(key)
	box, err := bridge.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := testLogger(t)
	return &syncEnv{t: t, ctx: context.Background(), store: store, box: box,
		engine: &bridge.Engine{Store: store, Open: ldapsync.Open, Secrets: box.Open, Log: log}}
}

// configure creates the account and stores the settings, password sealed.
func (e *syncEnv) configure(account string, s bridge.Settings) {
	e.t.Helper()
	if _, err := e.store.EnsureAccount(e.ctx, account); err != nil {
		e.t.Fatalf("EnsureAccount: %v", err)
	}
	sealed, err := e.box.Seal(s.Connection.Password)
	if err != nil {
		e.t.Fatal(err)
	}
	s.Connection.Password = ""
	if err := e.store.PutSettings(e.ctx, account, bridge.StoredSettings{Settings: s, SealedPassword: sealed}); err != nil {
		e.t.Fatalf("PutSettings: %v", err)
	}
}

func (e *syncEnv) run(account string) bridge.Run {
	e.t.Helper()
	r, err := e.engine.Run(e.ctx, bridge.RunOptions{Account: account, Trigger: bridge.TriggerCLI, Full: true})
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return r
}

// snapshot is every stored user and group of an account: id -> status and
// version, so two snapshots compare equal only when nothing was written.
type snapshot map[string]string

func takeSnapshot(t *testing.T, store bridge.Store, account string) snapshot {
	t.Helper()
	ctx := context.Background()
	out := snapshot{}
	for off := 0; ; off += 1000 {
		us, total, err := store.ListUsers(ctx, account, "", off, 1000)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		for _, u := range us {
			out["user:"+u.ID] = string(u.Status) + "@" + itoa(u.Version) + ":" + u.UserName
		}
		if off+len(us) >= total || len(us) == 0 {
			break
		}
	}
	for off := 0; ; off += 1000 {
		gs, total, err := store.ListGroups(ctx, account, off, 1000)
		if err != nil {
			t.Fatalf("ListGroups: %v", err)
		}
		for _, g := range gs {
			out["group:"+g.ID] = string(g.Status) + "@" + itoa(g.Version) + ":" + itoa(int64(len(g.Members)))
		}
		if off+len(gs) >= total || len(gs) == 0 {
			break
		}
	}
	return out
}

func (s snapshot) diff(o snapshot) string {
	var lines []string
	for k, v := range s {
		if w, ok := o[k]; !ok {
			lines = append(lines, "- "+k+" "+v)
		} else if w != v {
			lines = append(lines, "~ "+k+" "+v+" -> "+w)
		}
	}
	for k, w := range o {
		if _, ok := s[k]; !ok {
			lines = append(lines, "+ "+k+" "+w)
		}
	}
	sort.Strings(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], "...")
	}
	return strings.Join(lines, "\n")
}

func (s snapshot) count(prefix, status string) int {
	n := 0
	for k, v := range s {
		if strings.HasPrefix(k, prefix) && strings.HasPrefix(v, status+"@") {
			n++
		}
	}
	return n
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
