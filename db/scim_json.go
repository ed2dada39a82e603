package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// The SCIM read path for rendering: one statement per request (plus the
// token lookup), through database/sql rather than gorm's reflection, and
// the attributes document handed over as the JSON text it is stored as, so
// the endpoint can splice its fields in instead of decoding it into maps
// and encoding it again. A user's groups and a group's members come in the
// same statement, as JSON arrays aggregated by the database (one row per
// resource however many members: for SQLite that also spares the driver
// its per-row, per-column cost). scimapi finds these methods through an
// interface of its own; the map-based ResourceStore methods stay for
// writes and for what the fast path does not cover.

// UserFunc receives one user (Attributes left nil), its attributes document
// as stored (valid only during the call) and, when asked for, its live
// groups by display name.
type UserFunc = func(u bridge.User, doc []byte, groups []bridge.GroupRef) error

// GroupFunc receives one group (Attributes and Members left nil), its
// attributes document as stored and, when members were asked for, the ids
// of its user members and of its group members as JSON arrays of strings
// in id order (all valid only during the call): a group of 5,000 members
// is written out without 5,000 strings being made.
type GroupFunc = func(g bridge.Group, doc, userIDs, groupIDs []byte) error

// userCols and groupCols are what rendering reads, in scan order. On
// SQLite the times are read as text (scanTime parses them): the driver's
// own parsing tries formats until one fits, allocating an error per miss.
func (s *Store) userCols() string {
	return "t.id, t.external_id, t.source, t.user_name, t.active, t.status, t.attributes, t.version, " + s.timeCols()
}

func (s *Store) groupCols() string {
	return "t.id, t.external_id, t.kind, t.display_name, t.status, t.attributes, t.version, " + s.timeCols()
}

func (s *Store) timeCols() string {
	if s.dialect == DialectPostgres {
		return "t.created_at, t.updated_at"
	}
	return "CAST(t.created_at AS TEXT), CAST(t.updated_at AS TEXT)"
}

// userGroupsCol aggregates the live groups of user t as [[id, displayName], ...].
func (s *Store) userGroupsCol() string {
	if s.dialect == DialectPostgres {
		return `(SELECT COALESCE(json_agg(json_build_array(g.id, g.display_name)), '[]') FROM group_members m
			JOIN groups g ON g.id = m.group_id WHERE m.member_id = t.id AND m.account_id = t.account_id AND g.status <> 'deleted')`
	}
	return `(SELECT json_group_array(json_array(g.id, g.display_name)) FROM group_members m
			JOIN groups g ON g.id = m.group_id WHERE m.member_id = t.id AND m.account_id = t.account_id AND g.status <> 'deleted')`
}

// groupMembersCols aggregates the member ids of group t of each type, in id
// order, from group_members_scim_order_idx.
func (s *Store) groupMembersCols() string {
	agg := func(typ string) string {
		if s.dialect == DialectPostgres {
			return `(SELECT COALESCE(json_agg(m.member_id ORDER BY m.member_id), '[]') FROM group_members m
				WHERE m.group_id = t.id AND m.member_type = '` + typ + `')`
		}
		// An aggregate over an ordered subquery: SQLite does not flatten
		// it (the ORDER BY would be lost), so rows arrive in index order.
		// As a BLOB: the driver reads a TEXT value through
		// sqlite3_column_text, which copies it once more to add a
		// terminator (for 5,000 members, 190 KB in fresh pages).
		return `(SELECT CAST(json_group_array(member_id) AS BLOB) FROM (SELECT m.member_id FROM group_members m
				WHERE m.group_id = t.id AND m.member_type = '` + typ + `' ORDER BY m.member_id))`
	}
	return agg("User") + ", " + agg("Group")
}

func (s *Store) readDB() (*sql.DB, error) { return s.read.DB() }

// LiveUserJSON reads one live user for rendering and passes it to fn.
func (s *Store) LiveUserJSON(ctx context.Context, account, id string, withGroups bool, fn UserFunc) error {
	cols := s.userCols()
	if withGroups {
		cols += ", " + s.userGroupsCol()
	}
	q := "SELECT " + cols + " FROM users t WHERE t.id = ? AND t.account_id = ? AND t." + live
	n, err := s.scanUsers(ctx, q, []any{id, account}, withGroups, nil, nil, fn)
	if err == nil && n == 0 {
		err = bridge.ErrNotFound
	}
	return wrap("get user", err)
}

// LiveGroupJSON reads one live group for rendering and passes it to fn.
func (s *Store) LiveGroupJSON(ctx context.Context, account, id string, withMembers bool, fn GroupFunc) error {
	cols := s.groupCols()
	if withMembers {
		cols += ", " + s.groupMembersCols()
	}
	q := "SELECT " + cols + " FROM groups t WHERE t.id = ? AND t.account_id = ? AND t." + live
	n, err := s.scanGroups(ctx, q, []any{id, account}, withMembers, nil, nil, fn)
	if err == nil && n == 0 {
		err = bridge.ErrNotFound
	}
	return wrap("get group", err)
}

// QueryUsersJSON runs one page of a SCIM user query, passing each user to
// fn in order, and returns the total (see QueryUsers).
func (s *Store) QueryUsersJSON(ctx context.Context, account string, q bridge.Query, withGroups bool, fn UserFunc) (int, error) {
	total, _, err := s.QueryUsersPage(ctx, account, q, "", withGroups, fn)
	return total, err
}

// QueryUsersPage is QueryUsersJSON with cursors (db/scim_seek.go): after
// is the cursor of a row of the same query at or before row
// q.StartIndex-1 (the page that ended there, or a checkpoint,
// db/scim_checkpoint.go, whose remaining rows are skipped), or empty; next
// is the cursor of this page's last row, or empty when the query cannot
// be sought.
func (s *Store) QueryUsersPage(ctx context.Context, account string, q bridge.Query, after string, withGroups bool, fn UserFunc) (total int, next string, err error) {
	cols := s.userCols()
	if withGroups {
		cols += ", " + s.userGroupsCol()
	}
	total, next, err = s.queryJSON(ctx, kindUsers, "users", cols, account, q, after, func(sqlText string, args, extra []any, check func() error) (int, error) {
		return s.scanUsers(ctx, sqlText, args, withGroups, extra, check, fn)
	})
	return total, next, wrap("query users", err)
}

// QueryGroupsJSON is QueryUsersJSON for groups; q.WithMembers reads the
// members of the page's groups in the same statement.
func (s *Store) QueryGroupsJSON(ctx context.Context, account string, q bridge.Query, fn GroupFunc) (int, error) {
	total, _, err := s.QueryGroupsPage(ctx, account, q, "", fn)
	return total, err
}

// QueryGroupsPage is QueryUsersPage for groups.
func (s *Store) QueryGroupsPage(ctx context.Context, account string, q bridge.Query, after string, fn GroupFunc) (total int, next string, err error) {
	cols := s.groupCols()
	if q.WithMembers {
		cols += ", " + s.groupMembersCols()
	}
	total, next, err = s.queryJSON(ctx, kindGroups, "groups", cols, account, q, after, func(sqlText string, args, extra []any, check func() error) (int, error) {
		return s.scanGroups(ctx, sqlText, args, q.WithMembers, extra, check, fn)
	})
	return total, next, wrap("query groups", err)
}

// scanFunc runs a page statement; extra receives the columns after the
// resource's, and check runs after each row is scanned, before it is
// passed on.
type scanFunc = func(sqlText string, args, extra []any, check func() error) (int, error)

// queryJSON compiles q and runs the page through scan; the total comes from
// the page when it tells it, from scim_counts when there is no filter, and
// from COUNT(*) otherwise.
func (s *Store) queryJSON(ctx context.Context, kind resourceKind, table, cols, account string, q bridge.Query, after string,
	scan scanFunc) (int, string, error) {
	c := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
	where := "t.account_id = " + c.constArg(account) + " AND t." + live
	if q.Filter != nil {
		w, err := c.where(q.Filter)
		if err != nil {
			return 0, "", err
		}
		where += " AND " + w
	}
	whereArgs := slices.Clone(c.args)
	offset := max(q.StartIndex-1, 0)
	next := ""
	if q.Count > 0 {
		var got int
		var err error
		if oneRow(q.Filter) {
			got, err = s.oneRowPage(kind, table, cols, where, whereArgs, q, offset, scan)
		} else {
			got, next, err = s.orderedPage(kind, table, cols, account, where, whereArgs, q, offset, after, scan)
		}
		if err != nil {
			return 0, "", err
		}
		if got > 0 && got < q.Count {
			return offset + got, next, nil
		}
		if got == 0 && offset == 0 {
			return 0, next, nil
		}
	}
	total, err := s.countLive(ctx, table, account, q.Filter == nil, where, whereArgs)
	return total, next, err
}

// oneRowPage reads the page of a filter that matches one row at most.
func (s *Store) oneRowPage(kind resourceKind, table, cols, where string, whereArgs []any, q bridge.Query, offset int, scan scanFunc) (int, error) {
	// userName eq "x": one row at most, so no order to keep, nothing to
	// cut first, and a short statement to parse (and one whose generic
	// PostgreSQL plan cannot walk an index in order instead of looking the
	// value up). Nor LIMIT on the first page: PostgreSQL cannot cost a
	// generic plan with LIMIT $n as low as a custom one, so it would plan
	// every execution (more than running it takes).
	sqlText := "SELECT " + cols + " FROM " + table + " t WHERE " + where
	args := slices.Clone(whereArgs)
	if offset > 0 {
		sqlText += " LIMIT ? OFFSET ?"
		args = append(args, q.Count, offset)
	}
	// A sortBy it cannot express is still refused.
	if _, err := (&compiler{dialect: s.dialect, kind: kind, alias: "t"}).orderBy(q); err != nil {
		return 0, err
	}
	return scan(sqlText, args, nil, nil)
}

// oneRow reports whether f matches one live row at most: an equality on a
// column unique among live rows (id, userName, a non-empty externalId).
func oneRow(f bridge.Filter) bool {
	c, ok := f.(*bridge.Compare)
	if !ok || c.Op != bridge.OpEq || c.Path.URN != "" || c.Path.Sub != "" {
		return false
	}
	v, ok := c.Value.(string)
	switch c.Path.Name {
	case "id", "userName":
		return ok
	case "externalId":
		return ok && v != ""
	}
	return false
}

// countLive counts the live rows of table matching where: from scim_counts
// when unfiltered (kept by triggers, migration 0003), else with COUNT(*).
func (s *Store) countLive(ctx context.Context, table, account string, unfiltered bool, where string, args []any) (int, error) {
	sdb, err := s.readDB()
	if err != nil {
		return 0, err
	}
	var n int64
	if unfiltered {
		err := sdb.QueryRowContext(ctx, s.rebind("SELECT live FROM scim_counts WHERE account_id = ? AND resource = ?"), account, table).Scan(&n)
		if err == nil {
			return int(n), nil
		}
		if err != sql.ErrNoRows {
			return 0, err
		}
	}
	err = sdb.QueryRowContext(ctx, s.rebind("SELECT COUNT(*) FROM "+table+" t WHERE "+where), args...).Scan(&n)
	return int(n), err
}

// scanTime reads a timestamp column: time.Time from both drivers for
// table columns, text when SQLite does not know the column's declared type.
type scanTime struct{ t time.Time }

func (st *scanTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		st.t = x.UTC()
	case string:
		t, err := time.Parse(sqliteTime, x)
		if err != nil {
			// Written by another tool: any format SQLite's own date
			// functions take.
			if t, err = time.Parse(time.RFC3339Nano, strings.Replace(x, " ", "T", 1)); err != nil {
				if t, err = time.Parse("2006-01-02T15:04:05.999999999", strings.Replace(x, " ", "T", 1)); err != nil {
					return err
				}
			}
		}
		st.t = t.UTC()
	case nil:
		st.t = time.Time{}
	default:
		return fmt.Errorf("unexpected time value %T", v)
	}
	return nil
}

// readQuery runs sqlText (with ? placeholders) on the read pool.
func (s *Store) readQuery(ctx context.Context, sqlText string, args []any) (*sql.Rows, error) {
	sdb, err := s.readDB()
	if err != nil {
		return nil, err
	}
	return sdb.QueryContext(ctx, s.rebind(sqlText), args...)
}

// scanUsers runs sqlText and passes each user to fn; extra receives the
// columns after the user's (and groups), and check, when set, runs on each
// row before fn does.
func (s *Store) scanUsers(ctx context.Context, sqlText string, args []any, withGroups bool, extra []any, check func() error, fn UserFunc) (int, error) {
	rows, err := s.readQuery(ctx, sqlText, args)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var u bridge.User
	var source, status string
	var doc, groups sql.RawBytes
	var created, updated scanTime
	dest := []any{&u.ID, &u.ExternalID, &source, &u.UserName, &u.Active, &status, &doc, &u.Version, &created, &updated}
	if withGroups {
		dest = append(dest, &groups)
	}
	dest = append(dest, extra...)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		if check != nil {
			if err := check(); err != nil {
				return n, err
			}
		}
		u.Source, u.Status, u.CreatedAt, u.UpdatedAt = bridge.Source(source), bridge.Status(status), created.t, updated.t
		var refs []bridge.GroupRef
		if withGroups {
			if refs, err = decodeGroupRefs(groups); err != nil {
				return n, fmt.Errorf("user %s: groups: %w", u.ID, err)
			}
		}
		if err := fn(u, doc, refs); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// scanGroups is scanUsers for groups.
func (s *Store) scanGroups(ctx context.Context, sqlText string, args []any, withMembers bool, extra []any, check func() error, fn GroupFunc) (int, error) {
	rows, err := s.readQuery(ctx, sqlText, args)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var g bridge.Group
	var kind, status string
	var doc, users, groups sql.RawBytes
	var created, updated scanTime
	dest := []any{&g.ID, &g.ExternalID, &kind, &g.DisplayName, &status, &doc, &g.Version, &created, &updated}
	if withMembers {
		dest = append(dest, &users, &groups)
	}
	dest = append(dest, extra...)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		if check != nil {
			if err := check(); err != nil {
				return n, err
			}
		}
		g.Kind, g.Status, g.CreatedAt, g.UpdatedAt = bridge.GroupKind(kind), bridge.Status(status), created.t, updated.t
		if err := fn(g, doc, users, groups); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// decodeGroupRefs reads [[id, displayName], ...] and orders it by display
// name, then id (what UserGroups returns).
func decodeGroupRefs(b []byte) ([]bridge.GroupRef, error) {
	var pairs [][2]string
	if strs, ok := plainStrings(b, 2); ok {
		if len(strs) == 0 {
			return nil, nil
		}
		for i := 0; i+1 < len(strs); i += 2 {
			pairs = append(pairs, [2]string{strs[i], strs[i+1]})
		}
	} else if err := json.Unmarshal(b, &pairs); err != nil {
		return nil, err
	}
	refs := make([]bridge.GroupRef, len(pairs))
	for i, p := range pairs {
		refs[i] = bridge.GroupRef{ID: p[0], DisplayName: p[1]}
	}
	slices.SortFunc(refs, func(a, b bridge.GroupRef) int {
		if c := strings.Compare(a.DisplayName, b.DisplayName); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return refs, nil
}

// appendMembers appends the ids of a JSON array of strings as members of
// type typ.
func appendMembers(ms []bridge.Member, b []byte, typ string) ([]bridge.Member, error) {
	if strs, ok := plainStrings(b, 1); ok {
		for _, id := range strs {
			ms = append(ms, bridge.Member{ID: id, Type: typ})
		}
		return ms, nil
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return ms, err
	}
	for _, id := range ids {
		ms = append(ms, bridge.Member{ID: id, Type: typ})
	}
	return ms, nil
}

// plainStrings reads a JSON array of strings (depth 1) or of arrays of
// strings (depth 2), as the aggregates above build them, without
// encoding/json: ids and names rarely hold escapes. ok is false for
// anything else (an escape included), which the caller decodes with
// encoding/json.
func plainStrings(b []byte, depth int) (out []string, ok bool) {
	i := skipSpace(b, 0)
	if len(b) == 0 || i == len(b) {
		return nil, true // SQL NULL: no rows
	}
	var items func(d int) bool
	items = func(d int) bool {
		if i >= len(b) || b[i] != '[' {
			return false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			i = skipSpace(b, i+1)
			return true
		}
		for {
			if d == 1 {
				if i >= len(b) || b[i] != '"' {
					return false
				}
				end := i + 1
				for end < len(b) && b[end] != '"' && b[end] != '\\' {
					end++
				}
				if end >= len(b) || b[end] != '"' {
					return false
				}
				out = append(out, string(b[i+1:end]))
				i = skipSpace(b, end+1)
			} else if !items(d - 1) {
				return false
			}
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				i = skipSpace(b, i+1)
				return true
			}
			return false
		}
	}
	if !items(depth) || i != len(b) {
		return nil, false
	}
	return out, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}
