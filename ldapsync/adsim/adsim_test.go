package adsim

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func dial(t *testing.T, s *Server) *ldap.Conn {
	t.Helper()
	l, err := ldap.DialURL("ldap://" + s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.Bind("CN=svc,DC=example,DC=com", "pw"); err != nil {
		t.Fatal(err)
	}
	return l
}

func start(t *testing.T, users int) *Server {
	t.Helper()
	s, err := New(Options{BindDN: "CN=svc,DC=example,DC=com", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAll(Generate("DC=example,DC=com", users, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// AD's MaxPageSize: an unpaged search stops at 1000 with sizeLimitExceeded,
// and a page size above 1000 is clamped.
func TestMaxPageSize(t *testing.T) {
	l := dial(t, start(t, 1200))
	req := ldap.NewSearchRequest("DC=example,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(objectCategory=person)", []string{"1.1"}, nil)
	res, err := l.Search(req)
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) || len(res.Entries) != 1000 {
		t.Fatalf("unpaged: %d entries, %v", len(res.Entries), err)
	}
	req.Controls = []ldap.Control{ldap.NewControlPaging(5000)}
	res, err = l.Search(req)
	if err != nil || len(res.Entries) != 1000 {
		t.Fatalf("first page of 5000: %d entries, %v", len(res.Entries), err)
	}
	all, err := l.SearchWithPaging(ldap.NewSearchRequest("DC=example,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false,
		"(objectCategory=person)", []string{"1.1"}, nil), 1000)
	if err != nil || len(all.Entries) != 1200 {
		t.Fatalf("paged: %d entries, %v", len(all.Entries), err)
	}
}

// AD's MaxValRange: member is split in ranges of 1500.
func TestMaxValRange(t *testing.T) {
	l := dial(t, start(t, 3200))
	get := func(attr string) *ldap.EntryAttribute {
		res, err := l.Search(ldap.NewSearchRequest("CN=Load All,OU=Groups,OU=Load,DC=example,DC=com", ldap.ScopeBaseObject, 0, 0, 0, false,
			"(objectClass=*)", []string{attr}, nil))
		if err != nil || len(res.Entries) != 1 || len(res.Entries[0].Attributes) != 1 {
			t.Fatalf("%s: %v", attr, err)
		}
		return res.Entries[0].Attributes[0]
	}
	tests := []struct {
		attr, name string
		n          int
	}{
		{"member", "member;range=0-1499", 1500},
		{"member;range=1500-*", "member;range=1500-2999", 1500},
		{"member;range=3000-*", "member;range=3000-*", 200},
		{"member;range=10-19", "member;range=10-19", 10},
	}
	for _, tt := range tests {
		a := get(tt.attr)
		if a.Name != tt.name || len(a.Values) != tt.n {
			t.Errorf("%s: got %s with %d values, want %s with %d", tt.attr, a.Name, len(a.Values), tt.name, tt.n)
		}
	}
}

func TestFilters(t *testing.T) {
	s, err := New(Options{BindDN: "CN=svc,DC=example,DC=com", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := SampleTree("DC=example,DC=com")
	if err := s.Add(entries...); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := dial(t, s)
	tests := []struct {
		filter string
		want   int
	}{
		{"(&(objectCategory=person)(objectClass=user))", 24},
		{"(sAMAccountType=805306368)", 24},
		{"(objectClass=user)", 25}, // the computer too
		{"(&(objectClass=group)(groupType:1.2.840.113556.1.4.803:=2147483648))", 6},
		{"(&(objectClass=group)(!(groupType:1.2.840.113556.1.4.803:=2147483648)))", 1},
		{"(groupType:1.2.840.113556.1.4.804:=12)", 3}, // domain local or universal, distribution too
		{"(userAccountControl:1.2.840.113556.1.4.803:=2)", 1},
		{"(sn=Lo*ace)", 1},
		{"(SN=*OPPER)", 1},
		{"(givenName=*a*)", 13},
		{"(|(department=Sales)(department=Management))", 9},
		{"(&(objectClass=organizationalUnit)(!(ou=Corp)))", 5},
		{"(uSNChanged>=12010)", s.Len() - 9},
		{"(mobile=*)", 23}, // not the service account,
	}
	for _, tt := range tests {
		res, err := l.Search(ldap.NewSearchRequest("DC=example,DC=com", ldap.ScopeWholeSubtree, 0, 0, 0, false, tt.filter, []string{"1.1"}, nil))
		if err != nil || len(res.Entries) != tt.want {
			t.Errorf("%s: %d entries, %v; want %d", tt.filter, len(res.Entries), err, tt.want)
		}
	}
	res, err := l.Search(ldap.NewSearchRequest("OU=Corp,DC=example,DC=com", ldap.ScopeSingleLevel, 0, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	if err != nil || len(res.Entries) != 4 {
		t.Errorf("one level under Corp: %d, %v", len(res.Entries), err)
	}
	_, err = l.Search(ldap.NewSearchRequest("OU=None,DC=example,DC=com", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		t.Errorf("missing base: %v", err)
	}
}
