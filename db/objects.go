package db

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// ObjectStates calls fn for every user, then every group, of the account,
// soft-deleted ones included. It streams one unordered query per table
// (a sequential scan, with no sort, whatever the account's size), on the
// read pool, so fn may call the Store, even write through it, and memory
// stays flat.
func (s *Store) ObjectStates(ctx context.Context, account string, fn func(bridge.ObjectState) error) error {
	for _, t := range stateTables {
		if err := s.objectStates(ctx, account, t, "", nil, fn); err != nil {
			return err
		}
	}
	return nil
}

// stateTable says how one table's rows become ObjectStates.
type stateTable struct {
	table, cols string
	typ         bridge.ObjectType
}

var (
	userStates  = stateTable{"users", "id, external_id, source, status, hash, dn, user_name, '', version, display_name", bridge.ObjectUser}
	groupStates = stateTable{"groups", "id, external_id, source, status, hash, dn, display_name, kind, version, ''", bridge.ObjectGroup}
	stateTables = []stateTable{userStates, groupStates}
)

// objectStates streams the states of one table's rows of the account,
// narrowed by where (with args) when it is not "". A where that names the
// account itself (byPrimaryKey) replaces the account condition.
func (s *Store) objectStates(ctx context.Context, account string, t stateTable, where string, args []any, fn func(bridge.ObjectState) error) error {
	table, cols, typ := t.table, t.cols, t.typ
	q := s.read.WithContext(ctx).Table(table).Select(cols)
	if !strings.HasPrefix(where, byPrimaryKey) {
		q = q.Where("account_id = ?", account)
	}
	if where != "" {
		q = q.Where(where, args...)
	}
	rows, err := q.Rows()
	if err != nil {
		return wrap("object states", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st bridge.ObjectState
		var source, status, kind string
		if err := rows.Scan(&st.ID, &st.ExternalID, &source, &status, &st.Hash, &st.DN, &st.Name, &kind, &st.Version, &st.Display); err != nil {
			return wrap("object states", err)
		}
		st.Type, st.Kind = typ, bridge.GroupKind(intern(kind))
		st.Source, st.Status = bridge.Source(intern(source)), bridge.Status(intern(status))
		if err := fn(st); err != nil {
			return err
		}
	}
	return wrap("object states", rows.Err())
}

// intern returns the shared constant for the few values of status, source
// and kind columns, so a large account's states do not hold a copy each.
func intern(v string) string {
	for _, c := range []string{string(bridge.StatusActive), string(bridge.StatusDeactivated), string(bridge.StatusDeleted),
		string(bridge.SourceAD), string(bridge.SourceLocal), string(bridge.KindOU), string(bridge.KindSecurity),
		string(bridge.KindDistribution), string(bridge.KindLocal), ""} {
		if v == c {
			return c
		}
	}
	return v
}

// GetUser returns one user of the account (soft-deleted included), or
// ErrNotFound, also for another account's id.
func (s *Store) GetUser(ctx context.Context, account, id string) (bridge.User, error) {
	var r userRow
	if err := s.read.WithContext(ctx).Where("account_id = ? AND id = ?", account, id).Take(&r).Error; err != nil {
		return bridge.User{}, wrap("get user "+id, err)
	}
	u, err := userFromRow(r)
	return u, wrap("get user "+id, err)
}

// GetGroup returns one group with its members, or ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, account, id string) (bridge.Group, error) {
	var r groupRow
	if err := s.read.WithContext(ctx).Where("account_id = ? AND id = ?", account, id).Take(&r).Error; err != nil {
		return bridge.Group{}, wrap("get group "+id, err)
	}
	gs, err := s.groupsWithMembers(ctx, []groupRow{r})
	if err != nil {
		return bridge.Group{}, wrap("get group "+id, err)
	}
	return gs[0], nil
}

// page applies offset and limit; limit <= 0 means no limit.
func page(q *gorm.DB, offset, limit int) *gorm.DB {
	if offset > 0 {
		q = q.Offset(offset)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	return q
}

// ListUsers pages through the account's users in userName order (then id,
// so pages are stable); status "" lists every status. It returns the page
// and the total number of matching users. limit <= 0 means no limit.
func (s *Store) ListUsers(ctx context.Context, account string, status bridge.Status, offset, limit int) ([]bridge.User, int, error) {
	q := s.read.WithContext(ctx).Model(&userRow{}).Where("account_id = ?", account)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, wrap("count users", err)
	}
	var rows []userRow
	if err := page(q.Session(&gorm.Session{}), offset, limit).Order("user_name, id").Find(&rows).Error; err != nil {
		return nil, 0, wrap("list users", err)
	}
	out := make([]bridge.User, 0, len(rows))
	for _, r := range rows {
		u, err := userFromRow(r)
		if err != nil {
			return nil, 0, wrap("list users", err)
		}
		out = append(out, u)
	}
	return out, int(total), nil
}

// ListGroups pages through the account's groups in displayName order, with
// their members (loaded for the whole page in one query).
func (s *Store) ListGroups(ctx context.Context, account string, offset, limit int) ([]bridge.Group, int, error) {
	q := s.read.WithContext(ctx).Model(&groupRow{}).Where("account_id = ?", account)
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, wrap("count groups", err)
	}
	var rows []groupRow
	if err := page(q.Session(&gorm.Session{}), offset, limit).Order("display_name, id").Find(&rows).Error; err != nil {
		return nil, 0, wrap("list groups", err)
	}
	out, err := s.groupsWithMembers(ctx, rows)
	if err != nil {
		return nil, 0, wrap("list groups", err)
	}
	return out, int(total), nil
}

func (s *Store) groupsWithMembers(ctx context.Context, rows []groupRow) ([]bridge.Group, error) {
	out := make([]bridge.Group, 0, len(rows))
	index := make(map[string]int, len(rows))
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		g, err := groupFromRow(r)
		if err != nil {
			return nil, err
		}
		index[g.ID] = len(out)
		ids = append(ids, g.ID)
		out = append(out, g)
	}
	if len(ids) == 0 {
		return out, nil
	}
	var members []memberRow
	for start := 0; start < len(ids); start += batchSize {
		chunk := ids[start:min(start+batchSize, len(ids))]
		var part []memberRow
		if err := s.read.WithContext(ctx).Where("group_id IN ?", chunk).
			Order("group_id, member_type DESC, member_id").Find(&part).Error; err != nil {
			return nil, fmt.Errorf("load members: %w", err)
		}
		members = append(members, part...)
	}
	for _, m := range members {
		g := &out[index[m.GroupID]]
		g.Members = append(g.Members, bridge.Member{ID: m.MemberID, Type: m.MemberType})
	}
	return out, nil
}

var _ bridge.MembershipStore = (*Store)(nil)

// GroupsContaining returns the ids of the account's groups that have any
// of memberIDs as a direct member.
func (s *Store) GroupsContaining(ctx context.Context, account string, memberIDs []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for start := 0; start < len(memberIDs); start += batchSize {
		chunk := memberIDs[start:min(start+batchSize, len(memberIDs))]
		var ids []string
		err := s.read.WithContext(ctx).Model(&memberRow{}).Distinct("group_id").
			Where("account_id = ? AND member_id IN ?", account, chunk).Pluck("group_id", &ids).Error
		if err != nil {
			return nil, wrap("groups containing", err)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, nil
}
