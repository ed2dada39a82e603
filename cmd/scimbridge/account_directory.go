package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/ldapsync"
)

// accountDirectory is an open directory connection with the settings it was
// opened from, and the store they came from.
type accountDirectory struct {
	store    *db.Store
	settings bridge.Settings
	dir      bridge.Directory
}

func (a *accountDirectory) close() {
	if a.dir != nil {
		a.dir.Close()
	}
	a.store.Close()
}

// openAccountDirectory loads an account's settings, unseals the password and
// binds to its directory.
func openAccountDirectory(ctx context.Context, env *cliEnv, pc *processConfig, log *slog.Logger, account string) (*accountDirectory, error) {
	store, err := pc.openStore(ctx, log)
	if err != nil {
		return nil, err
	}
	st, err := store.GetSettings(ctx, account)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("account %q: %w (run: scimbridge directory set --account %s --file settings.json)", account, err, account)
	}
	box, err := pc.secretBox(env, log)
	if err != nil {
		store.Close()
		return nil, err
	}
	password, err := box.Open(st.SealedPassword)
	if err != nil {
		store.Close()
		return nil, err
	}
	dir, err := ldapsync.Open(ctx, st.Settings.Connection, password, log)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &accountDirectory{store: store, settings: st.Settings, dir: dir}, nil
}
