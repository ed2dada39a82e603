package bridge

import "errors"

// Sentinel errors. Adapters wrap their own errors with these so that callers
// test with errors.Is and the HTTP edges translate them to status codes.
var (
	ErrNotFound       = errors.New("not found")
	ErrConflict       = errors.New("conflict")
	ErrInvalid        = errors.New("invalid")
	ErrRunInProgress  = errors.New("a sync run is already in progress for this account")
	ErrNotConfigured  = errors.New("directory settings are not configured for this account")
	ErrUnauthorized   = errors.New("unauthorized")
	ErrDirectoryRead  = errors.New("directory read failed")
	ErrSecretKey      = errors.New("secret key")
	ErrNotImplemented = errors.New("not implemented yet")
)
