package reliability

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// TestInvalidUTF8FromADDoesNotBlockSyncs: an AD attribute holding bytes
// that are not UTF-8 (a Latin-1 "ü" written by an old tool) must not fail
// every run from then on; PostgreSQL refuses such text in any column.
func TestInvalidUTF8FromADDoesNotBlockSyncs(t *testing.T) {
	const ken = "CN=Ken Thompson,OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com"
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			srv, facts, err := adsim.NewSample("DC=example,DC=com", adsim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if err := srv.Modify(ken, map[string][]string{"displayName": {"Ken M\xfcller"}, "title": {"\xff\xfe"}}); err != nil {
				t.Fatal(err)
			}
			tdb := b.open(t)
			e := newSyncEnv(t, tdb.store)
			e.configure("utf8", bridge.Settings{
				Connection: bridge.Connection{Host: srv.Host(), Port: srv.Port(), Security: bridge.SecurityNone,
					BaseDN: "DC=example,DC=com", BindDN: facts.ServiceDN, Password: adsim.SamplePassword, TimeoutSeconds: 10},
				OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUAll},
				DistributionLists:   bridge.DistributionLists{Import: true},
			}.WithDefaults())
			r := e.run("utf8")
			if r.Status != bridge.RunSucceeded {
				t.Fatalf("one entry with invalid UTF-8 failed the run: %s %q", r.Status, r.Error)
			}
			s := takeSnapshot(t, tdb.store, "utf8")
			found := false
			users, _, _ := tdb.store.ListUsers(e.ctx, "utf8", "", 0, 100)
			for _, u := range users {
				if strings.HasPrefix(u.DisplayName, "Ken M") {
					found = true
					if u.DisplayName != "Ken M\uFFFDller" {
						t.Errorf("displayName stored as %q, want the bad byte replaced by U+FFFD", u.DisplayName)
					}
				}
			}
			if !found || s.count("user:", "active") == 0 {
				t.Fatalf("the user with the bad attribute was not stored")
			}
		})
	}
}
