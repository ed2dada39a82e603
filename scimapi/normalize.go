package scimapi

import (
	"encoding/json"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/bridge"
)

// normalize validates a resource document against rt and returns it in
// canonical form: canonical attribute names, values of the declared types
// ("True" accepted for booleans, as Entra ID sends), readOnly attributes
// and unknown attributes dropped, null values removed, at most one primary
// value per multi-valued attribute. members (Groups) is returned apart.
func normalize(rt *resourceType, body map[string]any, requireSchemas bool) (map[string]any, []any, error) {
	if requireSchemas {
		raw, ok := body["schemas"].([]any)
		found := false
		for _, s := range raw {
			if str, ok := s.(string); ok && strings.EqualFold(str, rt.core.id) {
				found = true
			}
		}
		if !ok || !found {
			return nil, nil, badRequest(scimerrors.ScimTypeInvalidSyntax, "schemas must list %s.", rt.core.id)
		}
	}
	doc := map[string]any{}
	var members []any
	for k, v := range body {
		switch strings.ToLower(k) {
		case "schemas", "id", "meta":
			continue
		case "externalid":
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, nil, badRequest(scimerrors.ScimTypeInvalidValue, "externalId must be a string.")
			}
			if s != "" {
				doc["externalId"] = s
			}
			continue
		case "members":
			if rt == groupType {
				if v == nil {
					continue
				}
				list, ok := v.([]any)
				if !ok {
					return nil, nil, badRequest(scimerrors.ScimTypeInvalidValue, "members must be an array.")
				}
				members = list
				continue
			}
		}
		if strings.HasPrefix(strings.ToLower(k), "urn:") {
			ext := rt.ext(k)
			if ext == nil {
				if urn, rest, ok := rt.splitURN(k); ok && urn == "" && rest != "" {
					// core:2.0:User:userName written in full.
					a := rt.core.attr(rest)
					if a == nil {
						continue
					}
					nv, err := normValue(a, v)
					if err != nil {
						return nil, nil, err
					}
					setNorm(doc, a, nv)
				}
				continue // an extension scimbridge does not serve
			}
			m, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s must be an object.", ext.id)
			}
			out := map[string]any{}
			for k2, v2 := range m {
				a := ext.attr(k2)
				if a == nil || a.mutability == "readOnly" {
					continue
				}
				nv, err := normValue(a, v2)
				if err != nil {
					return nil, nil, err
				}
				setNorm(out, a, nv)
			}
			if len(out) > 0 {
				doc[ext.id] = out
			}
			continue
		}
		a := rt.core.attr(k)
		if a == nil || a.mutability == "readOnly" {
			continue
		}
		if a.mutability == "writeOnly" {
			// password: accepted, never stored (see above).
			if _, ok := v.(string); !ok && v != nil {
				return nil, nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s must be a string.", a.name)
			}
			continue
		}
		nv, err := normValue(a, v)
		if err != nil {
			return nil, nil, err
		}
		setNorm(doc, a, nv)
	}
	for _, a := range rt.core.attrs {
		if a.required {
			if s, ok := doc[a.name].(string); !ok || strings.TrimSpace(s) == "" {
				return nil, nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s is required.", a.name)
			}
		}
	}
	return doc, members, nil
}

func setNorm(doc map[string]any, a *attr, v any) {
	if v == nil {
		delete(doc, a.name)
		return
	}
	doc[a.name] = v
}

// normValue checks v against a, returning the canonical value (nil: no
// value).
func normValue(a *attr, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.multi {
		list, ok := v.([]any)
		if !ok {
			// A single value where an array belongs: Entra ID and others
			// send this; take it as a one-element array.
			list = []any{v}
		}
		out := make([]any, 0, len(list))
		primaries := 0
		for _, el := range list {
			nv, err := normSingle(a, el)
			if err != nil {
				return nil, err
			}
			if nv == nil {
				continue
			}
			if m, ok := nv.(map[string]any); ok {
				if len(m) == 0 {
					continue
				}
				if m["primary"] == true {
					primaries++
				}
			}
			out = append(out, nv)
		}
		if primaries > 1 {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s has more than one primary value.", a.name)
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	if _, isList := v.([]any); isList {
		return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s is single-valued.", a.name)
	}
	return normSingle(a, v)
}

func normSingle(a *attr, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.typ {
	case bridge.AttrComplex:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s must be an object.", a.name)
		}
		out := map[string]any{}
		for k, sv := range m {
			s := a.sub(k)
			if s == nil || s.mutability == "readOnly" && a.name != "manager" {
				continue
			}
			nv, err := normSingle(s, sv)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out[s.name] = nv
			}
		}
		return out, nil
	case bridge.AttrBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s must be a boolean.", a.name)
	case bridge.AttrInteger, bridge.AttrDecimal:
		if n, ok := v.(json.Number); ok {
			return n, nil
		}
		return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s must be a number.", a.name)
	default:
		s, ok := v.(string)
		if !ok {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s must be a string.", a.name)
		}
		if strings.ContainsRune(s, 0) {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "%s must not contain NUL characters.", a.name)
		}
		return s, nil
	}
}
