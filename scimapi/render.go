package scimapi

import (
	"net/http"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/bridge"
)

// Rendering: the stored document plus id, meta and schemas, with the
// indexed columns (userName, active, status) authoritative over the
// document, then cut down by attributes / excludedAttributes.

// timeString renders a dateTime with the precision it is stored with
// (microseconds): a client that filters on meta.lastModified with the value
// it read (eq, gt "...") must compare against that exact instant, not a
// copy truncated to the second.
func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (s *server) meta(r *http.Request, rt *resourceType, id string, created, modified time.Time, version string) map[string]any {
	return map[string]any{
		"resourceType": rt.name, "created": timeString(created), "lastModified": timeString(modified),
		"location": s.location(r, rt, id), "version": etag(version),
	}
}

// shallow copies the top level and the extension objects, the parts
// rendering overwrites.
func shallow(attrs map[string]any) map[string]any {
	doc := make(map[string]any, len(attrs)+4)
	for k, v := range attrs {
		if m, ok := v.(map[string]any); ok && strings.HasPrefix(k, "urn:") {
			c := make(map[string]any, len(m))
			for k2, v2 := range m {
				c[k2] = v2
			}
			v = c
		}
		doc[k] = v
	}
	return doc
}

func schemasOf(rt *resourceType, doc map[string]any) []string {
	out := []string{rt.core.id}
	for _, e := range rt.exts {
		if m, ok := doc[e.id].(map[string]any); ok && len(m) > 0 {
			out = append(out, e.id)
		}
	}
	return out
}

// userDoc renders u; groups are all its live groups (its version digests
// them), even when the response will not show them.
func (s *server) userDoc(r *http.Request, u bridge.User, groups []bridge.GroupRef) map[string]any {
	doc := shallow(u.Attributes)
	delete(doc, "password")
	doc["id"] = u.ID
	doc["userName"] = u.UserName
	doc["active"] = u.Active
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	} else {
		delete(doc, "externalId")
	}
	ext, _ := doc[bridge.SchemaBridgeUser].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
		doc[bridge.SchemaBridgeUser] = ext
	}
	ext["status"] = string(u.Status)
	if u.Source == bridge.SourceLocal {
		ext["kind"] = string(bridge.KindLocal)
	}
	if len(groups) > 0 {
		gs := make([]any, 0, len(groups))
		for _, g := range groups {
			gs = append(gs, map[string]any{"value": g.ID, "display": g.DisplayName, "type": "direct",
				"$ref": s.location(r, groupType, g.ID)})
		}
		doc["groups"] = gs
	} else {
		delete(doc, "groups")
	}
	doc["meta"] = s.meta(r, userType, u.ID, u.CreatedAt, u.UpdatedAt, userVersion(u.Version, groups))
	doc["schemas"] = schemasOf(userType, doc)
	return doc
}

func (s *server) groupDoc(r *http.Request, g bridge.Group, withMembers bool) map[string]any {
	doc := shallow(g.Attributes)
	doc["id"] = g.ID
	doc["displayName"] = g.DisplayName
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	} else {
		delete(doc, "externalId")
	}
	ext, _ := doc[bridge.SchemaBridgeGroup].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
		doc[bridge.SchemaBridgeGroup] = ext
	}
	ext["status"] = string(g.Status)
	ext["kind"] = string(g.Kind)
	delete(doc, "members")
	if withMembers && len(g.Members) > 0 {
		// A struct, not maps: a group of 5,000 members encodes several
		// times faster.
		ms := make([]memberJSON, 0, len(g.Members))
		base := s.base(r)
		for _, m := range g.Members {
			ep := "/Users/"
			if m.Type == "Group" {
				ep = "/Groups/"
			}
			ms = append(ms, memberJSON{Value: m.ID, Type: m.Type, Ref: base + ep + m.ID})
		}
		doc["members"] = ms
	}
	doc["meta"] = s.meta(r, groupType, g.ID, g.CreatedAt, g.UpdatedAt, groupVersion(g.Version))
	doc["schemas"] = schemasOf(groupType, doc)
	return doc
}

type memberJSON struct {
	Value string `json:"value"`
	Ref   string `json:"$ref"`
	Type  string `json:"type"`
}

// projection is a parsed attributes / excludedAttributes pair.
type projection struct {
	include []resolved // nil: every attribute returned by default
	exclude []resolved
}

func parseProjection(rt *resourceType, attributes, excluded []string) (projection, error) {
	var p projection
	for _, list := range []struct {
		in  []string
		out *[]resolved
	}{{attributes, &p.include}, {excluded, &p.exclude}} {
		for _, raw := range list.in {
			for _, a := range strings.Split(raw, ",") {
				if a = strings.TrimSpace(a); a == "" {
					continue
				}
				if strings.EqualFold(a, "schemas") {
					continue // returned always (RFC 7643 3)
				}
				r, err := rt.resolvePath(a)
				if err != nil {
					if otherTypeAttr(rt, a) {
						// A root query (RFC 7644 3.4.2.1) names attributes
						// of every type it spans: groups for Users,
						// members for Groups.
						continue
					}
					return p, badRequest(scimerrors.ScimTypeInvalidPath, "Unknown attribute in attributes or excludedAttributes: %s.", err)
				}
				*list.out = append(*list.out, r)
			}
		}
	}
	if len(p.include) > 0 && p.include == nil {
		p.include = []resolved{}
	}
	return p, nil
}

// otherTypeAttr reports whether path names an attribute of a resource type
// served other than rt.
func otherTypeAttr(rt *resourceType, path string) bool {
	for _, o := range []*resourceType{userType, groupType} {
		if o != rt {
			if _, err := o.resolvePath(path); err == nil {
				return true
			}
		}
	}
	return false
}

// wants reports whether the projection returns the core attribute name
// (for members: whether they must be read at all).
func (p projection) wants(name string) bool {
	if p.include != nil && len(p.include) > 0 {
		for _, r := range p.include {
			if r.urn == "" && r.top != nil && strings.EqualFold(r.top.name, name) {
				return true
			}
		}
		return false
	}
	for _, r := range p.exclude {
		if r.urn == "" && r.top != nil && r.sub == nil && strings.EqualFold(r.top.name, name) {
			return false
		}
	}
	return true
}

// apply cuts doc down. id and schemas are always returned (returned
// "always"); attributes the schema marks "never" never are.
func (p projection) apply(rt *resourceType, doc map[string]any) map[string]any {
	if len(p.include) == 0 && len(p.exclude) == 0 {
		return doc
	}
	if len(p.include) > 0 {
		out := map[string]any{"id": doc["id"]}
		for _, r := range p.include {
			copyPath(out, doc, r)
		}
		doc = out
	}
	for _, r := range p.exclude {
		if r.top != nil && r.top.returned == "always" {
			continue
		}
		removePath(doc, r)
	}
	doc["schemas"] = schemasOf(rt, doc)
	return doc
}

func container(doc map[string]any, urn string, create bool) map[string]any {
	if urn == "" {
		return doc
	}
	m, _ := doc[urn].(map[string]any)
	if m == nil && create {
		m = map[string]any{}
		doc[urn] = m
	}
	return m
}

func copyPath(dst, src map[string]any, r resolved) {
	if r.top == nil { // a whole extension
		if v, ok := src[r.urn]; ok {
			dst[r.urn] = v
		}
		return
	}
	from := container(src, r.urn, false)
	if from == nil {
		return
	}
	v, ok := from[r.top.name]
	if !ok {
		return
	}
	to := container(dst, r.urn, true)
	if r.sub == nil {
		to[r.top.name] = v
		return
	}
	switch x := elements(v).(type) {
	case map[string]any:
		if sv, ok := x[r.sub.name]; ok {
			m, _ := to[r.top.name].(map[string]any)
			if m == nil {
				m = map[string]any{}
				to[r.top.name] = m
			}
			m[r.sub.name] = sv
		}
	case []any:
		// emails.value: each element keeps only the named sub-attributes;
		// several sub-attributes of one attribute merge element-wise.
		prev, _ := to[r.top.name].([]any)
		out := make([]any, len(x))
		for i, el := range x {
			m := map[string]any{}
			if i < len(prev) {
				if pm, ok := prev[i].(map[string]any); ok {
					m = pm
				}
			}
			if em, ok := el.(map[string]any); ok {
				if sv, ok := em[r.sub.name]; ok {
					m[r.sub.name] = sv
				}
			}
			out[i] = m
		}
		to[r.top.name] = out
	}
}

func removePath(doc map[string]any, r resolved) {
	if r.top == nil {
		delete(doc, r.urn)
		return
	}
	c := container(doc, r.urn, false)
	if c == nil {
		return
	}
	if r.sub == nil {
		delete(c, r.top.name)
	} else {
		if v, ok := c[r.top.name]; ok {
			c[r.top.name] = elements(v)
		}
		switch x := c[r.top.name].(type) {
		case map[string]any:
			delete(x, r.sub.name)
		case []any:
			for _, el := range x {
				if m, ok := el.(map[string]any); ok {
					delete(m, r.sub.name)
				}
			}
		}
	}
	if r.urn != "" && len(c) == 0 {
		delete(doc, r.urn)
	}
}

// elements is v with group members ([]memberJSON, groupDoc's fast form) as
// the []any of objects that sub-attribute projections (members.value)
// walk; any other value is returned as it is.
func elements(v any) any {
	ms, ok := v.([]memberJSON)
	if !ok {
		return v
	}
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = map[string]any{"value": m.Value, "$ref": m.Ref, "type": m.Type}
	}
	return out
}
