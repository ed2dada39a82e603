package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/labseed"
)

// labOrSkip returns the running Samba lab; without one the test skips, or
// fails when CI=true.
func labOrSkip(t *testing.T) labseed.Lab {
	t.Helper()
	lab, ok, err := labseed.LabFromEnv()
	if err == nil && !ok {
		lab, err = labseed.ReadLabFile(labseed.DefaultEnvFile)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Samba lab not available: %v (run scripts/samba-lab.sh up)", err)
		}
		t.Skipf("Samba lab not available: %v (run scripts/samba-lab.sh up)", err)
	}
	return lab
}

// test-connection against a real AD reports what the settings put in scope,
// exactly as seeded, over LDAPS verified with the lab's CA.
func TestTestConnectionSambaCounts(t *testing.T) {
	lab := labOrSkip(t)
	x := lab.Seed().Expected()
	ca, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := func(ous map[string]any) map[string]any {
		return map[string]any{
			"connection": map[string]any{
				"host": lab.Host, "port": lab.LDAPSPort, "security": "ldaps", "caCertificate": string(ca),
				"baseDn": lab.BaseDN, "bindDn": lab.BindDN, "password": lab.Password,
			},
			"organizationalUnits": ous,
			"distributionLists":   map[string]any{"import": true},
		}
	}
	// Only OU=Corp's subtree holds users other than svc-scim and the two
	// contractors; OU=Groups holds every seeded group.
	corpUsers := 0
	for dn, n := range x.UsersByOU {
		if strings.HasSuffix(strings.ToLower(dn), strings.ToLower(x.CorpOU)) {
			corpUsers += n
		}
	}
	tests := []struct {
		name               string
		ous                map[string]any
		users, groups, ouN int
		groupsAtLeast      bool
	}{
		// The whole domain also holds AD's own accounts and groups, and
		// OU=Domain Controllers.
		{"whole domain", map[string]any{"mode": "all"}, x.Users + labseed.BuiltinPersonUsers, x.Groups, x.OUs + 1, true},
		{"selected OUs", map[string]any{"mode": "selected", "selected": []string{x.CorpOU, x.GroupsOU}}, corpUsers, x.Groups, 4 + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			if r := c.setDirectory(doc(tt.ous)); r.code != 0 {
				t.Fatalf("directory set: %s", r.stderr)
			}
			r := c.run("test-connection", "--account", "default", "--json")
			var rep connectionReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || !rep.OK {
				t.Fatalf("exit %d, %v: %s%s", r.code, err, r.stdout, r.stderr)
			}
			if rep.Server.DefaultNamingContext != lab.BaseDN || !rep.Server.SupportsPaging || rep.Server.DNSHostName == "" {
				t.Errorf("server: %+v", rep.Server)
			}
			in := rep.InScope
			groupsOK := in.Groups == tt.groups || (tt.groupsAtLeast && in.Groups > tt.groups)
			if in.Users != tt.users || !groupsOK || in.OrganizationalUnits != tt.ouN {
				t.Fatalf("inScope = %+v, want %d users, %d groups, %d OUs", in, tt.users, tt.groups, tt.ouN)
			}
		})
	}
}
