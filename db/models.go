package db

import "time"

// The models below mirror the tables created by migrations/*/0001_init.sql
// column for column; the schema itself is never created by AutoMigrate
// (TestModelsMatchSchema checks the two agree). JSON columns are strings
// here: TEXT on SQLite, JSONB on PostgreSQL, (de)coded in Go.

type accountRow struct {
	ID        string    `gorm:"column:id;primaryKey"`
	Name      string    `gorm:"column:name"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (accountRow) TableName() string { return "accounts" }

type settingsRow struct {
	AccountID      string    `gorm:"column:account_id;primaryKey"`
	Document       string    `gorm:"column:document"`
	SealedPassword []byte    `gorm:"column:sealed_password"`
	UpdatedAt      time.Time `gorm:"column:updated_at"`
}

func (settingsRow) TableName() string { return "directory_settings" }

type userRow struct {
	ID            string     `gorm:"column:id;primaryKey"`
	AccountID     string     `gorm:"column:account_id"`
	ExternalID    string     `gorm:"column:external_id"`
	Source        string     `gorm:"column:source"`
	UserName      string     `gorm:"column:user_name"`
	UserNameLower string     `gorm:"column:user_name_lower"`
	DisplayName   string     `gorm:"column:display_name"`
	Active        bool       `gorm:"column:active"`
	Status        string     `gorm:"column:status"`
	DN            string     `gorm:"column:dn"`
	OUPath        string     `gorm:"column:ou_path"`
	Attributes    string     `gorm:"column:attributes"`
	Hash          string     `gorm:"column:hash"`
	Version       int64      `gorm:"column:version"`
	DeletedAt     *time.Time `gorm:"column:deleted_at"`
	DeleteReason  string     `gorm:"column:delete_reason"`
	CreatedAt     time.Time  `gorm:"column:created_at"`
	UpdatedAt     time.Time  `gorm:"column:updated_at"`
}

func (userRow) TableName() string { return "users" }

type groupRow struct {
	ID           string     `gorm:"column:id;primaryKey"`
	AccountID    string     `gorm:"column:account_id"`
	ExternalID   string     `gorm:"column:external_id"`
	Source       string     `gorm:"column:source"`
	Kind         string     `gorm:"column:kind"`
	DisplayName  string     `gorm:"column:display_name"`
	DN           string     `gorm:"column:dn"`
	ParentID     string     `gorm:"column:parent_id"`
	Status       string     `gorm:"column:status"`
	Attributes   string     `gorm:"column:attributes"`
	Hash         string     `gorm:"column:hash"`
	Version      int64      `gorm:"column:version"`
	DeletedAt    *time.Time `gorm:"column:deleted_at"`
	DeleteReason string     `gorm:"column:delete_reason"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	UpdatedAt    time.Time  `gorm:"column:updated_at"`
}

func (groupRow) TableName() string { return "groups" }

type memberRow struct {
	AccountID  string `gorm:"column:account_id"`
	GroupID    string `gorm:"column:group_id;primaryKey"`
	MemberID   string `gorm:"column:member_id;primaryKey"`
	MemberType string `gorm:"column:member_type"`
}

func (memberRow) TableName() string { return "group_members" }

type runRow struct {
	ID            string     `gorm:"column:id;primaryKey"`
	AccountID     string     `gorm:"column:account_id"`
	Trigger       string     `gorm:"column:trigger"`
	Kind          string     `gorm:"column:kind"`
	KindReason    string     `gorm:"column:kind_reason"`
	DryRun        bool       `gorm:"column:dry_run"`
	Status        string     `gorm:"column:status"`
	Error         string     `gorm:"column:error"`
	StartedAt     time.Time  `gorm:"column:started_at"`
	FinishedAt    *time.Time `gorm:"column:finished_at"`
	Counts        string     `gorm:"column:counts"`
	Cursor        string     `gorm:"column:cursor"`
	ApprovedRunID string     `gorm:"column:approved_run_id"`
}

func (runRow) TableName() string { return "runs" }

type runEventRow struct {
	ID         int64     `gorm:"column:id;primaryKey;autoIncrement"`
	RunID      string    `gorm:"column:run_id"`
	AccountID  string    `gorm:"column:account_id"`
	ObjectType string    `gorm:"column:object_type"`
	Action     string    `gorm:"column:action"`
	DN         string    `gorm:"column:dn"`
	ExternalID string    `gorm:"column:external_id"`
	ResourceID string    `gorm:"column:resource_id"`
	Name       string    `gorm:"column:name"`
	Reason     string    `gorm:"column:reason"`
	Changed    string    `gorm:"column:changed"`
	At         time.Time `gorm:"column:at"`
}

func (runEventRow) TableName() string { return "run_events" }

type protectionRow struct {
	ID         string    `gorm:"column:id;primaryKey"`
	AccountID  string    `gorm:"column:account_id"`
	Role       string    `gorm:"column:role"`
	ObjectType string    `gorm:"column:object_type"`
	ExternalID string    `gorm:"column:external_id"`
	ResourceID string    `gorm:"column:resource_id"`
	Note       string    `gorm:"column:note"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (protectionRow) TableName() string { return "protections" }

type tokenRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	AccountID  string     `gorm:"column:account_id"`
	Role       string     `gorm:"column:role"`
	Name       string     `gorm:"column:name"`
	Hash       []byte     `gorm:"column:hash"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	LastUsedAt *time.Time `gorm:"column:last_used_at"`
}

func (tokenRow) TableName() string { return "api_tokens" }

type syncLockRow struct {
	AccountID   string    `gorm:"column:account_id;primaryKey"`
	Holder      string    `gorm:"column:holder"`
	RunID       string    `gorm:"column:run_id"`
	AcquiredAt  time.Time `gorm:"column:acquired_at"`
	HeartbeatAt time.Time `gorm:"column:heartbeat_at"`
}

func (syncLockRow) TableName() string { return "sync_locks" }

type schemaMigrationRow struct {
	Version   int64     `gorm:"column:version;primaryKey"`
	AppliedAt time.Time `gorm:"column:applied_at"`
}

func (schemaMigrationRow) TableName() string { return "schema_migrations" }

// allModels lists every model with its table, for the schema check.
func allModels() []any {
	return []any{&accountRow{}, &settingsRow{}, &userRow{}, &groupRow{}, &memberRow{},
		&runRow{}, &runEventRow{}, &protectionRow{}, &tokenRow{}, &syncLockRow{}, &schemaMigrationRow{}}
}

// now is the store's clock: UTC, truncated to microseconds because that is
// what PostgreSQL keeps, so a value read back equals the value written.
func now() time.Time { return norm(time.Now()) }

func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	n := norm(*t)
	return &n
}
