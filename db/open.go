// Package db implements bridge.Store on SQLite (embedded default, pure Go)
// and PostgreSQL (production, several replicas) with gorm. The schema comes
// from versioned SQL migrations embedded in the binary, one set per dialect.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// Config says which database to open.
type Config struct {
	// URL is a postgres:// or postgresql:// URL; empty means SQLite.
	URL string
	// DataDir holds the SQLite file, scimbridge.db, when URL is empty.
	DataDir string
	// Logger receives gorm's SQL log at Debug (without parameters). Nil
	// discards it.
	Logger *slog.Logger
}

// SQLiteFile is the name of the SQLite database inside DataDir.
const SQLiteFile = "scimbridge.db"

// Dialect names the database behind a Store.
type Dialect string

const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

// Store is the bridge.Store on SQLite or PostgreSQL.
type Store struct {
	dialect Dialect
	// db runs writes and, on PostgreSQL, reads. On SQLite it has a single
	// connection: SQLite has one writer at a time, and serialising writers
	// in Go avoids SQLITE_BUSY between our own goroutines.
	db *gorm.DB
	// read serves reads. On SQLite it is a separate pool (WAL lets readers
	// run beside the writer); on PostgreSQL it is db.
	read *gorm.DB
	log  *slog.Logger

	// SQLite sync leases held by this process (see lock_sqlite.go).
	leaseMu sync.Mutex
	leases  map[string]*sqliteLease
	holder  string
	// PostgreSQL advisory locks held by this Store, released by Close.
	pgLocks map[*pgLock]struct{}
}

var _ bridge.Store = (*Store)(nil)

// Open opens the database, applies pending migrations and makes sure the
// default account exists.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := OpenWithoutMigrating(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenWithoutMigrating opens the database as it is. Callers must run
// Migrate before using the Store on a database that may be behind.
func OpenWithoutMigrating(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{log: log, leases: map[string]*sqliteLease{}, pgLocks: map[*pgLock]struct{}{}, holder: lockHolder()}
	var err error
	switch {
	case cfg.URL == "":
		s.dialect = DialectSQLite
		err = s.openSQLite(ctx, cfg.DataDir)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		s.dialect = DialectPostgres
		err = s.openPostgres(ctx, cfg.URL)
	default:
		// Never echo the URL: it may hold a password.
		return nil, fmt.Errorf("db: unsupported database URL scheme (want postgres:// or postgresql://, or none for SQLite): %w", bridge.ErrInvalid)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect reports which database the Store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

func gormConfig(log *slog.Logger) *gorm.Config {
	return &gorm.Config{
		TranslateError: true,
		// Every write that needs a transaction opens one explicitly.
		SkipDefaultTransaction: true,
		Logger:                 &gormLogger{log: log},
		NowFunc:                now,
	}
}

func (s *Store) openSQLite(ctx context.Context, dir string) error {
	if dir == "" {
		return fmt.Errorf("db: a data directory is required for SQLite: %w", bridge.ErrInvalid)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("db: create data directory: %w", err)
	}
	path := filepath.Join(dir, SQLiteFile)
	// busy_timeout covers other processes (a CLI next to `serve`);
	// synchronous=NORMAL is safe with WAL and much faster than FULL.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	// BEGIN IMMEDIATE takes the write lock up front, so a transaction never
	// fails half-way when upgrading from a read lock.
	// A 16 MiB page cache keeps a large Apply batch from spilling to the
	// WAL mid-transaction (the default 2 MiB spills after a few hundred
	// users). New objects get time-ordered ids, so a batch of 500 users
	// dirties far fewer index pages than the 10 MiB it did with random
	// ids, and 32 MiB cost RSS (it counts toward the 256 MB of a 100,000-
	// user full sync) for no measurable CPU; 64 MiB cost 60 MiB more.
	// temp_store stays the default (file): with it, the statement journal
	// (every Apply statement has one: an immediate foreign key and
	// triggers make any multi-row write abortable) collects pages in 64 KiB
	// chunks and spills to a temporary file, where temp_store=MEMORY made
	// five small allocations per journaled page, about twice the CPU, and
	// held megabytes per statement outside the Go heap.
	// wal_autocheckpoint(8192): a full sync rewrites the same index pages
	// batch after batch; checkpointing every 32 MiB of WAL instead of
	// every 4 MiB copies each of them back to the database less often.
	wcfg := gormConfig(s.log)
	// Parsing a 250-parameter INSERT costs about as much as running it;
	// the writer has one connection, so prepared statements are reused.
	wcfg.PrepareStmt = true
	writer, err := gorm.Open(sqlite.Open(path+"?"+common+"&_pragma=cache_size(-16384)&_pragma=wal_autocheckpoint(8192)&_txlock=immediate"), wcfg)
	if err != nil {
		return fmt.Errorf("db: open SQLite %s: %w", path, err)
	}
	s.db = writer
	wdb, err := writer.DB()
	if err != nil {
		return err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)

	reader, err := gorm.Open(sqlite.Open(path+"?"+common+"&_pragma=query_only(1)"), gormConfig(s.log))
	if err != nil {
		return fmt.Errorf("db: open SQLite %s: %w", path, err)
	}
	s.read = reader
	rdb, err := reader.DB()
	if err != nil {
		return err
	}
	rdb.SetMaxOpenConns(8)
	rdb.SetMaxIdleConns(8)
	return s.Ping(ctx)
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	g, err := gorm.Open(postgres.Open(dsn), gormConfig(s.log))
	if err != nil {
		return fmt.Errorf("db: open PostgreSQL %s: %w", redactURL(dsn), err)
	}
	s.db, s.read = g, g
	sdb, err := g.DB()
	if err != nil {
		return err
	}
	// Each running sync holds one connection for its advisory lock, so
	// leave room above the usual working set.
	sdb.SetMaxOpenConns(32)
	sdb.SetMaxIdleConns(8)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := s.Ping(ctx); err != nil {
		return fmt.Errorf("db: connect to PostgreSQL %s: %w", redactURL(dsn), err)
	}
	return nil
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sdb, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sdb.PingContext(ctx); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Close releases the sync locks this Store holds and closes the pools.
func (s *Store) Close() error {
	s.releaseAllLeases()
	s.releaseAllPGLocks()
	var errs []error
	seen := map[*sql.DB]bool{}
	for _, g := range []*gorm.DB{s.read, s.db} {
		if g == nil {
			continue
		}
		sdb, err := g.DB()
		if err != nil || seen[sdb] {
			continue
		}
		seen[sdb] = true
		errs = append(errs, sdb.Close())
	}
	return errors.Join(errs...)
}

// SQLDB exposes the write pool, for tests and tools that need raw SQL.
func (s *Store) SQLDB() (*sql.DB, error) { return s.db.DB() }

// Gorm exposes the write gorm handle, for packages (the SCIM query
// compiler) that build their own queries on the same pool.
func (s *Store) Gorm() *gorm.DB { return s.db }

// ReadGorm is the handle for read-only queries.
func (s *Store) ReadGorm() *gorm.DB { return s.read }

// Writers is how many Apply transactions a sync may run at once
// (bridge.ParallelStore): one on SQLite, whose single writer connection
// would only queue the rest; two on PostgreSQL, one per core of the
// machine it was measured on.
func (s *Store) Writers() int {
	if s.dialect == DialectPostgres {
		return 2
	}
	return 1
}
