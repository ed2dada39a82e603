package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// TestServeRefusesAWrongOrMissingSecretKey: serve must not start with a
// key that cannot open the stored bind password (a wrong
// SCIMBRIDGE_SECRET_KEY, or a lost secret.key that would be silently
// regenerated), nor without a key on PostgreSQL. The stored password is
// never in the database in plaintext.
func TestServeRefusesAWrongOrMissingSecretKey(t *testing.T) {
	cases := []struct {
		name, backend string
		change        func(p *proc, dataDir string)
		want          string
	}{
		{"wrong SCIMBRIDGE_SECRET_KEY (sqlite)", "sqlite", func(p *proc, _ string) {
			p.setenv("SCIMBRIDGE_SECRET_KEY=" + strings.Repeat("cd", 32))
		}, "sealed with key"},
		{"secret.key deleted (sqlite)", "sqlite", func(p *proc, dir string) {
			if err := os.Remove(filepath.Join(dir, "secret.key")); err != nil {
				t.Fatal(err)
			}
		}, "sealed with key"},
		{"malformed key", "sqlite", func(p *proc, _ string) { p.setenv("SCIMBRIDGE_SECRET_KEY=short") }, "32 bytes"},
		{"wrong key (postgres)", "postgres", func(p *proc, _ string) {
			p.setenv("SCIMBRIDGE_SECRET_KEY=" + strings.Repeat("cd", 32))
		}, "sealed with key"},
		{"no key (postgres)", "postgres", func(p *proc, _ string) { p.setenv("SCIMBRIDGE_SECRET_KEY=") }, "SCIMBRIDGE_SECRET_KEY is not set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProc(t, c.backend)
			_, doc := sampleBehind(t)
			p.setDirectory(doc)
			// The password is not in the database in plaintext.
			if c.backend == "sqlite" {
				dir := dataDirOf(p)
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
					if strings.Contains(string(data), adsim.SamplePassword) {
						t.Fatalf("%s holds the bind password in plaintext", e.Name())
					}
				}
			}
			c.change(p, dataDirOf(p))
			cmd := p.cmd("serve", "--listen", "127.0.0.1:0")
			var out logBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(out.String(), c.want) {
					t.Fatalf("serve exited with %v, output lacks %q:\n%s", err, c.want, out.String())
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("serve started with a key that cannot open the stored password:\n%s", out.String())
			}
		})
	}
}

func dataDirOf(p *proc) string {
	for i := len(p.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(p.env[i], "SCIMBRIDGE_DATA_DIR="); ok {
			return v
		}
	}
	return ""
}
