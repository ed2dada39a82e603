package db

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/scimbridge/scimbridge/bridge"
)

// wrap turns a database error into one that callers can test with
// errors.Is against the bridge sentinels, keeping the original error (and
// the operation) in the chain for logs. gorm runs with TranslateError, so
// both dialects report unique and foreign-key violations as gorm errors.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case isSentinel(err):
		// Already translated further down (for example inside Apply).
		return fmt.Errorf("db: %s: %w", op, err)
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("db: %s: %w", op, bridge.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("db: %s: %w: %w", op, bridge.ErrConflict, err)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		// A row pointing at something that is not there: in practice an
		// unknown account or run.
		return fmt.Errorf("db: %s: %w: %w", op, bridge.ErrNotFound, err)
	default:
		return fmt.Errorf("db: %s: %w", op, err)
	}
}

func isSentinel(err error) bool {
	for _, s := range []error{bridge.ErrNotFound, bridge.ErrConflict, bridge.ErrInvalid,
		bridge.ErrRunInProgress, bridge.ErrNotConfigured, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
