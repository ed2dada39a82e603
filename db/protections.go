package db

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// ListProtections returns the account's protected objects and owners,
// oldest first.
func (s *Store) ListProtections(ctx context.Context, account string) ([]bridge.Protection, error) {
	var rows []protectionRow
	if err := s.read.WithContext(ctx).Where("account_id = ?", account).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, wrap("list protections", err)
	}
	out := make([]bridge.Protection, len(rows))
	for i, r := range rows {
		out[i] = bridge.Protection{ID: r.ID, AccountID: r.AccountID, Role: bridge.ProtectionRole(r.Role),
			ObjectType: bridge.ObjectType(r.ObjectType), ExternalID: r.ExternalID, ResourceID: r.ResourceID,
			Note: r.Note, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// AddProtection stores p; an id is generated when p.ID is empty. The same
// object with the same role twice is ErrConflict.
func (s *Store) AddProtection(ctx context.Context, p bridge.Protection) error {
	if p.AccountID == "" || (p.ExternalID == "" && p.ResourceID == "") {
		return fmt.Errorf("db: add protection: account and externalId or resourceId are required: %w", bridge.ErrInvalid)
	}
	r := protectionRow{ID: p.ID, AccountID: p.AccountID, Role: string(p.Role), ObjectType: string(p.ObjectType),
		ExternalID: p.ExternalID, ResourceID: p.ResourceID, Note: p.Note, CreatedAt: norm(p.CreatedAt)}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	if p.CreatedAt.IsZero() {
		r.CreatedAt = now()
	}
	return wrap("add protection", s.db.WithContext(ctx).Create(&r).Error)
}

// DeleteProtection removes one protection of the account, or ErrNotFound.
func (s *Store) DeleteProtection(ctx context.Context, account, id string) error {
	res := s.db.WithContext(ctx).Where("account_id = ? AND id = ?", account, id).Delete(&protectionRow{})
	if res.Error == nil && res.RowsAffected == 0 {
		res.Error = gorm.ErrRecordNotFound
	}
	return wrap("delete protection "+id, res.Error)
}
