package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTokenCreateListRevoke(t *testing.T) {
	c := newCLI(t)
	r := c.run("token", "create", "--account", "default", "--role", "scim", "--name", "crm")
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(token, "scb_") || strings.Contains(token, "\n") {
		t.Fatalf("token create printed %q (exit %d): %s", r.stdout, r.code, r.stderr)
	}
	if r := c.run("token", "create", "--account", "default", "--role", "root"); r.code != 2 {
		t.Fatalf("a bad role exited %d", r.code)
	}
	if r := c.run("token", "create", "--account", "nobody", "--role", "scim"); r.code == 0 {
		t.Fatal("a token was created for an unknown account")
	}
	list := c.run("token", "list", "--account", "default")
	if list.code != 0 || !strings.Contains(list.stdout, "crm") || strings.Contains(list.stdout, token) {
		t.Fatalf("token list:\n%s", list.stdout)
	}
	id := strings.Fields(strings.Split(list.stdout, "\n")[1])[0]
	if r := c.run("token", "revoke", "--account", "default", "--id", id); r.code != 0 {
		t.Fatalf("revoke: %s", r.stderr)
	}
	if list := c.run("token", "list", "--account", "default"); strings.Contains(list.stdout, "crm") {
		t.Fatalf("revoked token still listed:\n%s", list.stdout)
	}
}

func TestSyncJSONReport(t *testing.T) {
	srv, facts := sample(t)
	c := newCLI(t)
	if r := c.setDirectory(sampleDoc(srv, facts)); r.code != 0 {
		t.Fatalf("directory set: %s", r.stderr)
	}
	type counts struct{ Added, Updated, Deleted, Unchanged int }
	var rep struct {
		ID, Status, Kind string
		DryRun           bool
		Error            string
		Counts           struct{ Users, Groups counts }
	}
	dry := c.run("sync", "--account", "default", "--dry-run", "--json")
	if err := json.Unmarshal([]byte(dry.stdout), &rep); err != nil || dry.code != 0 {
		t.Fatalf("dry run: exit %d, %v\n%s%s", dry.code, err, dry.stdout, dry.stderr)
	}
	if !rep.DryRun || rep.Status != "succeeded" || rep.Counts.Users.Added != facts.Users {
		t.Fatalf("dry run report: %+v", rep)
	}
	dryUsers := rep.Counts.Users
	real := c.run("sync", "--account", "default", "--json")
	if err := json.Unmarshal([]byte(real.stdout), &rep); err != nil || real.code != 0 {
		t.Fatalf("sync: exit %d, %v\n%s", real.code, err, real.stderr)
	}
	if rep.DryRun || rep.Counts.Users != dryUsers || rep.Kind != "full" {
		t.Fatalf("real run %+v differs from the dry run's users %+v", rep, dryUsers)
	}
	again := c.run("sync", "--account", "default")
	if again.code != 0 || !strings.Contains(again.stdout, "succeeded") {
		t.Fatalf("second sync: exit %d\n%s", again.code, again.stdout)
	}
}
