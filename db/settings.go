package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/scimbridge/scimbridge/bridge"
)

// GetSettings returns the account's settings document; the password is
// only in SealedPassword. ErrNotConfigured when none was saved.
func (s *Store) GetSettings(ctx context.Context, account string) (bridge.StoredSettings, error) {
	var r settingsRow
	err := s.read.WithContext(ctx).Where("account_id = ?", account).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return bridge.StoredSettings{}, fmt.Errorf("db: get settings of %s: %w", account, bridge.ErrNotConfigured)
	}
	if err != nil {
		return bridge.StoredSettings{}, wrap("get settings of "+account, err)
	}
	var st bridge.Settings
	if err := json.Unmarshal([]byte(r.Document), &st); err != nil {
		return bridge.StoredSettings{}, fmt.Errorf("db: settings of %s are not valid JSON: %w", account, err)
	}
	return bridge.StoredSettings{Settings: st, SealedPassword: r.SealedPassword, UpdatedAt: r.UpdatedAt}, nil
}

// PutSettings replaces the account's settings. The plaintext password is
// dropped here whatever the caller passed: only the sealed form is kept.
func (s *Store) PutSettings(ctx context.Context, account string, st bridge.StoredSettings) error {
	doc, err := json.Marshal(st.Settings.Redacted())
	if err != nil {
		return fmt.Errorf("db: encode settings: %w", err)
	}
	r := settingsRow{AccountID: account, Document: string(doc), SealedPassword: st.SealedPassword, UpdatedAt: norm(st.UpdatedAt)}
	if st.UpdatedAt.IsZero() {
		r.UpdatedAt = now()
	}
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "account_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"document", "sealed_password", "updated_at"}),
	}).Create(&r).Error
	return wrap("put settings of "+account, err)
}
