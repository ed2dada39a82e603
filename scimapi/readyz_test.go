package scimapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// /readyz says the database answers and where each account's syncs stand:
// the last real run and the last success, dry runs left out.
func TestReadyzReportsLastSyncState(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			store := openStore(t, backend)
			base := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
			at := func(h int) *time.Time { v := base.Add(time.Duration(h) * time.Hour); return &v }
			runs := []bridge.Run{
				{ID: "00000000-0000-0000-0000-000000000001", Status: bridge.RunSucceeded, StartedAt: base, FinishedAt: at(1)},
				{ID: "00000000-0000-0000-0000-000000000002", Status: bridge.RunFailed, StartedAt: *at(2), FinishedAt: at(3), Error: "reading the directory failed"},
				{ID: "00000000-0000-0000-0000-000000000003", Status: bridge.RunSucceeded, DryRun: true, StartedAt: *at(4), FinishedAt: at(5)},
			}
			for _, r := range runs {
				r.AccountID, r.Trigger, r.Kind = bridge.DefaultAccount, bridge.TriggerManual, bridge.RunFull
				if err := store.CreateRun(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.CreateAccount(ctx, bridge.Account{ID: "fresh", Name: "fresh", CreatedAt: base}); err != nil {
				t.Fatal(err)
			}
			h := NewRouter(Options{Store: store})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("/readyz: %d %s", rec.Code, rec.Body)
			}
			var got struct {
				Status string              `json:"status"`
				Syncs  []bridge.SyncHealth `json:"syncs"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			byAccount := map[string]bridge.SyncHealth{}
			for _, s := range got.Syncs {
				byAccount[s.Account] = s
			}
			d := byAccount[bridge.DefaultAccount]
			if got.Status != "ready" || d.LastStatus != bridge.RunFailed || d.LastFinished == nil || !d.LastFinished.Equal(*at(3)) ||
				d.LastSuccessAt == nil || !d.LastSuccessAt.Equal(*at(1)) {
				t.Fatalf("/readyz = %s", rec.Body)
			}
			if f, ok := byAccount["fresh"]; !ok || f.LastStatus != "" || f.LastSuccessAt != nil {
				t.Fatalf("an account without runs: %+v (%v)", f, ok)
			}
		})
	}
}
