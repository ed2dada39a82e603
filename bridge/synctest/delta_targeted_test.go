package synctest

// A delta run asks the store for the few stored objects it looks at
// (bridge.DeltaStore) instead of loading them all. These tests run the
// same changes through three accounts of one store and require the same
// content in all three: "fast" (delta runs with DeltaStore), "slow" (delta
// runs on the same store without DeltaStore, which load every state) and
// "full" (full runs). The changes are the ones the targeted queries could
// get wrong: userNames freed and taken, DNs spelled differently, OU groups
// that are new or protected (which fall back to loading every state).

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// completeStore is a store without bridge.DeltaStore: delta runs through
// it load every stored state, the path the targeted one must agree with.
type completeStore struct {
	bridge.Store
	bridge.MembershipStore
}

func TestAdsimDeltaTargetedEqualsComplete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(t *testing.T) bridge.Store) {
		ad := startAD(t)
		store := open(t)
		if _, ok := store.(bridge.DeltaStore); !ok {
			t.Fatal("the store does not implement bridge.DeltaStore: nothing to compare")
		}
		fast := newEnv(t, store, adsim.SamplePassword)
		slow := *fast
		eng := *fast.engine
		eng.Store = completeStore{store, store.(bridge.MembershipStore)}
		slow.engine = &eng

		corp := "OU=Corp," + sampleBase
		eng1 := "OU=Engineering," + corp
		sales := "OU=Sales," + corp
		backend := "OU=Backend," + eng1
		salesGUID, err := ldapsync.FormatGUID(adsim.GUIDFor(sales))
		if err != nil {
			t.Fatal(err)
		}
		accounts := []string{"fast", "slow", "full"}
		for _, a := range accounts {
			fast.configure(a, ad.settings())
			// The Sales OU group is protected: its stored members are not
			// what the directory says, so a delta touching it plans from
			// every stored object.
			if err := store.AddProtection(fast.ctx, bridge.Protection{ID: uuid.NewString(), AccountID: a, Role: bridge.RoleProtected,
				ObjectType: bridge.ObjectOU, ExternalID: salesGUID}); err != nil {
				t.Fatal(err)
			}
			// A local user holds a userName an AD user will ask for.
			if err := store.Apply(fast.ctx, a, bridge.Changes{Users: []bridge.User{{ID: uuid.NewString(), Source: bridge.SourceLocal,
				UserName: "lbob@example.com", DisplayName: "Local Bob", Active: true, Status: bridge.StatusActive,
				Attributes: map[string]any{"userName": "lbob@example.com"}}}}); err != nil {
				t.Fatal(err)
			}
		}
		deltaOpt := func(a string) bridge.RunOptions {
			return bridge.RunOptions{Account: a, Trigger: bridge.TriggerSchedule}
		}
		fast.mustSucceed(deltaOpt("fast"))
		slow.mustSucceed(deltaOpt("slow"))
		fast.mustSucceed(bridge.RunOptions{Account: "full", Full: true})

		escaped := ""
		steps := []struct {
			name   string
			change func()
			// users added and users in error that the delta must report
			added, errs int
		}{
			{"a new user takes the userName of a deleted one", func() {
				ad.remove("CN=Alan Kay," + eng1)
				ad.add(adsim.User(sampleBase, backend, adsim.Person{Given: "Alan", Surname: "Kay Jr", Sam: "akay", Title: "Engineer"}))
			}, 1, 0},
			{"a new user asks for the userName of an unchanged one", func() {
				ad.add(adsim.User(sampleBase, eng1, adsim.Person{Given: "Grace", Surname: "Clone", Sam: "ghopper"}))
			}, 0, 1},
			{"a new user asks for the userName of a local user", func() {
				ad.add(adsim.User(sampleBase, eng1, adsim.Person{Given: "Bob", Surname: "Local", Sam: "lbob"}))
			}, 0, 1},
			{"a user with an escaped comma in its DN", func() {
				escaped = ad.add(adsim.User(sampleBase, backend, adsim.Person{Given: "Smith,", Surname: "Jo", Sam: "sjo",
					Manager: "CN=Grace Hopper," + eng1}))
			}, 1, 0},
			{"an unchanged manager and group member with an escaped comma", func() {
				ad.add(adsim.User(sampleBase, backend, adsim.Person{Given: "Report", Surname: "Of Jo", Sam: "rjo", Manager: escaped}))
				g := "CN=VPN Users,OU=Groups," + corp
				ad.modify(g, map[string][]string{"member": append(ad.entry(g).Attrs["member"], escaped)})
			}, 1, 0},
			{"a group member spelled in upper case", func() {
				g := "CN=VPN Users,OU=Groups," + corp
				ad.modify(g, map[string][]string{"member": append(ad.entry(g).Attrs["member"], strings.ToUpper("CN=Barbara Liskov,"+backend))})
			}, 0, 0},
			{"a new OU with a user in it", func() {
				ad.add(adsim.OU(eng1, "Research"))
				ad.add(adsim.User(sampleBase, "OU=Research,"+eng1, adsim.Person{Given: "New", Surname: "Researcher", Sam: "nresearcher"}))
			}, 1, 0},
			{"a user moves into the protected OU", func() {
				if err := ad.srv.Move("CN=Rob Pike,"+backend, "CN=Rob Pike,"+sales); err != nil {
					t.Fatal(err)
				}
			}, 0, 0},
			{"a user moves out of the protected OU", func() {
				if err := ad.srv.Move("CN=Joan Clarke,"+sales, "CN=Joan Clarke,"+backend); err != nil {
					t.Fatal(err)
				}
			}, 0, 0},
			{"a member of a group and an OU is deleted", func() {
				ad.remove("CN=Donald Knuth," + eng1)
			}, 0, 0},
			{"nothing", func() {}, 0, 0},
		}
		for _, st := range steps {
			st.change()
			rf := fast.mustSucceed(deltaOpt("fast"))
			rs := slow.mustSucceed(deltaOpt("slow"))
			if rf.Kind != bridge.RunDelta || rs.Kind != bridge.RunDelta {
				t.Fatalf("%s: %s and %s runs (%s), want delta", st.name, rf.Kind, rs.Kind, rf.KindReason)
			}
			// The clashing users of earlier steps stay in error when re-read.
			if u := rf.Counts.Users; u.Added != st.added || (st.errs > 0 && u.Errors < st.errs) {
				t.Errorf("%s: users %+v, want %d added and %d in error", st.name, u, st.added, st.errs)
			}
			if rf.Counts != rs.Counts {
				t.Errorf("%s: targeted delta %+v, complete delta %+v\nevents %v\n%v", st.name, rf.Counts, rs.Counts,
					eventKeys(fast.events("fast", rf.ID)), eventKeys(fast.events("slow", rs.ID)))
			}
			fast.mustSucceed(bridge.RunOptions{Account: "full", Full: true})
			full := fast.content("full")
			for _, a := range []string{"fast", "slow"} {
				if d := diffContent(fast.content(a), full); len(d) > 0 {
					t.Errorf("%s: account %s differs from the full run's (\"delta\" is %s):\n%s", st.name, a, a, strings.Join(d, "\n"))
				}
			}
		}
	})
}
