package ldapsync

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

func TestFilterFor(t *testing.T) {
	tests := []struct {
		name  string
		scope bridge.Scope
		kind  bridge.EntryKind
		want  string
	}{
		{"users", bridge.Scope{}, bridge.EntryUser, "(&(objectCategory=person)(objectClass=user))"},
		{"users with inclusion", bridge.Scope{InclusionFilter: "(department=*)"}, bridge.EntryUser,
			"(&(objectCategory=person)(objectClass=user)(department=*))"},
		{"users with both", bridge.Scope{InclusionFilter: "(department=*)", ExclusionFilter: "(title=Contractor)"}, bridge.EntryUser,
			"(&(objectCategory=person)(objectClass=user)(department=*)(!(title=Contractor)))"},
		{"exclusion only, unparenthesized", bridge.Scope{ExclusionFilter: "title=Contractor"}, bridge.EntryUser,
			"(&(objectCategory=person)(objectClass=user)(!(title=Contractor)))"},
		{"security groups", bridge.Scope{}, bridge.EntryGroup,
			"(&(objectClass=group)(groupType:1.2.840.113556.1.4.803:=2147483648))"},
		{"all groups", bridge.Scope{DistributionLists: true}, bridge.EntryGroup, "(objectClass=group)"},
		{"ous", bridge.Scope{}, bridge.EntryOU, "(objectClass=organizationalUnit)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filterFor(tt.scope, tt.kind)
			if err != nil || got != tt.want {
				t.Fatalf("filterFor = %q, %v; want %q", got, err, tt.want)
			}
			if _, err := ldap.CompileFilter(got); err != nil {
				t.Fatalf("result does not compile: %v", err)
			}
		})
	}
}

func TestFilterForRejectsBadFilter(t *testing.T) {
	_, err := filterFor(bridge.Scope{InclusionFilter: "(department=*"}, bridge.EntryUser)
	if Classify(err) != KindFilter || !strings.HasPrefix(err.Error(), `filter "(department=*" is not a valid LDAP filter`) {
		t.Fatalf("err = %v (kind %q)", err, Classify(err))
	}
}

// Equals must neutralise every character that changes a filter's meaning.
func TestEqualsEscapes(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"plain", `(cn=plain)`},
		{"*", `(cn=\2a)`},
		{"a(b)c", `(cn=a\28b\29c)`},
		{`back\slash`, `(cn=back\5cslash)`},
		{"nul\x00", `(cn=nul\00)`},
		{"*)(uid=*", `(cn=\2a\29\28uid=\2a)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := Equals("cn", tt.value)
			if got != tt.want {
				t.Fatalf("Equals(%q) = %s, want %s", tt.value, got, tt.want)
			}
			p, err := ldap.CompileFilter(got)
			if err != nil || p.Tag != ldap.FilterEqualityMatch {
				t.Fatalf("escaped filter is not a single equality: %v", err)
			}
		})
	}
}

func TestSearchBases(t *testing.T) {
	tests := []struct {
		name  string
		scope bridge.Scope
		want  []string
	}{
		{"base only", bridge.Scope{BaseDN: "DC=x"}, []string{"DC=x"}},
		{"disjoint", bridge.Scope{BaseDN: "DC=x", Subtrees: []string{"OU=A,DC=x", "OU=B,DC=x"}}, []string{"OU=A,DC=x", "OU=B,DC=x"}},
		{"nested dropped", bridge.Scope{BaseDN: "DC=x", Subtrees: []string{"OU=Sub,OU=A,DC=x", "OU=A,DC=x"}}, []string{"OU=A,DC=x"}},
		{"duplicate in other case", bridge.Scope{BaseDN: "DC=x", Subtrees: []string{"OU=A,DC=x", "ou=a, dc=X"}}, []string{"OU=A,DC=x"}},
		{"escaped comma is not a parent", bridge.Scope{BaseDN: "DC=x", Subtrees: []string{`OU=A\,B,DC=x`, "OU=B,DC=x"}}, []string{`OU=A\,B,DC=x`, "OU=B,DC=x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := searchBases(tt.scope)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("searchBases = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		want    *valueRange
		wantErr bool
	}{
		{"member", nil, false},
		{"member;range=0-1499", &valueRange{0, 1499, false}, false},
		{"member;range=1500-*", &valueRange{1500, 0, true}, false},
		{"Member;Range=3000-4499", &valueRange{3000, 4499, false}, false},
		{"member;binary;range=0-*", &valueRange{0, 0, true}, false},
		{"member;range=x-*", nil, true},
		{"member;range=10-5", nil, true},
		{"member;range=10", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseRange(tt.in)
			if (err != nil) != tt.wantErr || (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("parseRange(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSyntax(t *testing.T) {
	var s Syntax
	within := []struct {
		dn, base string
		want     bool
	}{
		{"OU=A,DC=x,DC=com", "DC=x,DC=com", true},
		{"dc=x,dc=com", "DC=X, DC=Com", true},
		{"OU=A,DC=y,DC=com", "DC=x,DC=com", false},
		{"DC=com", "DC=x,DC=com", false},
		{`CN=a\,DC=x`, "DC=x", false},
		{"not a dn", "DC=x", false},
	}
	for _, tt := range within {
		if got := s.DNWithin(tt.dn, tt.base); got != tt.want {
			t.Errorf("DNWithin(%q, %q) = %v", tt.dn, tt.base, got)
		}
	}
	if err := s.CheckDN("OU=A,DC=x"); err != nil {
		t.Errorf("CheckDN valid: %v", err)
	}
	for _, bad := range []string{"", "OU", "OU=A,,DC=x=y=z\\"} {
		if err := s.CheckDN(bad); err == nil {
			t.Errorf("CheckDN(%q) accepted", bad)
		}
	}
	if err := s.CheckFilter("(&(a=b)(c=*))"); err != nil {
		t.Errorf("CheckFilter valid: %v", err)
	}
	if err := s.CheckFilter("(&(a=b)"); err == nil {
		t.Errorf("CheckFilter accepted an unbalanced filter")
	}
}
