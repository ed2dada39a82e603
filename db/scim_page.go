package db

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// errOrder: SQLite returned the rows of a page out of the page's order
// (see orderedPage); the request fails rather than serve them.
var errOrder = errors.New("db: the rows of a page came out of order")

// orderedPage reads a page in q's order: sought from after when it is a
// cursor of this query ending at or before offset and nothing has changed
// since (scim_seek.go), skipping the rows between its end and offset (a
// checkpoint's, scim_checkpoint.go), else cut with LIMIT/OFFSET. next is
// the cursor of its last row.
func (s *Store) orderedPage(kind resourceKind, table, cols, account, where string, whereArgs []any, q bridge.Query, offset int,
	after string, scan scanFunc) (int, string, error) {
	oc := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
	order, err := oc.orderBy(q)
	if err != nil {
		return 0, "", err
	}
	orderArgs := oc.args
	key, _, ok := oc.seekKey(q)
	ok = ok && seekable(where)
	var fp uint64
	var lastKey, lastID string
	var epoch int64
	var selCols string
	var selArgs, extra []any
	if ok {
		fp = fingerprint(s.dialect, table, account, where, order, whereArgs)
		sc := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
		selCols = ", " + key + ", t.id, COALESCE(" + epochCol(sc, account) + ", -1)"
		selArgs = sc.args
		extra = []any{&lastKey, &lastID, &epoch}
	}
	// SQLite sorts what an outer ORDER BY covers with the whole result row
	// (documents, groups) as the sort's payload, which costs a quarter of
	// a 100-user page in reallocations. When the key and id are read back
	// (the orders a seek serves), the outer ORDER BY is left out and the
	// order the subquery returns (SQLite runs a LIMIT subquery as a
	// co-routine and scans it in the order it yields) is checked row by
	// row instead: a row out of order fails the request before it is
	// written. PostgreSQL's join does need the outer sort, which is cheap.
	outerSort := !ok || s.dialect == DialectPostgres
	_, emptyLast := oc.emptyLastKey(q)
	inOrder := &orderCheck{desc: q.SortDescending, emptyLast: emptyLast, off: outerSort, key: &lastKey, id: &lastID}
	ps := pageSQL{dialect: s.dialect, table: table, cols: cols, order: order, orderArgs: orderArgs,
		selCols: selCols, selArgs: selArgs, outerSort: outerSort}
	if cur, valid := parseCursor(after); ok && valid && cur.fp == fp && cur.pos <= offset {
		// The count is a bounded integer of ours: written into the text,
		// it lets PostgreSQL keep a generic plan for the seek. A skip
		// (under a checkpoint interval) is bound, as OFFSET's is: one
		// statement text, not one per skip.
		skip := offset - cur.pos
		sqlText, args := ps.build(pageRanges(s.dialect, kind, q, where, whereArgs, order, orderArgs, &cur), q.Count, skip, skip > 0)
		got, err := scan(sqlText, args, extra, func() error {
			if epoch != cur.epoch || epoch < 0 {
				return errStale
			}
			return inOrder.next()
		})
		if err != nil && err != errStale {
			return 0, "", err
		}
		if err == nil && got > 0 {
			return got, cursor{fp: fp, pos: offset + got, epoch: epoch, id: lastID, key: lastKey}.String(), nil
		}
		// Changed since (nothing was passed on), or nothing after the
		// cursor: OFFSET decides.
		inOrder.reset()
	}
	sqlText, args := ps.build(pageRanges(s.dialect, kind, q, where, whereArgs, order, orderArgs, nil), q.Count, offset, true)
	var check func() error
	if ok {
		check = inOrder.next
	}
	got, err := scan(sqlText, args, extra, check)
	if err != nil || !ok || got == 0 || epoch < 0 {
		return got, "", err
	}
	return got, cursor{fp: fp, pos: offset + got, epoch: epoch, id: lastID, key: lastKey}.String(), nil
}

// orderCheck checks that the rows of a page whose outer ORDER BY was left
// out (see orderedPage) arrive in the page's (key, id) order: next runs
// after each row is scanned into *key and *id, and fails with errOrder
// before a row out of order is passed on. off: the statement sorts.
// emptyLast: an empty key (no value) sorts after every other
// (emptyLastKey).
type orderCheck struct {
	desc, emptyLast bool
	off             bool
	key, id         *string
	rows            int
	prevKey, prevID string
}

func (o *orderCheck) next() error {
	if o.off {
		return nil
	}
	if o.rows > 0 {
		c := strings.Compare(*o.key, o.prevKey)
		if o.emptyLast && (*o.key == "") != (o.prevKey == "") {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(*o.id, o.prevID)
		}
		if o.desc {
			c = -c
		}
		if c <= 0 {
			return errOrder
		}
	}
	o.rows++
	o.prevKey, o.prevID = *o.key, *o.id
	return nil
}

func (o *orderCheck) reset() { o.rows = 0 }

// pageSQL builds the statement of one page. The page is cut first and the
// columns computed (the groups or members aggregates) for its rows only:
// PostgreSQL computes the select list of the rows an OFFSET skips too. On
// PostgreSQL the page is of ids only, which an index-only scan can cut
// (SQLite skips rows without reading the table already).
type pageSQL struct {
	dialect            Dialect
	table, cols, order string
	orderArgs          []any
	// selCols follows cols (the seek key and id read back, or nothing),
	// with its arguments.
	selCols   string
	selArgs   []any
	outerSort bool
}

// build is the statement of count rows of ranges, read one range after
// the other, from offset (offset > 0 needs bind). bind: count and offset
// are bound parameters, else count is written into the text (a bounded
// integer of ours: PostgreSQL then keeps a generic plan).
func (p pageSQL) build(ranges []pageRange, count, offset int, bind bool) (string, []any) {
	// Placeholders in text order: select list, each range's WHERE, ORDER
	// BY and LIMIT, the page's LIMIT/OFFSET, outer ORDER BY (its own copy
	// of the order's arguments).
	args := slices.Clone(p.selArgs)
	limit := func(n, off int) string {
		if bind {
			args = append(args, n, off)
			return " LIMIT ? OFFSET ?"
		}
		return " LIMIT " + strconv.Itoa(n)
	}
	sel := "t.*"
	if p.dialect == DialectPostgres {
		// PostgreSQL's page is of ids only, which an index-only scan can
		// cut (SQLite skips rows without reading the table already).
		sel = "t.id"
	}
	rangeSQL := func(r pageRange) string {
		args = append(append(args, r.args...), r.orderArgs...)
		return "SELECT " + sel + " FROM " + p.table + " t WHERE " + r.where + " ORDER BY " + r.order
	}
	var page string
	if len(ranges) == 1 {
		page = rangeSQL(ranges[0]) + limit(count, offset)
	} else {
		// Each range cut at the page's end, then the page cut from the
		// ranges in sequence: UNION ALL yields its arms in order, their
		// LIMIT subqueries one after the other (on PostgreSQL, a LIMIT
		// subquery is never run by parallel workers, so no Parallel Append
		// interleaves them). SQLite's order is checked row by row
		// (orderCheck); PostgreSQL's outer ORDER BY sorts the page again.
		arms := make([]string, len(ranges))
		for i, r := range ranges {
			arm := "SELECT * FROM (" + rangeSQL(r)
			if bind {
				arm += " LIMIT ?"
				args = append(args, count+offset)
			} else {
				arm += " LIMIT " + strconv.Itoa(count+offset)
			}
			arms[i] = arm + ") r" + strconv.Itoa(i)
		}
		page = strings.Join(arms, " UNION ALL ") + limit(count, offset)
	}
	outer := ""
	if p.outerSort {
		outer = " ORDER BY " + p.order
		args = append(args, p.orderArgs...)
	}
	if p.dialect == DialectPostgres {
		return "SELECT " + p.cols + p.selCols + " FROM (" + page + ") p JOIN " + p.table + " t ON t.id = p.id" + outer, args
	}
	return "SELECT " + p.cols + p.selCols + " FROM (" + page + ") t" + outer, args
}
