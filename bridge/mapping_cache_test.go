package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestMapperUserAttributesJSON: the JSON the mapper keeps on a user must
// be what the store would write for its Attributes (encoding/json's
// bytes, AppendJSON's), and its hash the digest of the document the hash
// has always been made of.
func TestMapperUserAttributesJSON(t *testing.T) {
	const dn = "CN=Ann Lee,OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com"
	refs := fixedLookup(map[string]Ref{
		NormalizeDN("CN=Boss,OU=Corp,DC=example,DC=com"):                   {ID: "boss-id", Kind: EntryUser, Name: `The "Boss" <CEO> & co`},
		NormalizeDN("OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com"): {ID: "ou-backend", Kind: EntryOU},
		NormalizeDN(`OU=Sales\, EMEA,DC=example,DC=com`):                   {ID: "ou-sales", Kind: EntryOU},
	})
	custom := Settings{Users: UserRules{Mapping: MappingCustom, CustomMappings: []CustomMapping{
		{SCIM: `emails[type eq "home"].value`, LDAP: "otherMailbox"},
		{SCIM: `phoneNumbers[type eq "home"]`, LDAP: "homePhone"},
		{SCIM: `addresses[type eq "home"].locality`, LDAP: "homeCity"},
		{SCIM: "name.middleName", Value: "Q."},
		{SCIM: "userType", Value: "Employee <full-time>"},
		{SCIM: SchemaEnterpriseUser + ":costCenter", LDAP: "extensionAttribute2"},
		{SCIM: SchemaBridgeUser + ":extensionAttribute1", LDAP: "extensionAttribute1"},
		{SCIM: "title", LDAP: "extensionAttribute9"}, // absent: removes the default title
	}}}
	disabled := userEntry("CN=svc,CN=Users,DC=example,DC=com", map[string]string{"sAMAccountName": "svc"})
	disabled.UserAccountControl |= UACAccountDisabled
	tests := []struct {
		name     string
		settings Settings
		entry    Entry
	}{
		{"every default attribute, nested and multi-valued, with a manager", Settings{}, userEntry(dn, map[string]string{
			"userPrincipalName": "ann@example.com", "givenName": "Ann", "sn": "Lee", "displayName": "Ann Lee",
			"mail": "ann.lee@example.com", "telephoneNumber": "+49 30 1", "mobile": "+49 170 2", "title": "Engineer",
			"streetAddress": "Main St 1", "l": "Berlin", "st": "BE", "postalCode": "10115", "c": "DE",
			"physicalDeliveryOfficeName": "B-3.14", "department": "R&D", "company": "Example AG", "employeeID": "E123",
			"manager": "CN=Boss,OU=Corp,DC=example,DC=com",
		})},
		{"escaped values", Settings{}, userEntry(`CN=Lee\, Ann,OU=Sales\, EMEA,DC=example,DC=com`, map[string]string{
			"userPrincipalName": `a"b\c@example.com`, "displayName": "<script>alert(1)</script> & co",
			"givenName": "tab\there\x01\x1f", "sn": "Zoë Ñúñez 日本", "title": "line\u2028sep\u2029end",
			"department": "bad utf-8 \xff\xc3", "streetAddress": "Hauptstraße 1\nHinterhaus", "company": "\x7f DEL",
		})},
		{"custom mappings: typed entries of other types, constants, extensions", custom, userEntry(dn, map[string]string{
			"userPrincipalName": "ann@example.com", "givenName": "Ann", "mail": "ann@example.com", "title": "Engineer",
			"otherMailbox": "ann@home.example", "homePhone": "+1 555", "homeCity": "Potsdam",
			"extensionAttribute1": "Staff & <Friends>", "extensionAttribute2": "cc-42",
		})},
		{"sparse disabled user in a container", Settings{}, disabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := NewMapper(tt.settings).User(tt.entry, UserFacts{ID: "u1", Now: mapNow}, refs)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(u.Attributes)
			if err != nil {
				t.Fatal(err)
			}
			if u.AttributesJSON != string(want) {
				t.Errorf("AttributesJSON\n got %s\nwant %s", u.AttributesJSON, want)
			}
			fresh, err := AppendJSON(nil, u.Attributes)
			if err != nil || u.AttributesJSON != string(fresh) {
				t.Errorf("AttributesJSON differs from AppendJSON (%v)", err)
			}
			doc, _ := json.Marshal(struct {
				A map[string]any `json:"a"`
			}{u.Attributes})
			sum := sha256.Sum256(doc)
			if wantHash := mappingVersion + ":" + hex.EncodeToString(sum[:]); u.Hash != wantHash || contentHash(u.Attributes, nil) != wantHash {
				t.Errorf("hash %s, want %s", u.Hash, wantHash)
			}
		})
	}
}

// refSetPath is setPath as it was before paths were compiled: the compiled
// form must build the same documents.
func refSetPath(attrs map[string]any, path string, value any) {
	for _, urn := range []string{SchemaEnterpriseUser, SchemaBridgeUser} {
		if strings.HasPrefix(path, urn+":") {
			inner, _ := attrs[urn].(map[string]any)
			if inner == nil {
				if value == nil {
					return
				}
				inner = map[string]any{}
				attrs[urn] = inner
			}
			refSetPath(inner, path[len(urn)+1:], value)
			if len(inner) == 0 {
				delete(attrs, urn)
			}
			return
		}
	}
	if i := strings.Index(path, "["); i > 0 {
		coll := path[:i]
		rest := path[i:]
		end := strings.Index(rest, "]")
		typ := ""
		if q := strings.Split(rest[:end], `"`); len(q) >= 2 {
			typ = q[1]
		}
		sub := strings.TrimPrefix(rest[end+1:], ".")
		if sub == "" {
			sub = "value"
		}
		list, _ := attrs[coll].([]any)
		idx := -1
		for j, x := range list {
			if m, ok := x.(map[string]any); ok && m["type"] == typ {
				idx = j
				break
			}
		}
		if value == nil {
			if idx < 0 {
				return
			}
			m := list[idx].(map[string]any)
			delete(m, sub)
			if onlyMarkers(m) {
				list = append(list[:idx:idx], list[idx+1:]...)
			}
			if len(list) == 0 {
				delete(attrs, coll)
			} else {
				attrs[coll] = list
			}
			return
		}
		if idx < 0 {
			list = append(list, map[string]any{"type": typ})
			idx = len(list) - 1
		}
		list[idx].(map[string]any)[sub] = value
		attrs[coll] = list
		return
	}
	if i := strings.Index(path, "."); i > 0 {
		parent, sub := path[:i], path[i+1:]
		m, _ := attrs[parent].(map[string]any)
		if m == nil {
			if value == nil {
				return
			}
			m = map[string]any{}
			attrs[parent] = m
		}
		if value == nil {
			delete(m, sub)
			if len(m) == 0 {
				delete(attrs, parent)
			}
		} else {
			m[sub] = value
		}
		return
	}
	if value == nil {
		delete(attrs, path)
	} else {
		attrs[path] = value
	}
}

// TestSetPathMatchesReference applies random runs of sets and removals of
// every path a mapping may target (and a few odd spellings) both ways.
func TestSetPathMatchesReference(t *testing.T) {
	paths := []string{"name", "emails", `emails[type eq "work"]`, `x[type eq "a"b"].c`, `x[type eq ].c`, `x[]`, "[a]", ".a", "a.b.c",
		SchemaEnterpriseUser + ":", SchemaEnterpriseUser + ":name.x", SchemaBridgeUser + `:emails[type eq "work"].value`}
	for _, p := range userPaths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 2000 {
		got, want := map[string]any{}, map[string]any{}
		var steps []string
		for range 1 + rng.IntN(12) {
			p := paths[rng.IntN(len(paths))]
			var v any
			if rng.IntN(3) > 0 {
				v = "v" + p
			}
			steps = append(steps, p)
			setPath(got, p, v)
			refSetPath(want, p, v)
			if g, w := asJSON(t, got), asJSON(t, want); g != w {
				t.Fatalf("run %d, steps %q:\n got %s\nwant %s", run, steps, g, w)
			}
		}
	}
}

// refOUPath is OUPath by parsing, as it always was: the in-place reading
// of plain DNs must give the same paths.
func refOUPath(dn string, self bool) string {
	rdns := parseDN(dn)
	if !self && len(rdns) > 0 {
		rdns = rdns[1:]
	}
	var parts []string
	for i := len(rdns) - 1; i >= 0; i-- {
		if strings.EqualFold(rdns[i].Type, "ou") {
			parts = append(parts, rdns[i].Value)
		}
	}
	return strings.Join(parts, "/")
}

var ouPathSeeds = []string{
	"", "OU=Corp", "CN=Ann,OU=Corp,DC=x", "CN=Ann,OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com",
	"cn=a,ou=b,Ou=c,oU=d,OU=e,ou=f,ou=g,ou=h,ou=i,ou=j,dc=k", "CN=Ann,CN=Users,DC=x", "CN=a,OU=,OU=b,DC=x",
	"CN=a,OU=\tb,DC=x", "CN=a,\tOU=b,DC=x", "CN=a,OU=b\u00a0,DC=x", "CN=a,OU=b\uE000c,DC=x", "CN=a,OU=München,DC=x",
	"CN=a, OU=b,DC=x", `CN=a,OU=b\,c,DC=x`, "CN=a;OU=b", "CN=a,OU=b+CN=c,DC=x", "CN=a,OUX=b,DC=x", "CN=a,O=b,DC=x",
	"CN=a,OU=b=c,DC=x", "OU=a,", ",OU=a", "CN=a,OU=\xffb,DC=x", "CN=a,\u212aOU=b",
}

func TestOUPathMatchesParse(t *testing.T) {
	dns := slices.Clone(ouPathSeeds)
	alphabet := []string{"OU", "ou", "CN", "DC", "=", "=", ",", ",", "a", "Zoë", " ", "\t", "\\", "\\2C", "+", ";", "\u00a0", "\uE000", "\xff", "#"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(16) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		dns = append(dns, b.String())
	}
	// Well-formed plain DNs, which take the fast path.
	for range 2000 {
		var b strings.Builder
		for i := range 1 + rng.IntN(8) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString([]string{"OU", "ou", "CN", "DC", "L"}[rng.IntN(5)])
			b.WriteString("=")
			b.WriteString([]string{"Corp", "Sales EMEA", "München", "", "a-b_c"}[rng.IntN(5)])
		}
		dns = append(dns, b.String())
	}
	for _, dn := range dns {
		for _, self := range []bool{false, true} {
			if got, want := OUPath(dn, self), refOUPath(dn, self); got != want {
				t.Errorf("OUPath(%q, %v) = %q, want %q", dn, self, got, want)
			}
		}
	}
}

func FuzzOUPath(f *testing.F) {
	for _, s := range ouPathSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dn string) {
		for _, self := range []bool{false, true} {
			if got, want := OUPath(dn, self), refOUPath(dn, self); got != want {
				t.Errorf("OUPath(%q, %v) = %q, want %q", dn, self, got, want)
			}
		}
	})
}

// TestAppendJSONStringMatchesEncodingJSON tries every byte alone and
// random strings of the characters escaping cares about.
func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	pieces := []string{"a", "Z", " ", `"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "\t", "\n", "é", "日本", "\u2028",
		"\u2029", "\U0001F600", "\xff", "\xc3", "\xe2\x80", "\ufffd", "/"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
		// as a key too
		want, _ = json.Marshal(map[string]any{s: s})
		if got, _ := AppendJSON(nil, map[string]any{s: s}); string(got) != string(want) {
			t.Fatalf("AppendJSON(map %q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\<>&`, "\x00\x1f\x7f", "é\u2028\u2029\xff\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestAppendJSONObjectOrder covers objects of every size around the
// stack array's, in random orders of insertion.
func TestAppendJSONObjectOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := range 40 {
		for range 20 {
			m := map[string]any{}
			for len(m) < n {
				k := string(rune('A' + rng.IntN(58)))
				if rng.IntN(2) == 0 {
					k += string(rune('a' + rng.IntN(26)))
				}
				m[k] = []any{k, rng.IntN(2) == 0, nil, map[string]any{"x": k}}
			}
			want, _ := json.Marshal(m)
			if got, err := AppendJSON(nil, m); err != nil || string(got) != string(want) {
				t.Fatalf("%d members: %s, want %s (%v)", n, got, want, err)
			}
		}
	}
}
