package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

func runToken(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, args, tokenUsage,
		subcommand{"create", runTokenCreate}, subcommand{"list", runTokenList}, subcommand{"revoke", runTokenRevoke})
}

func tokenUsage(w io.Writer) {
	fmt.Fprintln(w, `Usage: scimbridge token <create|list|revoke> --account A [flags]

  create --role scim|admin|auditor [--name N]
                 create a token and print it alone on stdout (shown once:
                 only its hash is stored)
  list           list the account's tokens (never the secrets)
  revoke --id ID delete a token`)
}

func runTokenCreate(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "token create", "token create --account A --role scim|admin|auditor [--name N]")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	role := fs.String("role", "", "scim (reads /scim/v2), admin (the admin API) or auditor (runs and audit, read-only)")
	name := fs.String("name", "", "a label to recognise the token by")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !bridge.ValidTokenRole(bridge.TokenRole(*role)) {
		return &exitError{code: 2, err: fmt.Errorf("--role must be scim, admin or auditor, not %q", *role)}
	}
	store, err := pc.openStore(ctx, pc.logger(env))
	if err != nil {
		return err
	}
	defer store.Close()
	token, err := createToken(ctx, store, *account, bridge.TokenRole(*role), *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, token)
	return nil
}

// createToken stores a new token's hash and returns the token.
func createToken(ctx context.Context, store bridge.Store, account string, role bridge.TokenRole, name string) (string, error) {
	if _, err := store.GetAccount(ctx, account); err != nil {
		return "", fmt.Errorf("account %q: %w", account, err)
	}
	token, hash, err := bridge.NewTokenSecret()
	if err != nil {
		return "", err
	}
	t := bridge.Token{ID: uuid.NewString(), AccountID: account, Role: role, Name: name, Hash: hash, CreatedAt: time.Now().UTC()}
	if err := store.CreateToken(ctx, t); err != nil {
		return "", err
	}
	return token, nil
}

func runTokenList(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "token list", "token list --account A")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := pc.openStore(ctx, pc.logger(env))
	if err != nil {
		return err
	}
	defer store.Close()
	tokens, err := store.ListTokens(ctx, *account)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tROLE\tNAME\tCREATED")
	for _, t := range tokens {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Name, t.CreatedAt.Format(time.RFC3339))
	}
	return w.Flush()
}

func runTokenRevoke(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "token revoke", "token revoke --account A --id ID")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	id := fs.String("id", "", "token id (from token list)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := pc.openStore(ctx, pc.logger(env))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.DeleteToken(ctx, *account, *id); err != nil {
		return fmt.Errorf("token %q: %w", *id, err)
	}
	fmt.Fprintf(env.stdout, "Revoked token %s.\n", *id)
	return nil
}
