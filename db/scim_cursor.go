package db

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scimbridge/scimbridge/bridge"
)

// Cursor pages (RFC 9865). A client that pages with cursor= is handed, with
// each page, the position of its last row: the sort key as the seek reads
// it back, and the id. The next page is the rows after that position in
// the query's order, WHERE (key, id) > (last) ORDER BY key, id LIMIT
// count+1 (the extra row, not passed on, tells whether another page
// follows), one index range whatever the depth. Unlike the index pages'
// cursors (scim_seek.go), no position is counted, so no change counter is
// needed: a row that exists, unchanged, throughout a walk is read exactly
// once, whatever is written meanwhile. The token a client sees (signing,
// expiry, the query it belongs to) is the SCIM endpoint's business.

// Position is a row's place in a query's order.
type Position = struct{ Key, ID string }

// errMore stops a cursor page at the row after its last: another page
// follows.
var errMore = errors.New("more rows")

// QueryUsersAfter passes to fn, in q's order, up to q.Count users of q
// after position after (nil: from the first), and returns the position of
// the last one when more follow (nil when this page is the last). total is
// the number of users q matches when countTotal, else -1. q.StartIndex is
// ignored. An order a seek cannot serve fails with bridge.ErrNotImplemented.
func (s *Store) QueryUsersAfter(ctx context.Context, account string, q bridge.Query, after *Position, countTotal, withGroups bool,
	fn UserFunc) (total int, next *Position, err error) {
	cols := s.userCols()
	if withGroups {
		cols += ", " + s.userGroupsCol()
	}
	total, next, err = s.cursorPage(ctx, kindUsers, "users", cols, account, q, after, countTotal,
		func(sqlText string, args, extra []any, check func() error) (int, error) {
			return s.scanUsers(ctx, sqlText, args, withGroups, extra, check, fn)
		})
	return total, next, wrap("query users after", err)
}

// QueryGroupsAfter is QueryUsersAfter for groups; q.WithMembers reads the
// members of the page's groups in the same statement.
func (s *Store) QueryGroupsAfter(ctx context.Context, account string, q bridge.Query, after *Position, countTotal bool,
	fn GroupFunc) (total int, next *Position, err error) {
	cols := s.groupCols()
	if q.WithMembers {
		cols += ", " + s.groupMembersCols()
	}
	total, next, err = s.cursorPage(ctx, kindGroups, "groups", cols, account, q, after, countTotal,
		func(sqlText string, args, extra []any, check func() error) (int, error) {
			return s.scanGroups(ctx, sqlText, args, q.WithMembers, extra, check, fn)
		})
	return total, next, wrap("query groups after", err)
}

func (s *Store) cursorPage(ctx context.Context, kind resourceKind, table, cols, account string, q bridge.Query, after *Position,
	countTotal bool, scan scanFunc) (int, *Position, error) {
	c := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
	where := "t.account_id = " + c.constArg(account) + " AND t." + live
	if q.Filter != nil {
		w, err := c.where(q.Filter)
		if err != nil {
			return 0, nil, err
		}
		where += " AND " + w
	}
	whereArgs := slices.Clone(c.args)
	oc := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
	order, err := oc.orderBy(q)
	if err != nil {
		return 0, nil, err
	}
	key, _, ok := oc.seekKey(q)
	if !ok {
		return 0, nil, fmt.Errorf("cannot page by cursor sorted by %s: %w", q.SortBy.String(), bridge.ErrNotImplemented)
	}
	got, more := 0, false
	var next *Position
	if q.Count > 0 {
		var cur *cursor
		if after != nil {
			cur = &cursor{key: after.Key, id: after.ID}
		}
		ranges := pageRanges(s.dialect, kind, q, where, whereArgs, order, oc.args, cur)
		// As in orderedPage: SQLite's order is checked row by row rather
		// than sorted again; PostgreSQL's join sorts.
		outerSort := s.dialect == DialectPostgres
		var lastKey, lastID string
		_, emptyLast := oc.emptyLastKey(q)
		inOrder := &orderCheck{desc: q.SortDescending, emptyLast: emptyLast, off: outerSort, key: &lastKey, id: &lastID}
		ps := pageSQL{dialect: s.dialect, table: table, cols: cols, order: order, orderArgs: oc.args,
			selCols: ", " + key + ", t.id", outerSort: outerSort}
		// The count is a bounded integer of ours: written into the text,
		// it lets PostgreSQL keep a generic plan.
		sqlText, args := ps.build(ranges, q.Count+1, 0, false)
		var last Position
		rows := 0
		got, err = scan(sqlText, args, []any{&lastKey, &lastID}, func() error {
			if err := inOrder.next(); err != nil {
				return err
			}
			if rows == q.Count {
				return errMore
			}
			rows++
			last = Position{Key: lastKey, ID: lastID}
			return nil
		})
		if errors.Is(err, errMore) {
			more, err = true, nil
			next = &last
		}
		if err != nil {
			return 0, nil, err
		}
	}
	if !countTotal {
		return -1, next, nil
	}
	if after == nil && !more && q.Count > 0 {
		return got, next, nil // the first page is the only one
	}
	total, err := s.countLive(ctx, table, account, q.Filter == nil, where, whereArgs)
	return total, next, err
}
