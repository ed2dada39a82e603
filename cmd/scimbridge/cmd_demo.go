package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// demoBaseDN is the naming context of the built-in sample directory.
const demoBaseDN = "DC=example,DC=com"

func runDemo(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "demo", "demo [--listen ADDR] [--ldap-listen ADDR] [--data-dir DIR]")
	listen := fs.String("listen", envOr(env, "SCIMBRIDGE_LISTEN", "127.0.0.1:8080"), "HTTP address to listen on")
	ldapListen := fs.String("ldap-listen", "127.0.0.1:0", "address of the built-in sample LDAP directory (port 0: any free port)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// A fresh temporary data directory unless one was asked for, so every
	// demo starts from the same state.
	dataDirSet := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "data-dir" {
			dataDirSet = true
		}
	})
	if !dataDirSet && env.getenv("SCIMBRIDGE_DATA_DIR") == "" && pc.databaseURL == "" {
		dir, err := os.MkdirTemp("", "scimbridge-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		pc.dataDir = dir
	}
	log := pc.logger(env)

	dir, facts, err := adsim.NewSample(demoBaseDN, adsim.Options{Addr: *ldapListen})
	if err != nil {
		return fmt.Errorf("cannot start the sample directory: %w", err)
	}
	defer dir.Close()
	host, port, _ := net.SplitHostPort(dir.Addr())
	portNum, _ := strconv.Atoi(port)

	store, box, err := pc.openStoreAndSecrets(ctx, env, log)
	if err != nil {
		return err
	}
	defer store.Close()
	doc := map[string]any{
		"connection": map[string]any{
			"host": host, "port": portNum, "security": "none",
			"baseDn": demoBaseDN, "bindDn": facts.ServiceDN, "password": adsim.SamplePassword,
		},
		"organizationalUnits": map[string]any{"mode": "all"},
		"distributionLists":   map[string]any{"import": true},
	}
	data, _ := json.Marshal(doc)
	if _, err := saveSettings(ctx, store, box, bridge.DefaultAccount, data); err != nil {
		return fmt.Errorf("cannot store the demo settings: %w", err)
	}
	scimToken, err := createToken(ctx, store, bridge.DefaultAccount, bridge.TokenSCIM, "demo")
	if err != nil {
		return err
	}
	adminToken, err := createToken(ctx, store, bridge.DefaultAccount, bridge.TokenAdmin, "demo")
	if err != nil {
		return err
	}
	eng := &bridge.Engine{Store: store, Open: ldapsync.Open, Secrets: box.Open, Log: log}
	run, err := eng.Run(ctx, bridge.RunOptions{Account: bridge.DefaultAccount, Trigger: bridge.TriggerDemo})
	if err != nil && run.ID == "" {
		return fmt.Errorf("the first sync could not start: %w", err)
	}
	if run.Status != bridge.RunSucceeded {
		return fmt.Errorf("the first sync of the sample directory ended %s: %s", run.Status, run.Error)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *listen, err)
	}
	base := "http://" + ln.Addr().String()
	w := env.stdout
	fmt.Fprintf(w, "\nscimbridge demo: the sample directory is synced.\n\n")
	fmt.Fprintf(w, "  Sync:           %s\n", run.Summary())
	fmt.Fprintf(w, "  Sample LDAP:    ldap://%s  (bind %s / %s)\n", dir.Addr(), facts.ServiceDN, adsim.SamplePassword)
	fmt.Fprintf(w, "  Data directory: %s\n", pc.dataDir)
	fmt.Fprintf(w, "  Console:        %s/console/  (sign in with the admin token)\n", base)
	fmt.Fprintf(w, "  Admin API:      %s/api/v1  (docs/api.md)\n", base)
	fmt.Fprintf(w, "  SCIM endpoint:  %s/scim/v2\n", base)
	fmt.Fprintf(w, "  SCIM token:     %s\n", scimToken)
	fmt.Fprintf(w, "  Admin token:    %s\n\n", adminToken)
	fmt.Fprintf(w, "Try:\n  curl -H 'Authorization: Bearer %s' '%s/scim/v2/Users?count=5'\n", scimToken, base)
	fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/accounts/default/runs'\n\n", adminToken, base)
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
	return runServer(ctx, env, ln, store, box, log)
}
