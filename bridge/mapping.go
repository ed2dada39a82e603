package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
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

// mappingVersion is part of every hash: bump it when the mapping code
// changes what it produces, so the next run rewrites every object once.
const mappingVersion = "m1"

// contentHash digests what the engine writes for an object: the JSON of
// struct{A map[string]any `json:"a"`; M []Member `json:"m,omitempty"`},
// written by AppendJSON (same bytes as encoding/json, which sorts map
// keys), so equal content gives equal hashes, the same as before.
//
// The JSON goes to the digest a few KB at a time: a group of 100,000
// members would otherwise build 6 MB of it at once.
func contentHash(attrs map[string]any, members []Member) string {
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b := append((*bp)[:0], `{"a":`...)
	b, _ = AppendJSON(b, attrs)
	if len(members) == 0 {
		b = append(b, '}')
		*bp = b
		return hashText(sha256.Sum256(b))
	}
	h := sha256.New()
	b = append(b, `,"m":[`...)
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ID":`...)
		b = appendJSONString(b, m.ID)
		b = append(b, `,"Type":`...)
		b = appendJSONString(b, m.Type)
		b = append(b, '}')
		if len(b) >= 4096 {
			h.Write(b)
			b = b[:0]
		}
	}
	b = append(b, ']', '}')
	h.Write(b)
	*bp = b
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return hashText(sum)
}

// renderUserAttributes encodes a user's attributes once for both of its
// uses: the content hash (contentHash(attrs, nil) digests {"a":<attrs>})
// and the store's attributes column (encodeAttributes in package db writes
// the same AppendJSON bytes). doc is "" when attrs cannot be encoded; the
// store then encodes the map and reports the error itself.
func renderUserAttributes(attrs map[string]any) (doc, hash string) {
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b := append((*bp)[:0], `{"a":`...)
	b, err := AppendJSON(b, attrs)
	b = append(b, '}')
	*bp = b
	if err == nil && len(attrs) > 0 {
		doc = string(b[len(`{"a":`) : len(b)-1])
	}
	return doc, hashText(sha256.Sum256(b))
}

// jsonBuffers holds the scratch buffers hashes are written in; only the
// digest (and a user's JSON, copied) leaves them.
var jsonBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 2048)
	return &b
}}

// hashText is a digest as a hash: mappingVersion, a colon, lower-case hex.
func hashText(sum [sha256.Size]byte) string {
	var out [len(mappingVersion) + 1 + 2*sha256.Size]byte
	n := copy(out[:], mappingVersion)
	out[n] = ':'
	hex.Encode(out[n+1:], sum[:])
	return string(out[:])
}

func extension(attrs map[string]any, urn string) map[string]any {
	if m, ok := attrs[urn].(map[string]any); ok {
		return m
	}
	m := map[string]any{}
	attrs[urn] = m
	return m
}

// setPath sets a canonical SCIM user path in attrs, or removes it when value
// is nil. Supported forms: attr, attr.sub, coll[type eq "t"].sub, and any of
// these after a schema URN and a colon. Empty objects and lists left by a
// removal are removed too. The mapper compiles its paths once instead.
func setPath(attrs map[string]any, path string, value any) {
	p := compileUserPath(path)
	p.set(attrs, value)
}

// userPath is a path setPath understands, split into its parts once, when
// the mapper is built: setting it costs map operations only. Exactly one
// form applies: inner (after an extension URN), coll (a typed entry of a
// multi-valued attribute), parent (a sub-attribute) or key alone.
type userPath struct {
	urn   string
	inner *userPath
	coll  string // coll[type eq "typ"].key
	typ   string
	// typValue is typ as the value of a new entry's "type", boxed once.
	typValue any
	// parent.key
	parent string
	key    string
}

func compileUserPath(path string) userPath {
	for _, urn := range []string{SchemaEnterpriseUser, SchemaBridgeUser} {
		if len(path) > len(urn) && path[len(urn)] == ':' && path[:len(urn)] == urn {
			inner := compileUserPath(path[len(urn)+1:])
			return userPath{urn: urn, inner: &inner}
		}
	}
	if i := strings.IndexByte(path, '['); i > 0 {
		rest := path[i:]
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			end = len(rest) // canonical paths close the filter
		}
		// The type is what the first pair of quotes holds.
		typ := ""
		if _, t, ok := strings.Cut(rest[:end], `"`); ok {
			typ, _, _ = strings.Cut(t, `"`)
		}
		sub := ""
		if end < len(rest) {
			sub = strings.TrimPrefix(rest[end+1:], ".")
		}
		if sub == "" {
			sub = "value"
		}
		return userPath{coll: path[:i], typ: typ, typValue: typ, key: sub}
	}
	if i := strings.IndexByte(path, '.'); i > 0 {
		return userPath{parent: path[:i], key: path[i+1:]}
	}
	return userPath{key: path}
}

// topKey is the top-level attribute p sets.
func (p *userPath) topKey() string {
	switch {
	case p.inner != nil:
		return p.urn
	case p.coll != "":
		return p.coll
	case p.parent != "":
		return p.parent
	}
	return p.key
}

func (p *userPath) set(attrs map[string]any, value any) {
	switch {
	case p.inner != nil:
		inner, _ := attrs[p.urn].(map[string]any)
		if inner == nil {
			if value == nil {
				return
			}
			inner = map[string]any{}
			attrs[p.urn] = inner
		}
		p.inner.set(inner, value)
		if len(inner) == 0 {
			delete(attrs, p.urn)
		}
	case p.coll != "":
		list, _ := attrs[p.coll].([]any)
		idx := -1
		for j, x := range list {
			if m, ok := x.(map[string]any); ok && m["type"] == p.typ {
				idx = j
				break
			}
		}
		if value == nil {
			if idx < 0 {
				return
			}
			m := list[idx].(map[string]any)
			delete(m, p.key)
			if onlyMarkers(m) {
				list = append(list[:idx:idx], list[idx+1:]...)
			}
			if len(list) == 0 {
				delete(attrs, p.coll)
			} else {
				attrs[p.coll] = list
			}
			return
		}
		if idx < 0 {
			list = append(list, map[string]any{"type": p.typValue})
			idx = len(list) - 1
		}
		list[idx].(map[string]any)[p.key] = value
		attrs[p.coll] = list
	case p.parent != "":
		m, _ := attrs[p.parent].(map[string]any)
		if m == nil {
			if value == nil {
				return
			}
			m = map[string]any{}
			attrs[p.parent] = m
		}
		if value == nil {
			delete(m, p.key)
			if len(m) == 0 {
				delete(attrs, p.parent)
			}
		} else {
			m[p.key] = value
		}
	case value == nil:
		delete(attrs, p.key)
	default:
		attrs[p.key] = value
	}
}

// onlyMarkers reports whether a multi-valued entry has nothing left but its
// type and primary flag.
func onlyMarkers(m map[string]any) bool {
	for k := range m {
		if k != "type" && k != "primary" {
			return false
		}
	}
	return true
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
