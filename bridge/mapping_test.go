package bridge

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var mapNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func userEntry(dn string, attrs map[string]string) Entry {
	e := Entry{Kind: EntryUser, DN: dn, GUID: "0f5c1d2e-aaaa-bbbb-cccc-000000000001", Attrs: map[string][]string{},
		UserAccountControl: UACNormalAccount}
	for k, v := range attrs {
		e.Attrs[strings.ToLower(k)] = []string{v}
	}
	return e
}

func fixedLookup(refs map[string]Ref) Lookup {
	return func(dn string) (Ref, bool) {
		r, ok := refs[NormalizeDN(dn)]
		return r, ok
	}
}

// asJSON round-trips v so expectations can be written as JSON.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func normJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	return asJSON(t, v)
}

func TestMapperUserDefault(t *testing.T) {
	const dn = "CN=Ann Lee,OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com"
	full := userEntry(dn, map[string]string{
		"userPrincipalName": "ann@example.com", "sAMAccountName": "ann", "givenName": "Ann", "sn": "Lee",
		"displayName": "Ann Lee", "mail": "ann.lee@example.com", "telephoneNumber": "+49 30 1", "mobile": "+49 170 2",
		"title": "Engineer", "streetAddress": "Main St 1", "l": "Berlin", "st": "BE", "postalCode": "10115",
		"c": "DE", "co": "Germany", "physicalDeliveryOfficeName": "B-3.14", "department": "R&D",
		"company": "Example AG", "employeeID": "E123", "manager": "cn=boss, ou=corp,dc=example,dc=com",
	})
	refs := fixedLookup(map[string]Ref{
		NormalizeDN("CN=Boss,OU=Corp,DC=example,DC=com"):                   {ID: "boss-id", Kind: EntryUser, Name: "The Boss"},
		NormalizeDN("OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com"): {ID: "ou-backend", Kind: EntryOU},
		NormalizeDN("CN=Outside,OU=Elsewhere,DC=example,DC=com"):           {ID: "x", Kind: EntryGroup},
	})
	sparse := userEntry("CN=svc,CN=Users,DC=example,DC=com", map[string]string{"sAMAccountName": "svc", "cn": "svc", "co": "Germany",
		"manager": "CN=Gone,DC=example,DC=com"})
	sparse.UserAccountControl |= UACAccountDisabled
	expired := userEntry("CN=Old,DC=example,DC=com", map[string]string{"sAMAccountName": "old", "displayName": "Old"})
	expired.AccountExpires = mapNow.Add(-time.Hour)
	future := userEntry("CN=New,DC=example,DC=com", map[string]string{"sAMAccountName": "new", "displayName": "New"})
	future.AccountExpires = mapNow.Add(time.Hour)

	tests := []struct {
		name      string
		entry     Entry
		protected bool
		want      string
		active    bool
	}{
		{"every default attribute", full, false, `{
			"userName": "ann@example.com", "displayName": "Ann Lee", "active": true,
			"externalId": "0f5c1d2e-aaaa-bbbb-cccc-000000000001",
			"name": {"givenName": "Ann", "familyName": "Lee"},
			"emails": [{"type": "work", "value": "ann.lee@example.com", "primary": true}],
			"phoneNumbers": [{"type": "work", "value": "+49 30 1"}, {"type": "mobile", "value": "+49 170 2"}],
			"title": "Engineer",
			"addresses": [{"type": "work", "streetAddress": "Main St 1", "locality": "Berlin", "region": "BE",
				"postalCode": "10115", "country": "DE", "location": "B-3.14"}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "organization": "Example AG",
				"employeeNumber": "E123", "manager": {"value": "boss-id", "displayName": "The Boss"}},
			"urn:scimbridge:params:scim:schemas:extension:ad:2.0:User": {"dn": "` + dn + `",
				"ouPath": "Corp/Engineering/Backend", "kind": "user", "status": "active", "protected": false, "parent": "ou-backend"}
		}`, true},
		{"sparse disabled user: sAMAccountName, cn, co, manager outside scope", sparse, true, `{
			"userName": "svc", "displayName": "svc", "active": false,
			"externalId": "0f5c1d2e-aaaa-bbbb-cccc-000000000001",
			"addresses": [{"type": "work", "country": "Germany"}],
			"urn:scimbridge:params:scim:schemas:extension:ad:2.0:User": {"dn": "CN=svc,CN=Users,DC=example,DC=com",
				"ouPath": "", "kind": "user", "status": "deactivated", "protected": true}
		}`, false},
		{"expired account", expired, false, `{
			"userName": "old", "displayName": "Old", "active": false, "externalId": "0f5c1d2e-aaaa-bbbb-cccc-000000000001",
			"urn:scimbridge:params:scim:schemas:extension:ad:2.0:User": {"dn": "CN=Old,DC=example,DC=com",
				"ouPath": "", "kind": "user", "status": "deactivated", "protected": false}
		}`, false},
		{"expiry in the future", future, false, `{
			"userName": "new", "displayName": "New", "active": true, "externalId": "0f5c1d2e-aaaa-bbbb-cccc-000000000001",
			"urn:scimbridge:params:scim:schemas:extension:ad:2.0:User": {"dn": "CN=New,DC=example,DC=com",
				"ouPath": "", "kind": "user", "status": "active", "protected": false}
		}`, true},
	}
	m := NewMapper(Settings{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := m.User(tt.entry, UserFacts{ID: "u1", Protected: tt.protected, Now: mapNow}, refs)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := asJSON(t, u.Attributes), normJSON(t, tt.want); got != want {
				t.Errorf("attributes\n got %s\nwant %s", got, want)
			}
			if u.Active != tt.active || (u.Status == StatusActive) != tt.active {
				t.Errorf("active = %v, status %s, want active %v", u.Active, u.Status, tt.active)
			}
			if u.ID != "u1" || u.Source != SourceAD || u.ExternalID != tt.entry.GUID || u.DN != tt.entry.DN {
				t.Errorf("indexed fields wrong: %+v", u)
			}
			if u.UserName != u.Attributes["userName"] || u.DisplayName != u.Attributes["displayName"] {
				t.Errorf("indexed names %q %q differ from the attributes", u.UserName, u.DisplayName)
			}
		})
	}
}

func TestMapperUserNoUserName(t *testing.T) {
	_, err := NewMapper(Settings{}).User(userEntry("CN=x,DC=y", map[string]string{"cn": "x"}), UserFacts{Now: mapNow}, fixedLookup(nil))
	if !errors.Is(err, errNoUserName) {
		t.Fatalf("err = %v, want errNoUserName", err)
	}
}

func TestMapperUserCustom(t *testing.T) {
	e := userEntry("CN=Ann,DC=example,DC=com", map[string]string{
		"userPrincipalName": "ann@example.com", "displayName": "Ann", "title": "Engineer", "mail": "ann@example.com",
		"extensionAttribute1": "Staff Engineer", "otherMailbox": "ann@home.example", "homePhone": "+1 555",
		"employeeType": "Employee", "extensionAttribute2": "cc-42", "givenName": "Ann",
	})
	tests := []struct {
		name     string
		mappings []CustomMapping
		check    map[string]any // path in JSON pointer-ish dotted form -> want (nil: absent)
	}{
		{"override title from another attribute", []CustomMapping{{SCIM: "title", LDAP: "extensionAttribute1"}},
			map[string]any{"title": "Staff Engineer"}},
		{"override with a missing attribute removes the default", []CustomMapping{{SCIM: "title", LDAP: "extensionAttribute9"}},
			map[string]any{"title": nil}},
		{"constant value", []CustomMapping{{SCIM: "userType", Value: "Employee"}},
			map[string]any{"userType": "Employee"}},
		{"typed multi-valued path adds an entry", []CustomMapping{{SCIM: `emails[type eq "home"].value`, LDAP: "otherMailbox"},
			{SCIM: `phoneNumbers[type eq "home"]`, LDAP: "homePhone"}},
			map[string]any{"emails": `[{"primary":true,"type":"work","value":"ann@example.com"},{"type":"home","value":"ann@home.example"}]`,
				"phoneNumbers": `[{"type":"home","value":"+1 555"}]`}},
		{"typed path overrides the work email", []CustomMapping{{SCIM: `EMAILS[type eq "work"].value`, LDAP: "otherMailbox"}},
			map[string]any{"emails": `[{"primary":true,"type":"work","value":"ann@home.example"}]`}},
		{"enterprise and bridge extension attributes", []CustomMapping{
			{SCIM: SchemaEnterpriseUser + ":costCenter", LDAP: "extensionAttribute2"},
			{SCIM: SchemaBridgeUser + ":extensionAttribute1", LDAP: "extensionAttribute1"}},
			map[string]any{SchemaEnterpriseUser: `{"costCenter":"cc-42"}`}},
		{"core schema URN prefix and name sub-attribute", []CustomMapping{{SCIM: SchemaUser + ":name.middleName", Value: "Q"}},
			map[string]any{"name": `{"givenName":"Ann","middleName":"Q"}`}},
		{"read-only paths are ignored", []CustomMapping{{SCIM: "active", Value: "false"}, {SCIM: SchemaBridgeUser + ":dn", Value: "x"}},
			map[string]any{"active": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMapper(Settings{Users: UserRules{Mapping: MappingCustom, CustomMappings: tt.mappings}})
			u, err := m.User(e, UserFacts{ID: "u1", Now: mapNow}, fixedLookup(nil))
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.check {
				got, ok := u.Attributes[k]
				switch w := want.(type) {
				case nil:
					if ok {
						t.Errorf("%s = %v, want it absent", k, got)
					}
				case string:
					if strings.HasPrefix(w, "[") || strings.HasPrefix(w, "{") {
						if g := asJSON(t, got); g != normJSON(t, w) {
							t.Errorf("%s = %s, want %s", k, g, w)
						}
					} else if got != w {
						t.Errorf("%s = %v, want %v", k, got, w)
					}
				default:
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s = %v, want %v", k, got, want)
					}
				}
			}
			if tt.name == "enterprise and bridge extension attributes" {
				ext := u.Attributes[SchemaBridgeUser].(map[string]any)
				if ext["extensionAttribute1"] != "Staff Engineer" || ext["dn"] != e.DN {
					t.Errorf("bridge extension = %v", ext)
				}
			}
		})
	}
	m := NewMapper(Settings{Users: UserRules{Mapping: MappingCustom, CustomMappings: []CustomMapping{
		{SCIM: "title", LDAP: "extensionAttribute1"}, {SCIM: "nickName", LDAP: "ExtensionAttribute1"}, {SCIM: "userType", Value: "x"}}}})
	if got := m.Attributes(); !reflect.DeepEqual(got, []string{"extensionAttribute1"}) {
		t.Errorf("Attributes() = %v, want the one custom LDAP attribute once", got)
	}
	if got := NewMapper(Settings{Users: UserRules{Mapping: MappingDefault, CustomMappings: []CustomMapping{{SCIM: "title", LDAP: "x"}}}}).Attributes(); len(got) != 0 {
		t.Errorf("default mapping uses custom attributes %v", got)
	}
}

func TestMapperHashStable(t *testing.T) {
	m := NewMapper(Settings{})
	e := userEntry("CN=Ann,DC=x", map[string]string{"sAMAccountName": "ann", "mail": "a@x", "title": "T"})
	a, _ := m.User(e, UserFacts{ID: "1", Now: mapNow}, fixedLookup(nil))
	b, _ := m.User(e, UserFacts{ID: "1", Now: mapNow}, fixedLookup(nil))
	if a.Hash != b.Hash || a.Hash == "" {
		t.Fatalf("hash not stable: %q %q", a.Hash, b.Hash)
	}
	e.Attrs["title"] = []string{"U"}
	c, _ := m.User(e, UserFacts{ID: "1", Now: mapNow}, fixedLookup(nil))
	if c.Hash == a.Hash {
		t.Error("hash did not change with the title")
	}

	g1 := m.Group(Entry{DN: "CN=G,DC=x", GUID: "g", Attrs: map[string][]string{"cn": {"G"}}},
		GroupFacts{ID: "g1", Kind: KindSecurity, Members: []Member{{ID: "b", Type: "User"}, {ID: "a", Type: "Group"}, {ID: "a", Type: "User"}}})
	g2 := m.Group(Entry{DN: "CN=G,DC=x", GUID: "g", Attrs: map[string][]string{"cn": {"G"}}},
		GroupFacts{ID: "g1", Kind: KindSecurity, Members: []Member{{ID: "a", Type: "Group"}, {ID: "a", Type: "User"}, {ID: "b", Type: "User"}}})
	if g1.Hash != g2.Hash {
		t.Error("group hash depends on member order")
	}
	if want := []Member{{ID: "a", Type: "User"}, {ID: "b", Type: "User"}, {ID: "a", Type: "Group"}}; !reflect.DeepEqual(g1.Members, want) {
		t.Errorf("members = %v, want %v", g1.Members, want)
	}
}

func TestMapperGroup(t *testing.T) {
	m := NewMapper(Settings{})
	tests := []struct {
		name  string
		entry Entry
		facts GroupFacts
		want  string
	}{
		{"OU group", Entry{DN: "OU=Backend,OU=Engineering,DC=x", GUID: "ou-guid", Attrs: map[string][]string{"ou": {"Backend"}}},
			GroupFacts{ID: "g1", Kind: KindOU, ParentID: "p1"}, `{"displayName":"Backend","externalId":"ou-guid",
			"urn:scimbridge:params:scim:schemas:extension:ad:2.0:Group":{"dn":"OU=Backend,OU=Engineering,DC=x","ouPath":"Engineering/Backend",
			"kind":"ou","status":"active","protected":false,"parent":"p1"}}`},
		{"security group named by cn", Entry{DN: "CN=Admins,OU=Engineering,DC=x", GUID: "sg", Attrs: map[string][]string{"cn": {"Admins"}}},
			GroupFacts{ID: "g2", Kind: KindSecurity, Protected: true}, `{"displayName":"Admins","externalId":"sg",
			"urn:scimbridge:params:scim:schemas:extension:ad:2.0:Group":{"dn":"CN=Admins,OU=Engineering,DC=x","ouPath":"Engineering",
			"kind":"security","status":"active","protected":true}}`},
		{"no name attribute: RDN value", Entry{DN: `CN=All\, Staff,DC=x`, GUID: "dl", Attrs: map[string][]string{}},
			GroupFacts{ID: "g3", Kind: KindDistribution}, `{"displayName":"All, Staff","externalId":"dl",
			"urn:scimbridge:params:scim:schemas:extension:ad:2.0:Group":{"dn":"CN=All\\, Staff,DC=x","ouPath":"",
			"kind":"distribution","status":"active","protected":false}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := m.Group(tt.entry, tt.facts)
			if got, want := asJSON(t, g.Attributes), normJSON(t, tt.want); got != want {
				t.Errorf("attributes\n got %s\nwant %s", got, want)
			}
			if g.Kind != tt.facts.Kind || g.ParentID != tt.facts.ParentID || g.Source != SourceAD || g.Status != StatusActive {
				t.Errorf("fields wrong: %+v", g)
			}
		})
	}
}

func TestSetPathRemovesEmptyContainers(t *testing.T) {
	attrs := map[string]any{}
	setPath(attrs, `addresses[type eq "work"].locality`, "Berlin")
	setPath(attrs, `addresses[type eq "home"].locality`, "Potsdam")
	setPath(attrs, `addresses[type eq "work"].locality`, nil)
	setPath(attrs, SchemaEnterpriseUser+":department", "R&D")
	setPath(attrs, SchemaEnterpriseUser+":department", nil)
	setPath(attrs, "name.givenName", nil)
	if got, want := asJSON(t, attrs), `{"addresses":[{"locality":"Potsdam","type":"home"}]}`; got != want {
		t.Errorf("attrs = %s, want %s", got, want)
	}
}
