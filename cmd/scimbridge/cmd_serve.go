package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "serve", "serve [--listen ADDR]")
	listen := fs.String("listen", envOr(env, "SCIMBRIDGE_LISTEN", "127.0.0.1:8080"), "address to listen on (env SCIMBRIDGE_LISTEN)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := pc.logger(env)
	// Fail early on a missing or wrong key rather than at the first sync.
	store, box, err := pc.openStoreAndSecrets(ctx, env, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := checkSecrets(ctx, store, box); err != nil {
		return err
	}
	if n, err := store.FailAbandonedRuns(ctx, "the process running it stopped before the run finished"); err != nil {
		return err
	} else if n > 0 {
		log.Warn("marked runs left by a stopped process as failed", "runs", n)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *listen, err)
	}
	return runServer(ctx, env, ln, store, box, log)
}

// serveHTTP serves until ctx ends, then drains requests for up to 15 s.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", "http://"+ln.Addr().String(), "scim", "/scim/v2", "admin", "/api/v1")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkSecrets opens every stored bind password with box, so a wrong key
// (or a lost secret.key, silently regenerated) is a start-up error rather
// than a failure at each account's next sync.
func checkSecrets(ctx context.Context, store bridge.Store, box *bridge.SecretBox) error {
	accounts, err := store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		s, err := store.GetSettings(ctx, a.ID)
		if errors.Is(err, bridge.ErrNotConfigured) {
			continue
		}
		if err != nil {
			return err
		}
		if len(s.SealedPassword) == 0 {
			continue
		}
		if _, err := box.Open(s.SealedPassword); err != nil {
			return fmt.Errorf("the stored bind password of account %s cannot be decrypted: %w", a.ID, err)
		}
	}
	return nil
}
