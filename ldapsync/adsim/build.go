package adsim

import (
	"strconv"
	"time"
)

// Values AD puts in userAccountControl and groupType.
const (
	UACNormal             = 0x200
	UACDisabled           = 0x2
	UACDontExpirePassword = 0x10000

	GroupGlobalSecurity      = -2147483646 // 0x80000002
	GroupDomainLocalSecurity = -2147483644 // 0x80000004
	GroupUniversalSecurity   = -2147483640 // 0x80000008
	GroupGlobalDistribution  = 2
	GroupUniversalDistrib    = 8
)

// fixedTime stamps whenCreated/whenChanged of built entries, so a tree is
// the same every time it is built.
const fixedTime = "20260101090000.0Z"

// Person is what User needs to build an AD user entry.
type Person struct {
	Given, Surname string
	Sam            string // sAMAccountName; the UPN is Sam@domain
	Title, Dept    string
	Phone, Mobile  string
	City, Street   string
	PostalCode     string
	Country        string // co (name); c is its ISO code
	CountryCode    string
	Office         string
	Company        string
	EmployeeID     string
	Manager        string // DN
	UAC            int    // 0 means normal account
	Expires        time.Time
}

// User builds an AD-shaped user entry under parent with the attributes of
// DESIGN.md's default mapping, objectCategory=Person and a fixed
// objectGUID derived from the DN.
func User(baseDN, parent string, p Person) Entry {
	cn := p.Given + " " + p.Surname
	dn := "CN=" + escapeDNValue(cn) + "," + parent
	uac := p.UAC
	if uac == 0 {
		uac = UACNormal
	}
	expires := "9223372036854775807"
	if !p.Expires.IsZero() {
		expires = filetime(p.Expires)
	}
	a := map[string][]string{
		"objectClass":        {"top", "person", "organizationalPerson", "user"},
		"objectCategory":     {"CN=Person,CN=Schema,CN=Configuration," + baseDN},
		"cn":                 {cn},
		"name":               {cn},
		"sAMAccountName":     {p.Sam},
		"sAMAccountType":     {"805306368"},
		"userPrincipalName":  {p.Sam + "@" + domainOf(baseDN)},
		"givenName":          {p.Given},
		"sn":                 {p.Surname},
		"displayName":        {cn},
		"mail":               {p.Sam + "@" + domainOf(baseDN)},
		"userAccountControl": {strconv.Itoa(uac)},
		"accountExpires":     {expires},
		"objectGUID":         {string(GUIDFor(dn))},
		"whenCreated":        {fixedTime},
		"whenChanged":        {fixedTime},
	}
	opt := func(k, v string) {
		if v != "" {
			a[k] = []string{v}
		}
	}
	opt("title", p.Title)
	opt("department", p.Dept)
	opt("telephoneNumber", p.Phone)
	opt("mobile", p.Mobile)
	opt("l", p.City)
	opt("streetAddress", p.Street)
	opt("postalCode", p.PostalCode)
	opt("co", p.Country)
	opt("c", p.CountryCode)
	opt("physicalDeliveryOfficeName", p.Office)
	opt("company", p.Company)
	opt("employeeID", p.EmployeeID)
	opt("manager", p.Manager)
	return Entry{DN: dn, Attrs: a}
}

// Group builds a group entry; groupType is one of the Group* constants.
func Group(parent, name string, groupType int, members ...string) Entry {
	dn := "CN=" + escapeDNValue(name) + "," + parent
	a := map[string][]string{
		"objectClass":    {"top", "group"},
		"cn":             {name},
		"name":           {name},
		"sAMAccountName": {name},
		"groupType":      {strconv.Itoa(groupType)},
		"objectGUID":     {string(GUIDFor(dn))},
		"whenCreated":    {fixedTime},
		"whenChanged":    {fixedTime},
	}
	if len(members) > 0 {
		a["member"] = members
	}
	return Entry{DN: dn, Attrs: a}
}

// OU builds an organizationalUnit entry.
func OU(parent, name string) Entry {
	dn := "OU=" + escapeDNValue(name) + "," + parent
	return Entry{DN: dn, Attrs: map[string][]string{
		"objectClass": {"top", "organizationalUnit"},
		"ou":          {name},
		"name":        {name},
		"objectGUID":  {string(GUIDFor(dn))},
		"whenCreated": {fixedTime},
		"whenChanged": {fixedTime},
	}}
}

// Domain builds the domain root entry for baseDN.
func Domain(baseDN string) Entry {
	return Entry{DN: baseDN, Attrs: map[string][]string{
		"objectClass": {"top", "domain", "domainDNS"},
		"name":        {domainOf(baseDN)},
		"objectGUID":  {string(GUIDFor(baseDN))},
	}}
}

// escapeDNValue escapes an RDN value (RFC 4514 2.4).
func escapeDNValue(v string) string {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=':
			out = append(out, '\\', c)
		case (c == ' ' && (i == 0 || i == len(v)-1)) || (c == '#' && i == 0):
			out = append(out, '\\', c)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// filetime encodes t as AD's accountExpires (100 ns since 1601-01-01 UTC).
func filetime(t time.Time) string {
	return strconv.FormatInt(t.UnixNano()/100+116444736000000000, 10)
}
