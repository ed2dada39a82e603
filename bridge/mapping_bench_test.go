package bridge

import (
	"strings"
	"testing"
)

// benchUserEntry is a realistic AD user: every default mapping attribute
// (about 20 values, some with characters JSON escapes), a manager and an OU
// parent the lookup resolves.
func benchUserEntry() (Entry, Lookup) {
	const dn = "CN=Ann Lee,OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com"
	e := Entry{Kind: EntryUser, DN: dn, GUID: "0f5c1d2e-aaaa-bbbb-cccc-000000000001", Attrs: map[string][]string{},
		UserAccountControl: UACNormalAccount}
	for k, v := range map[string]string{
		"userPrincipalName": "ann.lee@example.com", "sAMAccountName": "annlee", "cn": "Ann Lee", "givenName": "Ann", "sn": "Lee",
		"displayName": "Ann Lee", "mail": "ann.lee@example.com", "telephoneNumber": "+49 30 1234567", "mobile": "+49 170 7654321",
		"title": "Senior Engineer", "streetAddress": "Hauptstraße 1", "l": "Berlin", "st": "BE", "postalCode": "10115",
		"c": "DE", "co": "Germany", "physicalDeliveryOfficeName": "B-3.14", "department": "R&D",
		"company": "Example AG", "employeeID": "E012345", "manager": "CN=The Boss,OU=Corp,DC=example,DC=com",
		"userAccountControl": "512", "accountExpires": "0",
	} {
		e.Attrs[strings.ToLower(k)] = []string{v}
	}
	refs := map[string]Ref{
		NormalizeDN("CN=The Boss,OU=Corp,DC=example,DC=com"):               {ID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Kind: EntryUser, Name: "The Boss"},
		NormalizeDN("OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com"): {ID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", Kind: EntryOU},
	}
	// As the plan builder's lookup: normalize, then a map read.
	return e, func(dn string) (Ref, bool) {
		r, ok := refs[NormalizeDN(dn)]
		return r, ok
	}
}

// BenchmarkMapperUser measures mapping one user, the per-user CPU of a full
// sync's plan:
//
//	GOMAXPROCS=1 go test ./bridge -run '^$' -bench BenchmarkMapperUser -benchtime 200000x -count 5
func BenchmarkMapperUser(b *testing.B) {
	e, lookup := benchUserEntry()
	m := NewMapper(Settings{})
	f := UserFacts{ID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d", Now: mapNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.User(e, f, lookup); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendJSONUser measures encoding a mapped user's attributes,
// what the store does for a user that comes without AttributesJSON.
func BenchmarkAppendJSONUser(b *testing.B) {
	e, lookup := benchUserEntry()
	u, err := NewMapper(Settings{}).User(e, UserFacts{ID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d", Now: mapNow}, lookup)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendJSON(make([]byte, 0, 1024), u.Attributes); err != nil {
			b.Fatal(err)
		}
	}
}
