package scimapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/bridge"
)

// parseFilter parses a SCIM filter with scim2/filter-parser and resolves it
// against rt into bridge's filter tree, which db compiles to SQL. Every
// attribute must be one rt serves and every value must fit the attribute's
// type; anything else is an error the caller answers with invalidFilter.
func parseFilter(rt *resourceType, raw string) (bridge.Filter, error) {
	if strings.ContainsRune(raw, 0) {
		return nil, fmt.Errorf("the filter contains a NUL character")
	}
	if f, ok := parseSimpleFilter(rt, raw); ok {
		return f, nil
	}
	f, err := parseFilterGeneral(rt, raw)
	if err != nil {
		return nil, err
	}
	if terms, depth := filterShape(f, ""); terms > maxFilterTerms || depth > maxFilterDepth {
		return nil, fmt.Errorf("the filter is too complex (at most %d comparisons, nested at most %d deep)", maxFilterTerms, maxFilterDepth)
	}
	return f, nil
}

// A filter is compiled to one SQL expression: long chains of and / or are
// fine (db groups them into a balanced tree), deep nesting of not and
// mixed and / or is not, and each comparison is a bound parameter or more.
const (
	maxFilterTerms = 1000
	maxFilterDepth = 50
)

// filterShape counts the comparisons of f and its nesting depth, where a
// chain of one operator (a or b or c) counts as one level.
func filterShape(f bridge.Filter, parent string) (terms, depth int) {
	var l, r bridge.Filter
	var op string
	switch x := f.(type) {
	case *bridge.And:
		l, r, op = x.Left, x.Right, "and"
	case *bridge.Or:
		l, r, op = x.Left, x.Right, "or"
	case *bridge.Not:
		t, d := filterShape(x.Filter, "not")
		return t, d + 1
	case *bridge.ValuePath:
		// db compiles a value filter as nested as it is parsed.
		t, d := filterShape(x.Filter, "[]")
		return t, max(d, t) + 1
	default:
		return 1, 1
	}
	lt, ld := filterShape(l, op)
	rt, rd := filterShape(r, op)
	depth = max(ld, rd)
	if op != parent {
		depth++
	}
	return lt + rt, depth
}

// parseFilterGeneral parses any filter with scim2/filter-parser.
func parseFilterGeneral(rt *resourceType, raw string) (bridge.Filter, error) {
	expr, err := filter.ParseFilter([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("the filter is not valid SCIM filter syntax")
	}
	return convertExpr(rt, expr, nil)
}

// convertExpr converts expr; inside a value path, parent is the
// multi-valued attribute the sub-attribute names refer to.
func convertExpr(rt *resourceType, expr filter.Expression, parent *resolved) (bridge.Filter, error) {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		l, err := convertExpr(rt, e.Left, parent)
		if err != nil {
			return nil, err
		}
		r, err := convertExpr(rt, e.Right, parent)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(e.Operator), "or") {
			return &bridge.Or{Left: l, Right: r}, nil
		}
		return &bridge.And{Left: l, Right: r}, nil
	case *filter.NotExpression:
		x, err := convertExpr(rt, e.Expression, parent)
		if err != nil {
			return nil, err
		}
		return &bridge.Not{Filter: x}, nil
	case *filter.ValuePath:
		if parent != nil {
			return nil, fmt.Errorf("value paths cannot nest")
		}
		r, err := resolveFilterPath(rt, e.AttributePath, nil)
		if err != nil {
			return nil, err
		}
		if r.sub != nil || r.top.typ != bridge.AttrComplex {
			return nil, fmt.Errorf("%s is not a complex attribute, so it takes no [filter]", r.bridgePath())
		}
		inner, err := convertExpr(rt, e.ValueFilter, &r)
		if err != nil {
			return nil, err
		}
		return &bridge.ValuePath{Path: r.bridgePath(), Filter: inner}, nil
	case *filter.AttributeExpression:
		r, err := resolveFilterPath(rt, e.AttributePath, parent)
		if err != nil {
			return nil, err
		}
		p := r.bridgePath()
		op := bridge.CompareOp(strings.ToLower(string(e.Operator)))
		v, err := compareValue(p, op, e.CompareValue)
		if err != nil {
			return nil, err
		}
		if p.Type == bridge.AttrComplex && r.sub == nil && !p.MultiValued && op != bridge.OpPresent {
			return nil, fmt.Errorf("%s is complex: compare one of its sub-attributes", p)
		}
		return &bridge.Compare{Path: p, Op: op, Value: v}, nil
	}
	return nil, fmt.Errorf("unsupported filter expression")
}

func resolveFilterPath(rt *resourceType, ap filter.AttributePath, parent *resolved) (resolved, error) {
	if parent != nil {
		// Inside attr[...], names are sub-attributes of attr.
		if ap.URIPrefix != nil || ap.SubAttribute != nil {
			return resolved{}, fmt.Errorf("inside %s[...] name sub-attributes only", parent.top.name)
		}
		s := parent.top.sub(ap.AttributeName)
		if s == nil {
			return resolved{}, fmt.Errorf("%q is not a sub-attribute of %s", ap.AttributeName, parent.top.name)
		}
		r := *parent
		r.sub = s
		return r, nil
	}
	// The parser's split of a URN is not trusted (a URN contains dots and
	// colons): join and split again against the schemas served.
	full := ap.AttributeName
	if ap.URIPrefix != nil {
		full = *ap.URIPrefix + ":" + full
	}
	if ap.SubAttribute != nil {
		full += "." + *ap.SubAttribute
	}
	r, err := rt.resolvePath(full)
	if err != nil {
		return resolved{}, err
	}
	if r.top == nil {
		return resolved{}, fmt.Errorf("%q names a schema, not an attribute", full)
	}
	return r, nil
}

// compareValue checks a comparison value against the attribute's type and
// the operator (RFC 7644 3.4.2.2), unescaping JSON string escapes, which
// the parser leaves in place.
func compareValue(p bridge.AttrPath, op bridge.CompareOp, v any) (any, error) {
	switch op {
	case bridge.OpPresent:
		return nil, nil
	case bridge.OpEq, bridge.OpNe, bridge.OpCo, bridge.OpSw, bridge.OpEw, bridge.OpGt, bridge.OpGe, bridge.OpLt, bridge.OpLe:
	default:
		return nil, fmt.Errorf("unknown operator %q", op)
	}
	if v == nil {
		if op != bridge.OpEq && op != bridge.OpNe {
			return nil, fmt.Errorf("null only compares with eq or ne")
		}
		return nil, nil
	}
	t := p.Type
	if t == bridge.AttrComplex && p.MultiValued {
		t = bridge.AttrString // emails co "x": the value sub-attribute
	}
	switch t {
	case bridge.AttrBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s is a boolean: compare with true or false", p)
		}
		if op != bridge.OpEq && op != bridge.OpNe {
			return nil, fmt.Errorf("%s is a boolean: only eq and ne apply", p)
		}
		return b, nil
	case bridge.AttrDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s is a dateTime: compare with a quoted RFC 3339 time", p)
		}
		tm, err := time.Parse(time.RFC3339Nano, unescape(s))
		if err != nil {
			return nil, fmt.Errorf("%s is a dateTime: %q is not an RFC 3339 time", p, s)
		}
		switch op {
		case bridge.OpCo, bridge.OpSw, bridge.OpEw:
			return nil, fmt.Errorf("%s is a dateTime: %s does not apply", p, op)
		}
		return tm, nil
	case bridge.AttrInteger, bridge.AttrDecimal:
		switch n := v.(type) {
		case int:
			return float64(n), nil
		case float64:
			return n, nil
		}
		return nil, fmt.Errorf("%s is a number", p)
	case bridge.AttrBinary:
		return nil, fmt.Errorf("%s is binary and cannot be filtered", p)
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%s is a string: compare with a quoted value", p)
	}
	return unescape(s), nil
}

func unescape(s string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var out string
	if json.Unmarshal([]byte(`"`+s+`"`), &out) != nil {
		return s
	}
	return out
}

// parseSimpleFilter reads the commonest filter, `attr op "value"` on a core
// attribute (Entra ID and Okta begin with `userName eq "..."`), without
// the general parser, which costs more than the rest of such a request.
// It accepts a subset of what the parser accepts and returns what
// convertExpr would; anything else (ok false) goes to the parser.
func parseSimpleFilter(rt *resourceType, raw string) (f bridge.Filter, ok bool) {
	path, rest, ok := strings.Cut(raw, " ")
	if !ok || !simpleAttrPath(path) {
		return nil, false
	}
	op, value, ok := strings.Cut(rest, " ")
	if !ok {
		return nil, false
	}
	switch bridge.CompareOp(op) {
	case bridge.OpEq, bridge.OpNe, bridge.OpCo, bridge.OpSw, bridge.OpEw, bridge.OpGt, bridge.OpGe, bridge.OpLt, bridge.OpLe:
	default:
		return nil, false
	}
	if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' || !plainValue(value[1:len(value)-1]) {
		return nil, false
	}
	r, err := rt.resolvePath(path)
	if err != nil || r.top == nil {
		return nil, false
	}
	p := r.bridgePath()
	if p.Type == bridge.AttrComplex && r.sub == nil && !p.MultiValued {
		return nil, false
	}
	v, err := compareValue(p, bridge.CompareOp(op), value[1:len(value)-1])
	if err != nil {
		return nil, false
	}
	return &bridge.Compare{Path: p, Op: bridge.CompareOp(op), Value: v}, true
}

// simpleAttrPath reports whether s is ATTRNAME or ATTRNAME.ATTRNAME
// (RFC 7644 3.4.2.2: ALPHA *(ALPHA / DIGIT / "-" / "_")).
func simpleAttrPath(s string) bool {
	name, sub, dotted := strings.Cut(s, ".")
	return attrName(name) && (!dotted || attrName(sub))
}

func attrName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// plainValue reports whether a quoted value needs no unescaping and holds
// nothing the JSON string grammar refuses.
func plainValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}
