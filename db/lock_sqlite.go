package db

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// SQLite has no session locks, so the sync lock is a lease row in
// sync_locks that its holder refreshes every leaseHeartbeat. A lease not
// refreshed for leaseStale belongs to a dead process and may be taken over.
// Variables, not constants, so tests can shorten them.
var (
	leaseHeartbeat = 10 * time.Second
	leaseStale     = 60 * time.Second
)

type sqliteLease struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (s *Store) lockSQLite(ctx context.Context, account string) (func(), error) {
	// The in-process map answers quickly for this process's own syncs and
	// keeps heartbeats and releases of one account from interleaving.
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if _, held := s.leases[account]; held {
		return nil, errLocked
	}
	s.dropDeadLeases(ctx)
	t := now()
	res := s.db.WithContext(ctx).Exec(`INSERT INTO sync_locks (account_id, holder, run_id, acquired_at, heartbeat_at)
		VALUES (?, ?, '', ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET holder = excluded.holder, run_id = '',
			acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at
		WHERE sync_locks.heartbeat_at < ?`, account, s.holder, t, t, t.Add(-leaseStale))
	if res.Error != nil {
		return nil, wrap("lock account "+account, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, errLocked
	}
	l := &sqliteLease{stop: make(chan struct{}), done: make(chan struct{})}
	s.leases[account] = l
	go s.heartbeat(account, l)
	return func() { s.releaseLease(account, l) }, nil
}

func (s *Store) heartbeat(account string, l *sqliteLease) {
	defer close(l.done)
	tick := time.NewTicker(leaseHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), leaseHeartbeat)
			res := s.db.WithContext(ctx).Exec(`UPDATE sync_locks SET heartbeat_at = ? WHERE account_id = ? AND holder = ?`,
				now(), account, s.holder)
			cancel()
			switch {
			case res.Error != nil:
				s.log.Warn("could not refresh the sync lease", "account", account, "error", res.Error)
			case res.RowsAffected == 0:
				// Another process judged us dead and took over; nothing
				// here can stop the running sync, so say so loudly.
				s.log.Error("sync lease lost to another process", "account", account)
			}
		}
	}
}

func (s *Store) releaseLease(account string, l *sqliteLease) {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.db.WithContext(ctx).Exec(`DELETE FROM sync_locks WHERE account_id = ? AND holder = ?`,
			account, s.holder).Error; err != nil {
			// The lease goes stale and is taken over after leaseStale.
			s.log.Warn("could not release the sync lease", "account", account, "error", err)
		}
		s.leaseMu.Lock()
		if s.leases[account] == l {
			delete(s.leases, account)
		}
		s.leaseMu.Unlock()
	})
}

func (s *Store) releaseAllLeases() {
	s.leaseMu.Lock()
	held := make(map[string]*sqliteLease, len(s.leases))
	for a, l := range s.leases {
		held[a] = l
	}
	s.leaseMu.Unlock()
	for a, l := range held {
		s.releaseLease(a, l)
	}
}

// failAbandonedSQLite fails running runs of accounts without a fresh lease,
// in one statement, so a lease taken meanwhile is seen consistently.
func (s *Store) failAbandonedSQLite(ctx context.Context, reason string) (int, error) {
	s.dropDeadLeases(ctx)
	t := now()
	res := s.db.WithContext(ctx).Exec(`UPDATE runs SET status = ?, error = ?, finished_at = ?
		WHERE status = ? AND NOT EXISTS (
			SELECT 1 FROM sync_locks l WHERE l.account_id = runs.account_id AND l.heartbeat_at >= ?)`,
		bridge.RunFailed, reason, t, bridge.RunRunning, t.Add(-leaseStale))
	if res.Error != nil {
		return 0, wrap("fail abandoned runs", res.Error)
	}
	return int(res.RowsAffected), nil
}

// dropDeadLeases deletes leases held by a process of this host that no
// longer exists (killed with SIGKILL, or crashed), so that a restart frees
// the lock and fails the abandoned run at once instead of after
// leaseStale. A holder is "host:pid:random" (lockHolder); leases of other
// hosts, of this process, and of live pids are left to go stale.
func (s *Store) dropDeadLeases(ctx context.Context) {
	var rows []syncLockRow
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		s.log.Warn("could not list the sync leases", "error", err)
		return
	}
	host, _ := os.Hostname()
	for _, r := range rows {
		parts := strings.Split(r.Holder, ":")
		if len(parts) < 3 || strings.Join(parts[:len(parts)-2], ":") != host {
			continue
		}
		pid, err := strconv.Atoi(parts[len(parts)-2])
		if err != nil || pid == os.Getpid() || !processGone(pid) {
			continue
		}
		res := s.db.WithContext(ctx).Exec(`DELETE FROM sync_locks WHERE account_id = ? AND holder = ?`, r.AccountID, r.Holder)
		if res.Error == nil && res.RowsAffected > 0 {
			s.log.Warn("freed the sync lease of a process that no longer exists", "account", r.AccountID, "holder", r.Holder)
		}
	}
}
