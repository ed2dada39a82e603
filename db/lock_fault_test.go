package db

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// A SQLite lease left by a process of this host that no longer exists
// (SIGKILL) is freed at once; a lease of a live process or another host
// waits for leaseStale as before.
func TestSQLiteLeaseOfDeadProcess(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("cannot start a process: %v", err)
	}
	host, _ := os.Hostname()
	cases := []struct {
		name   string
		holder string
		freed  bool
	}{
		{"dead pid on this host", fmt.Sprintf("%s:%d:abcdef", host, dead.Process.Pid), true},
		{"live pid on this host", fmt.Sprintf("%s:%d:abcdef", host, os.Getppid()), false},
		{"dead pid on another host", fmt.Sprintf("other-%s:%d:abcdef", host, dead.Process.Pid), false},
		{"unparsable holder", "garbage", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openSQLite(t, t.TempDir())
			fresh := time.Now()
			if err := s.db.Exec(`INSERT INTO sync_locks (account_id, holder, run_id, acquired_at, heartbeat_at) VALUES (?, ?, '', ?, ?)`,
				bridge.DefaultAccount, c.holder, fresh, fresh).Error; err != nil {
				t.Fatal(err)
			}
			r := bridge.Run{ID: "r1", AccountID: bridge.DefaultAccount, Trigger: bridge.TriggerCLI, Status: bridge.RunRunning, StartedAt: fresh}
			if err := s.CreateRun(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			n, err := s.FailAbandonedRuns(t.Context(), "holder died")
			if err != nil {
				t.Fatal(err)
			}
			if (n == 1) != c.freed {
				t.Fatalf("FailAbandonedRuns = %d, want freed=%v", n, c.freed)
			}
			unlock, err := s.LockAccount(t.Context(), bridge.DefaultAccount)
			if (err == nil) != c.freed {
				t.Fatalf("LockAccount: %v, want freed=%v", err, c.freed)
			}
			if unlock != nil {
				unlock()
			}
		})
	}
}
