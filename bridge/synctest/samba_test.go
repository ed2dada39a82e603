package synctest

// The engine against a real Samba AD (scripts/samba-lab.sh, seeded as
// internal/labseed describes). Without a lab the test skips, except in CI
// (CI=true), where it fails.
//
// Other packages' lab tests assert exact counts of the seeded tree (users
// under the base DN, per OU, group sizes) and may run at the same time, so
// the changes made here keep every count: they modify, disable, expire and
// rename (within its OU) one regular user nobody else looks at, narrow the
// scope instead of deleting, and restore everything when the test ends.
// Deletion, OU moves and restores are covered against adsim.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/labseed"
	"github.com/scimbridge/scimbridge/ldapsync"
)

func sambaLab(t *testing.T) labseed.Lab {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Samba lab not available (%s); run scripts/samba-lab.sh up", why)
		}
		t.Skipf("Samba lab not available (%s); run scripts/samba-lab.sh up", why)
	}
	lab, ok, err := labseed.LabFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		path := os.Getenv("SCIMBRIDGE_LAB_ENV_FILE")
		if path == "" {
			path = labseed.DefaultEnvFile
		}
		if lab, err = labseed.ReadLabFile(path); err != nil {
			missing(err.Error())
		}
	}
	if _, err := os.Stat(lab.CAFile); err != nil {
		missing(err.Error())
	}
	return lab
}

// adminConn binds as the lab's administrator, for the test's own changes to
// AD. The product never writes to AD.
func adminConn(t *testing.T, lab labseed.Lab) *ldap.Conn {
	t.Helper()
	pem, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := ldap.DialURL(lab.LDAPSURL(), ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: lab.Host}))
	if err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("Samba lab not reachable: %v", err)
		}
		t.Fatalf("Samba lab not reachable: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetTimeout(30 * time.Second)
	if err := conn.Bind(lab.AdminDN, lab.AdminPassword); err != nil {
		t.Fatalf("bind as %s: %v", lab.AdminDN, err)
	}
	return conn
}

func replace(t *testing.T, conn *ldap.Conn, dn string, attrs map[string][]string) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	for k, v := range attrs {
		req.Replace(k, v)
	}
	if err := conn.Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

func TestSambaSync(t *testing.T) {
	lab := sambaLab(t)
	admin := adminConn(t, lab)
	seed := lab.Seed()
	x := seed.Expected()
	pem, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	settings := bridge.Settings{
		Connection: bridge.Connection{Host: lab.Host, Port: lab.LDAPSPort, Security: bridge.SecurityLDAPS, CACertificate: string(pem),
			BaseDN: lab.BaseDN, BindDN: lab.BindDN, Password: lab.Password, TimeoutSeconds: 60},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUAll},
		DistributionLists:   bridge.DistributionLists{Import: true},
	}.WithDefaults()

	// What the lab holds in this scope, as the reader counts it.
	ctx := context.Background()
	dir, err := ldapsync.Open(ctx, settings.Connection, lab.Password, nil)
	if err != nil {
		t.Fatalf("open the lab: %v", err)
	}
	inScope, err := dir.Count(ctx, settings.Scope())
	dir.Close()
	if err != nil {
		t.Fatal(err)
	}

	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t), lab.Password, lab.AdminPassword)
			e.engine.BatchSize = 0 // the default, as in production
			const acct = "lab"
			e.configure(acct, settings)
			opt := bridge.RunOptions{Account: acct}

			started := time.Now()
			r := e.mustSucceed(opt)
			t.Logf("first sync of the Samba lab (%d users): %s; %s", x.Users, time.Since(started).Round(time.Millisecond), r.Summary())
			if r.Counts.Users.Added != inScope.Users || r.Counts.Groups.Added != inScope.Groups+inScope.OrganizationalUnits {
				t.Fatalf("first run added %+v users and %+v groups, want %+v", r.Counts.Users, r.Counts.Groups, inScope)
			}
			if inScope.Users != x.Users+labseed.BuiltinPersonUsers {
				t.Errorf("the lab holds %d users, want %d seeded + %d builtin", inScope.Users, x.Users, labseed.BuiltinPersonUsers)
			}
			s := e.snapshot(acct)
			checkLabContent(t, s, seed, x)

			started = time.Now()
			r = e.mustSucceed(opt)
			t.Logf("second sync, nothing changed, %s (%s): %s", r.Kind, r.KindReason, time.Since(started).Round(time.Millisecond))
			if r.Kind != bridge.RunDelta || r.Counts != (bridge.RunCounts{}) || len(e.events(acct, r.ID)) != 0 {
				t.Errorf("delta run on an unchanged lab: %s (%s) %+v", r.Kind, r.KindReason, r.Counts)
			}
			started = time.Now()
			r = e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
			t.Logf("full sync, nothing changed: %s", time.Since(started).Round(time.Millisecond))
			if r.Counts.Users != (bridge.Counts{Unchanged: inScope.Users}) || len(e.events(acct, r.ID)) != 0 {
				t.Errorf("second run: %+v, %d events", r.Counts, len(e.events(acct, r.ID)))
			}
			if !mapsEqual(e.snapshot(acct).versions(), s.versions()) {
				t.Error("versions changed on an unchanged directory")
			}

			// One regular user outside the big group and the special cases.
			i := x.RegularUsers
			dn := seed.UserDN(i)
			orig := seed.User(i)
			cn := labseed.UserName(i)
			renamed := "CN=" + cn + "-renamed," + strings.SplitN(dn, ",", 2)[1]
			t.Cleanup(func() {
				if err := admin.ModifyDN(ldap.NewModifyDNRequest(renamed, "CN="+cn, true, "")); err == nil {
					t.Logf("renamed %s back", renamed)
				}
				req := ldap.NewModifyRequest(dn, nil)
				req.Replace("title", []string{orig.First("title")})
				req.Replace("userAccountControl", []string{"512"})
				req.Replace("accountExpires", []string{labseed.NeverExpires})
				if err := admin.Modify(req); err != nil {
					t.Errorf("restoring %s: %v", dn, err)
				}
			})
			before := e.snapshot(acct)
			u0, ok := before.userByDN(dn)
			if !ok {
				t.Fatalf("%s not synced", dn)
			}

			type step struct {
				name   string
				mutate func()
				want   bridge.Counts
				reason string
			}
			steps := []step{
				{"title", func() { replace(t, admin, dn, map[string][]string{"title": {"Chief Sync Tester"}}) },
					bridge.Counts{Updated: 1}, bridge.ReasonChanged},
				{"disable", func() { replace(t, admin, dn, map[string][]string{"userAccountControl": {"514"}}) },
					bridge.Counts{Deactivated: 1}, bridge.ReasonDisabled},
				{"enable", func() { replace(t, admin, dn, map[string][]string{"userAccountControl": {"512"}}) },
					bridge.Counts{Reactivated: 1}, bridge.ReasonEnabled},
				{"expire", func() {
					replace(t, admin, dn, map[string][]string{"accountExpires": {labseedFiletime(time.Now().Add(-24 * time.Hour))}})
				}, bridge.Counts{Deactivated: 1}, bridge.ReasonExpired},
				{"unexpire", func() { replace(t, admin, dn, map[string][]string{"accountExpires": {labseed.NeverExpires}}) },
					bridge.Counts{Reactivated: 1}, bridge.ReasonEnabled},
				{"rename", func() {
					if err := admin.ModifyDN(ldap.NewModifyDNRequest(dn, "CN="+cn+"-renamed", true, "")); err != nil {
						t.Fatalf("rename: %v", err)
					}
				}, bridge.Counts{Updated: 1}, bridge.ReasonChanged},
			}
			for _, st := range steps {
				st.mutate()
				dry := e.mustSucceed(bridge.RunOptions{Account: acct, DryRun: true})
				r := e.mustSucceed(opt)
				if dry.Counts != r.Counts || !slices.Equal(eventKeys(e.events(acct, dry.ID)), eventKeys(e.events(acct, r.ID))) {
					t.Errorf("%s: the dry run's report differs from the real run's", st.name)
				}
				// Members are SCIM ids, so no step changes a group.
				got := r.Counts.Users
				got.Unchanged = 0
				evs := e.events(acct, r.ID)
				if got != st.want || r.Counts.Groups != (bridge.Counts{Unchanged: r.Counts.Groups.Unchanged}) ||
					len(evs) == 0 || evs[0].ResourceID != u0.ID || evs[0].Reason != st.reason {
					t.Errorf("%s: users %+v groups %+v, want %+v; events %v", st.name, got, r.Counts.Groups, st.want, eventKeys(evs))
				}
			}
			after, _ := e.snapshot(acct).userByDN(renamed)
			if after.ID != u0.ID || after.ExternalID != u0.ExternalID || after.Attributes["title"] != "Chief Sync Tester" {
				t.Errorf("renamed user: id %s (was %s), title %v", after.ID, u0.ID, after.Attributes["title"])
			}

			// Out of scope by an exclusion filter: deleted as out of scope,
			// and back with the same id when the filter goes.
			narrowed := settings
			narrowed.Users.ExclusionFilter = ldapsync.Equals("sAMAccountName", cn)
			e.configure(acct, narrowed)
			r = e.mustSucceed(opt)
			evs := e.events(acct, r.ID)
			del := slices.IndexFunc(evs, func(ev bridge.RunEvent) bool { return ev.Action == bridge.ActionDelete })
			if r.Counts.Users.Deleted != 1 || del < 0 || evs[del].ResourceID != u0.ID ||
				evs[del].Reason != "out of scope: left out by the user inclusion or exclusion filter" {
				t.Errorf("excluded: %+v, events %v", r.Counts.Users, eventKeys(evs))
			}
			e.configure(acct, settings)
			r = e.mustSucceed(opt)
			if back, _ := e.snapshot(acct).userByDN(renamed); r.Counts.Users.Reactivated != 1 || back.ID != u0.ID || back.Status != bridge.StatusActive {
				t.Errorf("back in scope: %+v, user %s %s", r.Counts.Users, back.ID, back.Status)
			}

			// A protected user is not overwritten.
			if err := e.store.AddProtection(e.ctx, bridge.Protection{AccountID: acct, Role: bridge.RoleProtected,
				ObjectType: bridge.ObjectUser, ExternalID: u0.ExternalID}); err != nil {
				t.Fatal(err)
			}
			replace(t, admin, renamed, map[string][]string{"title": {"Should Not Arrive"}})
			r = e.mustSucceed(opt)
			if p, _ := e.snapshot(acct).userByDN(renamed); r.Counts.Users.Skipped != 1 || p.Attributes["title"] != "Chief Sync Tester" {
				t.Errorf("protected: %+v, title %v", r.Counts.Users, p.Attributes["title"])
			}
		})
	}
}

func labseedFiletime(t time.Time) string { return filetime(t) }

// checkLabContent checks what the first sync made of the seeded tree.
func checkLabContent(t *testing.T, s snapshot, seed *labseed.Seed, x labseed.Expectation) {
	t.Helper()
	big, ok := s.groupByDN(x.BigGroupDN)
	if !ok || len(big.Members) != x.BigGroupMembers {
		t.Errorf("Big Group: %d members, want %d (ranged retrieval)", len(big.Members), x.BigGroupMembers)
	}
	nested, _ := s.groupByDN(x.NestedGroupDN)
	if eng, _ := s.groupByDN(x.GlobalSecDN); !slices.Contains(memberIDs(eng), "Group:"+nested.ID) {
		t.Errorf("%s does not contain the nested group", x.GlobalSecDN)
	}
	for dn, kind := range map[string]bridge.GroupKind{x.DistGlobalDN: bridge.KindDistribution, x.DistUniversalDN: bridge.KindDistribution,
		x.DomainLocalDN: bridge.KindSecurity, x.CorpOU: bridge.KindOU, x.EmptyOU: bridge.KindOU} {
		if g, ok := s.groupByDN(dn); !ok || g.Kind != kind {
			t.Errorf("%s: kind %q, want %q", dn, g.Kind, kind)
		}
	}
	for dn, active := range map[string]bool{x.DisabledDN: false, x.ExpiredDN: false, x.FutureExpiryDN: true, x.NeverExpiresDN: true} {
		if u, ok := s.userByDN(dn); !ok || u.Active != active {
			t.Errorf("%s: active %v, want %v", dn, u.Active, active)
		}
	}
	if u, ok := s.userByDN(x.OddNameDN); !ok || u.UserName != "odd.name@"+x.Domain {
		t.Errorf("odd name user: %+v", u)
	}
	if u, ok := s.userByDN(x.UnicodeDN); !ok || u.DisplayName != "Zoë Ångström" {
		t.Errorf("unicode user: %q", u.DisplayName)
	}
	// Manager references resolve to SCIM ids; OU parents too.
	u, _ := s.userByDN(seed.UserDN(12))
	mgrEntry := seed.User(12).First("manager")
	mgr, _ := s.userByDN(mgrEntry)
	ent, _ := u.Attributes[bridge.SchemaEnterpriseUser].(map[string]any)
	if m, _ := ent["manager"].(map[string]any); mgrEntry == "" || m["value"] != mgr.ID {
		t.Errorf("manager of %s = %v, want %s (%s)", u.DN, ent["manager"], mgr.ID, mgrEntry)
	}
	ou, _ := s.groupByDN(x.EngineeringOU)
	if ext, _ := u.Attributes[bridge.SchemaBridgeUser].(map[string]any); ext["parent"] != ou.ID || u.OUPath != "Corp/Engineering" {
		t.Errorf("%s: parent %v ouPath %q, want %s", u.DN, ext["parent"], u.OUPath, ou.ID)
	}
}
