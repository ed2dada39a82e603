package db

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

func runToRow(r bridge.Run) (runRow, error) {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return runRow{}, fmt.Errorf("encode counts: %w", err)
	}
	row := runRow{ID: r.ID, AccountID: r.AccountID, Trigger: string(r.Trigger), Kind: string(r.Kind),
		KindReason: r.KindReason, DryRun: r.DryRun, Status: string(r.Status), Error: r.Error,
		StartedAt: norm(r.StartedAt), FinishedAt: normPtr(r.FinishedAt), Counts: string(counts),
		Cursor: r.Cursor, ApprovedRunID: r.ApprovedRunID}
	if r.StartedAt.IsZero() {
		row.StartedAt = now()
	}
	if row.Status == "" {
		row.Status = string(bridge.RunRunning)
	}
	return row, nil
}

func runFromRow(r runRow) (bridge.Run, error) {
	var counts bridge.RunCounts
	if r.Counts != "" {
		if err := json.Unmarshal([]byte(r.Counts), &counts); err != nil {
			return bridge.Run{}, fmt.Errorf("run %s: decode counts: %w", r.ID, err)
		}
	}
	return bridge.Run{ID: r.ID, AccountID: r.AccountID, Trigger: bridge.Trigger(r.Trigger), Kind: bridge.RunKind(r.Kind),
		KindReason: r.KindReason, DryRun: r.DryRun, Status: bridge.RunStatus(r.Status), Error: r.Error,
		StartedAt: r.StartedAt.UTC(), FinishedAt: utcPtr(r.FinishedAt), Counts: counts, Cursor: r.Cursor,
		ApprovedRunID: r.ApprovedRunID}, nil
}

// CreateRun inserts r. Callers normally set r.ID (the engine reports it);
// it must be unique (ErrConflict otherwise). An unknown account is
// ErrNotFound.
func (s *Store) CreateRun(ctx context.Context, r bridge.Run) error {
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	row, err := runToRow(r)
	if err != nil {
		return wrap("create run", err)
	}
	return wrap("create run "+r.ID, s.db.WithContext(ctx).Create(&row).Error)
}

// UpdateRun overwrites the run's mutable fields (status, error, finish
// time, counts, cursor, kind, ...), keyed by account and id.
func (s *Store) UpdateRun(ctx context.Context, r bridge.Run) error {
	row, err := runToRow(r)
	if err != nil {
		return wrap("update run", err)
	}
	res := s.db.WithContext(ctx).Model(&runRow{}).Where("account_id = ? AND id = ?", r.AccountID, r.ID).
		Select("trigger", "kind", "kind_reason", "dry_run", "status", "error", "started_at", "finished_at",
			"counts", "cursor", "approved_run_id").
		Updates(&row)
	if res.Error == nil && res.RowsAffected == 0 {
		res.Error = gorm.ErrRecordNotFound
	}
	return wrap("update run "+r.ID, res.Error)
}

// GetRun returns one run of the account, or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, account, id string) (bridge.Run, error) {
	var row runRow
	if err := s.read.WithContext(ctx).Where("account_id = ? AND id = ?", account, id).Take(&row).Error; err != nil {
		return bridge.Run{}, wrap("get run "+id, err)
	}
	r, err := runFromRow(row)
	return r, wrap("get run "+id, err)
}

// ListRuns pages through the account's runs, newest first, with the total.
func (s *Store) ListRuns(ctx context.Context, account string, offset, limit int) ([]bridge.Run, int, error) {
	q := s.read.WithContext(ctx).Model(&runRow{}).Where("account_id = ?", account)
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, wrap("count runs", err)
	}
	var rows []runRow
	if err := page(q.Session(&gorm.Session{}), offset, limit).Order("started_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, 0, wrap("list runs", err)
	}
	out := make([]bridge.Run, 0, len(rows))
	for _, row := range rows {
		r, err := runFromRow(row)
		if err != nil {
			return nil, 0, wrap("list runs", err)
		}
		out = append(out, r)
	}
	return out, int(total), nil
}

// AddRunEvents inserts events outside an Apply (skips, refusals, errors),
// in one transaction. Each event must name its account and a run of that
// account (the schema enforces the pair).
func (s *Store) AddRunEvents(ctx context.Context, events []bridge.RunEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		per := s.rowsPerInsert(11)
		rows := make([]runEventRow, 0, min(len(events), per))
		for chunk := range slices.Chunk(events, per) {
			rows = rows[:0]
			for _, e := range chunk {
				if e.AccountID == "" || e.RunID == "" {
					return fmt.Errorf("run event without account or run: %w", bridge.ErrInvalid)
				}
				r, err := eventToRow(e.AccountID, e)
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
			if err := tx.Create(&rows).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("add run events", err)
}

// ListRunEvents pages through one run's events in insertion order, with
// the total; f.Action narrows to one action. limit <= 0 means no limit.
func (s *Store) ListRunEvents(ctx context.Context, account, runID string, f bridge.EventFilter) ([]bridge.RunEvent, int, error) {
	q := s.read.WithContext(ctx).Model(&runEventRow{}).Where("run_id = ? AND account_id = ?", runID, account)
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, wrap("count run events", err)
	}
	var rows []runEventRow
	if err := page(q.Session(&gorm.Session{}), f.Offset, f.Limit).Order("id").Find(&rows).Error; err != nil {
		return nil, 0, wrap("list run events", err)
	}
	out := make([]bridge.RunEvent, 0, len(rows))
	for _, row := range rows {
		e, err := eventFromRow(row)
		if err != nil {
			return nil, 0, wrap("list run events", err)
		}
		out = append(out, e)
	}
	return out, int(total), nil
}
