package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/metrics"
)

func TestMetrics(t *testing.T) {
	m := metrics.New()
	r := mux.NewRouter()
	r.Use(m.Middleware)
	r.Handle("/metrics", m.Handler())
	sub := r.PathPrefix("/api/v1").Subrouter()
	sub.HandleFunc("/accounts/{a}/runs/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })

	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/accounts/default/runs/123", nil))
	done := time.Unix(1_800_000_000, 0)
	m.ObserveRun(bridge.Run{AccountID: "default", Trigger: bridge.TriggerSchedule, Status: bridge.RunSucceeded, FinishedAt: &done,
		Counts: bridge.RunCounts{Users: bridge.Counts{Added: 3, Deleted: 1}}}, 2*time.Second)
	m.ObserveRun(bridge.Run{AccountID: "default", Trigger: bridge.TriggerManual, Status: bridge.RunSucceeded, DryRun: true,
		Counts: bridge.RunCounts{Users: bridge.Counts{Added: 100}}}, time.Second)

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	for _, want := range []string{
		`scimbridge_http_request_duration_seconds_count{code="418",method="GET",route="/api/v1/accounts/{a}/runs/{id}"} 1`,
		`scimbridge_sync_objects_total{account="default",action="add",type="user"} 3`,
		`scimbridge_sync_objects_total{account="default",action="delete",type="user"} 1`,
		`scimbridge_sync_last_success_timestamp_seconds{account="default"} 1.8e+09`,
		`scimbridge_sync_run_duration_seconds_count{account="default",dry_run="true",status="succeeded",trigger="manual"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
