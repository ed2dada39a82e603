package db

import (
	"context"
	"database/sql"
	"errors"

	"github.com/scimbridge/scimbridge/bridge"
)

// LiveGroupVersion returns the version of a live group of the account, or
// ErrNotFound: one primary-key probe, so the SCIM endpoint can tell whether
// a group it rendered before is still the same before reading its members.
func (s *Store) LiveGroupVersion(ctx context.Context, account, id string) (int64, error) {
	sdb, err := s.readDB()
	if err != nil {
		return 0, wrap("group version", err)
	}
	var v int64
	err = sdb.QueryRowContext(ctx, s.rebind("SELECT version FROM groups WHERE id = ? AND account_id = ? AND "+live), id, account).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = bridge.ErrNotFound
	}
	return v, wrap("group version", err)
}
