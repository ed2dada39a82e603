package db

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/scimbridge/scimbridge/bridge"
)

// The SCIM endpoint's store methods (bridge.ResourceStore). Reads go to the
// read pool and never see soft-deleted rows; writes compare the version the
// caller read, so two PATCHes racing on one resource cannot lose an update.

var _ bridge.ResourceStore = (*Store)(nil)

const live = "status <> 'deleted'"

// QueryUsers runs one page of a SCIM user query. The total is counted only
// when the page does not already tell it (a page shorter than asked for is
// the last one), so a lookup by userName costs one indexed query.
func (s *Store) QueryUsers(ctx context.Context, account string, q bridge.Query) ([]bridge.User, int, error) {
	var rows []userRow
	total, err := s.query(ctx, kindUsers, "users", account, q, &rows, func() int { return len(rows) })
	if err != nil {
		return nil, 0, wrap("query users", err)
	}
	out := make([]bridge.User, 0, len(rows))
	for _, r := range rows {
		u, err := userFromRow(r)
		if err != nil {
			return nil, 0, wrap("query users", err)
		}
		out = append(out, u)
	}
	return out, total, nil
}

// QueryGroups is QueryUsers for groups; members are read (in one query for
// the page) only when q.WithMembers.
func (s *Store) QueryGroups(ctx context.Context, account string, q bridge.Query) ([]bridge.Group, int, error) {
	var rows []groupRow
	total, err := s.query(ctx, kindGroups, "groups", account, q, &rows, func() int { return len(rows) })
	if err != nil {
		return nil, 0, wrap("query groups", err)
	}
	out := make([]bridge.Group, 0, len(rows))
	for _, r := range rows {
		g, err := groupFromRow(r)
		if err != nil {
			return nil, 0, wrap("query groups", err)
		}
		out = append(out, g)
	}
	if q.WithMembers && len(out) > 0 {
		if err := s.loadMembers(ctx, s.read, out); err != nil {
			return nil, 0, wrap("query groups", err)
		}
	}
	return out, total, nil
}

func (s *Store) query(ctx context.Context, kind resourceKind, table, account string, q bridge.Query, dest any, n func() int) (int, error) {
	c := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
	where := "t.account_id = " + c.arg(account) + " AND t." + live
	if q.Filter != nil {
		w, err := c.where(q.Filter)
		if err != nil {
			return 0, err
		}
		where += " AND " + w
	}
	whereArgs := append([]any(nil), c.args...)
	offset := max(q.StartIndex-1, 0)
	if q.Count > 0 {
		oc := &compiler{dialect: s.dialect, kind: kind, alias: "t"}
		order, err := oc.orderBy(q)
		if err != nil {
			return 0, err
		}
		// In the ranges an index serves (pageRanges), sorted again.
		ps := pageSQL{dialect: s.dialect, table: table, cols: "t.*", order: order, orderArgs: oc.args, outerSort: true}
		sql, args := ps.build(pageRanges(s.dialect, kind, q, where, whereArgs, order, oc.args, nil), q.Count, offset, true)
		if err := s.read.WithContext(ctx).Raw(sql, args...).Scan(dest).Error; err != nil {
			return 0, err
		}
		got := n()
		if got > 0 && got < q.Count {
			return offset + got, nil
		}
		if got == 0 && offset == 0 {
			return 0, nil
		}
	}
	return s.countLive(ctx, table, account, q.Filter == nil, where, whereArgs)
}

// LiveUser reads one user that is not soft-deleted.
func (s *Store) LiveUser(ctx context.Context, account, id string) (bridge.User, error) {
	var r userRow
	err := s.read.WithContext(ctx).Where("id = ? AND account_id = ? AND "+live, id, account).Take(&r).Error
	if err != nil {
		return bridge.User{}, wrap("get user", err)
	}
	u, err := userFromRow(r)
	return u, wrap("get user", err)
}

// LiveGroup reads one group that is not soft-deleted.
func (s *Store) LiveGroup(ctx context.Context, account, id string, withMembers bool) (bridge.Group, error) {
	var r groupRow
	err := s.read.WithContext(ctx).Where("id = ? AND account_id = ? AND "+live, id, account).Take(&r).Error
	if err != nil {
		return bridge.Group{}, wrap("get group", err)
	}
	g, err := groupFromRow(r)
	if err != nil {
		return bridge.Group{}, wrap("get group", err)
	}
	if withMembers {
		gs := []bridge.Group{g}
		if err := s.loadMembers(ctx, s.read, gs); err != nil {
			return bridge.Group{}, wrap("get group", err)
		}
		g = gs[0]
	}
	return g, nil
}

// loadMembers fills Members of gs, users first, each by id.
func (s *Store) loadMembers(ctx context.Context, g *gorm.DB, gs []bridge.Group) error {
	idx := make(map[string]int, len(gs))
	ids := make([]string, len(gs))
	for i := range gs {
		idx[gs[i].ID] = i
		ids[i] = gs[i].ID
		gs[i].Members = []bridge.Member{}
	}
	for start := 0; start < len(ids); start += batchSize {
		end := min(start+batchSize, len(ids))
		rows, err := g.WithContext(ctx).Model(&memberRow{}).Select("group_id, member_id, member_type").
			Where("group_id IN ?", ids[start:end]).Order("group_id, member_type DESC, member_id").Rows()
		if err != nil {
			return err
		}
		for rows.Next() {
			var gid string
			var m bridge.Member
			if err := rows.Scan(&gid, &m.ID, &m.Type); err != nil {
				rows.Close()
				return err
			}
			i := idx[gid]
			gs[i].Members = append(gs[i].Members, m)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// UserGroups returns the live groups each user is a direct member of.
func (s *Store) UserGroups(ctx context.Context, account string, userIDs []string) (map[string][]bridge.GroupRef, error) {
	out := map[string][]bridge.GroupRef{}
	for start := 0; start < len(userIDs); start += batchSize {
		end := min(start+batchSize, len(userIDs))
		rows, err := s.read.WithContext(ctx).Raw(`SELECT m.member_id, g.id, g.display_name FROM group_members m
			JOIN groups g ON g.id = m.group_id
			WHERE m.member_id IN ? AND m.account_id = ? AND g.status <> 'deleted'
			ORDER BY m.member_id, g.display_name, g.id`, userIDs[start:end], account).Rows()
		if err != nil {
			return nil, wrap("user groups", err)
		}
		for rows.Next() {
			var uid string
			var ref bridge.GroupRef
			if err := rows.Scan(&uid, &ref.ID, &ref.DisplayName); err != nil {
				rows.Close()
				return nil, wrap("user groups", err)
			}
			out[uid] = append(out[uid], ref)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("user groups", err)
		}
	}
	return out, nil
}

// IsProtected reports whether a protection with role protected names the
// object by externalId or resource id.
func (s *Store) IsProtected(ctx context.Context, account, externalID, id string) (bool, error) {
	var n int64
	q := s.read.WithContext(ctx).Model(&protectionRow{}).Where("account_id = ? AND role = ?", account, string(bridge.RoleProtected))
	if externalID != "" {
		q = q.Where("(external_id = ? OR resource_id = ?)", externalID, id)
	} else {
		q = q.Where("resource_id = ?", id)
	}
	err := q.Count(&n).Error
	return n > 0, wrap("is protected", err)
}

// CreateUser inserts u with version 1.
func (s *Store) CreateUser(ctx context.Context, account string, u bridge.User) (bridge.User, error) {
	if u.ID == "" || u.UserName == "" {
		return bridge.User{}, fmt.Errorf("db: create user: id and userName are required: %w", bridge.ErrInvalid)
	}
	r, err := userToRow(account, u)
	if err != nil {
		return bridge.User{}, wrap("create user", err)
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return bridge.User{}, wrap("create user", err)
	}
	out, err := userFromRow(r)
	return out, wrap("create user", err)
}

// UpdateUser writes u over the live user u.ID when its version is
// expected. A write that changes nothing keeps the version.
func (s *Store) UpdateUser(ctx context.Context, account string, u bridge.User, expected int64) (bridge.User, error) {
	var out bridge.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur userRow
		if err := lockRow(tx, s.dialect).Where("id = ? AND account_id = ? AND "+live, u.ID, account).Take(&cur).Error; err != nil {
			return err
		}
		if cur.Version != expected {
			return bridge.ErrVersionMismatch
		}
		r, err := userToRow(account, u)
		if err != nil {
			return err
		}
		if sameUser(cur, r) {
			out, err = userFromRow(cur)
			return err
		}
		r.CreatedAt, r.Version, r.Source, r.Hash = cur.CreatedAt, cur.Version+1, cur.Source, cur.Hash
		res := tx.Model(&userRow{}).Where("id = ? AND account_id = ? AND version = ?", u.ID, account, expected).
			Updates(map[string]any{
				"external_id": r.ExternalID, "user_name": r.UserName, "user_name_lower": r.UserNameLower,
				"display_name": r.DisplayName, "active": r.Active, "status": r.Status, "attributes": r.Attributes,
				"updated_at": r.UpdatedAt, "version": r.Version,
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return bridge.ErrVersionMismatch
		}
		r.DN, r.OUPath, r.DeletedAt, r.DeleteReason = cur.DN, cur.OUPath, cur.DeletedAt, cur.DeleteReason
		out, err = userFromRow(r)
		return err
	})
	return out, wrap("update user", err)
}

func sameUser(cur, next userRow) bool {
	return cur.ExternalID == next.ExternalID && cur.UserName == next.UserName && cur.DisplayName == next.DisplayName &&
		cur.Active == next.Active && cur.Status == next.Status && sameJSON(cur.Attributes, next.Attributes)
}

// sameJSON compares two JSON documents by value: PostgreSQL gives JSONB
// back with its own key order and spacing.
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// lockRow locks the row read in a write transaction on PostgreSQL (SQLite
// has one writer and BEGIN IMMEDIATE).
func lockRow(tx *gorm.DB, d Dialect) *gorm.DB {
	if d == DialectPostgres {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// DeleteUser removes a user and its memberships for good, bumping the
// version of every group it leaves.
func (s *Store) DeleteUser(ctx context.Context, account, id string, expected int64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur userRow
		if err := lockRow(tx, s.dialect).Where("id = ? AND account_id = ? AND "+live, id, account).Take(&cur).Error; err != nil {
			return err
		}
		if expected != 0 && cur.Version != expected {
			return bridge.ErrVersionMismatch
		}
		if err := leaveGroups(tx, account, []string{id}); err != nil {
			return err
		}
		return tx.Where("id = ? AND account_id = ?", id, account).Delete(&userRow{}).Error
	})
	return wrap("delete user", err)
}

func leaveGroups(tx *gorm.DB, account string, memberIDs []string) error {
	if err := tx.Exec(`UPDATE groups SET version = version + 1, updated_at = ? WHERE account_id = ? AND id IN
		(SELECT group_id FROM group_members WHERE member_id IN ? AND account_id = ?)`, now(), account, memberIDs, account).Error; err != nil {
		return err
	}
	return tx.Where("member_id IN ? AND account_id = ?", memberIDs, account).Delete(&memberRow{}).Error
}

// CreateGroup inserts g and its members with version 1. Members must be
// live objects of the account (ResolveMembers).
func (s *Store) CreateGroup(ctx context.Context, account string, g bridge.Group) (bridge.Group, error) {
	if g.ID == "" {
		return bridge.Group{}, fmt.Errorf("db: create group: id is required: %w", bridge.ErrInvalid)
	}
	r, err := groupToRow(account, g)
	if err != nil {
		return bridge.Group{}, wrap("create group", err)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		_, err := insertMembers(tx, account, g.ID, g.Members)
		return err
	})
	if err != nil {
		return bridge.Group{}, wrap("create group", err)
	}
	out, err := groupFromRow(r)
	out.Members = g.Members
	return out, wrap("create group", err)
}

func insertMembers(tx *gorm.DB, account, groupID string, ms []bridge.Member) (int64, error) {
	var n int64
	for start := 0; start < len(ms); start += batchSize {
		end := min(start+batchSize, len(ms))
		rows := make([]memberRow, 0, end-start)
		for _, m := range ms[start:end] {
			rows = append(rows, memberRow{AccountID: account, GroupID: groupID, MemberID: m.ID, MemberType: m.Type})
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows)
		if res.Error != nil {
			return n, res.Error
		}
		n += res.RowsAffected
	}
	return n, nil
}

// UpdateGroup writes g's fields and applies the member change to the live
// group g.ID when its version is expected. The version moves only when
// something changed.
func (s *Store) UpdateGroup(ctx context.Context, account string, g bridge.Group, mc bridge.MemberChange, expected int64, withMembers bool) (bridge.Group, error) {
	var out bridge.Group
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur groupRow
		if err := lockRow(tx, s.dialect).Where("id = ? AND account_id = ? AND "+live, g.ID, account).Take(&cur).Error; err != nil {
			return err
		}
		if cur.Version != expected {
			return bridge.ErrVersionMismatch
		}
		r, err := groupToRow(account, g)
		if err != nil {
			return err
		}
		var changed int64
		if mc.Replace {
			var have []string
			if err := tx.Model(&memberRow{}).Where("group_id = ?", g.ID).Pluck("member_id", &have).Error; err != nil {
				return err
			}
			if !sameMemberSet(have, mc.Set) {
				if err := tx.Where("group_id = ?", g.ID).Delete(&memberRow{}).Error; err != nil {
					return err
				}
				if _, err := insertMembers(tx, account, g.ID, mc.Set); err != nil {
					return err
				}
				changed = 1
			}
		} else {
			for start := 0; start < len(mc.Remove); start += batchSize {
				end := min(start+batchSize, len(mc.Remove))
				res := tx.Where("group_id = ? AND member_id IN ?", g.ID, mc.Remove[start:end]).Delete(&memberRow{})
				if res.Error != nil {
					return res.Error
				}
				changed += res.RowsAffected
			}
			n, err := insertMembers(tx, account, g.ID, mc.Add)
			if err != nil {
				return err
			}
			changed += n
		}
		out, err = groupFromRow(cur)
		if err != nil {
			return err
		}
		if changed == 0 && sameGroup(cur, r) {
			return s.maybeMembers(ctx, tx, &out, withMembers)
		}
		res := tx.Model(&groupRow{}).Where("id = ? AND account_id = ? AND version = ?", g.ID, account, expected).
			Updates(map[string]any{
				"external_id": r.ExternalID, "display_name": r.DisplayName, "attributes": r.Attributes,
				"updated_at": r.UpdatedAt, "version": cur.Version + 1,
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return bridge.ErrVersionMismatch
		}
		cur.ExternalID, cur.DisplayName, cur.Attributes, cur.UpdatedAt, cur.Version =
			r.ExternalID, r.DisplayName, r.Attributes, r.UpdatedAt, cur.Version+1
		if out, err = groupFromRow(cur); err != nil {
			return err
		}
		return s.maybeMembers(ctx, tx, &out, withMembers)
	})
	return out, wrap("update group", err)
}

func (s *Store) maybeMembers(ctx context.Context, tx *gorm.DB, g *bridge.Group, with bool) error {
	if !with {
		return nil
	}
	gs := []bridge.Group{*g}
	if err := s.loadMembers(ctx, tx, gs); err != nil {
		return err
	}
	*g = gs[0]
	return nil
}

func sameGroup(cur, next groupRow) bool {
	return cur.ExternalID == next.ExternalID && cur.DisplayName == next.DisplayName && sameJSON(cur.Attributes, next.Attributes)
}

// DeleteGroup removes a group, its memberships and its membership in other
// groups for good.
func (s *Store) DeleteGroup(ctx context.Context, account, id string, expected int64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur groupRow
		if err := lockRow(tx, s.dialect).Where("id = ? AND account_id = ? AND "+live, id, account).Take(&cur).Error; err != nil {
			return err
		}
		if expected != 0 && cur.Version != expected {
			return bridge.ErrVersionMismatch
		}
		if err := leaveGroups(tx, account, []string{id}); err != nil {
			return err
		}
		if err := tx.Where("group_id = ?", id).Delete(&memberRow{}).Error; err != nil {
			return err
		}
		return tx.Where("id = ? AND account_id = ?", id, account).Delete(&groupRow{}).Error
	})
	return wrap("delete group", err)
}

// ResolveMembers returns the type ("User" or "Group") of each id that is a
// live user or group of the account; ids missing from the map are not.
func (s *Store) ResolveMembers(ctx context.Context, account string, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for start := 0; start < len(ids); start += batchSize {
		end := min(start+batchSize, len(ids))
		chunk := ids[start:end]
		for _, t := range []struct{ table, typ string }{{"users", "User"}, {"groups", "Group"}} {
			var found []string
			if err := s.read.WithContext(ctx).Table(t.table).Where("id IN ? AND account_id = ? AND "+live, chunk, account).
				Pluck("id", &found).Error; err != nil {
				return nil, wrap("resolve members", err)
			}
			for _, id := range found {
				out[id] = t.typ
			}
		}
	}
	return out, nil
}

func sameMemberSet(have []string, want []bridge.Member) bool {
	set := make(map[string]bool, len(want))
	for _, m := range want {
		set[m.ID] = true
	}
	if len(set) != len(have) {
		return false
	}
	for _, id := range have {
		if !set[id] {
			return false
		}
	}
	return true
}
