package labseed

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestExpectedCounts(t *testing.T) {
	for _, n := range []int{0, 1, 20, DefaultUsers} {
		s := New(DefaultBaseDN, n)
		x := s.Expected()
		if want := n + 7; x.Users != want { // svc-scim + 6 special users
			t.Errorf("n=%d: Users = %d, want %d", n, x.Users, want)
		}
		if x.OUs != 8 || x.Groups != 8 {
			t.Errorf("n=%d: OUs=%d Groups=%d, want 8 and 8", n, x.OUs, x.Groups)
		}
		sum := 0
		for _, c := range x.UsersByOU {
			sum += c
		}
		if sum != x.Users {
			t.Errorf("n=%d: UsersByOU sums to %d, want %d", n, sum, x.Users)
		}
		if x.UsersByOU[x.ServiceOU] != 1 || x.UsersByOU[x.EmptyOU] != 0 {
			t.Errorf("n=%d: Service=%d Empty=%d", n, x.UsersByOU[x.ServiceOU], x.UsersByOU[x.EmptyOU])
		}
		if want := min(n, BigGroupMax); x.BigGroupMembers != want || x.GroupMembers[x.BigGroupDN] != want {
			t.Errorf("n=%d: Big Group has %d members, want %d", n, x.BigGroupMembers, want)
		}
		if x.GroupMembers[x.EmptyGroupDN] != 0 {
			t.Errorf("empty group has members")
		}
		if len(s.Entries()) != x.Users+x.OUs+x.Groups {
			t.Errorf("n=%d: %d entries", n, len(s.Entries()))
		}
	}
}

// Every DN value (manager, member) points at an entry seeded earlier, so the
// LDIF can be added in order.
func TestReferencesPointBackwards(t *testing.T) {
	s := New(DefaultBaseDN, 120)
	seen := map[string]bool{}
	for _, e := range s.Entries() {
		for _, name := range []string{"manager", "member"} {
			for _, v := range e.Get(name) {
				if !seen[strings.ToLower(v)] {
					t.Fatalf("%s: %s %q not seeded before", e.DN, name, v)
				}
			}
		}
		seen[strings.ToLower(e.DN)] = true
	}
	if eng, _ := s.Entry(s.Expected().GlobalSecDN); !strings.Contains(strings.Join(eng.Get("member"), "|"), "CN=Backend Team,") {
		t.Fatal("Engineering does not nest Backend Team")
	}
}

func TestLDIF(t *testing.T) {
	s := New(DefaultBaseDN, 3)
	var b bytes.Buffer
	if err := s.WriteLDIF(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"dn: CN=Odd \\2C Name (test) *\\5C,OU=Corp,DC=lab,DC=scimbridge,DC=test\n",
		"cn: Odd , Name (test) *\\\n",
		"dn:: ", // Zoë Ångström is base64
		"groupType: -2147483644\n",
		"accountExpires: 132223104000000000\n",
		"member: CN=Backend Team,OU=Groups,DC=lab,DC=scimbridge,DC=test\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("LDIF lacks %q", want)
		}
	}
	if got := strings.Count(out, "\ndn"); got+1 != len(s.Entries()) {
		t.Errorf("LDIF has %d records, want %d", got+1, len(s.Entries()))
	}
}

func TestUser(t *testing.T) {
	s := New(DefaultBaseDN, 30)
	u := s.User(12)
	if u.First("sAMAccountName") != "user00012" || u.First("manager") != s.UserDN(2) {
		t.Fatalf("user 12: %+v", u)
	}
	if u.First("userPrincipalName") != "user00012@lab.scimbridge.test" {
		t.Fatalf("upn %q", u.First("userPrincipalName"))
	}
}

func TestReadLabFile(t *testing.T) {
	path := t.TempDir() + "/env"
	content := `export SCIMBRIDGE_LAB_HOST=127.0.0.1
export SCIMBRIDGE_LAB_PORT=389
export SCIMBRIDGE_LAB_LDAPS_PORT=636
export SCIMBRIDGE_LAB_BASE_DN=DC=lab,DC=scimbridge,DC=test
export SCIMBRIDGE_LAB_BIND_DN=CN=svc-scim,OU=Service,DC=lab,DC=scimbridge,DC=test
export SCIMBRIDGE_LAB_PASSWORD=x
export SCIMBRIDGE_LAB_USERS=20
`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := ReadLabFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.URL() != "ldap://127.0.0.1:389" || l.LDAPSURL() != "ldaps://127.0.0.1:636" || l.Seed().Expected().Users != 27 {
		t.Fatalf("%+v", l)
	}
}
