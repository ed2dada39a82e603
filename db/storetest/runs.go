package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

var runTests = []test{
	{"CreateGetUpdate", func(t *testing.T, s bridge.Store) {
		started := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
		r := bridge.Run{ID: newID(), AccountID: acct, Trigger: bridge.TriggerCLI, Kind: bridge.RunDelta,
			KindReason: "cursor valid", DryRun: true, Status: bridge.RunRunning, StartedAt: started}
		noErr(t, "CreateRun", s.CreateRun(ctx(t), r))
		wantErr(t, "CreateRun twice", s.CreateRun(ctx(t), r), bridge.ErrConflict)
		got, err := s.GetRun(ctx(t), acct, r.ID)
		noErr(t, "GetRun", err)
		if got.Trigger != bridge.TriggerCLI || got.Kind != bridge.RunDelta || got.KindReason != "cursor valid" ||
			!got.DryRun || got.Status != bridge.RunRunning || !sameTime(got.StartedAt, started) || got.FinishedAt != nil {
			t.Errorf("GetRun = %+v", got)
		}
		fin := started.Add(time.Minute)
		r.Status, r.Error, r.FinishedAt, r.Cursor = bridge.RunFailed, "boom", &fin, `{"usn":42}`
		r.Counts.Users.Added, r.Counts.Groups.Refused = 7, 2
		r.ApprovedRunID = "held-run"
		noErr(t, "UpdateRun", s.UpdateRun(ctx(t), r))
		got, err = s.GetRun(ctx(t), acct, r.ID)
		noErr(t, "GetRun", err)
		if got.Status != bridge.RunFailed || got.Error != "boom" || got.FinishedAt == nil || !sameTime(*got.FinishedAt, fin) ||
			got.Cursor != `{"usn":42}` || got.Counts.Users.Added != 7 || got.Counts.Groups.Refused != 2 || got.ApprovedRunID != "held-run" {
			t.Errorf("after UpdateRun: %+v", got)
		}
	}},
	{"NotFoundAndIsolation", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		r := mustRun(t, s, "other", time.Now())
		_, err := s.GetRun(ctx(t), acct, r.ID)
		wantErr(t, "GetRun of another account", err, bridge.ErrNotFound)
		r.AccountID = acct
		wantErr(t, "UpdateRun of another account", s.UpdateRun(ctx(t), r), bridge.ErrNotFound)
		err = s.CreateRun(ctx(t), bridge.Run{ID: newID(), AccountID: "nope", Trigger: bridge.TriggerCLI, Status: bridge.RunRunning, StartedAt: time.Now()})
		wantErr(t, "CreateRun in unknown account", err, bridge.ErrNotFound)
		err = s.AddRunEvents(ctx(t), []bridge.RunEvent{{RunID: r.ID, AccountID: acct, Action: bridge.ActionSkip}})
		if err == nil {
			t.Errorf("AddRunEvents accepted an event for another account's run")
		}
	}},
	{"ListNewestFirst", func(t *testing.T, s bridge.Store) {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var ids []string
		for i := range 5 {
			// Sub-second differences matter too.
			ids = append(ids, mustRun(t, s, acct, base.Add(time.Duration(i)*1500*time.Millisecond)).ID)
		}
		mustAccount(t, s, "other")
		mustRun(t, s, "other", base.Add(time.Hour))
		got, total, err := s.ListRuns(ctx(t), acct, 0, 3)
		noErr(t, "ListRuns", err)
		if total != 5 || len(got) != 3 || got[0].ID != ids[4] || got[1].ID != ids[3] || got[2].ID != ids[2] {
			t.Errorf("ListRuns page 1: total %d, %v", total, runIDs(got))
		}
		got, _, err = s.ListRuns(ctx(t), acct, 3, 3)
		noErr(t, "ListRuns page 2", err)
		if len(got) != 2 || got[0].ID != ids[1] || got[1].ID != ids[0] {
			t.Errorf("ListRuns page 2: %v", runIDs(got))
		}
	}},
	{"EventsPagingAndFilter", func(t *testing.T, s bridge.Store) {
		r := mustRun(t, s, acct, time.Now())
		other := mustRun(t, s, acct, time.Now())
		var evs []bridge.RunEvent
		for i := range 25 {
			a := bridge.ActionAdd
			if i%5 == 0 {
				a = bridge.ActionRefuse
			}
			evs = append(evs, bridge.RunEvent{RunID: r.ID, AccountID: acct, ObjectType: bridge.ObjectUser, Action: a, Name: fmt.Sprintf("e%02d", i)})
		}
		noErr(t, "AddRunEvents", s.AddRunEvents(ctx(t), evs))
		noErr(t, "AddRunEvents other run", s.AddRunEvents(ctx(t), []bridge.RunEvent{{RunID: other.ID, AccountID: acct, Action: bridge.ActionAdd}}))
		for _, tc := range []struct {
			name  string
			f     bridge.EventFilter
			first string
			n     int
			total int
		}{
			{"all", bridge.EventFilter{}, "e00", 25, 25},
			{"page", bridge.EventFilter{Offset: 10, Limit: 10}, "e10", 10, 25},
			{"last page", bridge.EventFilter{Offset: 20, Limit: 10}, "e20", 5, 25},
			{"refusals", bridge.EventFilter{Action: bridge.ActionRefuse}, "e00", 5, 5},
			{"refusals page", bridge.EventFilter{Action: bridge.ActionRefuse, Offset: 2, Limit: 2}, "e10", 2, 5},
			{"no match", bridge.EventFilter{Action: bridge.ActionDelete}, "", 0, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.ListRunEvents(ctx(t), acct, r.ID, tc.f)
				noErr(t, "ListRunEvents", err)
				if len(got) != tc.n || total != tc.total || (tc.n > 0 && got[0].Name != tc.first) {
					t.Errorf("got %d events (total %d), want %d (total %d) from %s", len(got), total, tc.n, tc.total, tc.first)
				}
			})
		}
		if _, total, _ := s.ListRunEvents(ctx(t), "nope", r.ID, bridge.EventFilter{}); total != 0 {
			t.Errorf("another account sees %d events", total)
		}
	}},
	{"FailAbandonedRuns", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "busy")
		orphan := mustRun(t, s, acct, time.Now())
		live := mustRun(t, s, "busy", time.Now())
		done := mustRun(t, s, acct, time.Now())
		done.Status = bridge.RunSucceeded
		noErr(t, "UpdateRun", s.UpdateRun(ctx(t), done))
		unlock, err := s.LockAccount(ctx(t), "busy")
		noErr(t, "LockAccount", err)
		defer unlock()

		n, err := s.FailAbandonedRuns(ctx(t), "the process running it stopped")
		noErr(t, "FailAbandonedRuns", err)
		if n != 1 {
			t.Errorf("FailAbandonedRuns = %d, want 1", n)
		}
		got, _ := s.GetRun(ctx(t), acct, orphan.ID)
		if got.Status != bridge.RunFailed || got.Error != "the process running it stopped" || got.FinishedAt == nil {
			t.Errorf("orphan = %+v", got)
		}
		if got, _ := s.GetRun(ctx(t), "busy", live.ID); got.Status != bridge.RunRunning {
			t.Errorf("run of a locked account was failed: %+v", got)
		}
		if got, _ := s.GetRun(ctx(t), acct, done.ID); got.Status != bridge.RunSucceeded {
			t.Errorf("finished run changed: %+v", got)
		}
		unlock()
		n, err = s.FailAbandonedRuns(ctx(t), "later")
		noErr(t, "FailAbandonedRuns after unlock", err)
		if n != 1 {
			t.Errorf("FailAbandonedRuns after unlock = %d, want 1", n)
		}
	}},
}

func runIDs(rs []bridge.Run) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}
