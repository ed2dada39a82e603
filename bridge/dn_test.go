package bridge

import (
	"strings"
	"testing"
)

func TestNormalizeDN(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"case and spaces", "CN=Ann Lee , OU=Corp,  DC=Example,DC=com", "cn=ann lee,ou=corp,dc=example,dc=com"},
		{"spaces around equals", "cn = Ann,dc = x", "cn=ann,dc=x"},
		{"escaped comma", `CN=Lee\, Ann,OU=Corp,DC=x`, `cn=lee\, ann,ou=corp,dc=x`},
		{"hex escaped comma equals backslash comma", `CN=Lee\2C Ann,OU=Corp,DC=x`, `cn=lee\, ann,ou=corp,dc=x`},
		{"escaped trailing space kept", `CN=Ann\ ,DC=x`, `cn=ann\ ,dc=x`},
		{"utf8 hex", `CN=J\C3\BCrgen,DC=x`, "cn=jürgen,dc=x"},
		{"escaped special chars", `CN=a\+b\=c\"d\\e\<f\>g\;h\#i,DC=x`, `cn=a\+b\=c\"d\\e\<f\>g\;h#i,dc=x`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeDN(tt.in); got != tt.want {
				t.Errorf("NormalizeDN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDNRelations(t *testing.T) {
	tests := []struct {
		name       string
		dn, base   string
		within     bool
		parent     string
		ouPath     string
		ouPathSelf string
	}{
		{"user in nested OU", "CN=Ann,OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com", "ou=corp, dc=EXAMPLE,dc=com", true,
			"ou=backend,ou=engineering,ou=corp,dc=example,dc=com", "Corp/Engineering/Backend", "Corp/Engineering/Backend"},
		{"OU itself", "OU=Corp,DC=example,DC=com", "OU=Corp,DC=example,DC=com", true, "dc=example,dc=com", "", "Corp"},
		{"user in container", "CN=Bob,CN=Users,DC=example,DC=com", "OU=Corp,DC=example,DC=com", false, "cn=users,dc=example,dc=com", "", ""},
		{"suffix is not an RDN boundary", "OU=XCorp,DC=example,DC=com", "OU=Corp,DC=example,DC=com", false, "dc=example,dc=com", "", "XCorp"},
		{"escaped comma in OU", `CN=Ann,OU=Sales\, EMEA,DC=x`, `OU=Sales\2C EMEA,DC=x`, true, `ou=sales\, emea,dc=x`, "Sales, EMEA", "Sales, EMEA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DNWithin(tt.dn, tt.base); got != tt.within {
				t.Errorf("DNWithin = %v, want %v", got, tt.within)
			}
			if got := ParentDN(tt.dn); got != tt.parent {
				t.Errorf("ParentDN = %q, want %q", got, tt.parent)
			}
			if got := OUPath(tt.dn, false); got != tt.ouPath {
				t.Errorf("OUPath = %q, want %q", got, tt.ouPath)
			}
			if got := OUPath(tt.dn, true); got != tt.ouPathSelf {
				t.Errorf("OUPath(self) = %q, want %q", got, tt.ouPathSelf)
			}
		})
	}
	if !EqualDN("CN=Ann,DC=X", "cn=ann , dc=x") {
		t.Error("EqualDN is not case- and space-insensitive")
	}
	if RDNValue(`CN=Lee\, Ann,DC=x`) != "Lee, Ann" {
		t.Errorf("RDNValue = %q", RDNValue(`CN=Lee\, Ann,DC=x`))
	}
}

func TestPlainDNFastPath(t *testing.T) {
	for _, dn := range []string{
		"CN=User 1,OU=Dept1,OU=Load,DC=bench,DC=example,DC=com",
		"CN=Zoë Ångström,OU=Corp,DC=lab,DC=scimbridge,DC=test",
		"cn=a, ou=b,dc=c", "CN=a ,DC=b", "CN=a=b,DC=c", "CN=Odd \\2C Name,DC=x", "CN=#x,DC=y", "CN=a,,DC=b", "CN= a,DC=b",
		"OU=x", "CN=Smith\\, John,OU=Corp,DC=example,DC=com", "CN=a+SN=b,DC=c", " CN=a,DC=b", "CN=a,DC=b ",
	} {
		rdns := parseDN(dn)
		for i := range rdns {
			rdns[i].Type = strings.ToLower(rdns[i].Type)
			rdns[i].Value = strings.ToLower(rdns[i].Value)
		}
		if want := formatRDNs(rdns); NormalizeDN(dn) != want {
			t.Errorf("NormalizeDN(%q) = %q, want %q", dn, NormalizeDN(dn), want)
		}
		if len(rdns) > 1 {
			if want := NormalizeDN(formatRDNs(parseDN(dn)[1:])); ParentDN(dn) != want {
				t.Errorf("ParentDN(%q) = %q, want %q", dn, ParentDN(dn), want)
			}
		}
	}
}
