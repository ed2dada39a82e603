package db

import (
	"context"
	"slices"
	"strconv"

	"github.com/scimbridge/scimbridge/bridge"
)

// Checkpoints for deep index pages. A page at a random startIndex s has no
// cursor for row s-1 (scim_seek.go), and OFFSET walks s-1 index entries:
// 8-9 ms at row 90,000 of 100,000. The checkpoints of a query are the
// cursors of its rows every, 2*every, 3*every, ..., read by one statement
// that numbers the rows in the page's order and keeps every every-th, with
// the change counter in the same statement: each is a cursor orderedPage
// follows, while the counter stays, for any page starting after it (it
// seeks from the checkpoint and skips the rest, fewer than every rows, with
// OFFSET). The statement walks the whole index once; its caller keeps the
// set (scimapi/pagecheckpoint.go) for as long as the counter does not move.

// UserCheckpoints returns the cursors of rows every, 2*every, ... of the
// account's unfiltered users in q's order (q's start and count do not
// matter), the first first; none when the list is shorter, q has a filter,
// or q's order is not one checkpoints serve (checkpointSQL).
func (s *Store) UserCheckpoints(ctx context.Context, account string, q bridge.Query, every int) ([]string, error) {
	cps, err := s.checkpoints(ctx, kindUsers, "users", account, q, every)
	return cps, wrap("user checkpoints", err)
}

// GroupCheckpoints is UserCheckpoints for groups.
func (s *Store) GroupCheckpoints(ctx context.Context, account string, q bridge.Query, every int) ([]string, error) {
	cps, err := s.checkpoints(ctx, kindGroups, "groups", account, q, every)
	return cps, wrap("group checkpoints", err)
}

// SoughtFrom reports whether next, the cursor a page returned, was made at
// the change counter of after, the cursor the page was given: then the
// page was sought from after, and after (and every cursor made with it) is
// still current. A caller keeping cursors drops them when it is not.
func (s *Store) SoughtFrom(after, next string) bool {
	a, ok1 := parseCursor(after)
	n, ok2 := parseCursor(next)
	return ok1 && ok2 && a.fp == n.fp && a.epoch == n.epoch
}

func (s *Store) checkpoints(ctx context.Context, kind resourceKind, table, account string, q bridge.Query, every int) ([]string, error) {
	if q.Filter != nil || every < 1 {
		return nil, nil
	}
	sqlText, args, fp, ok := checkpointSQL(s.dialect, kind, table, account, q, every)
	if !ok {
		return nil, nil
	}
	rows, err := s.readQuery(ctx, sqlText, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cps []string
	for rows.Next() {
		var c cursor
		if err := rows.Scan(&c.key, &c.id, &c.epoch, &c.pos); err != nil {
			return nil, err
		}
		// Rows numbered every, 2*every, ... and nothing else: a gap would
		// put a cursor at the wrong index of the set.
		if c.epoch < 0 || c.pos != every*(len(cps)+1) {
			return nil, nil
		}
		c.fp = fp
		cps = append(cps, c.String())
	}
	return cps, rows.Err()
}

// checkpointSQL is the statement of q's checkpoints, and the fingerprint of
// the pages they are cursors of; ok is false for the orders it does not
// serve. It serves the orders a seek serves with a unique key (id and
// userName): one index range. The rows and order are built as queryJSON
// and orderedPage build an unfiltered page's, or the fingerprint would
// differ and no page would follow the cursors.
//
// The statement walks the index: each checkpoint is the every-th key after
// the one before (ORDER BY ... LIMIT 1 OFFSET every-1), in a recursive
// query, and its id is looked up by its key. On 100,000 users this costs
// about what one OFFSET page at the end does (5.5-6 ms on SQLite, 9-10 ms
// on PostgreSQL); numbering the rows with row_number() and keeping every
// every-th costs 20-23 ms on PostgreSQL and 70-240 ms on SQLite, which
// buffers the window's rows. The sorts with missing values last (two
// ranges, pageRanges) would need a walk per range and the count of the
// first: their deep pages keep OFFSET.
func checkpointSQL(d Dialect, kind resourceKind, table, account string, q bridge.Query, every int) (string, []any, uint64, bool) {
	c := &compiler{dialect: d, kind: kind, alias: "t"}
	where := "t.account_id = " + c.constArg(account) + " AND t." + live
	whereArgs := slices.Clone(c.args)
	oc := &compiler{dialect: d, kind: kind, alias: "t"}
	order, err := oc.orderBy(q)
	if err != nil {
		return "", nil, 0, false
	}
	orderArgs := oc.args
	key, unique, ok := oc.seekKey(q)
	if !ok || !unique {
		return "", nil, 0, false
	}
	fp := fingerprint(d, table, account, where, order, whereArgs)
	gt := " > "
	if q.SortDescending {
		gt = " < "
	}
	// every is a bounded integer of ours, written into the text.
	k, skip := strconv.Itoa(every), strconv.Itoa(every-1)
	step := func(after string) string {
		return "(SELECT " + key + " FROM " + table + " t WHERE " + where + after + " ORDER BY " + order + " LIMIT 1 OFFSET " + skip + ")"
	}
	ec := &compiler{dialect: d, kind: kind, alias: "t"}
	epoch := epochCol(ec, account)
	// The counter's subquery does not depend on the row: evaluated once.
	sqlText := "WITH RECURSIVE c(k, n) AS (SELECT " + step("") + ", " + k +
		" UNION ALL SELECT " + step(" AND "+key+gt+"c.k") + ", c.n + " + k + " FROM c WHERE c.k IS NOT NULL) " +
		"SELECT c.k, (SELECT t.id FROM " + table + " t WHERE " + where + " AND " + key + " = c.k), COALESCE(" + epoch + ", -1), c.n " +
		"FROM c WHERE c.k IS NOT NULL ORDER BY c.n"
	// Placeholders in text order: the first step, the next, the id's
	// lookup, the counter.
	var args []any
	args = append(append(args, whereArgs...), orderArgs...)
	args = append(append(args, whereArgs...), orderArgs...)
	args = append(append(args, whereArgs...), ec.args...)
	return sqlText, args, fp, true
}
