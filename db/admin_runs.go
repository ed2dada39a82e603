package db

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// Queries for the admin API (scimapi/admin) beyond bridge.Store.

var _ bridge.RunCanceller = (*Store)(nil)

// MarkRunCancelled marks a running or held run as cancelled, with reason,
// and reports whether it did. A run that already finished is left alone.
// The replica running the run notices and stops it (bridge.Runner.Watch).
func (s *Store) MarkRunCancelled(ctx context.Context, account, id, reason string) (bool, error) {
	t := now()
	res := s.db.WithContext(ctx).Model(&runRow{}).
		Where("account_id = ? AND id = ? AND status IN ?", account, id,
			[]string{string(bridge.RunRunning), string(bridge.RunHeld)}).
		Updates(map[string]any{"status": string(bridge.RunCancelled), "error": reason, "finished_at": t})
	if res.Error != nil {
		return false, wrap("cancel run "+id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// UserAuditEvents pages through the user events of the account's runs
// that changed the store (dry runs and held runs only say what would have
// happened, so they are left out), newest first, with the total. actions
// and resourceID narrow the events when set; since and until bound their
// time (since inclusive, until exclusive) when not zero. limit <= 0 means
// no limit.
func (s *Store) UserAuditEvents(ctx context.Context, account string, actions []bridge.Action, resourceID string,
	since, until time.Time, offset, limit int) ([]bridge.RunEvent, int, error) {
	q := s.read.WithContext(ctx).Table("run_events AS e").
		Joins("JOIN runs AS r ON r.id = e.run_id").
		Where("e.account_id = ? AND e.object_type = ? AND r.dry_run = ? AND r.status <> ?",
			account, string(bridge.ObjectUser), false, string(bridge.RunHeld))
	if len(actions) > 0 {
		as := make([]string, len(actions))
		for i, a := range actions {
			as[i] = string(a)
		}
		q = q.Where("e.action IN ?", as)
	}
	if resourceID != "" {
		q = q.Where("e.resource_id = ?", resourceID)
	}
	if !since.IsZero() {
		q = q.Where("e.at >= ?", norm(since))
	}
	if !until.IsZero() {
		q = q.Where("e.at < ?", norm(until))
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, wrap("count audit events", err)
	}
	var rows []runEventRow
	if err := page(q.Session(&gorm.Session{}), offset, limit).Select("e.*").
		Order("e.at DESC, e.id DESC").Find(&rows).Error; err != nil {
		return nil, 0, wrap("list audit events", err)
	}
	out := make([]bridge.RunEvent, 0, len(rows))
	for _, row := range rows {
		e, err := eventFromRow(row)
		if err != nil {
			return nil, 0, wrap("list audit events", err)
		}
		out = append(out, e)
	}
	return out, int(total), nil
}
