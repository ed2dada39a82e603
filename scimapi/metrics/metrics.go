// Package metrics exposes scimbridge's Prometheus metrics: sync run
// durations, objects per action, the last successful run per account, and
// HTTP latency by route.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimbridge/scimbridge/bridge"
)

// Metrics holds the collectors on their own registry.
type Metrics struct {
	Registry    *prometheus.Registry
	runDuration *prometheus.HistogramVec
	objects     *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	httpLatency *prometheus.HistogramVec
}

// New builds the collectors, with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "scimbridge", Name: "sync_run_duration_seconds",
			Help:    "Duration of sync runs, by account, trigger, status and dry run.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600},
		}, []string{"account", "trigger", "status", "dry_run"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "scimbridge", Name: "sync_objects_total",
			Help: "Objects handled by sync runs (dry runs excluded), by account, object type and action.",
		}, []string{"account", "type", "action"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "scimbridge", Name: "sync_last_success_timestamp_seconds",
			Help: "Unix time at which the last successful (non-dry) sync run of the account finished.",
		}, []string{"account"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "scimbridge", Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route template, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
	}
	m.Registry.MustRegister(m.runDuration, m.objects, m.lastSuccess, m.httpLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// ObserveRun records a finished run (bridge.Runner.OnFinish).
func (m *Metrics) ObserveRun(r bridge.Run, took time.Duration) {
	m.runDuration.WithLabelValues(r.AccountID, string(r.Trigger), string(r.Status), strconv.FormatBool(r.DryRun)).Observe(took.Seconds())
	if r.DryRun {
		return
	}
	for typ, c := range map[string]bridge.Counts{"user": r.Counts.Users, "group": r.Counts.Groups} {
		for action, n := range map[string]int{"add": c.Added, "update": c.Updated, "deactivate": c.Deactivated,
			"reactivate": c.Reactivated, "delete": c.Deleted, "unchanged": c.Unchanged, "skip": c.Skipped,
			"refuse": c.Refused, "error": c.Errors} {
			if n > 0 {
				m.objects.WithLabelValues(r.AccountID, typ, action).Add(float64(n))
			}
		}
	}
	if r.Status == bridge.RunSucceeded {
		at := time.Now()
		if r.FinishedAt != nil {
			at = *r.FinishedAt
		}
		m.lastSuccess.WithLabelValues(r.AccountID).Set(float64(at.Unix()))
	}
}

// SetLastSuccess seeds the last-success gauge (at start, from the store).
func (m *Metrics) SetLastSuccess(account string, at time.Time) {
	m.lastSuccess.WithLabelValues(account).Set(float64(at.Unix()))
}

// Middleware records HTTP latency labelled by the matched mux route
// template (never the raw path, which would explode the label set). Use it
// with mux.Router.Use so the route is known.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				route = t
			}
		}
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		began := time.Now()
		next.ServeHTTP(sw, r)
		m.httpLatency.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Observe(time.Since(began).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
