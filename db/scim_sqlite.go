package db

import (
	"database/sql/driver"
	"strings"

	sqlite "github.com/glebarez/go-sqlite"
)

// SQLite's lower() folds ASCII only. scim_lower folds like Go's
// strings.ToLower (and so like PostgreSQL's lower()), for caseExact=false
// comparisons on the JSON document. Indexed columns keep lower() (their
// expression indexes must not depend on a function the sqlite3 shell
// lacks) or a copy lower-cased in Go (user_name_lower).
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("scim_lower", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		default:
			return v, nil
		}
	})
}
