package synctest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// adDir is an adsim server with the sample tree, and helpers that change it
// the way AD would (renames and deletions also fix member and manager links).
type adDir struct {
	t     *testing.T
	srv   *adsim.Server
	facts adsim.SampleFacts
	dns   []string
}

func startAD(t *testing.T) *adDir {
	t.Helper()
	srv, facts, err := adsim.NewSample(sampleBase, adsim.Options{})
	if err != nil {
		t.Fatalf("adsim: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	entries, _ := adsim.SampleTree(sampleBase)
	d := &adDir{t: t, srv: srv, facts: facts}
	for _, e := range entries {
		d.dns = append(d.dns, e.DN)
	}
	return d
}

func (d *adDir) settings() bridge.Settings {
	return bridge.Settings{
		Connection: bridge.Connection{Host: d.srv.Host(), Port: d.srv.Port(), Security: bridge.SecurityNone,
			BaseDN: sampleBase, BindDN: d.facts.ServiceDN, Password: adsim.SamplePassword, TimeoutSeconds: 10},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUAll},
		DistributionLists:   bridge.DistributionLists{Import: true},
		Users:               bridge.UserRules{Mapping: bridge.MappingDefault},
		// the sample is small: 3 deletions of 44 objects are ~7%
		DeletionThreshold: bridge.DeletionThreshold{MaxCount: 500, MaxPercent: 50},
	}.WithDefaults()
}

func (d *adDir) entry(dn string) adsim.Entry {
	d.t.Helper()
	e, ok := d.srv.Entry(dn)
	if !ok {
		d.t.Fatalf("adsim has no %s", dn)
	}
	return e
}

func (d *adDir) modify(dn string, changes map[string][]string) {
	d.t.Helper()
	if err := d.srv.Modify(dn, changes); err != nil {
		d.t.Fatalf("modify %s: %v", dn, err)
	}
}

func (d *adDir) add(e adsim.Entry) string {
	d.t.Helper()
	if err := d.srv.Add(e); err != nil {
		d.t.Fatalf("add %s: %v", e.DN, err)
	}
	d.dns = append(d.dns, e.DN)
	return e.DN
}

// move renames or moves dn, keeping its objectGUID, and rewrites links.
func (d *adDir) move(dn, newDN string) string {
	d.t.Helper()
	e := d.entry(dn)
	d.srv.Remove(dn)
	e.DN = newDN
	rdn := strings.SplitN(strings.SplitN(newDN, ",", 2)[0], "=", 2)[1]
	for k := range e.Attrs {
		if strings.EqualFold(k, "cn") || strings.EqualFold(k, "name") {
			e.Attrs[k] = []string{rdn}
		}
	}
	if err := d.srv.Add(e); err != nil {
		d.t.Fatalf("move %s: %v", dn, err)
	}
	d.relink(dn, newDN)
	i := slices.IndexFunc(d.dns, func(x string) bool { return strings.EqualFold(x, dn) })
	d.dns[i] = newDN
	return newDN
}

// remove deletes dn as AD does: the object goes, and links to it with it.
func (d *adDir) remove(dn string) adsim.Entry {
	d.t.Helper()
	e := d.entry(dn)
	d.srv.Remove(dn)
	d.relink(dn, "")
	d.dns = slices.DeleteFunc(d.dns, func(x string) bool { return strings.EqualFold(x, dn) })
	return e
}

func (d *adDir) relink(oldDN, newDN string) {
	for _, dn := range d.dns {
		e, ok := d.srv.Entry(dn)
		if !ok {
			continue
		}
		changes := map[string][]string{}
		for k, vals := range e.Attrs {
			if !strings.EqualFold(k, "member") && !strings.EqualFold(k, "manager") {
				continue
			}
			var out []string
			changed := false
			for _, v := range vals {
				if bridge.EqualDN(v, oldDN) {
					changed = true
					if newDN != "" {
						out = append(out, newDN)
					}
				} else {
					out = append(out, v)
				}
			}
			if changed {
				changes[k] = out
			}
		}
		if len(changes) > 0 {
			d.modify(dn, changes)
		}
	}
}

func (d *adDir) addToGroup(groupDN, memberDN string) {
	d.t.Helper()
	e := d.entry(groupDN)
	d.modify(groupDN, map[string][]string{"member": append(e.Attrs["member"], memberDN)})
}

const (
	corpDN    = "OU=Corp," + sampleBase
	engDN     = "OU=Engineering," + corpDN
	backendDN = "OU=Backend," + engDN
	salesDN   = "OU=Sales," + corpDN
	groupsDN  = "OU=Groups," + corpDN
	kenDN     = "CN=Ken Thompson," + backendDN
	linusDN   = "CN=Linus Torvalds," + backendDN
	hedyDN    = "CN=Hedy Lamarr," + salesDN
	knuthDN   = "CN=Donald Knuth," + engDN
)

func TestAdsimLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t), adsim.SamplePassword)
		const acct = "acme"
		e.configure(acct, ad.settings())
		opt := bridge.RunOptions{Account: acct}

		// 1. First run: everything is new.
		started := time.Now()
		r := e.mustSucceed(opt)
		t.Logf("first sync of the adsim sample: %s (%s)", time.Since(started).Round(time.Millisecond), r.Summary())
		f := ad.facts
		if r.Kind != bridge.RunFull || r.KindReason == "" {
			t.Errorf("kind %q reason %q, want full with the delta reason", r.Kind, r.KindReason)
		}
		wantGroups := f.OUs + f.SecurityGroups + f.Distribution
		if r.Counts.Users.Added != f.Users || r.Counts.Groups.Added != wantGroups {
			t.Fatalf("first run counts %+v, want %d users and %d groups added", r.Counts, f.Users, wantGroups)
		}
		if evs := e.events(acct, r.ID); len(evs) != f.Users+wantGroups {
			t.Errorf("first run: %d events, want one per object (%d)", len(evs), f.Users+wantGroups)
		}
		s := e.snapshot(acct)
		ken, _ := s.userByDN(kenDN)
		linus, _ := s.userByDN(linusDN)
		backend, _ := s.groupByDN(backendDN)
		eng, _ := s.groupByDN(engDN)
		if ken.UserName != "kthompson@example.com" || !ken.Active || ken.Status != bridge.StatusActive || ken.OUPath != "Corp/Engineering/Backend" {
			t.Errorf("ken = %+v", ken)
		}
		ent, _ := ken.Attributes[bridge.SchemaEnterpriseUser].(map[string]any)
		if mgr, _ := ent["manager"].(map[string]any); mgr["value"] != linus.ID || mgr["displayName"] != "Linus Torvalds" {
			t.Errorf("ken's manager = %v, want Linus %s", ent["manager"], linus.ID)
		}
		ext, _ := ken.Attributes[bridge.SchemaBridgeUser].(map[string]any)
		if ext["parent"] != backend.ID || ext["ouPath"] != "Corp/Engineering/Backend" || ext["kind"] != "user" {
			t.Errorf("ken's AD extension = %v, want parent %s", ext, backend.ID)
		}
		if backend.Kind != bridge.KindOU || backend.ParentID != eng.ID || !slices.Contains(memberIDs(backend), "User:"+ken.ID) {
			t.Errorf("Backend OU group = %+v (Engineering %s)", backend, eng.ID)
		}
		if !slices.Contains(memberIDs(eng), "Group:"+backend.ID) {
			t.Errorf("Engineering OU group lacks its child OU: %v", memberIDs(eng))
		}
		nested, _ := s.groupByDN(f.NestedGroup)
		backendTeam, _ := s.groupByDN("CN=Backend Team," + groupsDN)
		if nested.Kind != bridge.KindSecurity || !slices.Contains(memberIDs(nested), "Group:"+backendTeam.ID) {
			t.Errorf("nested group %v lacks Backend Team %s", memberIDs(nested), backendTeam.ID)
		}
		if dist, ok := s.groupByDN(f.DistGroup); !ok || dist.Kind != bridge.KindDistribution {
			t.Errorf("distribution group = %+v, %v", dist, ok)
		}
		for _, dn := range []string{f.DisabledUser, f.ExpiredUser} {
			if u, _ := s.userByDN(dn); u.Active || u.Status != bridge.StatusDeactivated {
				t.Errorf("%s: active %v status %s, want deactivated", dn, u.Active, u.Status)
			}
		}
		if _, ok := s.userByDN(f.Computer); ok {
			t.Error("the computer became a user")
		}

		// 2. Nothing changed: a delta run reads and writes nothing; a full
		// run compares everything and writes nothing; every version stays.
		r = e.mustSucceed(opt)
		if r.Kind != bridge.RunDelta || r.Counts != (bridge.RunCounts{}) || len(e.events(acct, r.ID)) != 0 {
			t.Errorf("delta run on an unchanged directory: %s (%s) %+v", r.Kind, r.KindReason, r.Counts)
		}
		r = e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
		if r.Counts.Users.Unchanged != f.Users || r.Counts.Groups.Unchanged != wantGroups ||
			r.Counts.Users != (bridge.Counts{Unchanged: f.Users}) || r.Counts.Groups != (bridge.Counts{Unchanged: wantGroups}) {
			t.Errorf("second run counts %+v, want all unchanged", r.Counts)
		}
		if evs := e.events(acct, r.ID); len(evs) != 0 {
			t.Errorf("second run recorded %d events: %v", len(evs), eventKeys(evs))
		}
		if got := e.snapshot(acct).versions(); !mapsEqual(got, s.versions()) {
			t.Errorf("versions changed on an unchanged directory")
		}

		type step struct {
			name   string
			mutate func()
			users  bridge.Counts
			groups bridge.Counts
			check  func(t *testing.T, r bridge.Run, before, after snapshot)
		}
		var newDN string
		steps := []step{
			{"add a user", func() {
				newDN = ad.add(adsim.User(sampleBase, salesDN, adsim.Person{Given: "Ida", Surname: "Rhodes", Sam: "irhodes", Title: "Analyst", Manager: hedyDN}))
			}, bridge.Counts{Added: 1}, bridge.Counts{Updated: 1}, // the Sales OU group gains a member
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					u, ok := after.userByDN(newDN)
					hedy, _ := after.userByDN(hedyDN)
					mgr, _ := u.Attributes[bridge.SchemaEnterpriseUser].(map[string]any)["manager"].(map[string]any)
					if !ok || mgr["value"] != hedy.ID {
						t.Errorf("new user %+v, manager %v, want %s", u, mgr, hedy.ID)
					}
					sales, _ := after.groupByDN(salesDN)
					if !slices.Contains(memberIDs(sales), "User:"+u.ID) {
						t.Error("the Sales OU group does not list the new user")
					}
				}},
			{"change a title", func() { ad.modify(kenDN, map[string][]string{"title": {"Distinguished Engineer"}}) },
				bridge.Counts{Updated: 1}, bridge.Counts{},
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					evs := e.events(acct, r.ID)
					if len(evs) != 1 || evs[0].Action != bridge.ActionUpdate || !slices.Equal(evs[0].Changed, []string{"title"}) {
						t.Errorf("events %v, want one update of title", eventKeys(evs))
					}
					u, _ := after.userByDN(kenDN)
					old, _ := before.userByDN(kenDN)
					if u.Attributes["title"] != "Distinguished Engineer" || u.Version != old.Version+1 {
						t.Errorf("title %v version %d (was %d)", u.Attributes["title"], u.Version, old.Version)
					}
				}},
			{"disable", func() { ad.modify(kenDN, map[string][]string{"userAccountControl": {"514"}}) },
				bridge.Counts{Deactivated: 1}, bridge.Counts{},
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					if u, _ := after.userByDN(kenDN); u.Active || u.Status != bridge.StatusDeactivated {
						t.Errorf("ken after disable: %v %s", u.Active, u.Status)
					}
				}},
			{"re-enable", func() { ad.modify(kenDN, map[string][]string{"userAccountControl": {"512"}}) },
				bridge.Counts{Reactivated: 1}, bridge.Counts{}, nil},
			{"expire", func() {
				ad.modify(kenDN, map[string][]string{"accountExpires": {filetime(time.Now().Add(-time.Hour))}})
			}, bridge.Counts{Deactivated: 1}, bridge.Counts{},
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					evs := e.events(acct, r.ID)
					if len(evs) != 1 || evs[0].Reason != bridge.ReasonExpired {
						t.Errorf("events %v, want the expiry reason", eventKeys(evs))
					}
				}},
			{"extend the expiry", func() {
				ad.modify(kenDN, map[string][]string{"accountExpires": {"9223372036854775807"}})
			}, bridge.Counts{Reactivated: 1}, bridge.Counts{}, nil},
			{"rename", func() { ad.move(kenDN, "CN=Kenneth Thompson,"+backendDN) },
				bridge.Counts{Updated: 1}, bridge.Counts{},
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					old, _ := before.userByDN(kenDN)
					u, ok := after.userByDN("CN=Kenneth Thompson," + backendDN)
					if !ok || u.ID != old.ID || u.ExternalID != old.ExternalID {
						t.Errorf("renamed user: %+v, want id %s kept", u, old.ID)
					}
				}},
			{"move to another OU", func() { ad.move("CN=Kenneth Thompson,"+backendDN, "CN=Kenneth Thompson,"+salesDN) },
				bridge.Counts{Updated: 1}, bridge.Counts{Updated: 2}, // both OU groups' members change
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					u, _ := after.userByDN("CN=Kenneth Thompson," + salesDN)
					sales, _ := after.groupByDN(salesDN)
					backend, _ := after.groupByDN(backendDN)
					if u.OUPath != "Corp/Sales" || !slices.Contains(memberIDs(sales), "User:"+u.ID) || slices.Contains(memberIDs(backend), "User:"+u.ID) {
						t.Errorf("moved user: ouPath %q, Sales %v, Backend %v", u.OUPath, memberIDs(sales), memberIDs(backend))
					}
					if ext := u.Attributes[bridge.SchemaBridgeUser].(map[string]any); ext["parent"] != sales.ID {
						t.Errorf("parent %v, want Sales %s", ext["parent"], sales.ID)
					}
				}},
		}
		var removed adsim.Entry
		steps = append(steps,
			step{"delete", func() { removed = ad.remove(knuthDN) },
				bridge.Counts{Deleted: 1}, bridge.Counts{Updated: 2}, // Engineering OU group and Engineering group
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					u, _ := after.userByDN(knuthDN)
					if u.Status != bridge.StatusDeleted || u.DeleteReason != bridge.ReasonNotFound || u.DeletedAt == nil {
						t.Errorf("deleted user: status %s reason %q at %v", u.Status, u.DeleteReason, u.DeletedAt)
					}
				}},
			step{"restore with the same objectGUID", func() {
				ad.add(removed)
				ad.addToGroup(f.NestedGroup, knuthDN)
			}, bridge.Counts{Reactivated: 1}, bridge.Counts{Updated: 2},
				func(t *testing.T, r bridge.Run, before, after snapshot) {
					old, _ := before.userByDN(knuthDN)
					u, _ := after.userByDN(knuthDN)
					if u.ID != old.ID || u.Status != bridge.StatusActive || u.DeletedAt != nil {
						t.Errorf("restored user %+v, want id %s back and active", u, old.ID)
					}
					nested, _ := after.groupByDN(f.NestedGroup)
					if !slices.Contains(memberIDs(nested), "User:"+u.ID) {
						t.Error("restored user is not back in its group")
					}
				}},
		)
		for _, st := range steps {
			before := e.snapshot(acct)
			st.mutate()
			r := e.mustSucceed(opt)
			after := e.snapshot(acct)
			gotU, gotG := r.Counts.Users, r.Counts.Groups
			gotU.Unchanged, gotG.Unchanged = 0, 0
			if gotU != st.users || gotG != st.groups {
				t.Errorf("%s: users %+v groups %+v, want users %+v groups %+v\nevents %v", st.name, gotU, gotG, st.users, st.groups,
					eventKeys(e.events(acct, r.ID)))
				continue
			}
			if st.check != nil {
				st.check(t, r, before, after)
			}
		}
	})
}

func filetime(t time.Time) string {
	return fmt.Sprint(t.UnixNano()/100 + 116444736000000000)
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAdsimDryRunEqualsRealRun(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		e.configure(acct, ad.settings())
		opt := bridge.RunOptions{Account: acct}

		// On an empty store, then after a mix of changes.
		for round, mutate := range []func(){
			func() {},
			func() {
				ad.modify(kenDN, map[string][]string{"title": {"Hacker"}, "userAccountControl": {"514"}})
				ad.modify(hedyDN, map[string][]string{"mobile": {}})
				ad.remove(knuthDN)
				ad.move(linusDN, "CN=Linus Torvalds,"+salesDN)
				ad.add(adsim.User(sampleBase, engDN, adsim.Person{Given: "New", Surname: "Hire", Sam: "nhire"}))
			},
		} {
			mutate()
			before := e.snapshot(acct).versions()
			dry := e.mustSucceed(bridge.RunOptions{Account: acct, DryRun: true})
			if !dry.DryRun {
				t.Error("dry run report says it was not a dry run")
			}
			if got := e.snapshot(acct).versions(); !mapsEqual(got, before) {
				t.Fatalf("round %d: the dry run wrote", round)
			}
			real := e.mustSucceed(opt)
			if dry.Counts != real.Counts {
				t.Errorf("round %d: dry run counts %+v, real run %+v", round, dry.Counts, real.Counts)
			}
			dk, rk := eventKeys(e.events(acct, dry.ID)), eventKeys(e.events(acct, real.ID))
			if !slices.Equal(dk, rk) {
				t.Errorf("round %d: dry run events differ from the real run's\ndry  %v\nreal %v", round, dk, rk)
			}
			if round == 1 && real.Counts.Users.Deleted != 1 {
				t.Errorf("round 1 deleted %d users, want 1", real.Counts.Users.Deleted)
			}
		}
	})
}

func TestAdsimThresholdHoldAndApprove(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		s := ad.settings()
		s.DeletionThreshold = bridge.DeletionThreshold{MaxCount: 2, MaxPercent: 50}
		e.configure(acct, s)
		opt := bridge.RunOptions{Account: acct}
		e.mustSucceed(opt)
		live := e.snapshot(acct)

		sellers := []string{"CN=Katherine Johnson," + salesDN, "CN=Dorothy Vaughan," + salesDN, "CN=Annie Easley," + salesDN, "CN=Evelyn Boyd," + salesDN}
		for _, dn := range sellers[:3] {
			ad.remove(dn)
		}
		held := e.run(opt)
		total := len(live.users) + len(live.groups)
		want := fmt.Sprintf("would delete 3 of %d objects (%d%%), above the threshold of 2 or 50%%; approve run %s to apply", total, 300/total, held.ID)
		if held.Status != bridge.RunHeld || held.Error != want {
			t.Fatalf("run %s: %s %q, want held %q", held.ID, held.Status, held.Error, want)
		}
		if held.Counts.Users.Deleted != 3 {
			t.Errorf("held run counts %+v, want the 3 deletions it would make", held.Counts.Users)
		}
		var dels int
		for _, ev := range e.events(acct, held.ID) {
			if ev.Action == bridge.ActionDelete {
				dels++
			}
		}
		if dels != 3 {
			t.Errorf("held run recorded %d delete events, want 3", dels)
		}
		if got := e.snapshot(acct).versions(); !mapsEqual(got, live.versions()) {
			t.Fatal("a held run wrote")
		}

		// Deletions grew since: the approval does not cover them.
		ad.remove(sellers[3])
		again := e.run(bridge.RunOptions{Account: acct, ApproveRunID: held.ID, Trigger: bridge.TriggerApproval})
		if again.Status != bridge.RunHeld || !strings.Contains(again.Error, "would have deleted 3 objects, but this run would delete 4") ||
			again.ApprovedRunID != held.ID {
			t.Fatalf("grown approval: %s %q (approved %q)", again.Status, again.Error, again.ApprovedRunID)
		}
		// Approving the second held run (4 deletions) carries it out.
		ok := e.mustSucceed(bridge.RunOptions{Account: acct, ApproveRunID: again.ID, Trigger: bridge.TriggerApproval})
		if ok.ApprovedRunID != again.ID || ok.Counts.Users.Deleted != 4 {
			t.Errorf("approved run: approved %q, counts %+v", ok.ApprovedRunID, ok.Counts.Users)
		}
		for _, dn := range sellers {
			if u, _ := e.snapshot(acct).userByDN(dn); u.Status != bridge.StatusDeleted {
				t.Errorf("%s: %s after the approved run", dn, u.Status)
			}
		}
		// A run can be approved once, and only a held run.
		for _, id := range []string{again.ID, ok.ID, "no-such-run"} {
			r := e.run(bridge.RunOptions{Account: acct, ApproveRunID: id})
			if r.Status != bridge.RunFailed || !strings.Contains(r.Error, id) {
				t.Errorf("approving %s again: %s %q, want failed", id, r.Status, r.Error)
			}
		}
	})
}

func TestAdsimProtectedAndOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		e.configure(acct, ad.settings())
		opt := bridge.RunOptions{Account: acct}
		e.mustSucceed(opt)
		s := e.snapshot(acct)
		ken, _ := s.userByDN(kenDN)
		hedy, _ := s.userByDN(hedyDN)
		knuth, _ := s.userByDN(knuthDN)
		vpn, _ := s.groupByDN("CN=VPN Users," + groupsDN)
		for _, p := range []bridge.Protection{
			{AccountID: acct, Role: bridge.RoleProtected, ObjectType: bridge.ObjectUser, ExternalID: strings.ToUpper(ken.ExternalID)},
			{AccountID: acct, Role: bridge.RoleProtected, ObjectType: bridge.ObjectGroup, ResourceID: vpn.ID},
			{AccountID: acct, Role: bridge.RoleOwner, ObjectType: bridge.ObjectUser, ExternalID: hedy.ExternalID},
			{AccountID: acct, Role: bridge.RoleOwner, ObjectType: bridge.ObjectUser, ResourceID: knuth.ID},
		} {
			if err := e.store.AddProtection(e.ctx, p); err != nil {
				t.Fatalf("AddProtection: %v", err)
			}
		}
		ad.modify(kenDN, map[string][]string{"title": {"Overwritten?"}})
		ad.modify("CN=VPN Users,"+groupsDN, map[string][]string{"member": {linusDN}})
		ad.modify(hedyDN, map[string][]string{"userAccountControl": {"514"}, "title": {"Gone"}})
		ad.remove(knuthDN)

		r := e.mustSucceed(opt)
		got := map[string]string{}
		for _, ev := range e.events(acct, r.ID) {
			got[ev.ResourceID] = string(ev.Action) + ": " + ev.Reason
		}
		want := map[string]string{
			ken.ID:   "skip: " + bridge.ReasonProtected,
			vpn.ID:   "skip: " + bridge.ReasonProtected,
			hedy.ID:  "refuse: " + bridge.ReasonOwner,
			knuth.ID: "refuse: " + bridge.ReasonOwner,
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("event of %s = %q, want %q", id, got[id], w)
			}
		}
		if r.Counts.Users.Skipped != 1 || r.Counts.Users.Refused != 2 || r.Counts.Groups.Skipped != 1 || r.Counts.Users.Deleted != 0 {
			t.Errorf("counts %+v", r.Counts)
		}
		after := e.snapshot(acct)
		if u, _ := after.userByDN(kenDN); u.Attributes["title"] != ken.Attributes["title"] || u.Version != ken.Version {
			t.Errorf("protected user was written: title %v", u.Attributes["title"])
		}
		if g, _ := after.groupByDN("CN=VPN Users," + groupsDN); !slices.Equal(memberIDs(g), memberIDs(vpn)) {
			t.Error("protected group's members were replaced")
		}
		if u, _ := after.userByDN(hedyDN); !u.Active || u.Status != bridge.StatusActive {
			t.Errorf("owner was deactivated: %+v", u)
		}
		if u, _ := after.userByDN(knuthDN); u.Status != bridge.StatusActive {
			t.Errorf("owner was deleted: %s", u.Status)
		}
	})
}

// failingOpener opens ldapsync with small pages and closes the adsim
// server once the user read is under way.
func failingOpener(ad *adDir, afterUsers int) bridge.DirectoryOpener {
	return func(ctx context.Context, c bridge.Connection, pw string, log *slogLogger) (bridge.Directory, error) {
		d, err := ldapsync.Options{PageSize: 3}.Open(ctx, c, pw, log)
		if err != nil {
			return nil, err
		}
		return &closingDir{Directory: d, ad: ad, after: afterUsers}, nil
	}
}

type closingDir struct {
	bridge.Directory
	ad    *adDir
	after int
	seen  int
}

func (d *closingDir) Stream(ctx context.Context, s bridge.Scope, kind bridge.EntryKind, fn func(bridge.Entry) error) error {
	return d.Directory.Stream(ctx, s, kind, func(e bridge.Entry) error {
		if kind == bridge.EntryUser {
			d.seen++
			if d.seen == d.after {
				d.ad.srv.Close()
			}
		}
		return fn(e)
	})
}

func TestAdsimReadFailureDeletesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		e.configure(acct, ad.settings())
		opt := bridge.RunOptions{Account: acct}
		e.mustSucceed(opt)
		before := e.snapshot(acct)

		ad.remove(knuthDN)
		ad.modify(kenDN, map[string][]string{"title": {"Changed"}})
		e.engine.Open = failingOpener(ad, 4)
		r := e.run(opt)
		if r.Status != bridge.RunFailed || !strings.HasPrefix(r.Error, "reading the directory failed: ") ||
			!strings.HasSuffix(r.Error, "nothing was changed") {
			t.Fatalf("run: %s %q, want failed reading", r.Status, r.Error)
		}
		if r.Counts != (bridge.RunCounts{}) {
			t.Errorf("failed run counts %+v, want none", r.Counts)
		}
		if got := e.snapshot(acct).versions(); !mapsEqual(got, before.versions()) {
			t.Error("a failed read changed the store")
		}
		if u, _ := e.snapshot(acct).userByDN(knuthDN); u.Status != bridge.StatusActive {
			t.Errorf("user missing from a partial read: %s", u.Status)
		}
	})
}

func TestAdsimCancelledRun(t *testing.T) {
	ad := startAD(t)
	e := newEnv(t, openSQLite(t))
	const acct = "acme"
	e.configure(acct, ad.settings())
	ctx, cancelCause := context.WithCancelCause(context.Background())
	cancel := func() { cancelCause(bridge.ErrRunCancelled) }
	e.engine.Open = func(c context.Context, conn bridge.Connection, pw string, log *slogLogger) (bridge.Directory, error) {
		d, err := ldapsync.Options{PageSize: 3}.Open(c, conn, pw, log)
		if err != nil {
			return nil, err
		}
		return &cancellingDir{Directory: d, cancel: cancel}, nil
	}
	r, err := e.engine.Run(ctx, bridge.RunOptions{Account: acct})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != bridge.RunCancelled || !strings.Contains(r.Error, "users planned before it were written; nothing was deleted") ||
		!strings.HasPrefix(r.Error, bridge.ErrRunCancelled.Error()) {
		t.Errorf("run: %s %q, want cancelled, saying what was written", r.Status, r.Error)
	}
	// A first sync streams its users into the store while it reads
	// (bridge/plan_stream.go): the batches committed before the cancel
	// stay, and the report counts them; no group was written yet.
	if s := e.snapshot(acct); len(s.groups) != 0 || r.Counts.Users.Added == 0 || len(s.users) != r.Counts.Users.Added {
		t.Errorf("cancelled first run: %d users, %d groups stored; report %s", len(s.users), len(s.groups), r.Summary())
	}
	stored, _ := e.store.GetRun(context.Background(), acct, r.ID)
	if stored.Status != bridge.RunCancelled {
		t.Errorf("stored status %s", stored.Status)
	}
	// The next run completes the sync.
	e.completesLikeACleanSync(acct, ad.settings())
}

type cancellingDir struct {
	bridge.Directory
	cancel func()
}

func (d *cancellingDir) Stream(ctx context.Context, s bridge.Scope, kind bridge.EntryKind, fn func(bridge.Entry) error) error {
	if kind == bridge.EntryGroup {
		d.cancel()
	}
	return d.Directory.Stream(ctx, s, kind, fn)
}

func TestAdsimAccountsIndependent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		e.configure("a", ad.settings())
		e.configure("b", ad.settings())
		e.mustSucceed(bridge.RunOptions{Account: "a"})
		e.mustSucceed(bridge.RunOptions{Account: "b"})
		a, b := e.snapshot("a"), e.snapshot("b")
		ua, _ := a.userByDN(kenDN)
		ub, _ := b.userByDN(kenDN)
		if ua.ID == ub.ID || ua.ExternalID != ub.ExternalID {
			t.Errorf("the same AD user in two accounts: ids %s %s, externalIds %s %s", ua.ID, ub.ID, ua.ExternalID, ub.ExternalID)
		}
		ad.remove(kenDN)
		r := e.mustSucceed(bridge.RunOptions{Account: "a"})
		if r.Counts.Users.Deleted != 1 {
			t.Errorf("account a deleted %d users", r.Counts.Users.Deleted)
		}
		if u, _ := e.snapshot("a").userByDN(kenDN); u.Status != bridge.StatusDeleted {
			t.Errorf("a: %s", u.Status)
		}
		if got := e.snapshot("b").versions(); !mapsEqual(got, b.versions()) {
			t.Error("a run of account a changed account b")
		}
		// The lock is per account: b can run while a is locked.
		unlock, err := e.store.LockAccount(e.ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.engine.Run(e.ctx, bridge.RunOptions{Account: "a"}); err == nil || !strings.Contains(err.Error(), bridge.ErrRunInProgress.Error()) {
			t.Errorf("run while locked: %v, want ErrRunInProgress", err)
		}
		e.mustSucceed(bridge.RunOptions{Account: "b"})
		unlock()
	})
}

func TestAdsimScopeRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		s := ad.settings()
		s.OrganizationalUnits = bridge.OrganizationalUnits{Mode: bridge.OUSelected, Selected: []string{engDN}}
		s.Users.ExclusionFilter = "(title=Contractor)"
		s.DistributionLists.Import = false
		e.configure(acct, s)
		opt := bridge.RunOptions{Account: acct}
		r := e.mustSucceed(opt)
		snap := e.snapshot(acct)
		for dn, want := range map[string]bool{kenDN: true, knuthDN: true, hedyDN: false, ad.facts.ExpiredUser: false} {
			if _, ok := snap.userByDN(dn); ok != want {
				t.Errorf("%s synced: %v, want %v", dn, ok, want)
			}
		}
		// OU groups: Engineering and Backend; no group lives under Engineering.
		if len(snap.groups) != 2 || r.Counts.Groups.Added != 2 {
			t.Errorf("groups %d, want the 2 OU groups", len(snap.groups))
		}

		// Moved out of the selected OU, excluded by the filter, deleted.
		ad.move(kenDN, "CN=Ken Thompson,"+salesDN)
		ad.modify(knuthDN, map[string][]string{"title": {"Contractor"}})
		ad.remove("CN=Alan Kay," + engDN)
		r = e.mustSucceed(opt)
		reasons := map[string]string{}
		for _, ev := range e.events(acct, r.ID) {
			if ev.Action == bridge.ActionDelete {
				reasons[ev.DN] = ev.Reason
			}
		}
		want := map[string]string{
			kenDN:                  "out of scope: outside the selected OUs",
			knuthDN:                "out of scope: left out by the user inclusion or exclusion filter",
			"CN=Alan Kay," + engDN: bridge.ReasonNotFound,
		}
		for dn, w := range want {
			if reasons[dn] != w {
				t.Errorf("%s deleted because %q, want %q", dn, reasons[dn], w)
			}
		}

		// OU mode none: the OU groups go, as out of scope.
		s.OrganizationalUnits = bridge.OrganizationalUnits{Mode: bridge.OUNone}
		e.configure(acct, s)
		r = e.mustSucceed(opt)
		if r.Counts.Groups.Deleted != 2 {
			t.Errorf("mode none deleted %d groups, want the 2 OU groups", r.Counts.Groups.Deleted)
		}
		for _, ev := range e.events(acct, r.ID) {
			if ev.ObjectType == bridge.ObjectOU && !strings.HasPrefix(ev.Reason, bridge.ReasonOutOfScope) {
				t.Errorf("OU group %s deleted because %q", ev.DN, ev.Reason)
			}
		}
		if r.Counts.Groups.Added != ad.facts.SecurityGroups {
			t.Errorf("mode none added %d groups, want the %d security groups", r.Counts.Groups.Added, ad.facts.SecurityGroups)
		}
	})
}

func TestAdsimCustomMapping(t *testing.T) {
	ad := startAD(t)
	e := newEnv(t, openSQLite(t))
	const acct = "acme"
	s := ad.settings()
	s.Users.Mapping = bridge.MappingCustom
	s.Users.CustomMappings = []bridge.CustomMapping{
		{SCIM: "title", LDAP: "department"},
		{SCIM: "userType", Value: "Employee"},
		{SCIM: `emails[type eq "home"].value`, LDAP: "otherMailbox"},
		{SCIM: bridge.SchemaEnterpriseUser + ":costCenter", LDAP: "extensionAttribute3"},
	}
	ad.modify(kenDN, map[string][]string{"otherMailbox": {"ken@home.example"}, "extensionAttribute3": {"CC-7"}})
	e.configure(acct, s)
	e.mustSucceed(bridge.RunOptions{Account: acct})
	ken, _ := e.snapshot(acct).userByDN(kenDN)
	if ken.Attributes["title"] != "Engineering" || ken.Attributes["userType"] != "Employee" {
		t.Errorf("title %v userType %v", ken.Attributes["title"], ken.Attributes["userType"])
	}
	if got := asJSON(ken.Attributes["emails"]); got != `[{"primary":true,"type":"work","value":"kthompson@example.com"},{"type":"home","value":"ken@home.example"}]` {
		t.Errorf("emails %s", got)
	}
	if ent := ken.Attributes[bridge.SchemaEnterpriseUser].(map[string]any); ent["costCenter"] != "CC-7" {
		t.Errorf("enterprise %v", ent)
	}
}

// An AD account deleted and created again under the same name (a new
// objectGUID) in one sync interval: the store keeps live userNames unique,
// so the new user is written after the old one is deleted, in the same run.
func TestAdsimUserNameTakeover(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		e.configure(acct, ad.settings())
		opt := bridge.RunOptions{Account: acct}
		e.mustSucceed(opt)
		old, _ := e.snapshot(acct).userByDN(kenDN)

		ad.remove(kenDN)
		again := adsim.User(sampleBase, salesDN, adsim.Person{Given: "Ken", Surname: "Thompson", Sam: "kthompson"})
		ad.add(again)
		ad.addToGroup("CN=Sales Team,"+groupsDN, again.DN)
		r := e.mustSucceed(opt)
		if r.Counts.Users.Added != 1 || r.Counts.Users.Deleted != 1 {
			t.Fatalf("counts %+v, want 1 added and 1 deleted", r.Counts.Users)
		}
		s := e.snapshot(acct)
		u, _ := s.userByDN(again.DN)
		gone := s.users[old.ExternalID]
		if u.ID == old.ID || u.UserName != old.UserName || u.Status != bridge.StatusActive || gone.Status != bridge.StatusDeleted {
			t.Errorf("new %+v\nold %+v", u, gone)
		}
		team, _ := s.groupByDN("CN=Sales Team," + groupsDN)
		sales, _ := s.groupByDN(salesDN)
		if !slices.Contains(memberIDs(team), "User:"+u.ID) || !slices.Contains(memberIDs(sales), "User:"+u.ID) {
			t.Error("the new user's memberships were not set")
		}
		if r := e.mustSucceed(opt); r.Counts.Users != (bridge.Counts{Unchanged: r.Counts.Users.Unchanged}) || r.Counts.Groups.Updated != 0 {
			t.Errorf("the run after: %+v", r.Counts)
		}
	})
}
