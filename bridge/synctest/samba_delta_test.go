package synctest

// Delta runs against the Samba AD lab, compared with full runs after every
// change, on SQLite and PostgreSQL.
//
// Other packages' lab tests assert exact counts (people and OUs under the
// base DN, users per seeded OU, groups in OU=Groups) and run at the same
// time, so every change here keeps those counts: the test works in its own
// containers (CN=DeltaTest with CN=A and CN=B: containers, not OUs, which
// others count), moves the builtin account dns-dc1 (in CN=Users, counted
// only as a person under the base DN, which a move does not change) into
// and out of them, and deletes only its own groups. Everything is put back
// when the test ends. User tombstones and OU renames are covered against
// adsim; here a group's tombstone exercises the same search.

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
)

func TestSambaDelta(t *testing.T) {
	lab := sambaLab(t)
	admin := adminConn(t, lab)
	base := lab.BaseDN
	root := "CN=DeltaTest," + base
	ouA, ouB := "CN=A,"+root, "CN=B,"+root
	home := "CN=Users," + base
	subject := "CN=dns-dc1," + home
	// The borrowed account goes home before anything is deleted: a run
	// that died (or one running beside this one) may have left it inside
	// the test's tree, and deleting the tree must never delete it.
	rescueSubject(t, admin, base, home)
	t.Cleanup(func() {
		rescueSubject(t, admin, base, home)
		deleteTree(t, admin, root)
	})
	g1, g2 := "CN=Delta Group,"+root, "CN=Delta Doomed,"+root

	orig, err := admin.Search(ldap.NewSearchRequest(subject, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"title", "description"}, nil))
	if err != nil || len(orig.Entries) != 1 {
		t.Fatalf("read %s: %v", subject, err)
	}
	origDesc := orig.Entries[0].GetAttributeValue("description")

	// cur is where the subject is now; cleanup brings it home.
	cur := subject
	cleanupTree := func() {
		if !strings.EqualFold(cur, subject) {
			if err := admin.ModifyDN(ldap.NewModifyDNRequest(cur, "CN=dns-dc1", true, home)); err != nil {
				t.Errorf("moving %s home: %v", cur, err)
			} else {
				cur = subject
			}
		}
		req := ldap.NewModifyRequest(subject, nil)
		req.Replace("description", []string{origDesc})
		req.Replace("title", nil)
		if err := admin.Modify(req); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) {
			t.Errorf("restoring %s: %v", subject, err)
		}
		rescueSubject(t, admin, base, home)
		deleteTree(t, admin, root)
	}

	pemBytes, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pem := string(pemBytes)
	settings := bridge.Settings{
		Connection: bridge.Connection{Host: lab.Host, Port: lab.LDAPSPort, Security: bridge.SecurityLDAPS, CACertificate: pem,
			BaseDN: base, BindDN: lab.BindDN, Password: lab.Password, TimeoutSeconds: 60},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUSelected, Selected: []string{root}},
		DistributionLists:   bridge.DistributionLists{Import: true},
		Users:               bridge.UserRules{ExclusionFilter: "(title=Excluded)"},
		DeletionThreshold:   bridge.DeletionThreshold{MaxCount: 10, MaxPercent: 100},
	}.WithDefaults()

	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cleanupTree()
			defer cleanupTree()
			ouB = "CN=B," + root
			add := func(dn string, attrs map[string][]string) {
				t.Helper()
				req := ldap.NewAddRequest(dn, nil)
				for k, v := range attrs {
					req.Attribute(k, v)
				}
				if err := admin.Add(req); err != nil {
					t.Fatalf("add %s: %v", dn, err)
				}
			}
			move := func(newRDN, parent string) {
				t.Helper()
				if err := admin.ModifyDN(ldap.NewModifyDNRequest(cur, newRDN, true, parent)); err != nil {
					t.Fatalf("move %s: %v", cur, err)
				}
				cur = newRDN + "," + parent
			}
			add(root, map[string][]string{"objectClass": {"container"}})
			add(ouA, map[string][]string{"objectClass": {"container"}})
			add(ouB, map[string][]string{"objectClass": {"container"}})
			add(g1, map[string][]string{"objectClass": {"group"}})
			add(g2, map[string][]string{"objectClass": {"group"}})

			e := newEnv(t, b.open(t), lab.Password, lab.AdminPassword)
			e.engine.BatchSize = 0
			e.configure("delta", settings)
			e.configure("full", settings)
			deltaOpt := bridge.RunOptions{Account: "delta", Trigger: bridge.TriggerSchedule}
			fullOpt := bridge.RunOptions{Account: "full", Full: true}
			if r := e.mustSucceed(deltaOpt); r.Kind != bridge.RunFull || r.Counts.Groups.Added != 2 {
				t.Fatalf("first run: %s %s", r.Kind, r.Summary())
			}
			e.mustSucceed(fullOpt)

			steps := []struct {
				name   string
				change func()
				want   func(bridge.Run, []bridge.RunEvent) string
			}{
				{"nothing", func() {}, wantCounts(bridge.Counts{}, bridge.Counts{})},
				{"add (moved into scope)", func() { move("CN=dns-dc1", ouA) },
					wantCounts(bridge.Counts{Added: 1}, bridge.Counts{})},
				{"modify", func() {
					replace(t, admin, cur, map[string][]string{"description": {"delta test"}, "title": {"Tester"}})
				},
					wantCounts(bridge.Counts{Updated: 1}, bridge.Counts{})},
				{"membership", func() { replace(t, admin, g1, map[string][]string{"member": {cur}}) },
					wantCounts(bridge.Counts{}, bridge.Counts{Updated: 1})},
				{"rename", func() { move("CN=dns-dc1-delta", ouA) },
					wantCounts(bridge.Counts{Updated: 1}, bridge.Counts{})},
				{"move to another container", func() { move("CN=dns-dc1-delta", ouB) },
					wantCounts(bridge.Counts{Updated: 1}, bridge.Counts{})},
				{"excluded by the filter", func() { replace(t, admin, cur, map[string][]string{"title": {"Excluded"}}) },
					wantReason(cur, "out of scope: left out by the user inclusion or exclusion filter")},
				{"back in scope", func() { replace(t, admin, cur, map[string][]string{"title": {"Tester"}}) },
					wantCounts(bridge.Counts{Reactivated: 1}, bridge.Counts{Updated: 1})}, // Delta Group lists it again
				{"moved out of scope", func() { move("CN=dns-dc1", home) },
					wantReason(subject, "out of scope: outside the selected OUs")},
				{"group deleted (tombstone)", func() {
					if err := admin.Del(ldap.NewDelRequest(g2, nil)); err != nil {
						t.Fatalf("delete %s: %v", g2, err)
					}
				}, wantCounts(bridge.Counts{}, bridge.Counts{Deleted: 1})},
			}
			for _, st := range steps {
				st.change()
				dry := e.mustSucceed(bridge.RunOptions{Account: "delta", DryRun: true})
				r := e.mustSucceed(deltaOpt)
				if r.Kind != bridge.RunDelta {
					t.Fatalf("%s: a %s run (%s), want delta", st.name, r.Kind, r.KindReason)
				}
				evs := e.events("delta", r.ID)
				if dry.Counts != r.Counts {
					t.Errorf("%s: dry run %+v, real %+v", st.name, dry.Counts, r.Counts)
				}
				if msg := st.want(r, evs); msg != "" {
					t.Errorf("%s: %s\nevents: %v", st.name, msg, eventKeys(evs))
				}
				if again := e.mustSucceed(bridge.RunOptions{Account: "delta", Full: true, DryRun: true}); again.Counts.Users.Unchanged+again.Counts.Groups.Unchanged != totalCounts(again.Counts) {
					t.Errorf("%s: a full run after the delta would still change %+v\nevents: %v", st.name, again.Counts, eventKeys(e.events("delta", again.ID)))
				}
				e.mustSucceed(fullOpt)
				if d := diffContent(e.content("delta"), e.content("full")); len(d) > 0 {
					t.Errorf("%s: the delta run's store differs from the full run's:\n%s", st.name, strings.Join(d, "\n"))
				}
			}

			// Another DC (or this one restored): the cursor's invocationId
			// does not match, so the next run is full.
			runs, _, err := e.store.ListRuns(e.ctx, "delta", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if r.Status == bridge.RunSucceeded && !r.DryRun {
					var c map[string]any
					_ = json.Unmarshal([]byte(r.Cursor), &c)
					c["invocationId"] = "00000000-0000-0000-0000-00000000dc02"
					b, _ := json.Marshal(c)
					r.Cursor = string(b)
					if err := e.store.UpdateRun(e.ctx, r); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			if r := e.mustSucceed(deltaOpt); r.Kind != bridge.RunFull || !strings.Contains(r.KindReason, "a different or restored domain controller") {
				t.Errorf("after a DC change: %s (%s)", r.Kind, r.KindReason)
			}
			if r := e.mustSucceed(deltaOpt); r.Kind != bridge.RunDelta {
				t.Errorf("after the full run: %s (%s)", r.Kind, r.KindReason)
			}
		})
	}
}

// rescueSubject moves the builtin account dns-dc1 (found by its
// sAMAccountName, whatever its RDN now) back to home if it is elsewhere.
func rescueSubject(t *testing.T, conn *ldap.Conn, base, home string) {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(sAMAccountName=dns-dc1)", []string{"1.1"}, nil))
	if err != nil {
		t.Errorf("looking for dns-dc1: %v", err)
		return
	}
	for _, e := range res.Entries {
		if strings.EqualFold(e.DN, "CN=dns-dc1,"+home) {
			continue
		}
		if err := conn.ModifyDN(ldap.NewModifyDNRequest(e.DN, "CN=dns-dc1", true, home)); err != nil {
			t.Errorf("moving %s home: %v", e.DN, err)
		}
	}
}

// deleteTree deletes dn and everything below it, leaves first.
func deleteTree(t *testing.T, conn *ldap.Conn, dn string) {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return
	}
	if err != nil {
		t.Errorf("list %s: %v", dn, err)
		return
	}
	dns := make([]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		dns = append(dns, e.DN)
	}
	// Deeper DNs first.
	for i := range dns {
		for j := i + 1; j < len(dns); j++ {
			if strings.Count(dns[j], ",") > strings.Count(dns[i], ",") {
				dns[i], dns[j] = dns[j], dns[i]
			}
		}
	}
	for _, d := range dns {
		if err := conn.Del(ldap.NewDelRequest(d, nil)); err != nil {
			t.Errorf("delete %s: %v", d, err)
		}
	}
}
