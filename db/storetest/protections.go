package storetest

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

var protectionTests = []test{
	{"AddListDelete", func(t *testing.T, s bridge.Store) {
		ext := newID()
		p := bridge.Protection{AccountID: acct, Role: bridge.RoleProtected, ObjectType: bridge.ObjectGroup, ExternalID: ext, Note: "HR owns it"}
		noErr(t, "AddProtection", s.AddProtection(ctx(t), p))
		// The same object may be both protected and an owner.
		owner := p
		owner.Role, owner.ObjectType = bridge.RoleOwner, bridge.ObjectUser
		noErr(t, "AddProtection owner", s.AddProtection(ctx(t), owner))
		wantErr(t, "AddProtection duplicate", s.AddProtection(ctx(t), p), bridge.ErrConflict)
		local := bridge.Protection{AccountID: acct, Role: bridge.RoleProtected, ObjectType: bridge.ObjectUser, ResourceID: newID()}
		noErr(t, "AddProtection by resource id", s.AddProtection(ctx(t), local))

		ps, err := s.ListProtections(ctx(t), acct)
		noErr(t, "ListProtections", err)
		if len(ps) != 3 || ps[0].ID == "" || ps[0].ExternalID != ext || ps[0].Note != "HR owns it" || ps[0].CreatedAt.IsZero() {
			t.Fatalf("ListProtections = %+v", ps)
		}
		wantErr(t, "DeleteProtection unknown", s.DeleteProtection(ctx(t), acct, newID()), bridge.ErrNotFound)
		noErr(t, "DeleteProtection", s.DeleteProtection(ctx(t), acct, ps[0].ID))
		if ps, _ := s.ListProtections(ctx(t), acct); len(ps) != 2 {
			t.Errorf("after delete: %+v", ps)
		}
	}},
	{"Isolation", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		ext := newID()
		for _, a := range []string{acct, "other"} {
			noErr(t, "AddProtection "+a, s.AddProtection(ctx(t), bridge.Protection{AccountID: a, Role: bridge.RoleOwner, ObjectType: bridge.ObjectUser, ExternalID: ext}))
		}
		theirs, _ := s.ListProtections(ctx(t), "other")
		wantErr(t, "DeleteProtection of another account", s.DeleteProtection(ctx(t), acct, theirs[0].ID), bridge.ErrNotFound)
		if ps, _ := s.ListProtections(ctx(t), "other"); len(ps) != 1 {
			t.Errorf("other account's protections = %+v", ps)
		}
		err := s.AddProtection(ctx(t), bridge.Protection{AccountID: "nope", Role: bridge.RoleOwner, ObjectType: bridge.ObjectUser, ExternalID: ext})
		wantErr(t, "AddProtection in unknown account", err, bridge.ErrNotFound)
	}},
}
