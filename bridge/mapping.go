package bridge

import (
	"sort"
	"strings"
	"time"
)

// The user mapping: which LDAP attribute (or constant) fills which SCIM
// path. The default table is DESIGN.md's; custom mappings replace a default
// row with the same path or add a row. Every path is set with setPath, so a
// typed multi-valued path such as emails[type eq "home"].value creates or
// updates the entry of that type.

// mappingRow fills Path from the first of LDAP that has a value, or from
// Value when LDAP is empty.
type mappingRow struct {
	Path  string
	LDAP  []string
	Value string
}

// compiledRow is a mappingRow made ready for User: the path split once,
// the LDAP names lower-cased as Entry.Attrs keys them.
type compiledRow struct {
	path  userPath
	ldap  []string
	value string
}

const (
	pathWorkEmail = `emails[type eq "work"].value`
	// pathOfficeLocation carries physicalDeliveryOfficeName. SCIM's address
	// has no office attribute; DESIGN.md puts it on the work address as
	// "location", beside locality and the rest.
	pathOfficeLocation = `addresses[type eq "work"].location`
)

// defaultUserMapping is DESIGN.md's table. Two additions: displayName falls
// back to cn (AD accounts made by scripts often have no displayName), and
// st fills addresses[work].region, the field SCIM has for it.
var defaultUserMapping = []mappingRow{
	{Path: "userName", LDAP: []string{"userPrincipalName", "sAMAccountName"}},
	{Path: "displayName", LDAP: []string{"displayName", "cn"}},
	{Path: "name.givenName", LDAP: []string{"givenName"}},
	{Path: "name.familyName", LDAP: []string{"sn"}},
	{Path: pathWorkEmail, LDAP: []string{"mail"}},
	{Path: `phoneNumbers[type eq "work"].value`, LDAP: []string{"telephoneNumber"}},
	{Path: `phoneNumbers[type eq "mobile"].value`, LDAP: []string{"mobile"}},
	{Path: "title", LDAP: []string{"title"}},
	{Path: `addresses[type eq "work"].streetAddress`, LDAP: []string{"streetAddress"}},
	{Path: `addresses[type eq "work"].locality`, LDAP: []string{"l"}},
	{Path: `addresses[type eq "work"].region`, LDAP: []string{"st"}},
	{Path: `addresses[type eq "work"].postalCode`, LDAP: []string{"postalCode"}},
	{Path: `addresses[type eq "work"].country`, LDAP: []string{"c", "co"}},
	{Path: pathOfficeLocation, LDAP: []string{"physicalDeliveryOfficeName"}},
	{Path: SchemaEnterpriseUser + ":department", LDAP: []string{"department"}},
	{Path: SchemaEnterpriseUser + ":organization", LDAP: []string{"company"}},
	{Path: SchemaEnterpriseUser + ":employeeNumber", LDAP: []string{"employeeID"}},
}

// DefaultMappingAttributes are the LDAP attributes the default user mapping
// and the engine read from user entries.
func DefaultMappingAttributes() []string {
	out := []string{"manager", "userAccountControl", "accountExpires"}
	for _, r := range defaultUserMapping {
		out = append(out, r.LDAP...)
	}
	return out
}

// Mapper turns AD entries into SCIM users and groups for one account's
// settings. It is immutable and safe for concurrent use.
type Mapper struct {
	rows     []mappingRow
	compiled []compiledRow
	// topKeys is how many top-level attributes User can set: the size its
	// document is made with, so the map does not grow while it is filled.
	topKeys int
	// extra are the LDAP attributes custom mappings read.
	extra []string
}

// NewMapper builds the mapping of s. Settings are validated before they are
// stored; a custom path that still does not parse is ignored here rather
// than failing every run.
func NewMapper(s Settings) *Mapper {
	m := &Mapper{rows: append([]mappingRow(nil), defaultUserMapping...)}
	if s.Users.Mapping == MappingCustom {
		m.addCustom(s.Users.CustomMappings)
	}
	m.compile()
	return m
}

func (m *Mapper) addCustom(mappings []CustomMapping) {
	seen := map[string]bool{}
	for _, cm := range mappings {
		path, err := CanonicalUserPath(cm.SCIM)
		if err != nil || IsReadOnlyUserPath(path) {
			continue
		}
		row := mappingRow{Path: path, Value: cm.Value}
		if cm.LDAP != "" {
			row = mappingRow{Path: path, LDAP: []string{cm.LDAP}}
			if k := strings.ToLower(cm.LDAP); !seen[k] {
				seen[k] = true
				m.extra = append(m.extra, cm.LDAP)
			}
		}
		replaced := false
		for i := range m.rows {
			if strings.EqualFold(m.rows[i].Path, path) {
				m.rows[i], replaced = row, true
				break
			}
		}
		if !replaced {
			m.rows = append(m.rows, row)
		}
	}
}

func (m *Mapper) compile() {
	top := map[string]bool{"active": true, "externalId": true, SchemaEnterpriseUser: true, SchemaBridgeUser: true}
	m.compiled = make([]compiledRow, len(m.rows))
	for i, r := range m.rows {
		c := compiledRow{path: compileUserPath(r.Path), value: r.Value}
		for _, a := range r.LDAP {
			c.ldap = append(c.ldap, strings.ToLower(a))
		}
		top[c.path.topKey()] = true
		m.compiled[i] = c
	}
	m.topKeys = len(top)
}

// Attributes are the LDAP attributes custom mappings need beyond the
// default ones (for Scope.Attributes).
func (m *Mapper) Attributes() []string { return append([]string(nil), m.extra...) }

// Ref is an in-scope object that a DN can point at: a manager, a group
// member, the OU a user sits in.
type Ref struct {
	ID   string
	Kind EntryKind
	Name string // displayName (userName when a user has none)
}

// Lookup resolves a DN to an in-scope object. The engine builds it from the
// whole read, so references to objects read later resolve too.
type Lookup func(dn string) (Ref, bool)

// UserFacts are the values the mapping does not read from the entry.
type UserFacts struct {
	ID        string
	Protected bool
	Now       time.Time
}

// User maps one AD user entry. It fails when the entry has nothing to make
// a userName from.
func (m *Mapper) User(e Entry, f UserFacts, lookup Lookup) (User, error) {
	attrs := make(map[string]any, m.topKeys)
	for i := range m.compiled {
		r := &m.compiled[i]
		v := r.value
		for _, a := range r.ldap {
			if v = strings.TrimSpace(firstValue(e, a)); v != "" {
				break
			}
		}
		if v == "" {
			r.path.set(attrs, nil)
		} else {
			r.path.set(attrs, v)
		}
	}
	if emails, ok := attrs["emails"].([]any); ok {
		for _, x := range emails {
			if em, ok := x.(map[string]any); ok && em["type"] == "work" && em["value"] != nil {
				em["primary"] = true
			}
		}
	}
	userName, _ := attrs["userName"].(string)
	if userName == "" {
		return User{}, errNoUserName
	}
	active := !e.Disabled() && !e.Expired(f.Now)
	status := StatusActive
	if !active {
		status = StatusDeactivated
	}
	attrs["active"] = active
	attrs["externalId"] = e.GUID

	if mgr := firstValue(e, "manager"); mgr != "" {
		if r, ok := lookup(mgr); ok && r.Kind == EntryUser {
			ent := extension(attrs, SchemaEnterpriseUser)
			ent["manager"] = map[string]any{"value": r.ID, "displayName": r.Name}
		}
	}
	ouPath := OUPath(e.DN, false)
	ext := extension(attrs, SchemaBridgeUser)
	ext["dn"] = e.DN
	ext["ouPath"] = ouPath
	ext["kind"] = "user"
	if active { // the constants, boxed without an allocation
		ext["status"] = string(StatusActive)
	} else {
		ext["status"] = string(StatusDeactivated)
	}
	ext["protected"] = f.Protected
	parent := ""
	if r, ok := lookup(ParentDN(e.DN)); ok && r.Kind == EntryOU {
		parent = r.ID
		ext["parent"] = parent
	}
	displayName, _ := attrs["displayName"].(string)
	u := User{
		ID:          f.ID,
		ExternalID:  e.GUID,
		Source:      SourceAD,
		UserName:    userName,
		DisplayName: displayName,
		Active:      active,
		Status:      status,
		DN:          e.DN,
		OUPath:      ouPath,
		Attributes:  attrs,
	}
	// attrs is final here: nothing after the mapper changes it (see
	// User.AttributesJSON).
	u.AttributesJSON, u.Hash = renderUserAttributes(attrs)
	return u, nil
}

// firstValue is e.Get for an attribute name already in lower case.
func firstValue(e Entry, lower string) string {
	if v := e.Attrs[lower]; len(v) > 0 {
		return v[0]
	}
	return ""
}

type mappingError string

func (e mappingError) Error() string { return string(e) }

const errNoUserName = mappingError("has neither a userPrincipalName nor a sAMAccountName to make a userName from")

// GroupFacts are the values a group's mapping does not read from the entry.
type GroupFacts struct {
	ID        string
	Kind      GroupKind
	ParentID  string // OU groups: the parent OU group
	Members   []Member
	Protected bool
}

// Group maps an AD group or OU entry. Members are given sorted (by type,
// then id) so the hash does not depend on the order AD returned them in.
func (m *Mapper) Group(e Entry, f GroupFacts) Group {
	f.Members = append([]Member(nil), f.Members...)
	return m.group(e, f)
}

// group is Group sorting f.Members in place: the builder hands over the
// list it made, so a large group's members are not copied again.
func (m *Mapper) group(e Entry, f GroupFacts) Group {
	name := ""
	for _, a := range []string{"displayName", "cn", "ou", "name", "sAMAccountName"} {
		if name = strings.TrimSpace(e.Get(a)); name != "" {
			break
		}
	}
	if name == "" {
		name = RDNValue(e.DN)
	}
	self := f.Kind == KindOU
	attrs := map[string]any{"displayName": name, "externalId": e.GUID}
	ext := extension(attrs, SchemaBridgeGroup)
	ext["dn"] = e.DN
	ext["ouPath"] = OUPath(e.DN, self)
	ext["kind"] = string(f.Kind)
	ext["status"] = string(StatusActive)
	ext["protected"] = f.Protected
	if f.ParentID != "" {
		ext["parent"] = f.ParentID
	}
	members := f.Members
	sortMembers(members)
	g := Group{
		ID:          f.ID,
		ExternalID:  e.GUID,
		Source:      SourceAD,
		Kind:        f.Kind,
		DisplayName: name,
		DN:          e.DN,
		ParentID:    f.ParentID,
		Status:      StatusActive,
		Attributes:  attrs,
		Members:     members,
	}
	g.Hash = contentHash(attrs, members)
	return g
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Type != ms[j].Type {
			return ms[i].Type > ms[j].Type // "User" before "Group"
		}
		return ms[i].ID < ms[j].ID
	})
}

// UserName is the userName the mapping gives e, "" when it gives none.
func (m *Mapper) UserName(e Entry) string {
	for _, r := range m.rows {
		if r.Path != "userName" {
			continue
		}
		if len(r.LDAP) == 0 {
			return r.Value
		}
		for _, a := range r.LDAP {
			if v := strings.TrimSpace(e.Get(a)); v != "" {
				return v
			}
		}
	}
	return ""
}
