package db

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// Keyset pages. SCIM clients (Entra ID, Okta) walk a list with
// startIndex=1, 101, 201, ...; with OFFSET, page k reads the k*100 rows
// before it, so a walk over 100,000 users costs the square of the table.
// A page that ends at row e hands out a cursor (its last row's sort key and
// id, the query's fingerprint, e, and the account's change counter of
// migration 0005, all read by the statement that read the rows); the page
// starting at e+1 of the same query, given that cursor, is read with
// WHERE (key, id) > (last) ORDER BY key, id LIMIT count instead. It is
// used only when the counter it reads in its own statement is the one the
// cursor was made at: then no user or group of the account has changed in
// between, and the rows before the seek are exactly the e rows OFFSET would
// skip. Otherwise (or when the seek finds nothing) the page is read with
// OFFSET, as without a cursor.

// errStale stops a seek whose snapshot is not the cursor's, before any row
// is passed on.
var errStale = errors.New("stale cursor")

// seekKey is the sort key of q as one SQL expression over text columns that
// cannot be NULL, and whether it is unique among live rows (so no id
// tie-break). ok is false for the orders a seek does not serve: those read
// from the JSON document and the non-text columns (booleans and times
// bound as parameters would not compare as stored). A key that is not
// unique may be ” (no value), which sorts after every other value
// (emptyLastKey): see pageRanges.
func (c *compiler) seekKey(q bridge.Query) (key string, unique, ok bool) {
	if q.SortBy == nil {
		return c.alias + ".id", true, true
	}
	col, found := c.columnFor(*q.SortBy)
	if !found {
		return "", false, false
	}
	switch col.name {
	case "user_name_lower", "id":
		return c.alias + "." + col.name, true, true
	case "external_id", "display_name", "status", "dn", "ou_path":
		x, _ := c.emptyLastKey(q)
		return x, false, true
	}
	return "", false, false
}

// seekPred is the condition for the rows after (key, id) in the order of
// q. The key's own bound comes first so that an index on the key can
// start there (SQLite does not use an index for a row-value comparison
// that is not on its leading columns).
func (c *compiler) seekPred(key string, unique, desc bool, cur cursor) string {
	gt, ge := " > ", " >= "
	if desc {
		gt, ge = " < ", " <= "
	}
	if unique {
		return key + gt + c.constArg(cur.key)
	}
	return key + ge + c.constArg(cur.key) + " AND (" + key + gt + c.constArg(cur.key) + " OR " + c.alias + ".id" + gt + c.constArg(cur.id) + ")"
}

// pageRange is a part of a page's rows with an order of its own; a page
// reads its ranges one after the other.
type pageRange struct {
	where string
	args  []any
	order string
	// orderArgs are the arguments of order's placeholders.
	orderArgs []any
}

// pageRanges splits the rows of where (with its arguments), after cur when
// cur is not nil, into the ranges that read them in q's order (order, with
// orderArgs, from orderBy). Most orders are one range. A sort by a text
// column whose ” means no value (emptyLastKey) puts ” last when
// ascending and first when descending (RFC 7644 3.4.2.3), which no index
// on the column holds in that order: so it is read as two ranges the index
// does serve, the values (key > ”, by key and id) and the rows without
// one (key = ”, by id), in the order's sequence. A cursor in the second
// range drops the first; one in the first bounds it and leaves the second
// whole. No seek then ever reads a range beyond its own: the pages' cost
// is that of one index range, as for the other orders.
func pageRanges(d Dialect, kind resourceKind, q bridge.Query, where string, whereArgs []any, order string, orderArgs []any,
	cur *cursor) []pageRange {
	kc := &compiler{dialect: d, kind: kind, alias: "t"}
	key, emptyLast := kc.emptyLastKey(q)
	if !emptyLast {
		r := pageRange{where: where, args: slices.Clone(whereArgs), order: order, orderArgs: orderArgs}
		if cur != nil {
			key, unique, _ := kc.seekKey(q)
			r.where += " AND " + kc.seekPred(key, unique, q.SortDescending, *cur)
			r.args = append(r.args, kc.args...)
		}
		return []pageRange{r}
	}
	dir, gt := "", " > "
	if q.SortDescending {
		dir, gt = " DESC", " < "
	}
	// Both orders are column expressions, without placeholders.
	values := pageRange{where: where, args: slices.Clone(whereArgs), order: key + dir + ", t.id" + dir}
	empty := pageRange{where: where + " AND " + key + " = ''", args: slices.Clone(whereArgs), order: "t.id" + dir}
	switch {
	case cur == nil:
		// '' is below every other string (in SQLite's and PostgreSQL's
		// collations alike): a bound the index ranges over.
		values.where += " AND " + key + " > ''"
	case cur.key == "":
		values.where += " AND " + key + " > ''"
		empty.where += " AND t.id" + gt + kc.constArg(cur.id)
		empty.args = append(empty.args, kc.args...)
		if !q.SortDescending {
			return []pageRange{empty}
		}
	default:
		values.where += " AND " + kc.seekPred(key, false, q.SortDescending, *cur)
		values.args = append(values.args, kc.args...)
		if q.SortDescending {
			// The range's lower end (ascending, the bound at cur.key >
			// '' excludes '' already).
			values.where += " AND " + key + " > ''"
			return []pageRange{values}
		}
	}
	if q.SortDescending {
		return []pageRange{empty, values}
	}
	return []pageRange{values, empty}
}

// cursor is where a page ended: its last row (at position pos, 1-based) in
// the query with fingerprint fp, as of change counter epoch.
type cursor struct {
	fp      uint64
	pos     int
	epoch   int64
	id, key string
}

// String encodes c as an opaque token (URL-safe, no padding).
func (c cursor) String() string {
	s := strconv.FormatUint(c.fp, 16) + "." + strconv.Itoa(c.pos) + "." + strconv.FormatInt(c.epoch, 10) + "." +
		strconv.Itoa(len(c.id)) + "." + c.id + c.key
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// parseCursor decodes a token of String; ok is false for anything else.
func parseCursor(tok string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, false
	}
	parts := strings.SplitN(string(b), ".", 5)
	if len(parts) != 5 {
		return cursor{}, false
	}
	var c cursor
	var idLen int
	var e1, e2, e3, e4 error
	c.fp, e1 = strconv.ParseUint(parts[0], 16, 64)
	c.pos, e2 = strconv.Atoi(parts[1])
	c.epoch, e3 = strconv.ParseInt(parts[2], 10, 64)
	idLen, e4 = strconv.Atoi(parts[3])
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil || idLen < 0 || idLen > len(parts[4]) || c.pos < 1 {
		return cursor{}, false
	}
	c.id, c.key = parts[4][:idLen], parts[4][idLen:]
	return c, true
}

// fingerprint identifies a query's rows and order: a cursor of one query
// is never used for another.
func fingerprint(d Dialect, table, account, where, order string, args []any) uint64 {
	h := fnv.New64a()
	for _, s := range []string{string(d), table, account, where, order} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, a := range args {
		fmt.Fprintf(h, "%T:%v", a, a)
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// seekable reports whether the rows of where can be sought with a cursor:
// a filter on memberships reads group_members, whose writes do not move
// the change counter.
func seekable(where string) bool { return !strings.Contains(where, "group_members") }

// epochCol reads the account's change counter in the page's statement.
func epochCol(c *compiler, account string) string {
	return "(SELECT n FROM scim_changes WHERE account_id = " + c.arg(account) + ")"
}

// constArg is c.arg for a value an index range or equality starts from.
// On SQLite it is read through a constant subquery, (SELECT ?): planned
// from a bare parameter, with the STAT4 statistics ANALYZE keeps, the
// statement depends on the bound value, and binding it has SQLite prepare
// the statement a second time on its first step (the driver already
// prepares it on every execution): a quarter of a userName lookup, a
// tenth of a page. The subquery is evaluated once and the index is used
// the same way (EXPLAIN QUERY PLAN: SEARCH ... (account_id=? AND
// user_name_lower>?)).
func (c *compiler) constArg(v any) string {
	if c.dialect == DialectSQLite {
		return "(SELECT " + c.arg(v) + ")"
	}
	return c.arg(v)
}
