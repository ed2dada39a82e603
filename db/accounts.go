package db

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/scimbridge/scimbridge/bridge"
)

func accountFromRow(r accountRow) bridge.Account {
	return bridge.Account{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt}
}

// CreateAccount inserts a; ErrConflict when the id exists.
func (s *Store) CreateAccount(ctx context.Context, a bridge.Account) error {
	if a.ID == "" {
		return fmt.Errorf("db: create account: empty id: %w", bridge.ErrInvalid)
	}
	r := accountRow{ID: a.ID, Name: a.Name, CreatedAt: norm(a.CreatedAt)}
	if r.Name == "" {
		r.Name = a.ID
	}
	if a.CreatedAt.IsZero() {
		r.CreatedAt = now()
	}
	return wrap("create account "+a.ID, s.db.WithContext(ctx).Create(&r).Error)
}

// EnsureAccount creates the account unless it exists, and returns it.
// ON CONFLICT DO NOTHING keeps two replicas starting at once from failing.
func (s *Store) EnsureAccount(ctx context.Context, id string) (bridge.Account, error) {
	if id == "" {
		return bridge.Account{}, fmt.Errorf("db: ensure account: empty id: %w", bridge.ErrInvalid)
	}
	r := accountRow{ID: id, Name: id, CreatedAt: now()}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return bridge.Account{}, wrap("ensure account "+id, err)
	}
	return s.getAccount(ctx, s.db, id)
}

// GetAccount returns the account, or ErrNotFound.
func (s *Store) GetAccount(ctx context.Context, id string) (bridge.Account, error) {
	return s.getAccount(ctx, s.read, id)
}

func (s *Store) getAccount(ctx context.Context, g *gorm.DB, id string) (bridge.Account, error) {
	var r accountRow
	err := g.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if err != nil {
		return bridge.Account{}, wrap("get account "+id, err)
	}
	return accountFromRow(r), nil
}

// ListAccounts returns every account by id.
func (s *Store) ListAccounts(ctx context.Context) ([]bridge.Account, error) {
	var rows []accountRow
	if err := s.read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap("list accounts", err)
	}
	out := make([]bridge.Account, len(rows))
	for i, r := range rows {
		out[i] = accountFromRow(r)
	}
	return out, nil
}

// DeleteAccount removes the account; ON DELETE CASCADE removes the rest.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&accountRow{})
	if res.Error != nil {
		return wrap("delete account "+id, res.Error)
	}
	if res.RowsAffected == 0 {
		return wrap("delete account "+id, gorm.ErrRecordNotFound)
	}
	return nil
}

// accountExists distinguishes "no such account" from "nothing in it".
func accountExists(ctx context.Context, g *gorm.DB, id string) error {
	var n int64
	if err := g.WithContext(ctx).Model(&accountRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("account %q: %w", id, bridge.ErrNotFound)
	}
	return nil
}
