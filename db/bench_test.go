package db

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/pgtest"
)

// BenchmarkApplyUsers measures Apply inserting users the way the engine
// does: batches of applyBatch users, each with an event. Reports users/s
// and this process's CPU time per user (user+sys, from getrusage), which
// a loaded machine distorts far less than wall-clock time. On PostgreSQL
// the server's CPU is not in it.
//
//	go test ./db -run '^$' -bench ApplyUsers -benchtime 3x
func BenchmarkApplyUsers(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchApplyUsers(b, openSQLite(b, b.TempDir())) })
	b.Run("postgres", func(b *testing.B) { benchApplyUsers(b, openPostgres(b, pgtest.NewDatabase(b))) })
}

const (
	benchUsers = 10000
	applyBatch = 1000
)

func benchApplyUsers(b *testing.B, s *Store) {
	ctx := b.Context()
	var elapsed, cpu time.Duration
	total := 0
	for i := 0; b.Loop(); i++ {
		account := fmt.Sprintf("bench%d", i)
		if _, err := s.EnsureAccount(ctx, account); err != nil {
			b.Fatal(err)
		}
		run := bridge.Run{ID: uuid.NewString(), AccountID: account, Trigger: bridge.TriggerCLI, Status: bridge.RunRunning, StartedAt: time.Now()}
		if err := s.CreateRun(ctx, run); err != nil {
			b.Fatal(err)
		}
		users := make([]bridge.User, benchUsers)
		events := make([]bridge.RunEvent, benchUsers)
		for j := range users {
			name := fmt.Sprintf("user%06d@example.com", j)
			users[j] = bridge.User{
				ID: uuid.NewString(), ExternalID: uuid.NewString(), Source: bridge.SourceAD, UserName: name,
				DisplayName: "User " + name, Active: true, Status: bridge.StatusActive,
				DN: "CN=User " + name + ",OU=Staff,OU=Corp,DC=example,DC=com", OUPath: "Corp/Staff",
				Attributes: map[string]any{
					"userName": name, "displayName": "User " + name,
					"name":   map[string]any{"givenName": "User", "familyName": name},
					"emails": []any{map[string]any{"value": name, "type": "work", "primary": true}},
					"title":  "Engineer",
				},
				Hash: uuid.NewString(),
			}
			events[j] = bridge.RunEvent{RunID: run.ID, ObjectType: bridge.ObjectUser, Action: bridge.ActionAdd,
				DN: users[j].DN, ExternalID: users[j].ExternalID, ResourceID: users[j].ID, Name: name,
				Changed: []string{"userName", "displayName", "emails"}}
		}
		start, cpu0 := time.Now(), processCPU()
		for j := 0; j < benchUsers; j += applyBatch {
			c := bridge.Changes{Users: users[j : j+applyBatch], Events: events[j : j+applyBatch]}
			if err := s.Apply(ctx, account, c); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		cpu += processCPU() - cpu0
		total += benchUsers
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "users/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/user")
}

// processCPU is the user+sys CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
