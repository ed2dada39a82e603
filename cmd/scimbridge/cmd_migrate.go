package main

import (
	"context"
	"fmt"
)

func runMigrate(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "migrate", "migrate [--database-url URL | --data-dir DIR]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Opening the store applies every pending migration in order, each in
	// its own transaction, under a lock on PostgreSQL.
	store, err := pc.openStore(ctx, pc.logger(env))
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.AppliedMigrations(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "The database schema is up to date (%d migrations applied).\n", len(applied))
	return nil
}
