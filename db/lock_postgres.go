package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// lockPostgres takes a session-level advisory lock on a connection set
// aside for the run. PostgreSQL releases it when the session ends, so a
// killed process frees its accounts without any lease expiry. (If the
// connection itself breaks mid-run, the lock is gone too; the run goes on
// and another replica could start one, which the engine's idempotent
// upserts tolerate.)
func (s *Store) lockPostgres(ctx context.Context, account string) (func(), error) {
	if err := accountExists(ctx, s.read, account); err != nil {
		return nil, wrap("lock account", err)
	}
	sdb, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sdb.Conn(ctx)
	if err != nil {
		return nil, wrap("lock account "+account, err)
	}
	key := accountLockKey(account)
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Close()
		return nil, wrap("lock account "+account, err)
	}
	if !got {
		conn.Close()
		return nil, errLocked
	}
	l := &pgLock{account: account, key: key, conn: conn}
	s.leaseMu.Lock()
	s.pgLocks[l] = struct{}{}
	s.leaseMu.Unlock()
	return func() { s.releasePGLock(l) }, nil
}

type pgLock struct {
	account string
	key     int64
	conn    *sql.Conn
	once    sync.Once
}

func (s *Store) releasePGLock(l *pgLock) {
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := l.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, l.key); err != nil {
			s.log.Warn("could not release the sync lock; dropping its connection", "account", l.account, "error", err)
			// ErrBadConn makes database/sql close the connection instead of
			// pooling it with the lock still held.
			_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		l.conn.Close()
		s.leaseMu.Lock()
		delete(s.pgLocks, l)
		s.leaseMu.Unlock()
	})
}

func (s *Store) releaseAllPGLocks() {
	s.leaseMu.Lock()
	held := make([]*pgLock, 0, len(s.pgLocks))
	for l := range s.pgLocks {
		held = append(held, l)
	}
	s.leaseMu.Unlock()
	for _, l := range held {
		s.releasePGLock(l)
	}
}

// failAbandonedPostgres probes each account with running runs: if its
// advisory lock can be taken, no session holds it, so those runs are
// orphans. The probe holds the lock while updating, so a replica cannot
// start a run for that account in between (its LockAccount would see the
// lock taken and answer ErrRunInProgress for that instant).
func (s *Store) failAbandonedPostgres(ctx context.Context, reason string) (int, error) {
	var accounts []string
	if err := s.read.WithContext(ctx).Model(&runRow{}).Distinct("account_id").
		Where("status = ?", bridge.RunRunning).Pluck("account_id", &accounts).Error; err != nil {
		return 0, wrap("fail abandoned runs", err)
	}
	sdb, err := s.db.DB()
	if err != nil {
		return 0, err
	}
	total := 0
	for _, account := range accounts {
		n, err := func() (int64, error) {
			conn, err := sdb.Conn(ctx)
			if err != nil {
				return 0, err
			}
			defer conn.Close()
			key := accountLockKey(account)
			var got bool
			if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil || !got {
				return 0, err
			}
			defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
			res, err := conn.ExecContext(ctx, `UPDATE runs SET status = $1, error = $2, finished_at = $3
				WHERE account_id = $4 AND status = $5`, bridge.RunFailed, reason, now(), account, bridge.RunRunning)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		}()
		if err != nil {
			return total, wrap("fail abandoned runs of "+account, err)
		}
		total += int(n)
	}
	return total, nil
}
