package db

import (
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// A group's SCIM representation lists its members, so a change to the
// member list is a change to the group: its version and lastModified must
// move, or a client holding its ETag is told "304 Not Modified" for a
// changed group. Apply collects the groups whose rows in group_members it
// changed (SetMembers, and the rows a soft delete drops) and bumps each
// once, at the end. Groups the same Apply upserts or deletes are left out:
// their own write moved the version already, and one Apply is one change.
type memberChanges map[string]bool

func (m memberChanges) add(ids ...string) {
	if m == nil {
		return
	}
	for _, id := range ids {
		m[id] = true
	}
}

// holders adds to m the groups that hold any of memberIDs.
func (m memberChanges) addHolders(tx *gorm.DB, account string, memberIDs []string) error {
	if m == nil || len(memberIDs) == 0 {
		return nil
	}
	var ids []string
	if err := tx.Model(&memberRow{}).Distinct("group_id").
		Where("account_id = ? AND member_id IN ?", account, memberIDs).Pluck("group_id", &ids).Error; err != nil {
		return fmt.Errorf("groups holding deleted objects: %w", err)
	}
	m.add(ids...)
	return nil
}

// bump moves the version of every live group in m that c neither upserts
// nor deletes.
func (m memberChanges) bump(tx *gorm.DB, account string, c bridge.Changes) error {
	for _, g := range c.Groups {
		delete(m, g.ID)
	}
	for _, d := range c.DeleteGroups {
		delete(m, d.ID)
	}
	if len(m) == 0 {
		return nil
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	t := now()
	for chunk := range slices.Chunk(ids, batchSize) {
		if err := tx.Table("groups").Where("account_id = ? AND id IN ? AND status <> ?", account, chunk, bridge.StatusDeleted).
			Updates(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": t}).Error; err != nil {
			return fmt.Errorf("bump versions of groups whose members changed: %w", err)
		}
	}
	return nil
}

// setGroupHashes stores the content hash of live groups (Changes.GroupHashes),
// in id order, near the end of the transaction: the rows it locks are then
// held only until the commit that follows.
func setGroupHashes(tx *gorm.DB, account string, hashes map[string]string) error {
	ids := make([]string, 0, len(hashes))
	for id := range hashes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		res := tx.Table("groups").Where("account_id = ? AND id = ? AND status <> ?", account, id, bridge.StatusDeleted).
			Update("hash", hashes[id])
		if res.Error != nil {
			return fmt.Errorf("set group hash: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("set hash of group %s: not a live group of account %s: %w", id, account, bridge.ErrNotFound)
		}
	}
	return nil
}
