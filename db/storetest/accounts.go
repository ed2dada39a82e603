package storetest

import (
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

var accountTests = []test{
	{"DefaultAccountExists", func(t *testing.T, s bridge.Store) {
		a, err := s.GetAccount(ctx(t), bridge.DefaultAccount)
		noErr(t, "GetAccount(default)", err)
		if a.ID != bridge.DefaultAccount || a.CreatedAt.IsZero() {
			t.Fatalf("default account = %+v", a)
		}
	}},
	{"CreateGetList", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "acme")
		a, err := s.GetAccount(ctx(t), "acme")
		noErr(t, "GetAccount", err)
		if a.Name != "Account acme" {
			t.Errorf("Name = %q", a.Name)
		}
		as, err := s.ListAccounts(ctx(t))
		noErr(t, "ListAccounts", err)
		if len(as) != 2 || as[0].ID != "acme" || as[1].ID != bridge.DefaultAccount {
			t.Errorf("ListAccounts = %+v, want acme and default by id", as)
		}
	}},
	{"CreateDuplicateConflicts", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "acme")
		wantErr(t, "second CreateAccount", s.CreateAccount(ctx(t), bridge.Account{ID: "acme"}), bridge.ErrConflict)
	}},
	{"EnsureIsIdempotent", func(t *testing.T, s bridge.Store) {
		a1, err := s.EnsureAccount(ctx(t), "acme")
		noErr(t, "EnsureAccount", err)
		a2, err := s.EnsureAccount(ctx(t), "acme")
		noErr(t, "EnsureAccount again", err)
		if a1.ID != "acme" || !sameTime(a1.CreatedAt, a2.CreatedAt) {
			t.Errorf("EnsureAccount twice: %+v then %+v", a1, a2)
		}
	}},
	{"GetUnknownNotFound", func(t *testing.T, s bridge.Store) {
		_, err := s.GetAccount(ctx(t), "nope")
		wantErr(t, "GetAccount(nope)", err, bridge.ErrNotFound)
		wantErr(t, "DeleteAccount(nope)", s.DeleteAccount(ctx(t), "nope"), bridge.ErrNotFound)
	}},
	{"DeleteCascades", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "acme")
		mustAccount(t, s, "other")
		u, g := user("ann"), group("Staff", bridge.KindSecurity)
		run := mustRun(t, s, "acme", time.Now())
		for _, a := range []string{"acme", "other"} {
			uu, gg := u, g
			if a == "other" {
				uu.ID, gg.ID = newID(), newID()
			}
			mustApply(t, s, a, bridge.Changes{Users: []bridge.User{uu}, Groups: []bridge.Group{gg},
				SetMembers: map[string][]bridge.Member{gg.ID: {userMember(uu)}}})
		}
		mustApply(t, s, "acme", bridge.Changes{Events: []bridge.RunEvent{{RunID: run.ID, ObjectType: bridge.ObjectUser, Action: bridge.ActionAdd}}})
		noErr(t, "PutSettings", s.PutSettings(ctx(t), "acme", bridge.StoredSettings{SealedPassword: []byte{1}}))
		noErr(t, "AddProtection", s.AddProtection(ctx(t), bridge.Protection{AccountID: "acme", Role: bridge.RoleOwner, ObjectType: bridge.ObjectUser, ExternalID: u.ExternalID}))
		noErr(t, "CreateToken", s.CreateToken(ctx(t), bridge.Token{AccountID: "acme", Role: bridge.TokenSCIM, Hash: []byte("acme-token-hash")}))
		unlock, err := s.LockAccount(ctx(t), "acme")
		noErr(t, "LockAccount", err)
		unlock()

		noErr(t, "DeleteAccount", s.DeleteAccount(ctx(t), "acme"))

		_, err = s.GetAccount(ctx(t), "acme")
		wantErr(t, "GetAccount after delete", err, bridge.ErrNotFound)
		_, err = s.GetUser(ctx(t), "acme", u.ID)
		wantErr(t, "GetUser after delete", err, bridge.ErrNotFound)
		_, err = s.GetGroup(ctx(t), "acme", g.ID)
		wantErr(t, "GetGroup after delete", err, bridge.ErrNotFound)
		_, err = s.GetRun(ctx(t), "acme", run.ID)
		wantErr(t, "GetRun after delete", err, bridge.ErrNotFound)
		_, err = s.GetSettings(ctx(t), "acme")
		wantErr(t, "GetSettings after delete", err, bridge.ErrNotConfigured)
		_, err = s.FindToken(ctx(t), []byte("acme-token-hash"))
		wantErr(t, "FindToken after delete", err, bridge.ErrNotFound)
		if ps, _ := s.ListProtections(ctx(t), "acme"); len(ps) != 0 {
			t.Errorf("protections survived: %+v", ps)
		}
		if n := len(states(t, s, "acme")); n != 0 {
			t.Errorf("%d objects survived", n)
		}
		// The other account is untouched.
		if n := len(states(t, s, "other")); n != 2 {
			t.Errorf("other account has %d objects, want 2", n)
		}
		if _, total, _ := s.ListUsers(ctx(t), "other", "", 0, 0); total != 1 {
			t.Errorf("other account users = %d, want 1", total)
		}
	}},
}
