package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
)

func runDirectory(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, args, directoryUsage,
		subcommand{"set", runDirectorySet}, subcommand{"show", runDirectoryShow}, subcommand{"ous", runDirectoryOUs})
}

func directoryUsage(w io.Writer) {
	fmt.Fprintln(w, `Usage: scimbridge directory <set|show|ous> --account A [flags]

  set --file F   validate the settings document F (- for stdin) and store it;
                 the password is encrypted at rest and may be left out to keep
                 the stored one
  show           print the stored settings (never the password)
  ous            list the OU tree under the base DN (for picking OUs)`)
}

func runDirectorySet(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "directory set", "directory set --account A --file settings.json")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	file := fs.String("file", "", "settings document (JSON); - reads standard input")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return &exitError{code: 2, err: errors.New("--file is required")}
	}
	data, err := readInput(*file)
	if err != nil {
		return err
	}
	log := pc.logger(env)
	store, err := pc.openStore(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close()
	box, err := pc.secretBox(env, log)
	if err != nil {
		return err
	}
	if _, err := store.GetAccount(ctx, *account); err != nil {
		return fmt.Errorf("account %q: %w", *account, err)
	}
	saved, err := saveSettings(ctx, store, box, *account, data)
	if err != nil {
		var ve *bridge.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(env.stderr, "The settings were not saved; fix these %d problem(s):\n", len(ve.Problems))
			for _, p := range ve.Problems {
				fmt.Fprintf(env.stderr, "  - %s\n", formatProblem(p))
			}
			return &exitError{code: 1, err: errQuiet}
		}
		return err
	}
	fmt.Fprintf(env.stdout, "Saved directory settings for account %q (%s, base DN %s).\n",
		*account, saved.Connection.Host, saved.Connection.BaseDN)
	return nil
}

// saveSettings parses, validates and stores a settings document, sealing the
// password. A document without a password keeps the stored one.
func saveSettings(ctx context.Context, store bridge.SettingsStore, box *bridge.SecretBox, account string, data []byte) (bridge.Settings, error) {
	s, err := bridge.ParseSettings(data)
	if err != nil {
		return bridge.Settings{}, err
	}
	s = s.WithDefaults()
	prev, err := store.GetSettings(ctx, account)
	havePassword := err == nil && len(prev.SealedPassword) > 0
	if err != nil && !errors.Is(err, bridge.ErrNotConfigured) && !errors.Is(err, bridge.ErrNotFound) {
		return bridge.Settings{}, err
	}
	if err := s.Validate(ldapsync.Syntax{}, havePassword); err != nil {
		return bridge.Settings{}, err
	}
	sealed := prev.SealedPassword
	if s.Connection.Password != "" {
		if sealed, err = box.Seal(s.Connection.Password); err != nil {
			return bridge.Settings{}, err
		}
	}
	red := s.Redacted()
	if err := store.PutSettings(ctx, account, bridge.StoredSettings{Settings: red, SealedPassword: sealed}); err != nil {
		return bridge.Settings{}, err
	}
	return red, nil
}

func formatProblem(p bridge.Problem) string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

func runDirectoryShow(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "directory show", "directory show --account A")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, err := pc.openStore(ctx, pc.logger(env))
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := store.GetSettings(ctx, *account)
	if err != nil {
		return fmt.Errorf("account %q: %w", *account, err)
	}
	out, _ := json.MarshalIndent(st.Settings.Redacted(), "", "  ")
	fmt.Fprintln(env.stdout, string(out))
	if len(st.SealedPassword) > 0 {
		fmt.Fprintln(env.stderr, "The bind password is set (write-only: it is stored encrypted and never shown).")
	}
	return nil
}

func runDirectoryOUs(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "directory ous", "directory ous --account A [--json]")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	asJSON := fs.Bool("json", false, "print the tree as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := pc.logger(env)
	conn, err := openAccountDirectory(ctx, env, pc, log, *account)
	if err != nil {
		return err
	}
	defer conn.close()
	tree, err := conn.dir.OUTree(ctx, conn.settings.Connection.BaseDN)
	if err != nil {
		return err
	}
	if *asJSON {
		out, _ := json.MarshalIndent(tree, "", "  ")
		fmt.Fprintln(env.stdout, string(out))
		return nil
	}
	printOUTree(env.stdout, tree, 0)
	return nil
}

func printOUTree(w io.Writer, nodes []bridge.OUNode, depth int) {
	for _, n := range nodes {
		fmt.Fprintf(w, "%s%s  (%s)\n", strings.Repeat("  ", depth), n.Name, n.DN)
		printOUTree(w, n.Children, depth+1)
	}
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return data, nil
}
