package db

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/bridge"
)

// The SCIM query compiler: bridge.Query (a filter tree of resolved attribute
// paths) to one parameterised WHERE clause for SQLite or PostgreSQL. Every
// value, and every JSON key, is a bound parameter: nothing a client writes
// ever becomes SQL text. Paths that map to an indexed column use it (so
// `userName eq "x"` and `externalId eq "x"` are index lookups); the rest
// reads the attributes document with json_extract / json_each (SQLite) or
// #>> / jsonb_array_elements (PostgreSQL).

// sqlFrag is SQL text with ? placeholders and its arguments.
type sqlFrag struct {
	sql  string
	args []any
}

// resourceKind selects the table a query reads.
type resourceKind int

const (
	kindUsers resourceKind = iota
	kindGroups
)

// keyRE is what a JSON key taken from a path may look like. scimapi only
// passes names it resolved against its schemas; this is a second line.
var keyRE = regexp.MustCompile(`^(urn:[A-Za-z0-9:._-]+|\$?[A-Za-z][A-Za-z0-9_-]*)$`)

type compiler struct {
	dialect Dialect
	kind    resourceKind
	alias   string // the resource table's alias in the query
	args    []any
}

func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return "?"
}

// column is a path served by a column of the resource table.
type column struct {
	name  string
	lower bool // the column holds a lower-cased copy (user_name_lower)
}

// columnFor maps a path to a column of the resource table, when one holds it.
func (c *compiler) columnFor(p bridge.AttrPath) (column, bool) {
	urn, name, sub := p.URN, p.Name, p.Sub
	switch {
	case urn == "" && sub == "":
		switch name {
		case "id":
			return column{name: "id"}, true
		case "externalId":
			return column{name: "external_id"}, true
		case "displayName":
			return column{name: "display_name"}, true
		case "userName":
			if c.kind == kindUsers {
				return column{name: "user_name_lower", lower: true}, true
			}
		case "active":
			if c.kind == kindUsers {
				return column{name: "active"}, true
			}
		}
	case urn == "" && name == "meta":
		switch sub {
		case "created":
			return column{name: "created_at"}, true
		case "lastModified":
			return column{name: "updated_at"}, true
		}
	case urn == bridge.SchemaBridgeUser && c.kind == kindUsers && sub == "":
		switch name {
		case "status":
			return column{name: "status"}, true
		case "dn":
			return column{name: "dn"}, true
		case "ouPath":
			return column{name: "ou_path"}, true
		}
	case urn == bridge.SchemaBridgeGroup && c.kind == kindGroups && sub == "":
		switch name {
		case "status":
			return column{name: "status"}, true
		case "dn":
			return column{name: "dn"}, true
		case "kind":
			return column{name: "kind"}, true
		case "parent":
			return column{name: "parent_id"}, true
		}
	}
	return column{}, false
}

// jsonPath is the document path of p as keys.
func jsonKeys(p bridge.AttrPath, withSub bool) ([]string, error) {
	var keys []string
	if p.URN != "" {
		keys = append(keys, p.URN)
	}
	keys = append(keys, p.Name)
	if withSub && p.Sub != "" {
		keys = append(keys, p.Sub)
	}
	for _, k := range keys {
		if !keyRE.MatchString(k) {
			return nil, fmt.Errorf("attribute path %q: %w", p.String(), bridge.ErrInvalid)
		}
	}
	return keys, nil
}

// jsonText extracts keys from the JSON document expression doc as SQL text
// (booleans: 1/0 on SQLite, 'true'/'false' on PostgreSQL).
func (c *compiler) jsonText(doc string, keys []string) string {
	if c.dialect == DialectPostgres {
		ph := make([]string, len(keys))
		for i, k := range keys {
			ph[i] = c.arg(k) + "::text"
		}
		return "(" + doc + " #>> ARRAY[" + strings.Join(ph, ",") + "])"
	}
	var b strings.Builder
	b.WriteString("$")
	for _, k := range keys {
		b.WriteString(`."` + k + `"`)
	}
	return "json_extract(" + doc + ", " + c.arg(b.String()) + ")"
}

// elements is a FROM item yielding the values of the multi-valued JSON
// attribute at keys, as alias e, and the expression of one element.
func (c *compiler) elements(keys []string) (from, elem string) {
	if c.dialect == DialectPostgres {
		ph := make([]string, len(keys))
		ph2 := make([]string, len(keys))
		for i, k := range keys {
			ph[i] = c.arg(k) + "::text"
		}
		for i, k := range keys {
			ph2[i] = c.arg(k) + "::text"
		}
		doc := c.alias + ".attributes"
		return "jsonb_array_elements(CASE WHEN jsonb_typeof(" + doc + " #> ARRAY[" + strings.Join(ph, ",") +
			"]) = 'array' THEN " + doc + " #> ARRAY[" + strings.Join(ph2, ",") + "] ELSE '[]'::jsonb END) AS e(v)", "e.v"
	}
	var b strings.Builder
	b.WriteString("$")
	for _, k := range keys {
		b.WriteString(`."` + k + `"`)
	}
	return "json_each(" + c.alias + ".attributes, " + c.arg(b.String()) + ") AS e", "e.value"
}

// elemText is sub of one element (from elements) as SQL text.
func (c *compiler) elemText(elem, sub string) string {
	if sub == "" {
		if c.dialect == DialectPostgres {
			return "(" + elem + " #>> '{}')"
		}
		// json_each's value is the SQL value for scalars.
		return elem
	}
	if c.dialect == DialectPostgres {
		return "(" + elem + " ->> " + c.arg(sub) + "::text)"
	}
	return "json_extract(" + elem + ", " + c.arg(`$."`+sub+`"`) + ")"
}

// both compiles a chain of AND or OR. The parser nests a chain of n terms
// n deep ((a or b) or c ...); compiled as it is, a long filter (hundreds
// of userName eq "..." or-ed) overflows SQLite's parser stack and nests
// PostgreSQL's expression tree as deep. So the chain is flattened and
// regrouped as a balanced tree, log2(n) deep.
func (c *compiler) both(f bridge.Filter, op string) (string, error) {
	terms, err := c.chain(f, op, nil)
	if err != nil {
		return "", err
	}
	return balanced(terms, op), nil
}

// chain compiles the terms of the op chain rooted at f, left to right.
func (c *compiler) chain(f bridge.Filter, op string, out []string) ([]string, error) {
	var l, r bridge.Filter
	switch x := f.(type) {
	case *bridge.And:
		if op == "AND" {
			l, r = x.Left, x.Right
		}
	case *bridge.Or:
		if op == "OR" {
			l, r = x.Left, x.Right
		}
	}
	if l == nil {
		sql, err := c.where(f)
		if err != nil {
			return nil, err
		}
		return append(out, sql), nil
	}
	out, err := c.chain(l, op, out)
	if err != nil {
		return nil, err
	}
	return c.chain(r, op, out)
}

func balanced(terms []string, op string) string {
	if len(terms) == 1 {
		return terms[0]
	}
	mid := len(terms) / 2
	return "(" + balanced(terms[:mid], op) + " " + op + " " + balanced(terms[mid:], op) + ")"
}

// where compiles a filter.
func (c *compiler) where(f bridge.Filter) (string, error) {
	switch f := f.(type) {
	case *bridge.And:
		return c.both(f, "AND")
	case *bridge.Or:
		return c.both(f, "OR")
	case *bridge.Not:
		x, err := c.where(f.Filter)
		if err != nil {
			return "", err
		}
		// NOT of a comparison with an absent (NULL) value is true: an
		// absent attribute does not equal anything.
		return "(NOT COALESCE(" + x + ", FALSE))", nil
	case *bridge.Compare:
		return c.compare(f)
	case *bridge.ValuePath:
		return c.valuePath(f.Path, f.Filter)
	case nil:
		return "", fmt.Errorf("empty filter: %w", bridge.ErrInvalid)
	default:
		return "", fmt.Errorf("unsupported filter node %T: %w", f, bridge.ErrInvalid)
	}
}

func (c *compiler) compare(f *bridge.Compare) (string, error) {
	p := f.Path
	if sql, ok, err := c.metaCompare(f); ok {
		return sql, err
	}
	// Memberships live in group_members, not in the document.
	if rel, ok := c.relation(p); ok {
		if p.Sub == "" && f.Op != bridge.OpPresent {
			p.Sub = "value"
		}
		return c.exists(rel, func(sub string) (string, bridge.AttrType, bool, error) {
			return rel.sub(sub)
		}, &bridge.Compare{Path: p, Op: f.Op, Value: f.Value})
	}
	if col, ok := c.columnFor(p); ok {
		return c.scalar(c.alias+"."+col.name, col.lower, p.Type, p.CaseExact, f.Op, f.Value, true)
	}
	if p.MultiValued {
		keys, err := jsonKeys(p, false)
		if err != nil {
			return "", err
		}
		sub := p.Sub
		if sub == "" && p.Type == bridge.AttrComplex {
			// `emails co "x"` means the value sub-attribute (RFC 7644 3.4.2.2).
			sub = "value"
			p.Type, p.CaseExact = bridge.AttrString, false
		}
		from, elem := c.elements(keys)
		if f.Op == bridge.OpPresent && p.Sub == "" {
			return "EXISTS (SELECT 1 FROM " + from + ")", nil
		}
		cond, err := c.scalar(c.elemText(elem, sub), false, p.Type, p.CaseExact, f.Op, f.Value, false)
		if err != nil {
			return "", err
		}
		return "EXISTS (SELECT 1 FROM " + from + " WHERE " + cond + ")", nil
	}
	keys, err := jsonKeys(p, true)
	if err != nil {
		return "", err
	}
	return c.scalar(c.jsonText(c.alias+".attributes", keys), false, p.Type, p.CaseExact, f.Op, f.Value, false)
}

// metaCompare compiles the parts of meta that no column or document key
// holds, since they are derived when a resource is rendered: meta itself,
// meta.resourceType (the table's type), meta.location and meta.version,
// which every resource has. ok is false for other paths.
func (c *compiler) metaCompare(f *bridge.Compare) (sql string, ok bool, err error) {
	p := f.Path
	if p.URN != "" || p.Name != "meta" {
		return "", false, nil
	}
	switch p.Sub {
	case "":
		if f.Op != bridge.OpPresent {
			return "", true, fmt.Errorf("meta is complex: compare one of its sub-attributes: %w", bridge.ErrInvalid)
		}
		return "(1 = 1)", true, nil
	case "resourceType":
		name := "User"
		if c.kind == kindGroups {
			name = "Group"
		}
		sql, err := c.scalar("CAST("+c.arg(name)+" AS TEXT)", false, bridge.AttrString, p.CaseExact, f.Op, f.Value, true)
		return sql, true, err
	case "location", "version":
		if f.Op != bridge.OpPresent {
			// Both depend on the request (the base URL) or on rows beyond
			// the resource's own (a user's groups): not comparable in SQL.
			return "", true, fmt.Errorf("meta.%s supports pr only: %w", p.Sub, bridge.ErrInvalid)
		}
		return "(1 = 1)", true, nil
	}
	return "", false, nil
}

// valuePath compiles attr[filter]: some element of attr matches filter.
func (c *compiler) valuePath(p bridge.AttrPath, f bridge.Filter) (string, error) {
	if rel, ok := c.relation(p); ok {
		return c.existsFilter(rel, f)
	}
	if !p.MultiValued {
		// A value path on a single complex attribute (name[givenName eq
		// "x"]) is its filter on the attribute's sub-attributes.
		return c.where(f)
	}
	keys, err := jsonKeys(p, false)
	if err != nil {
		return "", err
	}
	from, elem := c.elements(keys)
	inner := &compiler{dialect: c.dialect, kind: c.kind, alias: c.alias}
	cond, err := inner.elemWhere(elem, f)
	if err != nil {
		return "", err
	}
	c.args = append(c.args, inner.args...)
	return "EXISTS (SELECT 1 FROM " + from + " WHERE " + cond + ")", nil
}

// elemWhere compiles a value filter against one JSON element.
func (c *compiler) elemWhere(elem string, f bridge.Filter) (string, error) {
	switch f := f.(type) {
	case *bridge.And:
		l, err := c.elemWhere(elem, f.Left)
		if err != nil {
			return "", err
		}
		r, err := c.elemWhere(elem, f.Right)
		if err != nil {
			return "", err
		}
		return "(" + l + " AND " + r + ")", nil
	case *bridge.Or:
		l, err := c.elemWhere(elem, f.Left)
		if err != nil {
			return "", err
		}
		r, err := c.elemWhere(elem, f.Right)
		if err != nil {
			return "", err
		}
		return "(" + l + " OR " + r + ")", nil
	case *bridge.Not:
		x, err := c.elemWhere(elem, f.Filter)
		if err != nil {
			return "", err
		}
		return "(NOT COALESCE(" + x + ", FALSE))", nil
	case *bridge.Compare:
		if f.Path.Sub != "" && !keyRE.MatchString(f.Path.Sub) {
			return "", fmt.Errorf("attribute path %q: %w", f.Path.String(), bridge.ErrInvalid)
		}
		return c.scalar(c.elemText(elem, f.Path.Sub), false, f.Path.Type, f.Path.CaseExact, f.Op, f.Value, false)
	default:
		return "", fmt.Errorf("unsupported value filter %T: %w", f, bridge.ErrInvalid)
	}
}

// relation is a multi-valued attribute kept in group_members: Group.members
// and User.groups.
type relation struct {
	from string // FROM ... with alias m, correlated to the resource
	sub  func(sub string) (expr string, t bridge.AttrType, caseExact bool, err error)
}

func (c *compiler) relation(p bridge.AttrPath) (relation, bool) {
	if p.URN != "" {
		return relation{}, false
	}
	switch {
	case c.kind == kindGroups && p.Name == "members":
		return relation{
			from: "group_members m WHERE m.group_id = " + c.alias + ".id",
			sub: func(sub string) (string, bridge.AttrType, bool, error) {
				switch sub {
				case "value":
					return "m.member_id", bridge.AttrString, true, nil
				case "type":
					return "m.member_type", bridge.AttrString, false, nil
				}
				return "", "", false, fmt.Errorf("members.%s cannot be filtered: %w", sub, bridge.ErrInvalid)
			},
		}, true
	case c.kind == kindUsers && p.Name == "groups":
		return relation{
			from: "group_members m JOIN groups mg ON mg.id = m.group_id AND mg.status <> 'deleted' WHERE m.member_id = " + c.alias + ".id",
			sub: func(sub string) (string, bridge.AttrType, bool, error) {
				switch sub {
				case "value":
					return "m.group_id", bridge.AttrString, true, nil
				case "display":
					return "mg.display_name", bridge.AttrString, false, nil
				case "type":
					return "'direct'", bridge.AttrString, false, nil
				}
				return "", "", false, fmt.Errorf("groups.%s cannot be filtered: %w", sub, bridge.ErrInvalid)
			},
		}, true
	}
	return relation{}, false
}

func (c *compiler) exists(rel relation, _ func(string) (string, bridge.AttrType, bool, error), f *bridge.Compare) (string, error) {
	if f.Op == bridge.OpPresent && f.Path.Sub == "" {
		return "EXISTS (SELECT 1 FROM " + rel.from + ")", nil
	}
	return c.existsFilter(rel, f)
}

func (c *compiler) existsFilter(rel relation, f bridge.Filter) (string, error) {
	cond, err := c.relWhere(rel, f)
	if err != nil {
		return "", err
	}
	return "EXISTS (SELECT 1 FROM " + rel.from + " AND " + cond + ")", nil
}

func (c *compiler) relWhere(rel relation, f bridge.Filter) (string, error) {
	switch f := f.(type) {
	case *bridge.And, *bridge.Or:
		var l, r bridge.Filter
		op := " AND "
		if a, ok := f.(*bridge.And); ok {
			l, r = a.Left, a.Right
		} else {
			o := f.(*bridge.Or)
			l, r, op = o.Left, o.Right, " OR "
		}
		ls, err := c.relWhere(rel, l)
		if err != nil {
			return "", err
		}
		rs, err := c.relWhere(rel, r)
		if err != nil {
			return "", err
		}
		return "(" + ls + op + rs + ")", nil
	case *bridge.Not:
		x, err := c.relWhere(rel, f.Filter)
		if err != nil {
			return "", err
		}
		return "(NOT COALESCE(" + x + ", FALSE))", nil
	case *bridge.Compare:
		sub := f.Path.Sub
		if sub == "" {
			sub = "value"
		}
		expr, t, ce, err := rel.sub(sub)
		if err != nil {
			return "", err
		}
		return c.scalar(expr, false, t, ce, f.Op, f.Value, true)
	default:
		return "", fmt.Errorf("unsupported member filter %T: %w", f, bridge.ErrInvalid)
	}
}

// scalar compiles `x op value` for one SQL expression. lowered: x already
// holds a lower-cased (strings.ToLower) copy, so the value is lowered in Go
// and the comparison can use x's index. column: x is a typed column rather
// than JSON text.
func (c *compiler) scalar(x string, lowered bool, t bridge.AttrType, caseExact bool, op bridge.CompareOp, value any, column bool) (string, error) {
	if op == bridge.OpPresent {
		if t == bridge.AttrBoolean || t == bridge.AttrDateTime || t == bridge.AttrDecimal || t == bridge.AttrInteger {
			return "(" + x + " IS NOT NULL)", nil
		}
		return "(COALESCE(" + x + ", '') <> '')", nil
	}
	if value == nil {
		switch op {
		case bridge.OpEq:
			if t == bridge.AttrString && column {
				return "(COALESCE(" + x + ", '') = '')", nil
			}
			return "(" + x + " IS NULL)", nil
		case bridge.OpNe:
			if t == bridge.AttrString && column {
				return "(COALESCE(" + x + ", '') <> '')", nil
			}
			return "(" + x + " IS NOT NULL)", nil
		}
		return "", fmt.Errorf("%s null: %w", op, bridge.ErrInvalid)
	}
	switch t {
	case bridge.AttrBoolean:
		b, ok := value.(bool)
		if !ok || (op != bridge.OpEq && op != bridge.OpNe) {
			return "", fmt.Errorf("boolean attributes support eq and ne with true or false: %w", bridge.ErrInvalid)
		}
		var v any = b
		if !column {
			if c.dialect == DialectPostgres {
				v = fmt.Sprint(b)
			} else if b {
				v = 1
			} else {
				v = 0
			}
		}
		if op == bridge.OpNe {
			// ne is true for an absent value too.
			return "(COALESCE(" + x + " <> " + c.arg(v) + ", TRUE))", nil
		}
		return "(" + x + " = " + c.arg(v) + ")", nil
	case bridge.AttrDateTime:
		tm, ok := value.(time.Time)
		if !ok {
			return "", fmt.Errorf("dateTime attributes compare with an RFC 3339 time: %w", bridge.ErrInvalid)
		}
		switch op {
		case bridge.OpEq, bridge.OpNe, bridge.OpGt, bridge.OpGe, bridge.OpLt, bridge.OpLe:
		default:
			return "", fmt.Errorf("dateTime attributes do not support %s: %w", op, bridge.ErrInvalid)
		}
		var v any = norm(tm)
		if !column {
			v = tm.UTC().Format(time.RFC3339Nano)
		}
		return "(" + x + " " + sqlCompare[op] + " " + c.arg(v) + ")", nil
	case bridge.AttrDecimal, bridge.AttrInteger:
		f, ok := value.(float64)
		if !ok {
			return "", fmt.Errorf("numeric attributes compare with a number: %w", bridge.ErrInvalid)
		}
		switch op {
		case bridge.OpEq, bridge.OpNe, bridge.OpGt, bridge.OpGe, bridge.OpLt, bridge.OpLe:
		default:
			return "", fmt.Errorf("numeric attributes do not support %s: %w", op, bridge.ErrInvalid)
		}
		if c.dialect == DialectPostgres && !column {
			x = "CAST(NULLIF(" + x + ", '') AS NUMERIC)"
		}
		return "(" + x + " " + sqlCompare[op] + " " + c.arg(f) + ")", nil
	}
	s, ok := value.(string)
	if !ok {
		return "", fmt.Errorf("string attributes compare with a string: %w", bridge.ErrInvalid)
	}
	// Placeholders are added in the order they appear in the SQL text; x
	// (which may hold placeholders of its own) appears exactly once.
	fold := !lowered && !caseExact
	if lowered {
		s = strings.ToLower(s)
	}
	lower := "lower"
	if c.dialect == DialectSQLite && !column {
		lower = "scim_lower"
	}
	val := func() string {
		if fold {
			return lower + "(" + c.arg(s) + ")"
		}
		return c.arg(s)
	}
	if fold {
		x = lower + "(" + x + ")"
	}
	switch op {
	case bridge.OpEq, bridge.OpGt, bridge.OpGe, bridge.OpLt, bridge.OpLe:
		return "(" + x + " " + sqlCompare[op] + " " + val() + ")", nil
	case bridge.OpNe:
		return "(COALESCE(" + x + " <> " + val() + ", TRUE))", nil
	case bridge.OpCo:
		// instr/strpos rather than LIKE: no wildcard escaping, and
		// SQLite's LIKE ignores ASCII case even for caseExact attributes.
		if c.dialect == DialectPostgres {
			return "(strpos(" + x + ", " + val() + ") > 0)", nil
		}
		return "(instr(" + x + ", " + val() + ") > 0)", nil
	case bridge.OpSw, bridge.OpEw:
		n := utf8.RuneCountInString(s)
		if n == 0 {
			return "(" + x + " IS NOT NULL)", nil
		}
		if c.dialect == DialectPostgres {
			fn := "left"
			if op == bridge.OpEw {
				fn = "right"
			}
			return "(" + fn + "(" + x + ", " + c.arg(n) + "::int) = " + val() + ")", nil
		}
		if op == bridge.OpSw {
			return "(substr(" + x + ", 1, " + c.arg(n) + ") = " + val() + ")", nil
		}
		// substr(x, -n) is all of x when x is shorter: then it differs.
		return "(substr(" + x + ", " + c.arg(-n) + ") = " + val() + ")", nil
	}
	return "", fmt.Errorf("unknown operator %q: %w", op, bridge.ErrInvalid)
}

var sqlCompare = map[bridge.CompareOp]string{
	bridge.OpEq: "=", bridge.OpNe: "<>", bridge.OpGt: ">", bridge.OpGe: ">=", bridge.OpLt: "<", bridge.OpLe: "<=",
}

// orderBy compiles the sort of q: the sort attribute (nulls last), then the
// id, so pages never overlap.
func (c *compiler) orderBy(q bridge.Query) (string, error) {
	dir := ""
	if q.SortDescending {
		dir = " DESC"
	}
	if q.SortBy == nil {
		return c.alias + ".id" + dir, nil
	}
	p := *q.SortBy
	if x, ok := c.emptyLastKey(q); ok {
		// RFC 7644 3.4.2.3: resources without a value ('') sort last when
		// ascending and first when descending. Pages read this order as
		// two ranges an index serves (pageRanges); this is the order
		// they add up to.
		return "(" + x + " = '')" + dir + ", " + x + dir + ", " + c.alias + ".id" + dir, nil
	}
	if col, ok := c.columnFor(p); ok {
		if col.name == "user_name_lower" || col.name == "id" {
			// Unique among live rows: the index order is total.
			return c.alias + "." + col.name + dir, nil
		}
		// Booleans and times: never missing (NOT NULL columns).
		return c.alias + "." + col.name + dir + ", " + c.alias + ".id" + dir, nil
	}
	// The sort expression appears twice (its NULL test, then its value),
	// each with its own placeholders.
	nullTest, err := c.sortExpr(p)
	if err != nil {
		return "", err
	}
	x, err := c.sortExpr(p)
	if err != nil {
		return "", err
	}
	// RFC 7644 3.4.2.3: resources without a value sort last when
	// ascending and first when descending.
	return "(" + nullTest + " IS NULL)" + dir + ", " + x + dir + ", " + c.alias + ".id" + dir, nil
}

// emptyLastKey is the sort key of q when q sorts by a text column that
// holds ” for no value (every text column but id and userName, which are
// never empty): the column, lower-cased when the attribute is not
// caseExact, as its index holds it.
func (c *compiler) emptyLastKey(q bridge.Query) (string, bool) {
	if q.SortBy == nil {
		return "", false
	}
	col, ok := c.columnFor(*q.SortBy)
	if !ok {
		return "", false
	}
	switch col.name {
	case "external_id", "display_name", "status", "dn", "ou_path", "kind", "parent_id":
	default:
		return "", false
	}
	x := c.alias + "." + col.name
	if q.SortBy.Type == bridge.AttrString && !q.SortBy.CaseExact && !col.lower {
		x = "lower(" + x + ")"
	}
	return x, true
}

// sortExpr is the value p sorts by, lower-cased when p is not caseExact.
// A multi-valued attribute sorts by its primary value, or else its first
// value (RFC 7644 3.4.2.3).
func (c *compiler) sortExpr(p bridge.AttrPath) (string, error) {
	sub := p.Sub
	if sub == "" && p.MultiValued && p.Type == bridge.AttrComplex {
		// sortBy=emails: the value sub-attribute, a string.
		sub, p.Type, p.CaseExact = "value", bridge.AttrString, false
	}
	if _, ok := c.relation(p); ok {
		// A user's groups and a group's members live in group_members;
		// sorting by them is refused (invalidFilter).
		return "", fmt.Errorf("cannot sort by %s: %w", p.String(), bridge.ErrInvalid)
	}
	var x string
	if p.MultiValued {
		if !keyRE.MatchString(sub) {
			return "", fmt.Errorf("cannot sort by %s: %w", p.String(), bridge.ErrInvalid)
		}
		keys, err := jsonKeys(bridge.AttrPath{URN: p.URN, Name: p.Name}, false)
		if err != nil {
			return "", err
		}
		// Pieces compiled apart, their arguments joined in text order.
		fromC, selC, condC := c.sub(), c.sub(), c.sub()
		from, elem := fromC.elements(keys)
		sel := selC.elemText(elem, sub)
		truth := "1"
		if c.dialect == DialectPostgres {
			truth = "'true'"
		}
		cond := condC.elemText(elem, "primary") + " = " + truth
		c.args = append(append(append(c.args, selC.args...), fromC.args...), condC.args...)
		var first string
		if c.dialect == DialectPostgres {
			ph := make([]string, 0, len(keys)+2)
			for _, k := range append(keys, "0", sub) {
				ph = append(ph, c.arg(k)+"::text")
			}
			first = "(" + c.alias + ".attributes #>> ARRAY[" + strings.Join(ph, ",") + "])"
		} else {
			var b strings.Builder
			b.WriteString("$")
			for _, k := range keys {
				b.WriteString(`."` + k + `"`)
			}
			b.WriteString(`[0]."` + sub + `"`)
			first = "json_extract(" + c.alias + ".attributes, " + c.arg(b.String()) + ")"
		}
		x = "COALESCE((SELECT " + sel + " FROM " + from + " WHERE " + cond + " LIMIT 1), " + first + ")"
	} else {
		keys, err := jsonKeys(p, true)
		if err != nil {
			return "", err
		}
		x = c.jsonText(c.alias+".attributes", keys)
	}
	if p.Type == bridge.AttrString && !p.CaseExact {
		x = "lower(" + x + ")"
	}
	return x, nil
}

// sub is a compiler for a piece of c's SQL, with arguments of its own.
func (c *compiler) sub() *compiler {
	return &compiler{dialect: c.dialect, kind: c.kind, alias: c.alias}
}
