package synctest

// Delta runs against adsim, on SQLite and PostgreSQL. Two accounts read the
// same directory with the same settings: "delta" syncs by delta runs,
// "full" by full runs. After every batch of AD changes both stores must
// hold the same content (ids mapped to objectGUIDs), so everything a full
// run would catch, the delta caught.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// content is a store's users and groups keyed by objectGUID, every SCIM id
// inside replaced by the objectGUID it stands for, without times, versions
// and hashes (which digest ids): what two accounts syncing the same AD must
// agree on.
func (e *env) content(account string) map[string]string {
	e.t.Helper()
	s := e.snapshot(account)
	guidOf := map[string]string{}
	for g, u := range s.users {
		guidOf[u.ID] = g
	}
	for g, gr := range s.groups {
		guidOf[gr.ID] = g
	}
	ids := make([]string, 0, len(guidOf))
	for id := range guidOf {
		ids = append(ids, id)
	}
	norm := func(v any) string {
		b, _ := json.Marshal(v)
		out := string(b)
		for _, id := range ids {
			out = strings.ReplaceAll(out, id, "guid:"+guidOf[id])
		}
		return out
	}
	out := map[string]string{}
	for g, u := range s.users {
		out["user "+g] = norm([]any{u.UserName, u.DisplayName, u.Active, u.Status, u.DN, u.OUPath, u.Attributes, u.DeleteReason})
	}
	for g, gr := range s.groups {
		var ms []string
		for _, m := range gr.Members {
			ms = append(ms, m.Type+":"+guidOf[m.ID])
		}
		sort.Strings(ms)
		out["group "+g] = norm([]any{gr.DisplayName, gr.Kind, gr.Status, gr.DN, gr.Attributes, gr.DeleteReason, ms, guidOf[gr.ParentID]})
	}
	return out
}

func diffContent(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, "only in delta: "+k)
		} else if v != w {
			out = append(out, fmt.Sprintf("%s:\n  delta %s\n  full  %s", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "only in full: "+k)
		}
	}
	sort.Strings(out)
	return out
}

func TestAdsimDeltaEqualsFull(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t), adsim.SamplePassword)
		settings := ad.settings()
		// Selected OUs and a user filter, so moves and filters can take
		// objects out of scope.
		corp := "OU=Corp," + sampleBase
		eng := "OU=Engineering," + corp
		sales := "OU=Sales," + corp
		backend := "OU=Backend," + eng
		groupsOU := "OU=Groups," + corp
		settings.OrganizationalUnits = bridge.OrganizationalUnits{Mode: bridge.OUSelected, Selected: []string{corp}}
		settings.Users.ExclusionFilter = "(title=Excluded)"
		e.configure("delta", settings)
		e.configure("full", settings)
		deltaOpt := bridge.RunOptions{Account: "delta", Trigger: bridge.TriggerSchedule}
		fullOpt := bridge.RunOptions{Account: "full", Full: true}
		e.mustSucceed(deltaOpt)
		e.mustSucceed(fullOpt)

		steps := []struct {
			name   string
			change func()
			// want checks the delta run's report.
			want func(r bridge.Run, evs []bridge.RunEvent) string
		}{
			{"add", func() {
				ad.add(adsim.User(sampleBase, sales, adsim.Person{Given: "New", Surname: "Hire", Sam: "nhire", Title: "Trainee", Manager: "CN=Mary Jackson," + sales}))
			}, wantCounts(bridge.Counts{Added: 1}, bridge.Counts{Updated: 1})}, // + the Sales OU group
			{"modify", func() {
				ad.modify("CN=Grace Hopper,"+eng, map[string][]string{"title": {"CTO"}, "telephoneNumber": {"+49 30 1"}})
			}, wantCounts(bridge.Counts{Updated: 1}, bridge.Counts{})},
			{"disable", func() {
				ad.modify("CN=Rob Pike,"+backend, map[string][]string{"userAccountControl": {"514"}})
			}, wantCounts(bridge.Counts{Deactivated: 1}, bridge.Counts{})},
			{"delete (tombstone)", func() {
				ad.srv.Remove("CN=Alan Kay," + eng)
			}, wantCounts(bridge.Counts{Deleted: 1}, bridge.Counts{Updated: 2})}, // Engineering group and OU
			{"membership", func() {
				g := "CN=VPN Users," + groupsOU
				ent, _ := ad.srv.Entry(g)
				ad.modify(g, map[string][]string{"member": append(ent.Attrs["member"], "CN=Donald Knuth,"+eng)})
			}, wantCounts(bridge.Counts{}, bridge.Counts{Updated: 1})},
			{"rename", func() {
				if err := ad.srv.Move("CN=Radia Perlman,"+eng, "CN=Radia J. Perlman,"+eng); err != nil {
					t.Fatal(err)
				}
			}, wantCounts(bridge.Counts{Updated: 1}, bridge.Counts{})},
			{"OU move of a user", func() {
				if err := ad.srv.Move("CN=Dennis Ritchie,"+backend, "CN=Dennis Ritchie,"+sales); err != nil {
					t.Fatal(err)
				}
			}, wantCounts(bridge.Counts{Updated: 1}, bridge.Counts{Updated: 2})}, // Backend and Sales OU groups
			{"OU rename (children keep their uSNChanged)", func() {
				if err := ad.srv.Move(backend, "OU=Platform,"+eng); err != nil {
					t.Fatal(err)
				}
				backend = "OU=Platform," + eng
			}, func(r bridge.Run, evs []bridge.RunEvent) string {
				if r.Counts.Users.Updated < 5 {
					return fmt.Sprintf("users under the renamed OU not updated: %+v", r.Counts.Users)
				}
				return ""
			}},
			{"move out of scope", func() {
				if err := ad.srv.Move("CN=Ken Thompson,"+backend, "CN=Ken Thompson,OU=Service Accounts,"+sampleBase); err != nil {
					t.Fatal(err)
				}
			}, wantReason("CN=Ken Thompson,OU=Service Accounts,"+sampleBase, "out of scope: outside the selected OUs")},
			{"excluded by the filter", func() {
				ad.modify("CN=Leslie Lamport,"+backend, map[string][]string{"title": {"Excluded"}})
			}, wantReason("CN=Leslie Lamport,"+backend, "out of scope: left out by the user inclusion or exclusion filter")},
			{"back in scope", func() {
				ad.modify("CN=Leslie Lamport,"+backend, map[string][]string{"title": {"Backend Engineer"}})
			}, wantCounts(bridge.Counts{Reactivated: 1}, bridge.Counts{Updated: 2})},
			{"group deleted", func() {
				ad.srv.Remove("CN=Empty Group," + groupsOU)
			}, wantCounts(bridge.Counts{}, bridge.Counts{Deleted: 1})},
			{"manager renamed", func() {
				ad.modify("CN=Mary Jackson,"+sales, map[string][]string{"displayName": {"Mary W. Jackson"}})
			}, func(r bridge.Run, evs []bridge.RunEvent) string {
				if r.Counts.Users.Updated < 8 { // Mary and her reports (manager.displayName)
					return fmt.Sprintf("reports not updated: %+v", r.Counts.Users)
				}
				return ""
			}},
			{"nothing", func() {}, wantCounts(bridge.Counts{}, bridge.Counts{})},
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
			// A full run from where the delta left the account finds nothing
			// to do: the delta wrote what a full run writes, hashes included.
			if again := e.mustSucceed(bridge.RunOptions{Account: "delta", Full: true, DryRun: true}); again.Counts.Users.Unchanged+again.Counts.Groups.Unchanged !=
				totalCounts(again.Counts) {
				t.Errorf("%s: a full run after the delta would still change %+v\nevents: %v", st.name, again.Counts, eventKeys(e.events("delta", again.ID)))
			}
			e.mustSucceed(fullOpt)
			if d := diffContent(e.content("delta"), e.content("full")); len(d) > 0 {
				t.Errorf("%s: the delta run's store differs from the full run's:\n%s", st.name, strings.Join(d, "\n"))
			}
		}
	})
}

func wantCounts(users, groups bridge.Counts) func(bridge.Run, []bridge.RunEvent) string {
	return func(r bridge.Run, _ []bridge.RunEvent) string {
		u, g := r.Counts.Users, r.Counts.Groups
		u.Unchanged, g.Unchanged = 0, 0
		if u != users || g != groups {
			return fmt.Sprintf("users %+v groups %+v, want %+v and %+v", u, g, users, groups)
		}
		return ""
	}
}

func wantReason(dn, reason string) func(bridge.Run, []bridge.RunEvent) string {
	return func(r bridge.Run, evs []bridge.RunEvent) string {
		for _, ev := range evs {
			if ev.Action == bridge.ActionDelete && ev.Reason == reason {
				return ""
			}
		}
		return fmt.Sprintf("no deletion of %s with reason %q", dn, reason)
	}
}

func TestAdsimDeltaKind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t), adsim.SamplePassword)
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		// The clock ticks between calls, so runs are ordered by start time.
		e.engine.Now = func() time.Time { now = now.Add(time.Millisecond); return now }
		const acct = "kind"
		settings := ad.settings()
		e.configure(acct, settings)
		opt := bridge.RunOptions{Account: acct, Trigger: bridge.TriggerSchedule}
		kind := func(step string, want bridge.RunKind, reason string) bridge.Run {
			t.Helper()
			r := e.mustSucceed(opt)
			if r.Kind != want || !strings.Contains(r.KindReason, reason) {
				t.Errorf("%s: %s (%q), want %s (%q)", step, r.Kind, r.KindReason, want, reason)
			}
			return r
		}
		kind("first run", bridge.RunFull, "no earlier successful run")
		kind("second run", bridge.RunDelta, "changes since USN")
		if r := e.mustSucceed(bridge.RunOptions{Account: acct, Full: true}); r.Kind != bridge.RunFull {
			t.Errorf("--full: %s", r.Kind)
		}
		kind("after --full", bridge.RunDelta, "changes since USN")

		// A failed delta keeps the cursor: the change is caught next time.
		ad.modify("CN=Ada Lovelace,OU=Corp,"+sampleBase, map[string][]string{"title": {"Countess"}})
		ad.srv.SetCredentials(ad.facts.ServiceDN, "wrong")
		if r := e.run(opt); r.Status != bridge.RunFailed || r.Cursor != "" {
			t.Errorf("run with a wrong password: %s, cursor %q", r.Status, r.Cursor)
		}
		ad.srv.SetCredentials(ad.facts.ServiceDN, adsim.SamplePassword)
		if r := kind("after a failed run", bridge.RunDelta, ""); r.Counts.Users.Updated != 1 {
			t.Errorf("the change made before the failed run: %+v", r.Counts.Users)
		}

		// Settings that matter force a full run; the schedule does not.
		s2 := settings
		s2.Schedule = bridge.Schedule{Enabled: true, Frequency: bridge.FrequencyDaily, Start: "2026-01-01T02:00", TimeZone: "UTC"}
		e.configure(acct, s2)
		kind("schedule changed", bridge.RunDelta, "")
		s2.Users.ExclusionFilter = "(title=Nobody)"
		e.configure(acct, s2)
		kind("filter changed", bridge.RunFull, "scope, rules, mapping or protections changed")
		kind("after the filter change", bridge.RunDelta, "")
		if err := e.store.AddProtection(e.ctx, bridge.Protection{AccountID: acct, Role: bridge.RoleOwner, ObjectType: bridge.ObjectUser,
			ExternalID: "00000000-0000-0000-0000-000000000001"}); err != nil {
			t.Fatal(err)
		}
		kind("protection added", bridge.RunFull, "protections changed")

		// The daily reconcile.
		now = now.Add(23 * time.Hour)
		kind("23 h later", bridge.RunDelta, "")
		now = now.Add(2 * time.Hour)
		kind("25 h after the last full run", bridge.RunFull, "older than 24h0m0s")

		// A restored DC: another invocationId, or a USN below the cursor.
		ad.srv.SetInvocationID(adsim.GUIDFor("restored"))
		kind("new invocationId", bridge.RunFull, "a different or restored domain controller")
		kind("after it", bridge.RunDelta, "")
		ad.srv.SetHighestCommittedUSN(100)
		kind("USN went back", bridge.RunFull, "below the cursor")
	})
}

func TestAdsimDeltaThresholdAndProtection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t), adsim.SamplePassword)
		const acct = "guard"
		settings := ad.settings()
		settings.DeletionThreshold = bridge.DeletionThreshold{MaxCount: 2, MaxPercent: 100}
		e.configure(acct, settings)
		opt := bridge.RunOptions{Account: acct}
		e.mustSucceed(opt)
		before := e.snapshot(acct)
		ada, _ := before.userByDN("CN=Ada Lovelace,OU=Corp," + sampleBase)
		if err := e.store.AddProtection(e.ctx, bridge.Protection{AccountID: acct, Role: bridge.RoleOwner, ObjectType: bridge.ObjectUser,
			ExternalID: ada.ExternalID}); err != nil {
			t.Fatal(err)
		}
		e.mustSucceed(opt) // full, after the protection change
		sales := "OU=Sales,OU=Corp," + sampleBase
		for _, cn := range []string{"Katherine Johnson", "Dorothy Vaughan", "Hedy Lamarr"} {
			ad.srv.Remove("CN=" + cn + "," + sales)
		}
		ad.srv.Remove("CN=Ada Lovelace,OU=Corp," + sampleBase)
		r := e.run(opt)
		if r.Kind != bridge.RunDelta || r.Status != bridge.RunHeld || r.Counts.Users.Deleted != 3 || r.Counts.Users.Refused != 1 {
			t.Fatalf("delta over the threshold: %s %s %+v (%s)", r.Kind, r.Status, r.Counts.Users, r.Error)
		}
		if s := e.snapshot(acct); !mapsEqual(s.versions(), e.snapshot(acct).versions()) || len(s.users) != len(before.users) {
			t.Fatal("a held run wrote")
		}
		a := e.mustSucceed(bridge.RunOptions{Account: acct, ApproveRunID: r.ID})
		if a.Counts.Users.Deleted != 3 || a.Counts.Users.Refused != 1 {
			t.Errorf("approved run: %s %+v", a.Kind, a.Counts.Users)
		}
		if u, _ := e.snapshot(acct).userByDN("CN=Ada Lovelace,OU=Corp," + sampleBase); u.Status != bridge.StatusActive {
			t.Errorf("the owner was deleted: %s", u.Status)
		}
	})
}

func totalCounts(c bridge.RunCounts) int {
	n := 0
	for _, x := range []bridge.Counts{c.Users, c.Groups} {
		n += x.Added + x.Updated + x.Deactivated + x.Reactivated + x.Deleted + x.Unchanged + x.Skipped + x.Refused + x.Errors
	}
	return n
}

func TestAdsimDeltaOUDescription(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t), adsim.SamplePassword)
		e.configure("a", ad.settings())
		opt := bridge.RunOptions{Account: "a"}
		e.mustSucceed(opt)
		sales := "OU=Sales,OU=Corp," + sampleBase
		before, _ := e.snapshot("a").groupByDN(sales)
		ad.modify(sales, map[string][]string{"description": {"the sales team"}})
		r := e.mustSucceed(opt)
		after, _ := e.snapshot("a").groupByDN(sales)
		if r.Kind != bridge.RunDelta || len(after.Members) != len(before.Members) || len(before.Members) == 0 {
			t.Errorf("%s run: OU group members %d, were %d", r.Kind, len(after.Members), len(before.Members))
		}
	})
}
