package bridge

import "strings"

// SCIM user paths: compiled once per mapping row, then set in a user's
// attribute document.

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
