package db

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// On SQLite each row travels as one JSON array parameter (its small
// columns) plus, for users, the attributes document as a second parameter,
// and is unpacked by json_extract inside the engine: INSERT ... SELECT
// json_extract(column1, '$[0]'), ... FROM (VALUES (?, ?), (?, ?), ...).
// The driver re-parses a statement on every execution and binds parameters
// by linear search, so a VALUES list with a parameter per column costs
// parse and bind time per cell; two parameters per row do not. One JSON
// array for the whole batch (json_each) was the previous shape: json_each
// renders each element back to text for json_extract to parse again, and
// the attributes document, the bulk of a row, was escaped into the batch
// and unescaped out of it (BenchmarkApplyUsers: 15% more CPU per user).

// sqliteRowsPerStatement bounds one statement: 250 rows is 500 parameters,
// whose linear binding stays cheap, and a few statements per Apply batch.
const sqliteRowsPerStatement = 250

// sqliteTime is the driver's own time format, so values written here
// compare and read back like those it writes itself.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

func sqliteTimeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(sqliteTime)
}

// rowsInsertSQL builds INSERT INTO table (cols) SELECT ... FROM (VALUES
// (?[, ?]) x rows) WHERE true, plus the upsert clause when upsertCols is
// set. Every column is json_extract(column1, '$[i]') except rawCol (-1 for
// none), which is the row's second parameter as is.
func rowsInsertSQL(table string, cols []string, rawCol int, upsertCols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT ")
	j := 0
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == rawCol {
			b.WriteString("column2")
			continue
		}
		fmt.Fprintf(&b, "json_extract(column1, '$[%d]')", j)
		j++
	}
	row := "(?)"
	if rawCol >= 0 {
		row = "(?, ?)"
	}
	b.WriteString(" FROM (VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	// WHERE true: SQLite needs it to tell ON CONFLICT from a join clause.
	b.WriteString(") WHERE true")
	if upsertCols != nil {
		b.WriteString(" ON CONFLICT (id) DO UPDATE SET ")
		for _, c := range upsertCols {
			b.WriteString(c + " = excluded." + c + ", ")
		}
		b.WriteString("version = " + table + ".version + 1 WHERE " + table + ".account_id = excluded.account_id")
	}
	return b.String()
}

// rowsStatements caches the statement text per table and row count: a
// full sync sends the same two or three shapes thousands of times.
var rowsStatements sync.Map // rowsKey -> string

type rowsKey struct {
	table string
	rows  int
}

func rowsStatement(table string, cols []string, rawCol int, upsertCols []string, rows int) string {
	k := rowsKey{table, rows}
	if q, ok := rowsStatements.Load(k); ok {
		return q.(string)
	}
	q := rowsInsertSQL(table, cols, rawCol, upsertCols, rows)
	rowsStatements.Store(k, q)
	return q
}

var (
	userColumns = []string{"id", "account_id", "external_id", "source", "user_name", "user_name_lower", "display_name",
		"active", "status", "dn", "ou_path", "attributes", "hash", "version", "deleted_at", "delete_reason", "created_at", "updated_at"}
	userAttributesColumn = slices.Index(userColumns, "attributes")

	eventColumns = []string{"run_id", "account_id", "object_type", "action", "dn", "external_id", "resource_id",
		"name", "reason", "changed", "at"}
)

// sqliteUpsertUsers upserts rows and returns how many it wrote (an id of
// another account is left alone and missing from the count).
func sqliteUpsertUsers(tx *gorm.DB, rows []userRow) (int64, error) {
	var n int64
	for chunk := range slices.Chunk(rows, sqliteRowsPerStatement) {
		args := make([]any, 0, 2*len(chunk))
		for _, r := range chunk {
			small, err := json.Marshal([]any{r.ID, r.AccountID, r.ExternalID, r.Source, r.UserName, r.UserNameLower,
				r.DisplayName, r.Active, r.Status, r.DN, r.OUPath, r.Hash, r.Version, sqliteTimeValue(r.DeletedAt),
				r.DeleteReason, sqliteTimeValue(&r.CreatedAt), sqliteTimeValue(&r.UpdatedAt)})
			if err != nil {
				return n, err
			}
			args = append(args, string(small), r.Attributes)
		}
		res := tx.Exec(rowsStatement("users", userColumns, userAttributesColumn, userUpdateColumns, len(chunk)), args...)
		if res.Error != nil {
			return n, res.Error
		}
		n += res.RowsAffected
	}
	return n, nil
}

func sqliteInsertEvents(tx *gorm.DB, rows []runEventRow) error {
	for chunk := range slices.Chunk(rows, sqliteRowsPerStatement) {
		args := make([]any, 0, len(chunk))
		for _, r := range chunk {
			row, err := json.Marshal([]any{r.RunID, r.AccountID, r.ObjectType, r.Action, r.DN, r.ExternalID,
				r.ResourceID, r.Name, r.Reason, r.Changed, sqliteTimeValue(&r.At)})
			if err != nil {
				return err
			}
			args = append(args, string(row))
		}
		if err := tx.Exec(rowsStatement("run_events", eventColumns, -1, nil, len(chunk)), args...).Error; err != nil {
			return err
		}
	}
	return nil
}
