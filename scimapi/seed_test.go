package scimapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

func newID() string { return uuid.NewString() }

// fixture is the directory the tests seed, as the sync engine writes it.
type fixture struct {
	alice, bob, carol, dave, erin bridge.User
	eng, ops, ou                  bridge.Group
}

func adUser(name, given, family, dept string, active bool) bridge.User {
	id, guid := newID(), newID()
	status := bridge.StatusActive
	if !active {
		status = bridge.StatusDeactivated
	}
	upn := name + "@example.com"
	dn := "CN=" + given + " " + family + ",OU=Staff,DC=example,DC=com"
	attrs := map[string]any{
		"userName": upn, "displayName": given + " " + family, "active": active, "externalId": guid,
		"name":                      map[string]any{"givenName": given, "familyName": family},
		"title":                     "Engineer",
		"emails":                    []any{map[string]any{"type": "work", "value": upn, "primary": true}},
		bridge.SchemaEnterpriseUser: map[string]any{"department": dept, "employeeNumber": "E-" + name},
		bridge.SchemaBridgeUser: map[string]any{"dn": dn, "ouPath": "Staff", "kind": "user", "status": string(status),
			"protected": false, "extensionAttribute1": "x" + name},
	}
	return bridge.User{ID: id, ExternalID: guid, Source: bridge.SourceAD, UserName: upn, DisplayName: given + " " + family,
		Active: active, Status: status, DN: dn, OUPath: "Staff", Attributes: attrs, Hash: "h"}
}

func adGroup(name string, kind bridge.GroupKind) bridge.Group {
	id, guid := newID(), newID()
	dn := "CN=" + name + ",OU=Groups,DC=example,DC=com"
	return bridge.Group{ID: id, ExternalID: guid, Source: bridge.SourceAD, Kind: kind, DisplayName: name, DN: dn,
		Status: bridge.StatusActive, Hash: "h", Attributes: map[string]any{"displayName": name, "externalId": guid,
			bridge.SchemaBridgeGroup: map[string]any{"dn": dn, "kind": string(kind), "status": "active", "protected": false}}}
}

func (e *env) seed() fixture {
	e.t.Helper()
	f := fixture{
		alice: adUser("alice", "Alice", "Archer", "Engineering", true),
		bob:   adUser("bob", "Bob", "Baker", "Sales", false),
		carol: adUser("carol", "Carol", "Cole", "Engineering", true),
		dave:  adUser("dave", "Dave", "Dunn", "Ops", true),
		erin:  adUser("Erin.Upper", "Erin", "Écoute", "Ops", true),
		eng:   adGroup("Engineering", bridge.KindSecurity),
		ops:   adGroup("Ops Team", bridge.KindDistribution),
		ou:    adGroup("Staff", bridge.KindOU),
	}
	f.dave.Attributes[bridge.SchemaBridgeUser].(map[string]any)["protected"] = true
	f.alice.Attributes["emails"] = append(f.alice.Attributes["emails"].([]any),
		map[string]any{"type": "home", "value": "alice@home.example.org"})
	ctx := context.Background()
	c := bridge.Changes{
		Users:  []bridge.User{f.alice, f.bob, f.carol, f.dave, f.erin},
		Groups: []bridge.Group{f.eng, f.ops, f.ou},
		SetMembers: map[string][]bridge.Member{
			f.eng.ID: {{ID: f.alice.ID, Type: "User"}, {ID: f.bob.ID, Type: "User"}, {ID: f.carol.ID, Type: "User"}},
			f.ops.ID: {{ID: f.dave.ID, Type: "User"}, {ID: f.eng.ID, Type: "Group"}},
		},
	}
	if err := e.store.Apply(ctx, e.acct, c); err != nil {
		e.t.Fatalf("seed: %v", err)
	}
	if err := e.store.Apply(ctx, e.acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: f.carol.ID, Reason: "gone from AD", At: time.Now()}}}); err != nil {
		e.t.Fatalf("seed delete: %v", err)
	}
	return f
}
