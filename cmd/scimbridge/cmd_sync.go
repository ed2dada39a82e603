package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
)

func runSync(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "sync", "sync --account A [--dry-run] [--full] [--approve RUN] [--json]")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	dryRun := fs.Bool("dry-run", false, "plan only: report what a real run would do, change nothing")
	full := fs.Bool("full", false, "force a full enumeration instead of a delta run")
	approve := fs.String("approve", "", "carry out RUN, a run held by the deletion threshold")
	asJSON := fs.Bool("json", false, "print the run report as one JSON document")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := pc.logger(env)
	store, box, err := pc.openStoreAndSecrets(ctx, env, log)
	if err != nil {
		return err
	}
	defer store.Close()
	eng := &bridge.Engine{Store: store, Open: ldapsync.Open, Secrets: box.Open, Log: log}
	trigger := bridge.TriggerCLI
	run, err := eng.Run(ctx, bridge.RunOptions{Account: *account, Trigger: trigger, DryRun: *dryRun, Full: *full, ApproveRunID: *approve})
	if err != nil && run.ID == "" {
		// The run could not even start (locked, unknown account, no settings).
		return err
	}
	if *asJSON {
		out, _ := json.MarshalIndent(run, "", "  ")
		fmt.Fprintln(env.stdout, string(out))
	} else {
		fmt.Fprintln(env.stdout, run.Summary())
	}
	return runExit(run)
}

// runExit maps a run's status to the exit status: 0 only on success.
func runExit(run bridge.Run) error {
	switch run.Status {
	case bridge.RunSucceeded:
		return nil
	case bridge.RunHeld:
		return &exitError{code: 3, err: errQuiet}
	case bridge.RunCancelled:
		return &exitError{code: 130, err: errQuiet}
	default:
		return &exitError{code: 1, err: errQuiet}
	}
}
