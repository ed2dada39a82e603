package db

import (
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// The rewrite setMembersDiff replaced, kept as the reference its tests
// compare with: delete every member row of each group, insert the list.

// setMembers replaces the members of each listed group. Every group and
// member must be a live object of the account: a membership never points
// across accounts or at a soft-deleted object.
func setMembers(tx *gorm.DB, account string, set map[string][]bridge.Member, per int) error {
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
	for chunk := range slices.Chunk(groupIDs, batchSize) {
		if err := tx.Where("account_id = ? AND group_id IN ?", account, chunk).Delete(&memberRow{}).Error; err != nil {
			return fmt.Errorf("clear members: %w", err)
		}
	}

	var rows []memberRow
	var userIDs, memberGroupIDs []string
	for _, gid := range groupIDs {
		seen := make(map[string]struct{}, len(set[gid]))
		for _, m := range set[gid] {
			t, ok := memberType(m.Type)
			if !ok || m.ID == "" {
				return fmt.Errorf("group %s: member %q of type %q: %w", gid, m.ID, m.Type, bridge.ErrInvalid)
			}
			if _, dup := seen[m.ID]; dup {
				continue
			}
			seen[m.ID] = struct{}{}
			rows = append(rows, memberRow{AccountID: account, GroupID: gid, MemberID: m.ID, MemberType: t})
			if t == "User" {
				userIDs = append(userIDs, m.ID)
			} else {
				memberGroupIDs = append(memberGroupIDs, m.ID)
			}
		}
	}
	if err := requireLive(tx, account, "users", dedupe(userIDs), "member user"); err != nil {
		return err
	}
	if err := requireLive(tx, account, "groups", dedupe(memberGroupIDs), "member group"); err != nil {
		return err
	}
	for chunk := range slices.Chunk(rows, per) {
		if err := tx.Create(&chunk).Error; err != nil {
			return fmt.Errorf("insert members: %w", err)
		}
	}
	return nil
}
