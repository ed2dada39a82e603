package db

import (
	"errors"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/pgtest"
)

// Two Stores on one database stand for two processes or replicas.
func TestLockAcrossStores(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			a, cfg := open(t)
			b := openConfig(t, cfg)
			unlock, err := a.LockAccount(t.Context(), bridge.DefaultAccount)
			if err != nil {
				t.Fatalf("a.LockAccount: %v", err)
			}
			if _, err := b.LockAccount(t.Context(), bridge.DefaultAccount); !errors.Is(err, bridge.ErrRunInProgress) {
				t.Fatalf("b.LockAccount while a holds it: %v", err)
			}
			r := bridge.Run{ID: "r1", AccountID: bridge.DefaultAccount, Trigger: bridge.TriggerCLI, Status: bridge.RunRunning, StartedAt: time.Now()}
			if err := a.CreateRun(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			// b must not fail a's run while a is alive.
			if n, err := b.FailAbandonedRuns(t.Context(), "x"); err != nil || n != 0 {
				t.Fatalf("b.FailAbandonedRuns while a holds the lock = %d, %v", n, err)
			}
			unlock()
			unlockB, err := b.LockAccount(t.Context(), bridge.DefaultAccount)
			if err != nil {
				t.Fatalf("b.LockAccount after a released: %v", err)
			}
			unlockB()

			// A holder that dies (closes without unlocking) frees the lock.
			if _, err := a.LockAccount(t.Context(), bridge.DefaultAccount); err != nil {
				t.Fatalf("a.LockAccount again: %v", err)
			}
			a.Close()
			unlockB, err = b.LockAccount(t.Context(), bridge.DefaultAccount)
			if err != nil {
				t.Fatalf("b.LockAccount after a closed: %v", err)
			}
			unlockB()
			if n, err := b.FailAbandonedRuns(t.Context(), "holder died"); err != nil || n != 1 {
				t.Fatalf("FailAbandonedRuns after the holder died = %d, %v", n, err)
			}
		})
	}
}

// A PostgreSQL session that dies (killed process, dropped connection)
// takes its advisory lock with it.
func TestPostgresLockDiesWithSession(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openPostgres(t, url), openPostgres(t, url)
	if _, err := a.LockAccount(t.Context(), bridge.DefaultAccount); err != nil {
		t.Fatalf("a.LockAccount: %v", err)
	}
	sdb, _ := b.SQLDB()
	var killed int
	if err := sdb.QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND pid <> pg_backend_pid()`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the holder's session: %d, %v", killed, err)
	}
	var err error
	for range 50 { // termination is asynchronous
		var unlock func()
		if unlock, err = b.LockAccount(t.Context(), bridge.DefaultAccount); err == nil {
			unlock()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("b.LockAccount after the holder's session died: %v", err)
	}
}

// A lease whose heartbeat stopped (a killed process) is taken over once
// stale, and a live lease is kept fresh by its heartbeat.
func TestSQLiteLeaseStaleAndHeartbeat(t *testing.T) {
	oldBeat, oldStale := leaseHeartbeat, leaseStale
	leaseHeartbeat, leaseStale = 50*time.Millisecond, 300*time.Millisecond
	t.Cleanup(func() { leaseHeartbeat, leaseStale = oldBeat, oldStale })

	dir := t.TempDir()
	a, b := openSQLite(t, dir), openSQLite(t, dir)
	// A dead process's lease: present, not refreshed.
	dead := now().Add(-time.Second)
	if err := a.db.Create(&syncLockRow{AccountID: bridge.DefaultAccount, Holder: "dead:1:x", AcquiredAt: dead, HeartbeatAt: dead}).Error; err != nil {
		t.Fatal(err)
	}
	unlock, err := a.LockAccount(t.Context(), bridge.DefaultAccount)
	if err != nil {
		t.Fatalf("LockAccount over a stale lease: %v", err)
	}
	defer unlock()
	// Outlive leaseStale several times: the heartbeat keeps a's lease.
	time.Sleep(4 * leaseStale)
	if _, err := b.LockAccount(t.Context(), bridge.DefaultAccount); !errors.Is(err, bridge.ErrRunInProgress) {
		t.Fatalf("b took a live, heartbeated lease: %v", err)
	}
}
