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
// cursor of this query ending at offset and nothing has changed since
// (scim_seek.go), else cut with LIMIT/OFFSET. next is the cursor of its
// last row.
func (s *Store) orderedPage(kind resourceKind, table, cols, account, where string, whereArgs []any, q bridge.Query, offset int,
	after string, scan scanFunc) (int, string, error) {
	oc := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
	order, err := oc.orderBy(q)
	if err != nil {
		return 0, "", err
	}
	orderArgs := oc.args
	key, unique, ok := oc.seekKey(q)
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
	var prevKey, prevID string
	rowNo := 0
	inOrder := func() error {
		if outerSort {
			return nil
		}
		if rowNo > 0 {
			c := strings.Compare(lastKey, prevKey)
			if c == 0 {
				c = strings.Compare(lastID, prevID)
			}
			if q.SortDescending {
				c = -c
			}
			if c <= 0 {
				return errOrder
			}
		}
		rowNo++
		prevKey, prevID = lastKey, lastID
		return nil
	}
	// The page is cut first and the columns computed (the groups or members
	// aggregates) for its rows only: PostgreSQL computes the select list of
	// the rows an OFFSET skips too. On PostgreSQL the page is of ids only,
	// which an index-only scan can cut (SQLite skips rows without reading
	// the table already).
	build := func(pageWhere string, pageArgs []any, limit string, limitArgs ...any) (string, []any) {
		// Placeholders in text order: select list, page WHERE, page ORDER
		// BY, LIMIT/OFFSET, outer ORDER BY (its own copy of the order's
		// arguments).
		args := append(slices.Clone(selArgs), pageArgs...)
		args = append(append(args, orderArgs...), limitArgs...)
		outer := ""
		if outerSort {
			outer = " ORDER BY " + order
			args = append(args, orderArgs...)
		}
		if s.dialect == DialectPostgres {
			page := "SELECT t.id FROM " + table + " t WHERE " + pageWhere + " ORDER BY " + order + limit
			return "SELECT " + cols + selCols + " FROM (" + page + ") p JOIN " + table + " t ON t.id = p.id" + outer, args
		}
		page := "SELECT t.* FROM " + table + " t WHERE " + pageWhere + " ORDER BY " + order + limit
		return "SELECT " + cols + selCols + " FROM (" + page + ") t" + outer, args
	}
	if cur, valid := parseCursor(after); ok && valid && cur.fp == fp && cur.pos == offset {
		kc := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
		pred := kc.seekPred(key, unique, q.SortDescending, cur)
		// The count is a bounded integer of ours: written into the text,
		// it lets PostgreSQL keep a generic plan for the seek.
		sqlText, args := build(where+" AND "+pred, append(slices.Clone(whereArgs), kc.args...), " LIMIT "+strconv.Itoa(q.Count))
		got, err := scan(sqlText, args, extra, func() error {
			if epoch != cur.epoch || epoch < 0 {
				return errStale
			}
			return inOrder()
		})
		if err != nil && err != errStale {
			return 0, "", err
		}
		if err == nil && got > 0 {
			return got, cursor{fp: fp, pos: offset + got, epoch: epoch, id: lastID, key: lastKey}.String(), nil
		}
		// Changed since (nothing was passed on), or nothing after the
		// cursor: OFFSET decides.
		rowNo = 0
	}
	sqlText, args := build(where, whereArgs, " LIMIT ? OFFSET ?", q.Count, offset)
	var check func() error
	if ok {
		check = inOrder
	}
	got, err := scan(sqlText, args, extra, check)
	if err != nil || !ok || got == 0 || epoch < 0 {
		return got, "", err
	}
	return got, cursor{fp: fp, pos: offset + got, epoch: epoch, id: lastID, key: lastKey}.String(), nil
}
