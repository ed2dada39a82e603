package db

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// lastUsedResolution: FindToken records use at most this often per token,
// so every SCIM request does not turn into a write (SQLite has one writer).
const lastUsedResolution = time.Minute

func tokenFromRow(r tokenRow) bridge.Token {
	return bridge.Token{ID: r.ID, AccountID: r.AccountID, Role: bridge.TokenRole(r.Role), Name: r.Name,
		Hash: r.Hash, CreatedAt: r.CreatedAt.UTC(), LastUsedAt: utcPtr(r.LastUsedAt)}
}

// CreateToken stores t (its hash only); an id is generated when empty.
func (s *Store) CreateToken(ctx context.Context, t bridge.Token) error {
	if t.AccountID == "" || len(t.Hash) == 0 {
		return fmt.Errorf("db: create token: account and hash are required: %w", bridge.ErrInvalid)
	}
	r := tokenRow{ID: t.ID, AccountID: t.AccountID, Role: string(t.Role), Name: t.Name, Hash: t.Hash,
		CreatedAt: norm(t.CreatedAt), LastUsedAt: normPtr(t.LastUsedAt)}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	if t.CreatedAt.IsZero() {
		r.CreatedAt = now()
	}
	return wrap("create token", s.db.WithContext(ctx).Create(&r).Error)
}

// FindToken looks a token up by the SHA-256 of its secret (an index
// lookup; the HTTP layer still compares in constant time) and records its
// use, at most once a minute.
func (s *Store) FindToken(ctx context.Context, hash []byte) (bridge.Token, error) {
	if len(hash) == 0 {
		return bridge.Token{}, fmt.Errorf("db: find token: %w", bridge.ErrNotFound)
	}
	var r tokenRow
	if err := s.read.WithContext(ctx).Where("hash = ?", hash).Take(&r).Error; err != nil {
		return bridge.Token{}, wrap("find token", err)
	}
	t := now()
	if r.LastUsedAt == nil || t.Sub(*r.LastUsedAt) >= lastUsedResolution {
		// Best effort: failing to record use must not refuse the request.
		err := s.db.WithContext(ctx).Model(&tokenRow{}).Where("id = ?", r.ID).Update("last_used_at", t).Error
		if err != nil {
			s.log.WarnContext(ctx, "could not record token use", "token", r.ID, "error", err)
		} else {
			r.LastUsedAt = &t
		}
	}
	return tokenFromRow(r), nil
}

// ListTokens returns the account's tokens, oldest first, hashes included.
func (s *Store) ListTokens(ctx context.Context, account string) ([]bridge.Token, error) {
	var rows []tokenRow
	if err := s.read.WithContext(ctx).Where("account_id = ?", account).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, wrap("list tokens", err)
	}
	out := make([]bridge.Token, len(rows))
	for i, r := range rows {
		out[i] = tokenFromRow(r)
	}
	return out, nil
}

// DeleteToken revokes one token of the account, or ErrNotFound.
func (s *Store) DeleteToken(ctx context.Context, account, id string) error {
	res := s.db.WithContext(ctx).Where("account_id = ? AND id = ?", account, id).Delete(&tokenRow{})
	if res.Error == nil && res.RowsAffected == 0 {
		res.Error = gorm.ErrRecordNotFound
	}
	return wrap("delete token "+id, res.Error)
}
