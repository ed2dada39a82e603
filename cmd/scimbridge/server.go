package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/admin"
	"github.com/scimbridge/scimbridge/scimapi/auth"
	"github.com/scimbridge/scimbridge/scimapi/console"
	"github.com/scimbridge/scimbridge/scimapi/metrics"
)

// runServer serves SCIM, the admin API and metrics on ln, runs the
// scheduler, and on shutdown drains HTTP requests and cancels running syncs
// cleanly. Every replica runs the scheduler; the store's per-account lock
// lets exactly one of them run each sync.
func runServer(ctx context.Context, env *cliEnv, ln net.Listener, store *db.Store, box *bridge.SecretBox, log *slog.Logger) error {
	// X-Forwarded-For names the client for the authentication-failure
	// limiter only behind these proxies (none unless set).
	trusted, err := auth.ParseTrustedProxies(env.getenv("SCIMBRIDGE_TRUSTED_PROXIES"))
	if err != nil {
		return fmt.Errorf("SCIMBRIDGE_TRUSTED_PROXIES: %w", err)
	}
	m := metrics.New()
	runner := bridge.NewRunner(bridge.Engine{Store: store, Open: ldapsync.Open, Secrets: box.Open, Log: log}, log)
	runner.OnFinish = m.ObserveRun
	// The last-success gauge survives a restart: fill it from the runs.
	if health, err := bridge.SyncHealthOf(ctx, store); err == nil {
		for _, h := range health {
			if h.LastSuccessAt != nil {
				m.SetLastSuccess(h.Account, *h.LastSuccessAt)
			}
		}
	} else {
		log.Warn("cannot read the last successful runs for the metrics", "err", err)
	}
	go runner.Watch(ctx)
	go (&bridge.Scheduler{Runner: runner, Log: log}).Serve(ctx)

	h := scimapi.NewRouter(scimapi.Options{Store: store, Log: log, Metrics: m,
		AuthLimiter: auth.NewLimiter(auth.LimiterConfig{TrustedProxies: trusted, Log: log}),
		Admin: &admin.Options{
			Store: store, Runner: runner, Syntax: ldapsync.Syntax{}, Open: ldapsync.Open,
			Secrets: box, AdminToken: env.getenv("SCIMBRIDGE_ADMIN_TOKEN"), Log: log,
		},
		Console: &console.Options{Tokens: store, AdminToken: env.getenv("SCIMBRIDGE_ADMIN_TOKEN"), Secrets: box, Syntax: ldapsync.Syntax{}, Log: log},
	})
	err = serveHTTP(ctx, ln, h, log)
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cerr := runner.Close(closeCtx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}
