package db

import (
	"context"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// The queries a delta run asks instead of loading every object
// (bridge.DeltaStore). Each is an IN list over an index, cut in chunks:
// the cost follows the length of the list, not the account's size.

var _ bridge.DeltaStore = (*Store)(nil)

// inChunk is how many values one IN (...) list carries: fewer on SQLite,
// whose driver binds parameters in time quadratic in their number (see
// sqliteParams).
func (s *Store) inChunk() int {
	if s.dialect == DialectSQLite {
		return sqliteParams
	}
	return batchSize
}

// statesIn collects the states of the rows of tables whose column (an SQL
// expression) is one of values, with extra conditions in and.
func (s *Store) statesIn(ctx context.Context, op, account string, tables []stateTable, column, and string, values []string) ([]bridge.ObjectState, error) {
	values = dedupe(slices.Clone(values))
	var out []bridge.ObjectState
	for _, t := range tables {
		if err := s.freshStats(ctx); err != nil {
			return nil, err
		}
		for chunk := range slices.Chunk(values, s.inChunk()) {
			where, args := column+" IN ?", []any{chunk}
			if column == "id" {
				where, args = byPrimaryKey, []any{account, chunk}
			}
			if and != "" {
				where += " AND " + and
			}
			err := s.objectStates(ctx, account, t, where, args, func(st bridge.ObjectState) error {
				out = append(out, st)
				return nil
			})
			if err != nil {
				return nil, wrap(op, err)
			}
		}
	}
	return out, nil
}

// StatesByExternalID returns the users, then the groups, whose external_id
// is one of ids (soft-deleted included).
func (s *Store) StatesByExternalID(ctx context.Context, account string, ids []string) ([]bridge.ObjectState, error) {
	return s.statesIn(ctx, "states by external id", account, stateTables, "external_id", "", ids)
}

// StatesByID returns the users and groups with these ids (soft-deleted
// included).
func (s *Store) StatesByID(ctx context.Context, account string, ids []string) ([]bridge.ObjectState, error) {
	return s.statesIn(ctx, "states by id", account, stateTables, "id", "", ids)
}

// byPrimaryKey is how statesIn filters by id. Without statistics SQLite
// takes account_id = ? as selective and, for an IN list of more than a few
// ids, scans the account through an (account_id, ...) index instead of
// looking each id up (EXPLAIN QUERY PLAN, 40 ids). Comparing an expression
// of account_id leaves it no index to pick but the primary key's.
const byPrimaryKey = "(account_id || '') = ? AND id IN ?"

// LiveStatesByDN returns the live users and groups whose lower(dn) is one
// of dns, through the (account_id, lower(dn)) indexes. lower() folds ASCII
// only on SQLite and Unicode on PostgreSQL: callers pass both spellings.
func (s *Store) LiveStatesByDN(ctx context.Context, account string, dns []string) ([]bridge.ObjectState, error) {
	users, err := s.statesIn(ctx, "states by dn", account, []stateTable{userStates}, "lower(dn)", "status <> 'deleted'", dns)
	if err != nil {
		return nil, err
	}
	// Most DNs asked are members and managers, that is users: ask groups
	// only for the rest (a DN names one object; a DN found as a user could
	// be a group's too only in a store that is inconsistent already).
	found := make(map[string]bool, len(users))
	for _, st := range users {
		found[strings.ToLower(st.DN)] = true
		found[asciiLower(st.DN)] = true
	}
	rest := make([]string, 0, len(dns))
	for _, dn := range dns {
		if !found[dn] {
			rest = append(rest, dn)
		}
	}
	groups, err := s.statesIn(ctx, "states by dn", account, []stateTable{groupStates}, "lower(dn)", "status <> 'deleted'", rest)
	if err != nil {
		return nil, err
	}
	return append(users, groups...), nil
}

// asciiLower lower-cases ASCII letters only, as SQLite's lower() does.
func asciiLower(v string) string {
	b := []byte(v)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// LiveUsersByName returns the live users whose user_name_lower is one of
// names.
func (s *Store) LiveUsersByName(ctx context.Context, account string, names []string) ([]bridge.ObjectState, error) {
	lower := make([]string, len(names))
	for i, n := range names {
		lower[i] = strings.ToLower(n)
	}
	return s.statesIn(ctx, "users by name", account, []stateTable{userStates}, "user_name_lower", "status <> 'deleted'", lower)
}

// LiveADCount counts the live AD-sourced users and groups with an
// external id, as the engine counts the states it loads: the live rows
// scim_counts keeps (maintained by triggers in every write's transaction)
// less the live rows that are local or have no external id, which the
// partial indexes of migration 0011 hold. The predicate is written out as
// in the index, with literals, so the planners match it.
func (s *Store) LiveADCount(ctx context.Context, account string) (int, error) {
	var live int64
	err := s.read.WithContext(ctx).Raw(`SELECT COALESCE(SUM(live), 0) FROM scim_counts WHERE account_id = ?`, account).
		Row().Scan(&live)
	if err != nil {
		return 0, wrap("live count", err)
	}
	for _, table := range []string{"users", "groups"} {
		var n int64
		err := s.read.WithContext(ctx).Raw(`SELECT COUNT(*) FROM `+table+` WHERE account_id = ? AND status <> 'deleted'
			AND (source <> 'ad' OR external_id = '')`, account).Row().Scan(&n)
		if err != nil {
			return 0, wrap("live count", err)
		}
		live -= n
	}
	return int(live), nil
}

// GroupMembers returns the direct members of each group, in the order the
// SCIM endpoint serves them.
func (s *Store) GroupMembers(ctx context.Context, account string, groupIDs []string) (map[string][]bridge.Member, error) {
	out := map[string][]bridge.Member{}
	if err := s.freshStats(ctx); err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(dedupe(slices.Clone(groupIDs)), s.inChunk()) {
		var rows []memberRow
		err := s.read.WithContext(ctx).Where("account_id = ? AND group_id IN ?", account, chunk).
			Order("group_id, member_type DESC, member_id").Find(&rows).Error
		if err != nil {
			return nil, wrap("group members", err)
		}
		for _, m := range rows {
			out[m.GroupID] = append(out[m.GroupID], bridge.Member{ID: m.MemberID, Type: m.MemberType})
		}
	}
	return out, nil
}
