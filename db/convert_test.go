package db

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// mappedUsers are users as the engine hands them to Apply: mapped from AD
// entries, with the attributes JSON the mapper keeps (nested, multi-valued
// and escaped values).
func mappedUsers(t testing.TB) []bridge.User {
	t.Helper()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	entry := func(dn, guid string, attrs map[string]string) bridge.Entry {
		e := bridge.Entry{Kind: bridge.EntryUser, DN: dn, GUID: guid, Attrs: map[string][]string{},
			UserAccountControl: bridge.UACNormalAccount}
		for k, v := range attrs {
			e.Attrs[strings.ToLower(k)] = []string{v}
		}
		return e
	}
	refs := map[string]bridge.Ref{
		bridge.NormalizeDN("CN=Boss,OU=Corp,DC=example,DC=com"): {ID: "boss-id", Kind: bridge.EntryUser, Name: `The "Boss" <CEO> & co`},
		bridge.NormalizeDN("OU=Corp,DC=example,DC=com"):         {ID: "ou-corp", Kind: bridge.EntryOU},
	}
	lookup := func(dn string) (bridge.Ref, bool) {
		r, ok := refs[bridge.NormalizeDN(dn)]
		return r, ok
	}
	m := bridge.NewMapper(bridge.Settings{Users: bridge.UserRules{Mapping: bridge.MappingCustom, CustomMappings: []bridge.CustomMapping{
		{SCIM: `emails[type eq "home"].value`, LDAP: "otherMailbox"},
		{SCIM: bridge.SchemaBridgeUser + ":extensionAttribute1", LDAP: "extensionAttribute1"},
	}}})
	entries := []bridge.Entry{
		entry("CN=Ann Lee,OU=Corp,DC=example,DC=com", "0f5c1d2e-aaaa-bbbb-cccc-000000000001", map[string]string{
			"userPrincipalName": "ann@example.com", "givenName": "Ann", "sn": "Lee", "displayName": "Ann Lee",
			"mail": "ann@example.com", "otherMailbox": "ann@home.example", "telephoneNumber": "+49 30 1",
			"mobile": "+49 170 2", "streetAddress": "Main St 1", "l": "Berlin", "c": "DE", "department": "R&D",
			"manager": "CN=Boss,OU=Corp,DC=example,DC=com",
		}),
		entry(`CN=Lee\, Zoë,OU=Corp,DC=example,DC=com`, "0f5c1d2e-aaaa-bbbb-cccc-000000000002", map[string]string{
			"userPrincipalName": `zoë"q\uote@example.com`, "displayName": "<b>Zoë</b> & Ñúñez 日本",
			"givenName": "tab\tnew\nline\x01", "sn": "sep\u2028\u2029", "title": "bad \xff utf-8",
			"extensionAttribute1": "Staff & <Friends>",
		}),
		entry("CN=svc,CN=Users,DC=example,DC=com", "0f5c1d2e-aaaa-bbbb-cccc-000000000003", map[string]string{"sAMAccountName": "svc"}),
	}
	var users []bridge.User
	for i, e := range entries {
		u, err := m.User(e, bridge.UserFacts{ID: "00000000-0000-7000-8000-00000000000" + string(rune('1'+i)), Now: now}, lookup)
		if err != nil {
			t.Fatal(err)
		}
		if u.AttributesJSON == "" {
			t.Fatalf("%s: the mapper left no attributes JSON", e.DN)
		}
		users = append(users, u)
	}
	return users
}

func withoutCache(u bridge.User) bridge.User {
	u.AttributesJSON = ""
	return u
}

// TestUserToRowCache: the row made from the mapper's JSON is the row made
// by encoding the map.
func TestUserToRowCache(t *testing.T) {
	for _, u := range mappedUsers(t) {
		t.Run(u.UserName, func(t *testing.T) {
			cached, err := userToRow("acct", u)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := userToRow("acct", withoutCache(u))
			if err != nil {
				t.Fatal(err)
			}
			enc, err := encodeAttributes(u.Attributes)
			if err != nil {
				t.Fatal(err)
			}
			if cached.Attributes != enc || plain.Attributes != enc {
				t.Errorf("attributes\ncached %s\n plain %s\n  want %s", cached.Attributes, plain.Attributes, enc)
			}
			cached.CreatedAt, cached.UpdatedAt = plain.CreatedAt, plain.UpdatedAt // now()
			if cached != plain {
				t.Errorf("rows differ:\ncached %+v\n plain %+v", cached, plain)
			}
		})
	}
}

// TestApplyUserCache writes the mapped users once with the mapper's JSON
// and once without (into another account) and compares what each store
// holds, and what a filter on the attributes document finds.
func TestApplyUserCache(t *testing.T) {
	onBothStores(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		users := mappedUsers(t)
		var cached, plain bridge.Changes
		for _, u := range users {
			cached.Users = append(cached.Users, u)
			p := withoutCache(u)
			p.ID = "p" + u.ID[1:]
			plain.Users = append(plain.Users, p)
		}
		for account, c := range map[string]bridge.Changes{"cached": cached, "plain": plain} {
			if _, err := s.EnsureAccount(ctx, account); err != nil {
				t.Fatal(err)
			}
			if err := s.Apply(ctx, account, c); err != nil {
				t.Fatalf("apply %s: %v", account, err)
			}
		}
		for _, u := range users {
			var a, b userRow
			if err := s.db.Where("id = ?", u.ID).Take(&a).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.db.Where("id = ?", "p"+u.ID[1:]).Take(&b).Error; err != nil {
				t.Fatal(err)
			}
			if !sameJSON(a.Attributes, b.Attributes) || (s.dialect == DialectSQLite && a.Attributes != b.Attributes) {
				t.Errorf("%s: stored attributes\ncached %s\n plain %s", u.UserName, a.Attributes, b.Attributes)
			}
			a.ID, a.AccountID, a.Attributes, a.CreatedAt, a.UpdatedAt = b.ID, b.AccountID, b.Attributes, b.CreatedAt, b.UpdatedAt
			if a != b {
				t.Errorf("%s: rows differ:\ncached %+v\n plain %+v", u.UserName, a, b)
			}
			got, err := s.GetUser(ctx, "cached", u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.AttributesJSON != "" {
				t.Errorf("%s: a user read from the store carries attributes JSON", u.UserName)
			}
			// As JSON holds it: invalid UTF-8 comes back as U+FFFD.
			want, err := decodeAttributes(u.AttributesJSON)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := mustJSON(t, got.Attributes), mustJSON(t, want); g != w {
				t.Errorf("%s: read back\n got %s\nwant %s", u.UserName, g, w)
			}
		}
		// Filters read the document with json_extract / jsonb operators.
		filters := map[string]bridge.Filter{
			"givenName": &bridge.Compare{Path: bridge.AttrPath{Name: "name", Sub: "givenName", Type: bridge.AttrString},
				Op: bridge.OpEq, Value: "tab\tnew\nline\x01"},
			"home email": &bridge.Compare{Path: bridge.AttrPath{Name: "emails", Sub: "value", Type: bridge.AttrString, MultiValued: true},
				Op: bridge.OpEq, Value: "ann@home.example"},
			"extension": &bridge.Compare{Path: bridge.AttrPath{URN: bridge.SchemaBridgeUser, Name: "extensionAttribute1", Type: bridge.AttrString},
				Op: bridge.OpEq, Value: "Staff & <Friends>"},
			"manager": &bridge.Compare{Path: bridge.AttrPath{URN: bridge.SchemaEnterpriseUser, Name: "manager", Sub: "value", Type: bridge.AttrString},
				Op: bridge.OpEq, Value: "boss-id"},
		}
		for name, f := range filters {
			for _, account := range []string{"cached", "plain"} {
				got, total, err := s.QueryUsers(ctx, account, bridge.Query{Filter: f, StartIndex: 1, Count: 10})
				if err != nil {
					t.Fatalf("%s in %s: %v", name, account, err)
				}
				if total != 1 || len(got) != 1 {
					t.Errorf("%s in %s: %d users, want 1", name, account, total)
				}
			}
		}
	})
}

func mustJSON(t *testing.T, m map[string]any) string {
	t.Helper()
	s, err := encodeAttributes(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// BenchmarkUserToRow is the writer's per-user conversion, with the
// mapper's JSON and without it:
//
//	GOMAXPROCS=1 go test ./db -run '^$' -bench BenchmarkUserToRow
func BenchmarkUserToRow(b *testing.B) {
	u := mappedUsers(b)[0]
	for _, bc := range []struct {
		name string
		u    bridge.User
	}{{"cached", u}, {"encoded", withoutCache(u)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := userToRow("acct", bc.u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
