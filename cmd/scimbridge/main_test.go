package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// cli runs scimbridge in-process with its own data directory and environment.
type cli struct {
	t       *testing.T
	dataDir string
	env     map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, dataDir: t.TempDir(), env: map[string]string{}}
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "SCIMBRIDGE_DATA_DIR" {
			return c.dataDir
		}
		return c.env[k]
	}}
	code := run(context.Background(), env, args)
	return result{out.String(), errb.String(), code}
}

// setDirectory stores a settings document built from doc.
func (c *cli) setDirectory(doc map[string]any) result {
	c.t.Helper()
	path := filepath.Join(c.t.TempDir(), "settings.json")
	data, _ := json.Marshal(doc)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return c.run("directory", "set", "--account", "default", "--file", path)
}

// sample starts the in-process AD-shaped sample directory.
func sample(t *testing.T) (*adsim.Server, adsim.SampleFacts) {
	t.Helper()
	srv, facts, err := adsim.NewSample("DC=example,DC=com", adsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, facts
}

func sampleDoc(srv *adsim.Server, facts adsim.SampleFacts) map[string]any {
	host, port := splitAddr(srv.Addr())
	return map[string]any{
		"connection": map[string]any{
			"host": host, "port": port, "security": "none", "timeoutSeconds": 5,
			"baseDn": "DC=example,DC=com", "bindDn": facts.ServiceDN, "password": adsim.SamplePassword,
		},
		"organizationalUnits": map[string]any{"mode": "all"},
		"distributionLists":   map[string]any{"import": true},
	}
}

func splitAddr(addr string) (string, int) {
	i := strings.LastIndex(addr, ":")
	port := 0
	for _, c := range addr[i+1:] {
		port = port*10 + int(c-'0')
	}
	return addr[:i], port
}

func TestEverySubcommandAnswersHelp(t *testing.T) {
	c := newCLI(t)
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			r := c.run(cmd.name, "--help")
			if r.code != 0 {
				t.Fatalf("%s --help exited %d: %s", cmd.name, r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "Usage: scimbridge "+cmd.name) {
				t.Fatalf("%s --help printed no usage:\n%s", cmd.name, r.stderr)
			}
		})
	}
	if r := c.run("no-such-command"); r.code != 2 {
		t.Fatalf("an unknown command exited %d, want 2", r.code)
	}
}

func TestVersion(t *testing.T) {
	r := newCLI(t).run("version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "scimbridge ") {
		t.Fatalf("version = %q (exit %d)", r.stdout, r.code)
	}
}
