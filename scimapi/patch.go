package scimapi

import (
	"encoding/json"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/bridge"
)

// PATCH (RFC 7644 3.5.2) applies its operations to a copy of the stored
// document, validates the result like a PUT body, and writes it with the
// version read (so a concurrent change is a 412, never a lost update).
// Group members are not part of the document: member operations become a
// MemberChange that db applies as row inserts and deletes, so adding one
// member to a group of 5,000 costs one insert.
//
// Client habits handled: op names in any case ("Replace", as Entra ID
// sends), string booleans ("True"), a single object where an array
// belongs, remove of members by a value array (Entra ID), and add through a
// value filter that matches nothing (emails[type eq "work"].value), which
// creates the element the filter describes.

const schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

type patchOp struct {
	op    string
	path  string
	value any
}

func parsePatch(body map[string]any) ([]patchOp, error) {
	schemas, _ := findKey(body, "schemas")
	ok := false
	if list, isList := schemas.([]any); isList {
		for _, s := range list {
			// URNs compare without case (RFC 8141 2.1 for the NID, and
			// SCIM's own URNs are matched so everywhere else here).
			str, _ := s.(string)
			ok = ok || strings.EqualFold(str, schemaPatchOp)
		}
	}
	if !ok {
		return nil, badRequest(scimerrors.ScimTypeInvalidSyntax, "schemas must be [%q].", schemaPatchOp)
	}
	raw, _ := findKey(body, "Operations")
	list, isList := raw.([]any)
	if !isList || len(list) == 0 {
		return nil, badRequest(scimerrors.ScimTypeInvalidSyntax, "Operations must be a non-empty array.")
	}
	ops := make([]patchOp, 0, len(list))
	for _, el := range list {
		m, isMap := el.(map[string]any)
		if !isMap {
			return nil, badRequest(scimerrors.ScimTypeInvalidSyntax, "Each operation must be an object.")
		}
		var op patchOp
		for k, v := range m {
			switch strings.ToLower(k) {
			case "op":
				s, _ := v.(string)
				op.op = strings.ToLower(s)
			case "path":
				s, _ := v.(string)
				op.path = strings.TrimSpace(s)
			case "value":
				op.value = v
			}
		}
		switch op.op {
		case "add", "replace", "remove":
		default:
			return nil, badRequest(scimerrors.ScimTypeInvalidSyntax, `op must be "add", "replace" or "remove".`)
		}
		if op.op == "remove" && op.path == "" {
			return nil, badRequest(scimerrors.ScimTypeNoTarget, "remove needs a path.")
		}
		if op.op != "remove" && op.value == nil {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s needs a value.", op.op)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func (s *server) patch(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	s.update(w, r, rt, s.patchDoc)
}

func (s *server) patchDoc(r *http.Request, rt *resourceType, id string, body map[string]any) (map[string]any, string, error) {
	ops, err := parsePatch(body)
	if err != nil {
		return nil, "", err
	}
	c, err := s.loadForWrite(r, rt, id, false)
	if err != nil {
		return nil, "", err
	}
	doc := deepCopy(c.attrs)
	if rt == userType {
		doc["userName"], doc["active"] = c.user.UserName, c.user.Active
	} else {
		doc["displayName"] = c.group.DisplayName
	}
	pm := &memberPatch{s: s, r: r, group: c.group}
	for _, op := range ops {
		if err := applyOp(rt, doc, op, pm); err != nil {
			return nil, "", err
		}
	}
	doc["schemas"] = []any{rt.core.id}
	ndoc, _, err := normalize(rt, doc, false)
	if err != nil {
		return nil, "", err
	}
	if rt == userType {
		return s.store1(r, rt, c, ndoc, nil, false)
	}
	if pm.err != nil {
		return nil, "", pm.err
	}
	keepReadOnly(rt, c.attrs, ndoc, c.source)
	return s.writeGroup(r, c, ndoc, pm.change)
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	out := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

// applyOp applies one operation to doc.
func applyOp(rt *resourceType, doc map[string]any, op patchOp, pm *memberPatch) error {
	if op.path == "" {
		// add / replace with an object of attributes (RFC 7644 3.5.2.1).
		m, ok := op.value.(map[string]any)
		if !ok {
			return badRequest(scimerrors.ScimTypeInvalidValue, "Without a path, the value must be an object of attributes.")
		}
		for k, v := range m {
			if ext := rt.ext(k); ext != nil {
				em, ok := v.(map[string]any)
				if !ok {
					return badRequest(scimerrors.ScimTypeInvalidValue, "%s must be an object.", ext.id)
				}
				for k2, v2 := range em {
					if err := applyOne(rt, doc, op.op, ext.id+":"+k2, v2, pm, true); err != nil {
						return err
					}
				}
				continue
			}
			if strings.EqualFold(k, "schemas") {
				continue
			}
			if err := applyOne(rt, doc, op.op, k, v, pm, true); err != nil {
				return err
			}
		}
		return nil
	}
	return applyOne(rt, doc, op.op, op.path, op.value, pm, false)
}

// applyOne applies op at path. implicit: the path came from the keys of a
// path-less value, where read-only attributes (id, meta, as Okta sends) and
// unknown ones are skipped rather than refused.
func applyOne(rt *resourceType, doc map[string]any, op, path string, value any, pm *memberPatch, implicit bool) error {
	attrPath, filterText, subName, err := splitPatchPath(path)
	if err != nil {
		return err
	}
	r, err := rt.resolvePath(attrPath)
	if err != nil || (r.top == nil && filterText != "") {
		if implicit {
			return nil
		}
		return badRequest(scimerrors.ScimTypeInvalidPath, "Invalid path %q.", path)
	}
	if r.top == nil {
		// The whole extension object as the target.
		m, ok := value.(map[string]any)
		if op == "remove" {
			delete(doc, r.urn)
			return nil
		}
		if !ok {
			return badRequest(scimerrors.ScimTypeInvalidValue, "%s must be an object.", r.urn)
		}
		for k, v := range m {
			if err := applyOne(rt, doc, op, r.urn+":"+k, v, pm, true); err != nil {
				return err
			}
		}
		return nil
	}
	if rt == groupType && r.urn == "" && r.top.name == "members" {
		return pm.apply(op, filterText, value)
	}
	if r.sub == nil && subName != "" {
		if r.sub = r.top.sub(subName); r.sub == nil {
			return badRequest(scimerrors.ScimTypeInvalidPath, "Invalid path %q.", path)
		}
	} else if subName != "" {
		return badRequest(scimerrors.ScimTypeInvalidPath, "Invalid path %q.", path)
	}
	// Common attributes go by their own mutability: id and meta are
	// readOnly, externalId is readWrite (RFC 7643 3.1; Entra ID replaces
	// it by path).
	if r.top.mutability == "readOnly" || (r.sub != nil && r.sub.mutability == "readOnly") {
		if implicit {
			return nil
		}
		return badRequest(scimerrors.ScimTypeMutability, "%s is read-only.", path)
	}
	if r.top.mutability == "writeOnly" {
		return nil // password: accepted, not stored
	}
	if op == "remove" && r.top.required && r.sub == nil && filterText == "" {
		return badRequest(scimerrors.ScimTypeMutability, "%s is required and cannot be removed.", r.top.name)
	}
	c := container(doc, r.urn, op != "remove")
	if c == nil {
		if filterText != "" {
			return badRequest(scimerrors.ScimTypeNoTarget, "No value matches %q.", path)
		}
		return nil
	}
	name := r.top.name
	if filterText != "" {
		if !r.top.multi {
			return badRequest(scimerrors.ScimTypeInvalidPath, "%s is not multi-valued.", name)
		}
		// The path's shape is sound (attr[...] on a multi-valued
		// attribute); a bad filter inside it is invalidFilter, as RFC 7644
		// 3.5.2 (table 9's PATCH errors) and 3.12 list for a PATCH path
		// filter. A malformed path is invalidPath.
		expr, err := filter.ParseFilter([]byte(filterText))
		if err != nil {
			return badRequest(scimerrors.ScimTypeInvalidFilter, "Invalid value filter in %q.", path)
		}
		parent := r
		parent.sub = nil
		f, err := convertExpr(rt, expr, &parent)
		if err != nil {
			return badRequest(scimerrors.ScimTypeInvalidFilter, "Invalid value filter in %q: %s.", path, err)
		}
		return applyFiltered(c, r, op, f, value, path)
	}
	if r.sub != nil {
		sub := r.sub.name
		if r.top.multi {
			// emails.value without a filter: every element.
			list, _ := c[name].([]any)
			if len(list) == 0 && op != "remove" {
				return badRequest(scimerrors.ScimTypeNoTarget, "%s has no values.", name)
			}
			for _, el := range list {
				if m, ok := el.(map[string]any); ok {
					if op == "remove" {
						delete(m, sub)
					} else {
						m[sub] = value
					}
				}
			}
			return nil
		}
		m, _ := c[name].(map[string]any)
		if op == "remove" {
			if m != nil {
				delete(m, sub)
				if len(m) == 0 {
					delete(c, name)
				}
			}
			return nil
		}
		if m == nil {
			m = map[string]any{}
			c[name] = m
		}
		m[sub] = value
		return nil
	}
	switch op {
	case "remove":
		if r.top.multi && value != nil {
			// remove with a value array: the listed values go.
			removeValues(c, name, value)
			return nil
		}
		delete(c, name)
	case "add":
		if r.top.multi {
			list, _ := c[name].([]any)
			add, ok := value.([]any)
			if !ok {
				add = []any{value}
			}
			for _, v := range add {
				if !containsValue(list, v) {
					list = append(list, v)
				}
			}
			c[name] = onePrimary(list, len(list)-len(add))
			return nil
		}
		if m, ok := value.(map[string]any); ok && r.top.typ == bridge.AttrComplex {
			cur, _ := c[name].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
			}
			for k, v := range m {
				cur[k] = v
			}
			c[name] = cur
			return nil
		}
		c[name] = value
	case "replace":
		if r.top.multi {
			list, ok := value.([]any)
			if !ok {
				list = []any{value}
			}
			c[name] = list
			return nil
		}
		if m, ok := value.(map[string]any); ok && r.top.typ == bridge.AttrComplex {
			cur, _ := c[name].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
			}
			for k, v := range m {
				cur[k] = v
			}
			c[name] = cur
			return nil
		}
		c[name] = value
	}
	return nil
}

// splitPatchPath splits attr[filter].sub.
func splitPatchPath(path string) (attr, filterText, sub string, err error) {
	i := strings.IndexByte(path, '[')
	if i < 0 {
		return path, "", "", nil
	}
	j := strings.LastIndexByte(path, ']')
	if j < i {
		return "", "", "", badRequest(scimerrors.ScimTypeInvalidPath, "Invalid path %q: unbalanced [ ].", path)
	}
	attr, filterText = path[:i], path[i+1:j]
	rest := path[j+1:]
	if rest != "" {
		if !strings.HasPrefix(rest, ".") || len(rest) < 2 {
			return "", "", "", badRequest(scimerrors.ScimTypeInvalidPath, "Invalid path %q.", path)
		}
		sub = rest[1:]
	}
	return attr, filterText, sub, nil
}
