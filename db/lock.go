package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"os"

	"github.com/scimbridge/scimbridge/bridge"
)

// LockAccount takes the account's sync lock cluster-wide or fails with
// ErrRunInProgress (ErrNotFound for an unknown account). PostgreSQL uses a
// session advisory lock, SQLite a heartbeated lease row; see the
// lock_*.go files.
func (s *Store) LockAccount(ctx context.Context, account string) (func(), error) {
	if s.dialect == DialectPostgres {
		return s.lockPostgres(ctx, account)
	}
	return s.lockSQLite(ctx, account)
}

// FailAbandonedRuns marks "running" runs whose account lock is free (their
// process died or lost the database) as failed, with reason, and returns
// how many it marked.
func (s *Store) FailAbandonedRuns(ctx context.Context, reason string) (int, error) {
	if s.dialect == DialectPostgres {
		return s.failAbandonedPostgres(ctx, reason)
	}
	return s.failAbandonedSQLite(ctx, reason)
}

// lockHolder names this Store in SQLite leases: host, pid and a random
// suffix, so two Stores in one process (tests, a CLI inside serve) differ.
func lockHolder() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// accountLockKey maps an account to its PostgreSQL advisory lock key.
// A hash collision would only make two accounts' syncs wait for each other.
func accountLockKey(account string) int64 {
	h := fnv.New64a()
	h.Write([]byte("scimbridge/sync/" + account))
	return int64(h.Sum64())
}

var errLocked = fmt.Errorf("db: lock account: %w", bridge.ErrRunInProgress)
