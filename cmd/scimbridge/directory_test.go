package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirectorySetReportsEveryProblemAtOnce(t *testing.T) {
	c := newCLI(t)
	r := c.setDirectory(map[string]any{
		"connection": map[string]any{
			"host": "ldap://dc1", "port": 70000, "security": "tls",
			"baseDn": "not a dn", "bindDn": "CN=svc,DC=example,DC=com",
		},
		"organizationalUnits": map[string]any{"mode": "selected", "selected": []string{"OU=Elsewhere,DC=other,DC=com"}},
		"users": map[string]any{
			"mapping":         "custom",
			"customMappings":  []map[string]string{{"scim": "favouriteColour", "ldap": "extensionAttribute1"}},
			"inclusionFilter": "(department=*",
			"exclusionFilter": "title=Contractor)",
		},
		"schedule": map[string]any{"enabled": true, "frequency": "fortnightly", "start": "tomorrow", "timeZone": "Mars/Olympus"},
	})
	if r.code != 1 {
		t.Fatalf("exit = %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"connection.host", "connection.port", "connection.security", "connection.baseDn", "connection.password",
		"users.customMappings[0].scim", `"favouriteColour" is not a SCIM user attribute path`,
		"users.inclusionFilter", "users.exclusionFilter",
		"schedule.frequency", "schedule.start", "schedule.timeZone",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := c.run("directory", "show", "--account", "default"); r.code == 0 {
		t.Fatalf("invalid settings were stored:\n%s", r.stdout)
	}
}

func TestDirectoryPasswordIsWriteOnlyAndEncrypted(t *testing.T) {
	srv, facts := sample(t)
	c := newCLI(t)
	if r := c.setDirectory(sampleDoc(srv, facts)); r.code != 0 {
		t.Fatalf("directory set: exit %d\n%s", r.code, r.stderr)
	}
	r := c.run("directory", "show", "--account", "default")
	if r.code != 0 {
		t.Fatalf("directory show: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "Demo-Passw0rd") || strings.Contains(r.stdout, `"password"`) {
		t.Fatalf("directory show printed the password:\n%s%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, facts.ServiceDN) {
		t.Fatalf("directory show lacks the bind DN:\n%s", r.stdout)
	}
	// The password is nowhere on disk in plaintext (database, WAL, key file).
	entries, _ := os.ReadDir(c.dataDir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(c.dataDir, e.Name()))
		if strings.Contains(string(data), "Demo-Passw0rd") {
			t.Fatalf("%s holds the password in plaintext", e.Name())
		}
	}
	// Saving again without a password keeps the stored one.
	doc := sampleDoc(srv, facts)
	delete(doc["connection"].(map[string]any), "password")
	if r := c.setDirectory(doc); r.code != 0 {
		t.Fatalf("directory set without password: exit %d\n%s", r.code, r.stderr)
	}
	if r := c.run("test-connection", "--account", "default"); r.code != 0 {
		t.Fatalf("the kept password no longer binds: %s", r.stderr)
	}
}

func TestWrongSecretKeyIsAClearError(t *testing.T) {
	srv, facts := sample(t)
	c := newCLI(t)
	if r := c.setDirectory(sampleDoc(srv, facts)); r.code != 0 {
		t.Fatalf("directory set: %s", r.stderr)
	}
	c.env["SCIMBRIDGE_SECRET_KEY"] = strings.Repeat("ab", 32)
	r := c.run("test-connection", "--account", "default")
	if r.code == 0 || !strings.Contains(r.stderr, "sealed with key") {
		t.Fatalf("a wrong key gave exit %d: %s", r.code, r.stderr)
	}
	c.env["SCIMBRIDGE_SECRET_KEY"] = "too-short"
	if r := c.run("test-connection", "--account", "default"); r.code == 0 || !strings.Contains(r.stderr, "32 bytes") {
		t.Fatalf("a malformed key gave exit %d: %s", r.code, r.stderr)
	}
}
