package db

import (
	"encoding/json"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// memberIDsPerStatement bounds one membership INSERT: the ids travel as one
// JSON array parameter (a few hundred KB at most), so a group of 100,000
// members costs 20 statements instead of 1,500 multi-row VALUES inserts
// and 200 liveness queries.
const memberIDsPerStatement = 5000

// insertLiveMembers inserts membership rows, each of which must name a live
// object of the account of its member_type. The liveness check and the
// insert are one statement per group, type and chunk: the rows are made by
// joining the listed ids to the live rows of users or groups, and a count
// short of the ids listed means one is missing, which requireLive then
// names (the caller's transaction rolls back on the error). Rows must not
// repeat a (group_id, member_id) pair, and no listed pair may exist yet.
func insertLiveMembers(tx *gorm.DB, account string, rows []memberRow) error {
	sorted := slices.IsSortedFunc(rows, compareMemberRows)
	if !sorted {
		rows = slices.Clone(rows)
		slices.SortFunc(rows, compareMemberRows)
	}
	pg := tx.Dialector.Name() == "postgres"
	if pg && len(rows) > 0 {
		// The foreign-key check of every row reads groups (apply_postgres_stats.go).
		if err := pgAnalyzeUnknown(tx, "groups"); err != nil {
			return fmt.Errorf("insert members: %w", err)
		}
	}
	for start := 0; start < len(rows); {
		end := start + 1
		for end < len(rows) && end-start < memberIDsPerStatement &&
			rows[end].GroupID == rows[start].GroupID && rows[end].MemberType == rows[start].MemberType {
			end++
		}
		if err := insertLiveRun(tx, account, rows[start:end], pg); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// compareMemberRows orders by group, then type (users first, as SCIM
// lists them), then member id.
func compareMemberRows(a, b memberRow) int {
	switch {
	case a.GroupID != b.GroupID:
		return cmpString(a.GroupID, b.GroupID)
	case a.MemberType != b.MemberType:
		return cmpString(b.MemberType, a.MemberType) // "User" before "Group"
	}
	return cmpString(a.MemberID, b.MemberID)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// insertLiveRun inserts rows of one group and one member type.
func insertLiveRun(tx *gorm.DB, account string, rows []memberRow, pg bool) error {
	gid, typ := rows[0].GroupID, rows[0].MemberType
	table, what := "users", "member user"
	if typ == "Group" {
		table, what = "groups", "member group"
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.MemberID
	}
	doc, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("insert members: %w", err)
	}
	res := tx.Exec(liveMemberInsert(table, typ, pg), account, gid, string(doc), account)
	if res.Error != nil {
		return fmt.Errorf("insert members: %w", res.Error)
	}
	if res.RowsAffected == int64(len(ids)) {
		return nil
	}
	if err := requireLive(tx, account, table, dedupe(ids), what); err != nil {
		return err
	}
	return fmt.Errorf("group %s: %d of %d members inserted: %w", gid, res.RowsAffected, len(ids), bridge.ErrNotFound)
}

// liveMemberInsert joins the listed ids (one JSON array parameter) to the
// live rows of table. CROSS JOIN keeps SQLite from scanning the table
// outside the list (PostgreSQL plans it as a plain join): each listed id
// is one primary-key probe.
func liveMemberInsert(table, typ string, pg bool) string {
	from := "json_each(?) j"
	if pg {
		from = "jsonb_array_elements_text(CAST(? AS jsonb)) AS j(value)"
	}
	// OR FAIL on SQLite: with no ABORT conflict, no immediate foreign key
	// (0013) and no function call in it, the statement cannot abort
	// halfway, so SQLite skips its statement journal (a copy of every page
	// it changes). A failure fails the whole Apply all the same.
	ins := "INSERT OR FAIL INTO "
	if pg {
		ins = "INSERT INTO "
	}
	return ins + "group_members (account_id, group_id, member_id, member_type) " +
		"SELECT ?, ?, t.id, '" + typ + "' FROM " + from + " CROSS JOIN " + table + " t " +
		"WHERE t.id = j.value AND t.account_id = ? AND t.status <> '" + string(bridge.StatusDeleted) + "'"
}
