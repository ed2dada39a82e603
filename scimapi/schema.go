package scimapi

import (
	"fmt"
	"strings"

	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/bridge"
)

// The schemas served, as elimity-com/scim defines them (the RFC 7643 core
// User and Group, the enterprise extension), plus the scimbridge extension
// and addresses.location (where DESIGN.md puts physicalDeliveryOfficeName).
// elimity's schema.Schema renders /Schemas; for everything else (path
// resolution, caseExact, mutability, returned) the definitions are copied
// into attr trees, which elimity keeps private.

type attr struct {
	name       string
	typ        bridge.AttrType
	multi      bool
	caseExact  bool
	required   bool
	mutability string // readOnly, readWrite, immutable, writeOnly
	returned   string // always, never, default, request
	uniqueness string
	subs       []*attr
}

func (a *attr) sub(name string) *attr {
	for _, s := range a.subs {
		if strings.EqualFold(s.name, name) {
			return s
		}
	}
	return nil
}

type schemaDef struct {
	id    string
	src   schema.Schema
	attrs []*attr
}

func (s *schemaDef) attr(name string) *attr {
	for _, a := range s.attrs {
		if strings.EqualFold(a.name, name) {
			return a
		}
	}
	return nil
}

// resourceType is Users or Groups.
type resourceType struct {
	name     string // "User"
	endpoint string // "/Users"
	core     *schemaDef
	exts     []*schemaDef
	common   []*attr // id, externalId, meta
}

func (rt *resourceType) ext(urn string) *schemaDef {
	for _, e := range rt.exts {
		if strings.EqualFold(e.id, urn) {
			return e
		}
	}
	return nil
}

func convertAttr(a schema.CoreAttribute) *attr {
	out := &attr{
		name: a.Name(), typ: bridge.AttrType(a.AttributeType()), multi: a.MultiValued(), caseExact: a.CaseExact(),
		required: a.Required(), mutability: a.Mutability(), returned: a.Returned(), uniqueness: a.Uniqueness(),
	}
	for _, s := range a.SubAttributes() {
		out.subs = append(out.subs, convertAttr(s))
	}
	return out
}

func convertSchema(s schema.Schema) *schemaDef {
	d := &schemaDef{id: s.ID, src: s}
	for _, a := range s.Attributes {
		d.attrs = append(d.attrs, convertAttr(a))
	}
	return d
}

func str(name string, mut schema.AttributeMutability, desc string) schema.SimpleParams {
	return schema.SimpleStringParams(schema.StringParams{Name: name, Mutability: mut, Description: optional.NewString(desc)})
}

// userSchema is elimity's core User with addresses.location added.
func userSchema() schema.Schema {
	s := schema.CoreUserSchema()
	rw := schema.AttributeMutabilityReadWrite()
	attrs := make(schema.Attributes, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		if a.Name() != "addresses" {
			attrs = append(attrs, a)
			continue
		}
		attrs = append(attrs, schema.ComplexCoreAttribute(schema.ComplexParams{
			Name: "addresses", MultiValued: true, Mutability: rw,
			Description: optional.NewString("A physical mailing address for this User."),
			SubAttributes: []schema.SimpleParams{
				str("formatted", rw, "The full mailing address."),
				str("streetAddress", rw, "The full street address component."),
				str("locality", rw, "The city or locality component."),
				str("region", rw, "The state or region component."),
				str("postalCode", rw, "The zip code or postal code component."),
				str("country", rw, "The country name component."),
				str("location", rw, "The office (AD physicalDeliveryOfficeName)."),
				schema.SimpleStringParams(schema.StringParams{Name: "type", Mutability: rw, CanonicalValues: []string{"work", "home", "other"},
					Description: optional.NewString("A label indicating the attribute's function.")}),
				schema.SimpleBooleanParams(schema.BooleanParams{Name: "primary", Mutability: rw,
					Description: optional.NewString("The primary mailing address.")}),
			},
		}))
	}
	s.Attributes = attrs
	return s
}

// groupSchema is elimity's core Group with members.display returned
// "never": a member's display is taken on input and not kept (members are
// rows of ids in group_members, read without their resources, so a
// group of 5,000 members reads one index range), so it is never returned;
// the member's own displayName or userName is at its $ref.
func groupSchema() schema.Schema {
	s := schema.CoreGroupSchema()
	imm := schema.AttributeMutabilityImmutable()
	for i, a := range s.Attributes {
		if a.Name() != "members" {
			continue
		}
		s.Attributes[i] = schema.ComplexCoreAttribute(schema.ComplexParams{
			Name: "members", MultiValued: true, Description: optional.NewString("A list of members of the Group."),
			SubAttributes: []schema.SimpleParams{
				schema.SimpleStringParams(schema.StringParams{Name: "value", Mutability: imm,
					Description: optional.NewString("Identifier of the member of this Group.")}),
				schema.SimpleReferenceParams(schema.ReferenceParams{Name: "$ref", Mutability: imm,
					ReferenceTypes: []schema.AttributeReferenceType{"User", "Group"},
					Description:    optional.NewString("The URI corresponding to a SCIM resource that is a member of this Group.")}),
				schema.SimpleStringParams(schema.StringParams{Name: "type", Mutability: imm, CanonicalValues: []string{"User", "Group"},
					Description: optional.NewString("A label indicating the type of resource, e.g., 'User' or 'Group'.")}),
				schema.SimpleStringParams(schema.StringParams{Name: "display", Mutability: imm, Returned: schema.AttributeReturnedNever(),
					Description: optional.NewString("A human-readable name for the group member. Accepted and not kept, so never returned: " +
						"the member's displayName or userName is at its $ref.")}),
			},
		})
	}
	return s
}

// bridgeSchema is the scimbridge extension: the AD facts of a resource,
// all read-only, and for users extensionAttribute1..15, which custom
// mappings fill and local resources may set.
func bridgeSchema(id, what string, user bool) schema.Schema {
	ro := schema.AttributeMutabilityReadOnly()
	attrs := []schema.CoreAttribute{
		schema.SimpleCoreAttribute(str("dn", ro, "The distinguished name of the AD object.")),
		schema.SimpleCoreAttribute(str("ouPath", ro, "The OU path of the AD object, outermost first.")),
		schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "kind", Mutability: ro,
			CanonicalValues: kinds(user), Description: optional.NewString("What the resource came from.")})),
		schema.SimpleCoreAttribute(str("parent", ro, "The id of the OU group the object sits in.")),
		schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "status", Mutability: ro,
			CanonicalValues: []string{"active", "deactivated", "deleted"}, Description: optional.NewString("The lifecycle state.")})),
		schema.SimpleCoreAttribute(schema.SimpleDateTimeParams(schema.DateTimeParams{Name: "deletedAt", Mutability: ro,
			Description: optional.NewString("When the object disappeared from AD.")})),
		schema.SimpleCoreAttribute(schema.SimpleBooleanParams(schema.BooleanParams{Name: "protected", Mutability: ro,
			Description: optional.NewString("Whether AD no longer overwrites the object (local edits are kept).")})),
	}
	if user {
		for i := 1; i <= 15; i++ {
			attrs = append(attrs, schema.SimpleCoreAttribute(str(fmt.Sprintf("extensionAttribute%d", i),
				schema.AttributeMutabilityReadWrite(), "AD extensionAttribute, filled by a custom mapping.")))
		}
	}
	return schema.Schema{
		ID: id, Name: optional.NewString("scimbridge " + what),
		Description: optional.NewString("Active Directory facts about the " + what + ", kept by scimbridge."),
		Attributes:  attrs,
	}
}

func kinds(user bool) []string {
	if user {
		return []string{"user", "local"}
	}
	return []string{"ou", "security", "distribution", "local"}
}

var (
	userType, groupType *resourceType
	commonAttrs         []*attr
)

func init() {
	for _, a := range schema.CommonAttributes() {
		if a.Name() != "schemas" {
			commonAttrs = append(commonAttrs, convertAttr(a))
		}
	}
	// RFC 7643 3.1: meta is returned by default, and its sub-attributes
	// are all read-only.
	userType = &resourceType{name: "User", endpoint: "/Users", core: convertSchema(userSchema()),
		exts:   []*schemaDef{convertSchema(schema.ExtensionEnterpriseUser()), convertSchema(bridgeSchema(bridge.SchemaBridgeUser, "User", true))},
		common: commonAttrs}
	groupType = &resourceType{name: "Group", endpoint: "/Groups", core: convertSchema(groupSchema()),
		exts: []*schemaDef{convertSchema(bridgeSchema(bridge.SchemaBridgeGroup, "Group", false))}, common: commonAttrs}
	// A member's value and type are written by clients (immutable in the
	// RFC means "set once", which add/remove of whole members respects).
}

// resolved is a path resolved against a resource type.
type resolved struct {
	schema *schemaDef // nil for common attributes
	urn    string     // "" for core and common attributes
	top    *attr
	sub    *attr // nil when the path names top
}

func (r resolved) bridgePath() bridge.AttrPath {
	p := bridge.AttrPath{URN: r.urn, Name: r.top.name, MultiValued: r.top.multi, Type: r.top.typ, CaseExact: r.top.caseExact}
	if r.sub != nil {
		p.Sub, p.Type, p.CaseExact = r.sub.name, r.sub.typ, r.sub.caseExact
	}
	return p
}

// splitURN separates a known schema URN prefix from a path. It returns the
// schema ("" for core) and the rest; rest is "" when path names a whole
// extension.
func (rt *resourceType) splitURN(path string) (urn, rest string, ok bool) {
	lower := strings.ToLower(path)
	if !strings.HasPrefix(lower, "urn:") {
		return "", path, true
	}
	coreID := strings.ToLower(rt.core.id)
	if lower == coreID {
		return "", "", true
	}
	if strings.HasPrefix(lower, coreID+":") {
		return "", path[len(coreID)+1:], true
	}
	for _, e := range rt.exts {
		id := strings.ToLower(e.id)
		if lower == id {
			return e.id, "", true
		}
		if strings.HasPrefix(lower, id+":") {
			return e.id, path[len(id)+1:], true
		}
	}
	return "", "", false
}

// resolve resolves URN (may be ""), name and sub against rt.
func (rt *resourceType) resolve(urn, name, sub string) (resolved, error) {
	var r resolved
	if urn != "" {
		u, rest, ok := rt.splitURN(urn + ":" + name)
		if !ok {
			return r, fmt.Errorf("unknown schema %q", urn)
		}
		urn, name = u, rest
	}
	if urn == "" {
		r.schema = rt.core
		r.top = rt.core.attr(name)
		if r.top == nil {
			for _, c := range rt.common {
				if strings.EqualFold(c.name, name) {
					r.schema, r.top = nil, c
				}
			}
		}
	} else {
		r.schema = rt.ext(urn)
		r.urn = r.schema.id
		r.top = r.schema.attr(name)
	}
	if r.top == nil {
		return r, fmt.Errorf("%q is not an attribute of %s", name, rt.name)
	}
	if sub != "" {
		r.sub = r.top.sub(sub)
		if r.sub == nil {
			return r, fmt.Errorf("%q is not a sub-attribute of %s", sub, r.top.name)
		}
	}
	return r, nil
}

// resolvePath resolves a path written as in attributes, sortBy and simple
// PATCH paths: [URN:]name[.sub]. A path naming a whole extension resolves
// with top nil.
func (rt *resourceType) resolvePath(path string) (resolved, error) {
	urn, rest, ok := rt.splitURN(strings.TrimSpace(path))
	if !ok {
		return resolved{}, fmt.Errorf("unknown schema in %q", path)
	}
	if rest == "" {
		if urn == "" {
			return resolved{}, fmt.Errorf("%q names no attribute", path)
		}
		return resolved{schema: rt.ext(urn), urn: urn}, nil
	}
	name, sub, _ := strings.Cut(rest, ".")
	if urn != "" {
		return rt.resolve(urn, name, sub)
	}
	return rt.resolve("", name, sub)
}
