// Package scimapi is the HTTP surface of scimbridge on one gorilla/mux
// router: the SCIM 2.0 endpoint at /scim/v2, the admin API at /api/v1, the
// console at /console, and /healthz and /readyz.
package scimapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/admin"
	"github.com/scimbridge/scimbridge/scimapi/auth"
	"github.com/scimbridge/scimbridge/scimapi/console"
	"github.com/scimbridge/scimbridge/scimapi/metrics"
)

// Options wires the router to the domain.
type Options struct {
	Store bridge.Store
	Log   *slog.Logger
	// Resources serves the SCIM endpoint; when nil, Store is used if it
	// implements bridge.ResourceStore (db.Store does).
	Resources bridge.ResourceStore
	// SCIMBaseURL is the public URL of /scim/v2 for meta.location and
	// Location headers; by default it is derived from each request.
	SCIMBaseURL string
	// MaxBodyBytes caps request bodies on /scim/v2 (default 1 MiB; also
	// the advertised bulk maxPayloadSize).
	MaxBodyBytes int64
	// Admin, when set, mounts the admin API at /api/v1.
	Admin *admin.Options
	// Metrics, when set, serves /metrics and records HTTP latency by route.
	Metrics *metrics.Metrics
	// Console, when set, serves the web console at /console (it calls the
	// admin API through this router).
	Console *console.Options
	// AuthLimiter rate-limits authentication failures per client on
	// /scim/v2, /api/v1 and the console sign-in, one limiter for all three
	// (auth.NewLimiter with the defaults when nil). Admin and Console
	// options that name their own limiter keep it.
	AuthLimiter *auth.Limiter
}

// NewRouter builds the whole HTTP surface.
func NewRouter(opt Options) http.Handler {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Resources == nil {
		opt.Resources, _ = opt.Store.(bridge.ResourceStore)
	}
	if opt.AuthLimiter == nil {
		opt.AuthLimiter = auth.NewLimiter(auth.LimiterConfig{Log: opt.Log})
	}
	r := mux.NewRouter()
	if opt.Metrics != nil {
		r.Use(opt.Metrics.Middleware)
		r.Handle("/metrics", opt.Metrics.Handler()).Methods(http.MethodGet)
	}
	if opt.Admin != nil {
		a := *opt.Admin
		if a.Log == nil {
			a.Log = opt.Log
		}
		if a.Limiter == nil {
			a.Limiter = opt.AuthLimiter
		}
		admin.Mount(r.PathPrefix("/api/v1").Subrouter(), a)
	}
	if opt.Console != nil && opt.Console.Limiter == nil {
		c := *opt.Console
		c.Limiter = opt.AuthLimiter
		opt.Console = &c
	}
	console.Mount(r, r, opt.Console)
	if opt.Resources != nil {
		mountSCIM(r.PathPrefix("/scim/v2").Subrouter(), opt)
	}
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet)
	health := &healthCache{store: opt.Store}
	r.HandleFunc("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		if err := opt.Store.Ping(ctx); err != nil {
			opt.Log.Warn("readiness check failed", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
		// The last sync state is reported, not judged: a failed sync leaves
		// the last good data servable, so it does not make a replica unready.
		syncs, err := health.get(ctx)
		if err != nil {
			opt.Log.Warn("readiness check could not read the runs", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "syncs": syncs})
	}).Methods(http.MethodGet)
	return scimPaths(r)
}

// scimPaths serves /scim/v2 as /scim/v2/ (the root query, RFC 7644
// 3.4.2.1, is at the base URL itself) and drops a trailing slash after it
// (/scim/v2/Users/ is /scim/v2/Users), as clients and conformance suites
// write both forms.
func scimPaths(next http.Handler) http.Handler {
	const base = "/scim/v2"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == base:
			r.URL.Path, r.URL.RawPath = base+"/", ""
		case len(p) > len(base)+1 && strings.HasPrefix(p, base+"/") && strings.HasSuffix(p, "/"):
			r.URL.Path = strings.TrimRight(p, "/")
			r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
			if r.URL.Path == base {
				r.URL.Path = base + "/"
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
