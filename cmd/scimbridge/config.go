package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
)

var errHelp = errors.New("help requested")

// processConfig holds the process settings every command shares. They come
// from flags, defaulting to SCIMBRIDGE_* environment variables.
type processConfig struct {
	dataDir     string
	databaseURL string
	logLevel    string
}

// newFlagSet builds a subcommand's flag set with the shared process flags.
func newFlagSet(env *cliEnv, name, synopsis string) (*flag.FlagSet, *processConfig) {
	fs := flag.NewFlagSet("scimbridge "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	pc := &processConfig{}
	fs.StringVar(&pc.dataDir, "data-dir", envOr(env, "SCIMBRIDGE_DATA_DIR", "data"),
		"directory for the SQLite database and the generated secret key (env SCIMBRIDGE_DATA_DIR)")
	fs.StringVar(&pc.databaseURL, "database-url", env.getenv("SCIMBRIDGE_DATABASE_URL"),
		"postgres://... to use PostgreSQL instead of SQLite (env SCIMBRIDGE_DATABASE_URL)")
	fs.StringVar(&pc.logLevel, "log-level", envOr(env, "SCIMBRIDGE_LOG_LEVEL", "info"),
		"debug, info, warn or error (env SCIMBRIDGE_LOG_LEVEL)")
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: scimbridge %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs, pc
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &exitError{code: 2, err: errQuiet}
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))}
	}
	return nil
}

func envOr(env *cliEnv, key, def string) string {
	if v := env.getenv(key); v != "" {
		return v
	}
	return def
}

func (pc *processConfig) logger(env *cliEnv) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(pc.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: level}))
}

// openStore opens (and migrates) the database the process settings name.
func (pc *processConfig) openStore(ctx context.Context, log *slog.Logger) (*db.Store, error) {
	if pc.databaseURL == "" {
		if err := os.MkdirAll(pc.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("cannot create the data directory %s: %w", pc.dataDir, err)
		}
	}
	return db.Open(ctx, db.Config{URL: pc.databaseURL, DataDir: pc.dataDir, Logger: log})
}

// secretKeyFile is where the embedded default keeps a generated key.
const secretKeyFile = "secret.key"

// secretBox builds the box that seals stored secrets. The key comes from
// SCIMBRIDGE_SECRET_KEY (32 bytes, base64 or hex). Without it, the embedded
// SQLite default keeps a generated key in the data directory; PostgreSQL
// deployments must set the variable, since every replica needs the same key
// and a key beside one replica's data would be lost with it.
func (pc *processConfig) secretBox(env *cliEnv, log *slog.Logger) (*bridge.SecretBox, error) {
	if v := strings.TrimSpace(env.getenv("SCIMBRIDGE_SECRET_KEY")); v != "" {
		key, err := decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("SCIMBRIDGE_SECRET_KEY: %w", err)
		}
		return bridge.NewSecretBox(key)
	}
	if pc.databaseURL != "" {
		return nil, fmt.Errorf("%w: SCIMBRIDGE_SECRET_KEY is not set; with PostgreSQL every replica needs the same key "+
			"(generate one with: head -c 32 /dev/urandom | base64)", bridge.ErrSecretKey)
	}
	path := filepath.Join(pc.dataDir, secretKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, bridge.SecretKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(pc.dataDir, 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("cannot write the generated secret key %s: %w", path, err)
		}
		log.Info("generated a secret key for stored secrets; back it up with the database", "path", path)
		return bridge.NewSecretBox(key)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read %s: %v", bridge.ErrSecretKey, path, err)
	}
	key, err := decodeKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return bridge.NewSecretBox(key)
}

func decodeKey(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == bridge.SecretKeySize {
		return b, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == bridge.SecretKeySize {
		return b, nil
	}
	return nil, fmt.Errorf("%w: the key must be %d bytes in base64 or hex", bridge.ErrSecretKey, bridge.SecretKeySize)
}

// openStoreAndSecrets opens the database and the box sealing its secrets:
// what every command that syncs or serves needs. The caller closes the store.
func (pc *processConfig) openStoreAndSecrets(ctx context.Context, env *cliEnv, log *slog.Logger) (*db.Store, *bridge.SecretBox, error) {
	store, err := pc.openStore(ctx, log)
	if err != nil {
		return nil, nil, err
	}
	box, err := pc.secretBox(env, log)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, box, nil
}
