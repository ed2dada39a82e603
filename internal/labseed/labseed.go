// Package labseed generates the content seeded into the Samba AD lab
// (scripts/samba-lab.sh) and tells integration tests exactly what was seeded.
//
// The tree is deterministic: the same base DN and user count always give the
// same entries, in the same order, so a test can call Expected (or New) with
// the values from the lab's env file and assert exact counts, DNs and
// attribute values against what the server returns.
//
// Layout under the base DN (N = number of regular users):
//
//	OU=Corp                          regular users 1, 6, 11, ... and special users
//	  OU=Engineering,OU=Corp         regular users 2, 7, 12, ...
//	    OU=Backend,OU=Engineering    regular users 3, 8, 13, ...
//	  OU=Sales,OU=Corp               regular users 4, 9, 14, ...
//	OU=Contractors                   regular users 5, 10, 15, ... and the expired user
//	OU=Service                       svc-scim only (password set by the lab script)
//	OU=Groups                        every seeded group
//	OU=Empty                         nothing
//
// Samba adds its own objects besides these (CN=Users with Administrator,
// Guest, krbtgt and dns-dc1, the DC1 computer in OU=Domain Controllers, the builtin
// groups); see BuiltinUserObjects and BuiltinPersonUsers.
package labseed

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultBaseDN is the base DN of the lab domain (realm lab.scimbridge.test).
const DefaultBaseDN = "DC=lab,DC=scimbridge,DC=test"

// DefaultUsers is the default number of regular users: enough for a Big Group
// of BigGroupMax members plus users outside it.
const DefaultUsers = 5200

// BigGroupMax caps the size of Big Group; it has min(N, BigGroupMax) members.
const BigGroupMax = 5000

// ServiceAccount is the sAMAccountName of the read-only bind account. Its
// password is set by the lab script, not by the LDIF.
const ServiceAccount = "svc-scim"

// Objects that Samba creates at provision time, counted under the base DN.
const (
	// BuiltinUserObjects matches (objectClass=user) outside the seeded
	// OUs: Administrator, Guest, krbtgt, dns-dc1 (all in CN=Users) and the
	// DC1 computer account in OU=Domain Controllers.
	BuiltinUserObjects = 5
	// BuiltinPersonUsers matches (&(objectCategory=person)(objectClass=user))
	// or (sAMAccountType=805306368) outside the seeded OUs: Administrator,
	// Guest, krbtgt, dns-dc1.
	BuiltinPersonUsers = 4
)

// AD values used by the seed.
const (
	UACNormal           = 512                   // NORMAL_ACCOUNT
	UACDisabled         = 514                   // NORMAL_ACCOUNT|ACCOUNTDISABLE
	UACNormalNoExpire   = 66048                 // NORMAL_ACCOUNT|DONT_EXPIRE_PASSWORD
	NeverExpires        = "9223372036854775807" // accountExpires: never
	GroupGlobalSec      = -2147483646
	GroupDomainLocalSec = -2147483644
	GroupUniversalSec   = -2147483640
	GroupGlobalDist     = 2
	GroupUniversalDist  = 8
)

// ExpiredAt is the accountExpires instant of the expired user.
var ExpiredAt = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// FutureExpiry is the accountExpires instant of the user expiring in the future.
var FutureExpiry = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)

// FileTime converts t to a Windows FILETIME (100 ns ticks since 1601-01-01 UTC).
func FileTime(t time.Time) int64 {
	const epochDiff = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	return (t.Unix()+epochDiff)*10_000_000 + int64(t.Nanosecond()/100)
}

// Attr is one attribute with its values, in LDIF order.
type Attr struct {
	Name   string
	Values []string
}

// Entry is one seeded LDAP object.
type Entry struct {
	DN    string
	Attrs []Attr
}

// Get returns the values of the named attribute (case-insensitive).
func (e Entry) Get(name string) []string {
	for _, a := range e.Attrs {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

// First returns the first value of the named attribute, or "".
func (e Entry) First(name string) string {
	if v := e.Get(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Kind classifies an entry.
type Kind int

const (
	KindOU Kind = iota + 1
	KindUser
	KindGroup
)

// Expectation is what a seed of N users puts under the base DN. All DNs are
// written as the seed writes them; compare with ldap.ParseDN(...).EqualFold,
// since the server may render escapes differently.
type Expectation struct {
	BaseDN string
	Domain string // DNS domain derived from BaseDN, used in UPNs and mail

	RegularUsers int // N: user00001 ... userNNNNN
	Users        int // every seeded user object (regular, special, svc-scim)
	Groups       int // every seeded group (all in OU=Groups)
	OUs          int // every seeded organizationalUnit

	UsersByOU    map[string]int // OU DN -> users directly in that OU
	GroupMembers map[string]int // group DN -> direct member values

	// OUs.
	CorpOU, EngineeringOU, BackendOU, SalesOU, ContractorsOU, ServiceOU, GroupsOU, EmptyOU string

	// Special users.
	ServiceDN      string // CN=svc-scim,OU=Service: the bind account
	DisabledDN     string // userAccountControl 514
	ExpiredDN      string // accountExpires = FileTime(ExpiredAt), in OU=Contractors
	NeverExpiresDN string // accountExpires = 9223372036854775807
	FutureExpiryDN string // accountExpires = FileTime(FutureExpiry)
	OddNameDN      string // CN holds , ( ) * \ ; written CN=Odd \2C Name (test) *\5C
	OddNameCN      string // the raw CN value of OddNameDN
	UnicodeDN      string // non-ASCII names (Zoë Ångström)

	// Groups.
	GlobalSecDN     string // Engineering: global security, contains NestedGroupDN
	NestedGroupDN   string // Backend Team: global security, member of GlobalSecDN
	DomainLocalDN   string // Local Admins: domain-local security
	UniversalSecDN  string // Sales Team: universal security
	DistGlobalDN    string // Team Lunch: global distribution
	DistUniversalDN string // Newsletter: universal distribution
	EmptyGroupDN    string // Empty Group: no members
	BigGroupDN      string // Big Group: universal security, min(N, BigGroupMax) users
	BigGroupMembers int
}

// Expected describes a seed of n regular users under DefaultBaseDN.
func Expected(n int) Expectation { return New(DefaultBaseDN, n).Expected() }

// Seed is a deterministic lab tree.
type Seed struct {
	BaseDN  string
	N       int
	domain  string
	entries []Entry
	kinds   []Kind
	index   map[string]int // lower-cased DN -> position in entries
	exp     Expectation
}

// New builds the seed for baseDN with n regular users (n >= 0).
func New(baseDN string, n int) *Seed {
	if n < 0 {
		n = 0
	}
	s := &Seed{BaseDN: baseDN, N: n, domain: domainOf(baseDN)}
	s.build()
	return s
}

// Entries returns every entry in the order it must be added (parents first,
// managers before their reports, members before their groups).
func (s *Seed) Entries() []Entry { return s.entries }

// Expected returns the counts and special DNs of the seed.
func (s *Seed) Expected() Expectation { return s.exp }

// Entry returns the seeded entry with the given DN (exact string, as written
// by the seed) and whether it exists.
func (s *Seed) Entry(dn string) (Entry, bool) {
	i, ok := s.index[strings.ToLower(dn)]
	if !ok {
		return Entry{}, false
	}
	return s.entries[i], true
}

// UserDN returns the DN of regular user i (1-based).
func (s *Seed) UserDN(i int) string {
	return "CN=" + userName(i) + "," + s.ouOfUser(i)
}

// User returns the entry of regular user i (1-based).
func (s *Seed) User(i int) Entry {
	e, _ := s.Entry(s.UserDN(i))
	return e
}

// UserName returns the sAMAccountName (and CN) of regular user i: user00001.
func UserName(i int) string { return userName(i) }

func userName(i int) string { return fmt.Sprintf("user%05d", i) }

func (s *Seed) ou(path ...string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteString("OU=" + p + ",")
	}
	b.WriteString(s.BaseDN)
	return b.String()
}

func (s *Seed) ouOfUser(i int) string {
	switch i % 5 {
	case 1:
		return s.exp.CorpOU
	case 2:
		return s.exp.EngineeringOU
	case 3:
		return s.exp.BackendOU
	case 4:
		return s.exp.SalesOU
	default:
		return s.exp.ContractorsOU
	}
}

var (
	givenNames = []string{"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
		"Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Uma", "Victor", "Wendy"}
	surnames = []string{"Anderson", "Brown", "Clark", "Davis", "Evans", "Fischer", "Garcia", "Harris", "Ito",
		"Jones", "Khan", "Lopez", "Martin", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Smith", "Taylor",
		"Ueda", "Vargas", "Weber"}
	titles = []string{"Engineer", "Senior Engineer", "Manager", "Analyst", "Account Executive", "Designer",
		"Consultant"}
	cities = []struct{ l, street, postal, c, co, office string }{
		{"Seattle", "1 Pine Street", "98101", "US", "United States", "SEA-1"},
		{"Austin", "200 Congress Ave", "78701", "US", "United States", "AUS-2"},
		{"Berlin", "Unter den Linden 5", "10117", "DE", "Germany", "BER-3"},
		{"Paris", "10 Rue de Rivoli", "75001", "FR", "France", "PAR-4"},
	}
)

func (s *Seed) build() {
	x := &s.exp
	x.BaseDN = s.BaseDN
	x.Domain = s.domain
	x.RegularUsers = s.N
	x.UsersByOU = map[string]int{}
	x.GroupMembers = map[string]int{}
	x.CorpOU = s.ou("Corp")
	x.EngineeringOU = s.ou("Engineering", "Corp")
	x.BackendOU = s.ou("Backend", "Engineering", "Corp")
	x.SalesOU = s.ou("Sales", "Corp")
	x.ContractorsOU = s.ou("Contractors")
	x.ServiceOU = s.ou("Service")
	x.GroupsOU = s.ou("Groups")
	x.EmptyOU = s.ou("Empty")

	ous := []struct{ dn, desc string }{
		{x.CorpOU, "Employees"},
		{x.EngineeringOU, "Engineering department"},
		{x.BackendOU, "Backend team"},
		{x.SalesOU, "Sales department"},
		{x.ContractorsOU, "External contractors"},
		{x.ServiceOU, "Service accounts"},
		{x.GroupsOU, "Groups"},
		{x.EmptyOU, "Intentionally empty"},
	}
	for _, o := range ous {
		name := strings.TrimPrefix(strings.SplitN(o.dn, ",", 2)[0], "OU=")
		s.add(KindOU, Entry{DN: o.dn, Attrs: []Attr{
			{"objectClass", []string{"top", "organizationalUnit"}},
			{"ou", []string{name}},
			{"description", []string{o.desc}},
		}})
		x.UsersByOU[o.dn] = 0
	}

	// Service account first: it is the bind account and belongs to no group.
	x.ServiceDN = "CN=" + ServiceAccount + "," + x.ServiceOU
	s.add(KindUser, Entry{DN: x.ServiceDN, Attrs: []Attr{
		{"objectClass", []string{"top", "person", "organizationalPerson", "user"}},
		{"cn", []string{ServiceAccount}},
		{"sAMAccountName", []string{ServiceAccount}},
		{"userPrincipalName", []string{ServiceAccount + "@" + s.domain}},
		{"displayName", []string{"SCIM bridge service account"}},
		{"description", []string{"Read-only bind account for scimbridge"}},
		{"userAccountControl", []string{fmt.Sprint(UACNormalNoExpire)}},
		{"accountExpires", []string{NeverExpires}},
	}})

	for i := 1; i <= s.N; i++ {
		s.add(KindUser, s.regularUser(i))
	}

	// Special users, all in OU=Corp except the expired contractor.
	x.DisabledDN = "CN=Disabled User," + x.CorpOU
	s.add(KindUser, s.specialUser(x.DisabledDN, "Disabled User", "disabled.user", "Disabled", "User", UACDisabled, ""))
	x.ExpiredDN = "CN=Expired User," + x.ContractorsOU
	s.add(KindUser, s.specialUser(x.ExpiredDN, "Expired User", "expired.user", "Expired", "User", UACNormal,
		fmt.Sprint(FileTime(ExpiredAt))))
	x.NeverExpiresDN = "CN=Forever User," + x.CorpOU
	s.add(KindUser, s.specialUser(x.NeverExpiresDN, "Forever User", "forever.user", "Forever", "User", UACNormal,
		NeverExpires))
	x.FutureExpiryDN = "CN=Expiring User," + x.CorpOU
	s.add(KindUser, s.specialUser(x.FutureExpiryDN, "Expiring User", "expiring.user", "Expiring", "User", UACNormal,
		fmt.Sprint(FileTime(FutureExpiry))))
	x.OddNameCN = `Odd , Name (test) *\`
	x.OddNameDN = `CN=Odd \2C Name (test) *\5C,` + x.CorpOU
	s.add(KindUser, s.specialUser(x.OddNameDN, x.OddNameCN, "odd.name", "Odd", "Name (test) *", UACNormal, ""))
	x.UnicodeDN = "CN=Zoë Ångström," + x.CorpOU
	s.add(KindUser, s.specialUser(x.UnicodeDN, "Zoë Ångström", "zoe.angstrom", "Zoë", "Ångström", UACNormal, ""))

	// Groups, members before groups that contain them.
	g := func(name string) string { return "CN=" + name + "," + x.GroupsOU }
	x.NestedGroupDN = g("Backend Team")
	x.GlobalSecDN = g("Engineering")
	x.DomainLocalDN = g("Local Admins")
	x.UniversalSecDN = g("Sales Team")
	x.DistGlobalDN = g("Team Lunch")
	x.DistUniversalDN = g("Newsletter")
	x.EmptyGroupDN = g("Empty Group")
	x.BigGroupDN = g("Big Group")

	usersIn := func(ou string) []string {
		var m []string
		for i := 1; i <= s.N; i++ {
			if s.ouOfUser(i) == ou {
				m = append(m, s.UserDN(i))
			}
		}
		return m
	}
	firstUsers := func(k int) []string {
		var m []string
		for i := 1; i <= s.N && i <= k; i++ {
			m = append(m, s.UserDN(i))
		}
		return m
	}

	s.group(x.NestedGroupDN, "Backend Team", GroupGlobalSec, "Backend engineers", usersIn(x.BackendOU))
	s.group(x.GlobalSecDN, "Engineering", GroupGlobalSec, "All engineering; nests Backend Team",
		append(usersIn(x.EngineeringOU), x.NestedGroupDN))
	s.group(x.DomainLocalDN, "Local Admins", GroupDomainLocalSec, "Domain-local security group",
		append(firstUsers(3), x.DisabledDN))
	s.group(x.UniversalSecDN, "Sales Team", GroupUniversalSec, "Universal security group",
		usersIn(x.SalesOU))
	s.group(x.DistGlobalDN, "Team Lunch", GroupGlobalDist, "Global distribution list",
		firstUsers(10))
	s.group(x.DistUniversalDN, "Newsletter", GroupUniversalDist, "Universal distribution list",
		append(firstUsers(50), x.OddNameDN, x.UnicodeDN, x.ExpiredDN))
	s.group(x.EmptyGroupDN, "Empty Group", GroupGlobalSec, "No members", nil)
	big := firstUsers(BigGroupMax)
	x.BigGroupMembers = len(big)
	s.group(x.BigGroupDN, "Big Group", GroupUniversalSec, "min(N, 5000) members, read with ranged retrieval", big)
}

func (s *Seed) add(k Kind, e Entry) {
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[strings.ToLower(e.DN)] = len(s.entries)
	s.entries = append(s.entries, e)
	s.kinds = append(s.kinds, k)
	switch k {
	case KindOU:
		s.exp.OUs++
	case KindUser:
		s.exp.Users++
		parent := strings.SplitN(e.DN, ",OU=", 2)
		if len(parent) == 2 {
			s.exp.UsersByOU["OU="+parent[1]]++
		}
	case KindGroup:
		s.exp.Groups++
		s.exp.GroupMembers[e.DN] = len(e.Get("member"))
	}
}

func (s *Seed) group(dn, name string, groupType int, desc string, members []string) {
	attrs := []Attr{
		{"objectClass", []string{"top", "group"}},
		{"cn", []string{name}},
		{"sAMAccountName", []string{strings.ReplaceAll(name, " ", "_")}},
		{"groupType", []string{fmt.Sprint(groupType)}},
		{"description", []string{desc}},
	}
	if groupType == GroupGlobalDist || groupType == GroupUniversalDist {
		attrs = append(attrs, Attr{"mail", []string{strings.ToLower(strings.ReplaceAll(name, " ", "-")) + "@" + s.domain}})
	}
	if len(members) > 0 {
		attrs = append(attrs, Attr{"member", members})
	}
	s.add(KindGroup, Entry{DN: dn, Attrs: attrs})
}

func (s *Seed) regularUser(i int) Entry {
	given := givenNames[i%len(givenNames)]
	sn := surnames[(i/len(givenNames))%len(surnames)]
	sam := userName(i)
	city := cities[i%len(cities)]
	dept := map[string]string{
		s.exp.CorpOU: "Operations", s.exp.EngineeringOU: "Engineering", s.exp.BackendOU: "Engineering",
		s.exp.SalesOU: "Sales", s.exp.ContractorsOU: "External",
	}[s.ouOfUser(i)]
	attrs := []Attr{
		{"objectClass", []string{"top", "person", "organizationalPerson", "user"}},
		{"cn", []string{sam}},
		{"sAMAccountName", []string{sam}},
		{"userPrincipalName", []string{sam + "@" + s.domain}},
		{"givenName", []string{given}},
		{"sn", []string{sn}},
		{"displayName", []string{given + " " + sn}},
		{"mail", []string{fmt.Sprintf("%s.%s.%05d@%s", strings.ToLower(given), strings.ToLower(sn), i, s.domain)}},
		{"telephoneNumber", []string{fmt.Sprintf("+1 555 01%05d", i)}},
		{"mobile", []string{fmt.Sprintf("+1 555 02%05d", i)}},
		{"title", []string{titles[i%len(titles)]}},
		{"department", []string{dept}},
		{"company", []string{"Scimbridge Lab"}},
		{"employeeID", []string{fmt.Sprintf("E%05d", i)}},
		{"l", []string{city.l}},
		{"streetAddress", []string{city.street}},
		{"postalCode", []string{city.postal}},
		{"c", []string{city.c}},
		{"co", []string{city.co}},
		{"physicalDeliveryOfficeName", []string{city.office}},
	}
	if i > 1 {
		// A management tree: user i reports to user (i-2)/10+1, always seeded earlier.
		attrs = append(attrs, Attr{"manager", []string{s.UserDN((i-2)/10 + 1)}})
	}
	attrs = append(attrs, Attr{"userAccountControl", []string{fmt.Sprint(UACNormal)}})
	return Entry{DN: s.UserDN(i), Attrs: attrs}
}

func (s *Seed) specialUser(dn, cn, sam, given, sn string, uac int, accountExpires string) Entry {
	attrs := []Attr{
		{"objectClass", []string{"top", "person", "organizationalPerson", "user"}},
		{"cn", []string{cn}},
		{"sAMAccountName", []string{sam}},
		{"userPrincipalName", []string{sam + "@" + s.domain}},
		{"givenName", []string{given}},
		{"sn", []string{sn}},
		{"displayName", []string{cn}},
		{"mail", []string{sam + "@" + s.domain}},
		{"department", []string{"Special"}},
		{"company", []string{"Scimbridge Lab"}},
		{"employeeID", []string{"S-" + sam}},
	}
	if s.N >= 1 {
		attrs = append(attrs, Attr{"manager", []string{s.UserDN(1)}})
	}
	attrs = append(attrs, Attr{"userAccountControl", []string{fmt.Sprint(uac)}})
	if accountExpires != "" {
		attrs = append(attrs, Attr{"accountExpires", []string{accountExpires}})
	}
	return Entry{DN: dn, Attrs: attrs}
}

// domainOf turns DC=lab,DC=scimbridge,DC=test into lab.scimbridge.test.
func domainOf(baseDN string) string {
	var parts []string
	for _, rdn := range strings.Split(baseDN, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(rdn), "=")
		if ok && strings.EqualFold(k, "DC") {
			parts = append(parts, strings.ToLower(v))
		}
	}
	return strings.Join(parts, ".")
}

// WriteLDIF writes every entry as an LDIF add record (RFC 2849).
func (s *Seed) WriteLDIF(w io.Writer) error {
	var b strings.Builder
	for _, e := range s.entries {
		b.Reset()
		writeLine(&b, "dn", e.DN)
		for _, a := range e.Attrs {
			for _, v := range a.Values {
				writeLine(&b, a.Name, v)
			}
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

func writeLine(b *strings.Builder, name, value string) {
	if safeString(value) {
		b.WriteString(name + ": " + value + "\n")
		return
	}
	b.WriteString(name + ":: " + base64.StdEncoding.EncodeToString([]byte(value)) + "\n")
}

// safeString reports whether v can be written as an RFC 2849 SAFE-STRING.
func safeString(v string) bool {
	if v == "" {
		return true
	}
	if !utf8.ValidString(v) || v[0] == ' ' || v[0] == ':' || v[0] == '<' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return true
}

// Kind returns the kind of the i-th entry of Entries.
func (s *Seed) Kind(i int) Kind { return s.kinds[i] }
