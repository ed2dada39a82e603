package db

import (
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// setMembersDiff gives each listed group exactly the members listed, like
// setMembers, but writes only the difference with the stored rows: a delta
// run that moves one user into an OU of 5,000 rewrote 5,000 rows before,
// and now inserts one. Reading a group's rows costs a fraction of deleting
// and inserting them (three indexes per row).
//
// The checks are those of setMembers: every group must be a live object
// of the account, every member type User or Group with an id, and every
// member added a live object of the account. Members kept are live
// already: soft and hard deletes drop the rows that name the object.
func setMembersDiff(tx *gorm.DB, account string, set map[string][]bridge.Member, per int, touched memberChanges) error {
	if len(set) == 0 {
		return nil
	}
	groupIDs := make([]string, 0, len(set))
	for id := range set {
		groupIDs = append(groupIDs, id)
	}
	slices.Sort(groupIDs)
	if err := requireLive(tx, account, "groups", groupIDs, "group"); err != nil {
		return err
	}
	want := make(map[string]map[string]string, len(set)) // group -> member -> type
	for _, gid := range groupIDs {
		w := make(map[string]string, len(set[gid]))
		for _, m := range set[gid] {
			t, ok := memberType(m.Type)
			if !ok || m.ID == "" {
				return fmt.Errorf("group %s: member %q of type %q: %w", gid, m.ID, m.Type, bridge.ErrInvalid)
			}
			if _, dup := w[m.ID]; !dup {
				w[m.ID] = t
			}
		}
		want[gid] = w
	}

	have := make(map[string]map[string]string, len(set))
	for chunk := range slices.Chunk(groupIDs, batchSize) {
		var rows []memberRow
		if err := tx.Select("group_id, member_id, member_type").
			Where("account_id = ? AND group_id IN ?", account, chunk).Find(&rows).Error; err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		for _, r := range rows {
			if have[r.GroupID] == nil {
				have[r.GroupID] = map[string]string{}
			}
			have[r.GroupID][r.MemberID] = r.MemberType
		}
	}

	var add []memberRow
	for _, gid := range groupIDs {
		var drop []string
		for mid, t := range have[gid] {
			if want[gid][mid] != t {
				drop = append(drop, mid)
			}
		}
		slices.Sort(drop)
		if len(drop) > 0 {
			touched.add(gid)
		}
		for chunk := range slices.Chunk(drop, batchSize) {
			if err := tx.Where("account_id = ? AND group_id = ? AND member_id IN ?", account, gid, chunk).
				Delete(&memberRow{}).Error; err != nil {
				return fmt.Errorf("remove members: %w", err)
			}
		}
		for mid, t := range want[gid] {
			if have[gid][mid] == t {
				continue
			}
			add = append(add, memberRow{AccountID: account, GroupID: gid, MemberID: mid, MemberType: t})
			touched.add(gid)
		}
	}
	// Checked live and inserted in bulk, in key order (apply_members_insert.go).
	return insertLiveMembers(tx, account, add)
}
