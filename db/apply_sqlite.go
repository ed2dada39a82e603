package db

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// On SQLite a batch travels as one JSON array bound to a single parameter
// and is unpacked by json_each inside the engine. The driver re-parses a
// statement on every execution and binds parameters by linear search, so a
// multi-row VALUES list costs parse and bind time per row; one parameter
// and a short statement do not (about 2x faster users/s).

// sqliteTime is the driver's own time format, so values written here
// compare and read back like those it writes itself.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

func sqliteTimeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(sqliteTime)
}

// jsonInsertSQL builds INSERT INTO table (cols) SELECT value->>'$[i]', ...
// FROM json_each(?) WHERE true, plus the upsert clause.
func jsonInsertSQL(table string, cols []string, upsertCols []string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT ")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "json_extract(value, '$[%d]')", i)
	}
	// WHERE true: SQLite needs it to tell ON CONFLICT from a join clause.
	b.WriteString(" FROM json_each(?) WHERE true")
	if upsertCols != nil {
		b.WriteString(" ON CONFLICT (id) DO UPDATE SET ")
		for _, c := range upsertCols {
			b.WriteString(c + " = excluded." + c + ", ")
		}
		b.WriteString("version = " + table + ".version + 1 WHERE " + table + ".account_id = excluded.account_id")
	}
	return b.String()
}

var (
	userColumns = []string{"id", "account_id", "external_id", "source", "user_name", "user_name_lower", "display_name",
		"active", "status", "dn", "ou_path", "attributes", "hash", "version", "deleted_at", "delete_reason", "created_at", "updated_at"}
	sqliteUserUpsert = jsonInsertSQL("users", userColumns, userUpdateColumns)

	eventColumns = []string{"run_id", "account_id", "object_type", "action", "dn", "external_id", "resource_id",
		"name", "reason", "changed", "at"}
	sqliteEventInsert = jsonInsertSQL("run_events", eventColumns, nil)
)

func sqliteUpsertUsers(tx *gorm.DB, rows []userRow) (int64, error) {
	batch := make([][]any, len(rows))
	for i, r := range rows {
		batch[i] = []any{r.ID, r.AccountID, r.ExternalID, r.Source, r.UserName, r.UserNameLower, r.DisplayName,
			r.Active, r.Status, r.DN, r.OUPath, r.Attributes, r.Hash, r.Version, sqliteTimeValue(r.DeletedAt),
			r.DeleteReason, sqliteTimeValue(&r.CreatedAt), sqliteTimeValue(&r.UpdatedAt)}
	}
	doc, err := json.Marshal(batch)
	if err != nil {
		return 0, err
	}
	res := tx.Exec(sqliteUserUpsert, string(doc))
	return res.RowsAffected, res.Error
}

func sqliteInsertEvents(tx *gorm.DB, rows []runEventRow) error {
	batch := make([][]any, len(rows))
	for i, r := range rows {
		batch[i] = []any{r.RunID, r.AccountID, r.ObjectType, r.Action, r.DN, r.ExternalID, r.ResourceID,
			r.Name, r.Reason, r.Changed, sqliteTimeValue(&r.At)}
	}
	doc, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	return tx.Exec(sqliteEventInsert, string(doc)).Error
}
