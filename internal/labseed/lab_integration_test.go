package labseed

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// TestLabMatchesSeed checks a running lab (source $LAB_DIR/env) against
// Expected: TLS with the lab CA, counts per OU, group sizes through ranged
// retrieval, the special objects. Skipped without SCIMBRIDGE_LAB_HOST.
func TestLabMatchesSeed(t *testing.T) {
	lab, ok, err := LabFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("SCIMBRIDGE_LAB_HOST unset: no Samba lab (scripts/samba-lab.sh up)")
		}
		t.Skip("SCIMBRIDGE_LAB_HOST unset: no Samba lab (scripts/samba-lab.sh up)")
	}
	x := lab.Seed().Expected()

	pem, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := ldap.DialURL(lab.LDAPSURL(), ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: lab.Host}))
	if err != nil {
		t.Fatalf("ldaps with the lab CA: %v", err)
	}
	defer conn.Close()
	conn.SetTimeout(30 * time.Second)
	if err := conn.Bind(lab.BindDN, lab.Password); err != nil {
		t.Fatalf("bind as %s: %v", lab.BindDN, err)
	}

	count := func(base, filter string, scope int) int {
		t.Helper()
		req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, []string{"1.1"}, nil)
		res, err := conn.SearchWithPaging(req, 1000)
		if err != nil {
			t.Fatalf("search %s %s: %v", base, filter, err)
		}
		return len(res.Entries)
	}
	const people = "(sAMAccountType=805306368)"
	if got, want := count(lab.BaseDN, people, ldap.ScopeWholeSubtree), x.Users+BuiltinPersonUsers; got != want {
		t.Errorf("people under base: %d, want %d", got, want)
	}
	if got, want := count(lab.BaseDN, "(objectClass=user)", ldap.ScopeWholeSubtree), x.Users+BuiltinUserObjects; got != want {
		t.Errorf("objectClass=user under base: %d, want %d", got, want)
	}
	for ou, want := range x.UsersByOU {
		if got := count(ou, people, ldap.ScopeSingleLevel); got != want {
			t.Errorf("%s: %d users, want %d", ou, got, want)
		}
	}
	if got := count(x.GroupsOU, "(objectClass=group)", ldap.ScopeSingleLevel); got != x.Groups {
		t.Errorf("groups: %d, want %d", got, x.Groups)
	}
	if got := count(lab.BaseDN, "(userAccountControl:1.2.840.113556.1.4.803:=2)", ldap.ScopeWholeSubtree); got < 1 {
		t.Errorf("no disabled user")
	}

	// Ranged retrieval of every group, AD style.
	for dn, want := range x.GroupMembers {
		if got := rangedMembers(t, conn, dn); got != want {
			t.Errorf("%s: %d members, want %d", dn, got, want)
		}
	}

	// The odd DN resolves, whatever escaping the server uses.
	req := ldap.NewSearchRequest(x.OddNameDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"cn"}, nil)
	res, err := conn.Search(req)
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("cn") != x.OddNameCN {
		t.Errorf("odd name %s: %v %v", x.OddNameDN, err, res)
	} else {
		want, _ := ldap.ParseDN(x.OddNameDN)
		got, _ := ldap.ParseDN(res.Entries[0].DN)
		if !want.EqualFold(got) {
			t.Errorf("odd DN came back as %q", res.Entries[0].DN)
		}
	}

	// The wrong CA must not verify the server.
	pem, err = os.ReadFile(lab.WrongCAFile)
	if err != nil {
		t.Fatal(err)
	}
	wrong := x509.NewCertPool()
	wrong.AppendCertsFromPEM(pem)
	if c, err := ldap.DialURL(lab.LDAPSURL(), ldap.DialWithTLSConfig(&tls.Config{RootCAs: wrong, ServerName: lab.Host})); err == nil {
		c.Close()
		t.Error("ldaps verified with the wrong CA")
	}

	// StartTLS on the plain port.
	plain, err := ldap.DialURL(lab.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.StartTLS(&tls.Config{RootCAs: pool, ServerName: "dc1." + x.Domain}); err != nil {
		t.Errorf("StartTLS: %v", err)
	}
}

func rangedMembers(t *testing.T, conn *ldap.Conn, dn string) int {
	t.Helper()
	n, lo := 0, 0
	for {
		attr := fmt.Sprintf("member;range=%d-*", lo)
		req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{attr}, nil)
		res, err := conn.Search(req)
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("%s %s: %v", dn, attr, err)
		}
		var got *ldap.EntryAttribute
		for _, a := range res.Entries[0].Attributes {
			if strings.HasPrefix(strings.ToLower(a.Name), "member;range=") {
				got = a
			}
		}
		if got == nil {
			return n
		}
		n += len(got.Values)
		if strings.HasSuffix(got.Name, "-*") {
			return n
		}
		var end int
		fmt.Sscanf(got.Name[strings.LastIndex(got.Name, "-")+1:], "%d", &end)
		lo = end + 1
	}
}
