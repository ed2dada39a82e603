package synctest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// TestAdsimStreamedFirstSync: a first sync writes its users while it
// reads (bridge/plan_stream.go). What it leaves must be what planning
// after the read leaves, so a second full run, which plans after the read,
// finds nothing to change; and the decisions that wait for the whole read
// elsewhere come out the same: users read before their manager, a manager
// out of scope, userName clashes among AD users (the first read wins) and
// with a local user (it keeps its name), a manager who loses a clash.
func TestAdsimStreamedFirstSync(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		e.configure(acct, ad.settings())
		if err := e.store.Apply(e.ctx, acct, bridge.Changes{Users: []bridge.User{{ID: uuid.NewString(), Source: bridge.SourceLocal,
			UserName: "local.taken@example.com", DisplayName: "Local Holder", Active: true, Status: bridge.StatusActive,
			Attributes: map[string]any{"userName": "local.taken@example.com"}}}}); err != nil {
			t.Fatal(err)
		}

		lateMgr := "CN=Late Manager," + salesDN
		loser := "CN=Clash Second," + salesDN
		person := func(given, sam, manager string) adsim.Person {
			return adsim.Person{Given: given, Surname: "Stream", Sam: sam, Title: "Tester", Manager: manager}
		}
		// Read in this order (adsim answers in insertion order): reports
		// before their manager, then the manager.
		early1 := ad.add(adsim.User(sampleBase, salesDN, person("Early1", "early1", lateMgr)))
		early2 := ad.add(adsim.User(sampleBase, salesDN, person("Early2", "early2", lateMgr)))
		outside := ad.add(adsim.User(sampleBase, salesDN, person("Outside", "outside", "CN=Nobody,OU=Elsewhere,DC=other,DC=com")))
		first := ad.add(adsim.User(sampleBase, salesDN, person("Clash", "clash", "")))
		// Same userName as first (the UPN is Sam@domain); the reports
		// below point at it and must lose their manager.
		second := ad.add(func() adsim.Entry {
			u := adsim.User(sampleBase, salesDN, person("Clash", "clash", ""))
			u.DN = loser
			u.Attrs["cn"], u.Attrs["name"] = []string{"Clash Second"}, []string{"Clash Second"}
			u.Attrs["objectGUID"] = []string{string(adsim.GUIDFor(loser))}
			return u
		}())
		ofLoser := ad.add(adsim.User(sampleBase, salesDN, person("OfLoser", "ofloser", loser)))
		local := ad.add(adsim.User(sampleBase, salesDN, person("Local", "local.taken", "")))
		ad.add(adsim.User(sampleBase, salesDN, adsim.Person{Given: "Late", Surname: "Manager", Sam: "late.manager", Title: "Boss"}))

		r := e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
		s := e.snapshot(acct)
		for _, dn := range []string{early1, early2} {
			u, ok := s.userByDN(dn)
			if !ok {
				t.Fatalf("%s not stored", dn)
			}
			ent, _ := u.Attributes[bridge.SchemaEnterpriseUser].(map[string]any)
			mgr, _ := ent["manager"].(map[string]any)
			if m, _ := s.userByDN(lateMgr); mgr["value"] != m.ID || mgr["displayName"] != "Late Manager" {
				t.Errorf("%s manager %v, want %s (Late Manager)", dn, mgr, m.ID)
			}
		}
		for _, dn := range []string{outside, ofLoser} {
			u, ok := s.userByDN(dn)
			if !ok {
				t.Fatalf("%s not stored", dn)
			}
			if ent, _ := u.Attributes[bridge.SchemaEnterpriseUser].(map[string]any); ent["manager"] != nil {
				t.Errorf("%s has manager %v, want none (out of scope / lost its userName)", dn, ent["manager"])
			}
		}
		if _, ok := s.userByDN(first); !ok {
			t.Errorf("the first user read with a userName is not stored")
		}
		for _, dn := range []string{second, local} {
			if _, ok := s.userByDN(dn); ok {
				t.Errorf("%s stored despite its userName clash", dn)
			}
		}
		if r.Counts.Users.Errors != 2 {
			t.Errorf("first run: %s, want 2 userName clashes", r.Summary())
		}
		evs := e.events(acct, r.ID)
		for _, dn := range []string{second, local} {
			found := false
			for _, ev := range evs {
				if ev.DN == dn && ev.Action == bridge.ActionError && strings.Contains(ev.Reason, "is already used by") {
					found = true
				}
			}
			if !found {
				t.Errorf("no clash error event for %s", dn)
			}
		}

		again := e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
		c := again.Counts
		if c.Users.Added+c.Users.Updated+c.Users.Deleted+c.Groups.Added+c.Groups.Updated+c.Groups.Deleted != 0 {
			t.Errorf("a planned full run after the streamed one changed the store: %s", again.Summary())
		}
	})
}

// TestAdsimStreamedFirstSyncReadFailure: a first sync whose read fails
// half-way keeps the users it had written, says how many, deletes nothing,
// and the next run completes the sync to what one clean run leaves.
func TestAdsimStreamedFirstSyncReadFailure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		e := newEnv(t, open(t))
		const acct = "acme"
		e.configure(acct, ad.settings())
		e.engine.Open = func(ctx context.Context, c bridge.Connection, pw string, log *slogLogger) (bridge.Directory, error) {
			d, err := ldapsync.Options{PageSize: 3}.Open(ctx, c, pw, log)
			if err != nil {
				return nil, err
			}
			return &failingAfterDir{Directory: d, after: 16}, nil
		}
		r := e.run(bridge.RunOptions{Account: acct})
		if r.Status != bridge.RunFailed || !strings.HasPrefix(r.Error, "reading the directory failed: ") ||
			!strings.HasSuffix(r.Error, "users planned before it were written; nothing was deleted") {
			t.Fatalf("run: %s %q, want failed reading, saying what was written", r.Status, r.Error)
		}
		s := e.snapshot(acct)
		if len(s.groups) != 0 || r.Counts.Users.Added == 0 || len(s.users) != r.Counts.Users.Added || r.Counts.Users.Added > 16 {
			t.Errorf("failed first run: %d users, %d groups stored; report %s", len(s.users), len(s.groups), r.Summary())
		}

		e.completesLikeACleanSync(acct, ad.settings())
	})
}

// completesLikeACleanSync runs acct's next sync, as it comes after an
// interrupted first one, and checks that the store then holds what one
// clean sync of the same directory into a new account leaves.
func (e *env) completesLikeACleanSync(acct string, settings bridge.Settings) {
	e.t.Helper()
	e.engine.Open = ldapsync.Open
	e.mustSucceed(bridge.RunOptions{Account: acct})
	e.configure("clean", settings)
	e.mustSucceed(bridge.RunOptions{Account: "clean"})
	if d := diffContent(e.content(acct), e.content("clean")); len(d) > 0 {
		e.t.Errorf("after an interrupted first run and a complete one, the store differs from a clean sync:\n%s", strings.Join(d, "\n"))
	}
}

// failingAfterDir fails the user read after `after` entries, as a
// connection reset would, while the server stays up for the next run.
type failingAfterDir struct {
	bridge.Directory
	after, seen int
}

func (d *failingAfterDir) Stream(ctx context.Context, s bridge.Scope, kind bridge.EntryKind, fn func(bridge.Entry) error) error {
	return d.Directory.Stream(ctx, s, kind, func(e bridge.Entry) error {
		if kind == bridge.EntryUser {
			if d.seen++; d.seen > d.after {
				return errors.New("read tcp 127.0.0.1:389: connection reset by peer")
			}
		}
		return fn(e)
	})
}
