package bridge

import (
	"context"
	"time"
)

// Store is everything scimbridge keeps. db implements it for SQLite and
// PostgreSQL; every method is scoped by account.
type Store interface {
	AccountStore
	SettingsStore
	SyncStore
	RunStore
	ProtectionStore
	TokenStore
	// Ping checks the database is reachable (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

type AccountStore interface {
	// CreateAccount fails with ErrConflict when the id exists.
	CreateAccount(ctx context.Context, a Account) error
	// EnsureAccount creates the account when it does not exist.
	EnsureAccount(ctx context.Context, id string) (Account, error)
	GetAccount(ctx context.Context, id string) (Account, error)
	ListAccounts(ctx context.Context) ([]Account, error)
	// DeleteAccount removes the account and every row that belongs to it.
	DeleteAccount(ctx context.Context, id string) error
}

// StoredSettings is the settings document as kept: the password is not in
// Settings but sealed (encrypted) in SealedPassword.
type StoredSettings struct {
	Settings       Settings
	SealedPassword []byte
	UpdatedAt      time.Time
}

type SettingsStore interface {
	// GetSettings fails with ErrNotConfigured when the account has none.
	GetSettings(ctx context.Context, account string) (StoredSettings, error)
	PutSettings(ctx context.Context, account string, s StoredSettings) error
}

// ObjectState is the part of a stored user or group the engine diffs
// against: enough to decide add, update, (de|re)activate, delete or nothing
// without loading whole resources.
type ObjectState struct {
	ID         string
	ExternalID string
	Type       ObjectType // user, or group (any kind; see Kind)
	Kind       GroupKind  // groups only
	Source     Source
	Status     Status
	Hash       string
	Version    int64
	DN         string
	Name       string // userName or displayName
	Display    string // users: displayName
}

// Deletion soft-deletes one object.
type Deletion struct {
	ID     string
	Reason string
	At     time.Time
}

// Changes is one batch of a plan, applied by Apply in one transaction: all
// of it or nothing.
type Changes struct {
	// Users and Groups are inserted when their ID is new and replaced
	// otherwise (Version incremented, deletion cleared).
	Users  []User
	Groups []Group
	// Groups whose Members must be replaced are listed here; a Group in
	// Groups that is not in SetMembers keeps its memberships.
	SetMembers map[string][]Member
	// GroupHashes stores the content hash of groups of SetMembers, written
	// last in the transaction: a sync writes a group's hash with its
	// members, not before them (sink.put), and takes the groups' rows at
	// the end so that parallel transactions do not wait on each other.
	GroupHashes  map[string]string
	DeleteUsers  []Deletion
	DeleteGroups []Deletion
	Events       []RunEvent
}

type SyncStore interface {
	// ObjectStates calls fn for every user and group of the account,
	// including soft-deleted ones.
	ObjectStates(ctx context.Context, account string, fn func(ObjectState) error) error
	// Apply writes one batch in a single transaction. A soft-deleted group
	// loses its memberships; a soft-deleted user leaves every group.
	Apply(ctx context.Context, account string, c Changes) error
	GetUser(ctx context.Context, account, id string) (User, error)
	GetGroup(ctx context.Context, account, id string) (Group, error)
	// ListUsers pages through users in userName order; status "" means
	// every status.
	ListUsers(ctx context.Context, account string, status Status, offset, limit int) ([]User, int, error)
	ListGroups(ctx context.Context, account string, offset, limit int) ([]Group, int, error)
}

// MembershipStore is implemented by stores that can say which groups hold
// given members. Delta runs use it: AD drops a deleted object from every
// group without touching the groups' uSNChanged, so those groups must be
// found from the store.
type MembershipStore interface {
	// GroupsContaining returns the ids of the account's groups that have
	// any of memberIDs as a direct member.
	GroupsContaining(ctx context.Context, account string, memberIDs []string) ([]string, error)
}

// ParallelStore is implemented by stores where Apply calls in parallel
// transactions finish sooner than one after the other (PostgreSQL serves
// each in a backend of its own; SQLite has one writer). Writers says how
// many a sync may run at once; a store that does not implement it gets one.
type ParallelStore interface {
	Writers() int
}

// DeltaStore is implemented by stores that answer a delta run's questions
// about a few objects without loading every object of the account, so a
// delta costs what changed (and what that touches), not the directory's
// size. Without it a delta loads every state (ObjectStates). Every method
// takes lists of any length and batches them itself.
type DeltaStore interface {
	// StatesByExternalID returns the states of the account's users and
	// groups (soft-deleted included) whose external_id is one of ids, users
	// first. The engine passes objectGUIDs in their canonical lower-case
	// form, which is how it writes them.
	StatesByExternalID(ctx context.Context, account string, ids []string) ([]ObjectState, error)
	// StatesByID returns the states of the account's users and groups
	// (soft-deleted included) with these SCIM ids.
	StatesByID(ctx context.Context, account string, ids []string) ([]ObjectState, error)
	// LiveStatesByDN returns the live users and groups whose DN, lower-cased
	// by the database, is one of dns. Callers pass the forms they may be
	// stored in (lower-cased) and compare normalized DNs themselves.
	LiveStatesByDN(ctx context.Context, account string, dns []string) ([]ObjectState, error)
	// LiveUsersByName returns the live users whose lower-case userName is
	// one of names (lower-case).
	LiveUsersByName(ctx context.Context, account string, names []string) ([]ObjectState, error)
	// LiveADCount counts the live AD-sourced users and groups that have an
	// external id: the deletion threshold's base.
	LiveADCount(ctx context.Context, account string) (int, error)
	// GroupMembers returns the direct members of each of groupIDs.
	GroupMembers(ctx context.Context, account string, groupIDs []string) (map[string][]Member, error)
}

// EventFilter narrows the events of a run.
type EventFilter struct {
	Action Action
	Offset int
	Limit  int
}

type RunStore interface {
	CreateRun(ctx context.Context, r Run) error
	UpdateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, account, id string) (Run, error)
	// ListRuns is newest first.
	ListRuns(ctx context.Context, account string, offset, limit int) ([]Run, int, error)
	AddRunEvents(ctx context.Context, events []RunEvent) error
	ListRunEvents(ctx context.Context, account, runID string, f EventFilter) ([]RunEvent, int, error)
	// LockAccount takes the account's sync lock cluster-wide, or fails with
	// ErrRunInProgress. The lock is released by unlock, or when the holding
	// process dies.
	LockAccount(ctx context.Context, account string) (unlock func(), err error)
	// FailAbandonedRuns marks runs left "running" by a dead process as
	// failed, with reason. It only touches runs whose lock is free.
	FailAbandonedRuns(ctx context.Context, reason string) (int, error)
}

type ProtectionStore interface {
	ListProtections(ctx context.Context, account string) ([]Protection, error)
	AddProtection(ctx context.Context, p Protection) error
	DeleteProtection(ctx context.Context, account, id string) error
}

type TokenStore interface {
	CreateToken(ctx context.Context, t Token) error
	// FindToken looks a token up by the SHA-256 of its secret.
	FindToken(ctx context.Context, hash []byte) (Token, error)
	ListTokens(ctx context.Context, account string) ([]Token, error)
	DeleteToken(ctx context.Context, account, id string) error
}
