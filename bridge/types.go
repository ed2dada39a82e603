package bridge

import "time"

// DefaultAccount exists from the first start.
const DefaultAccount = "default"

// Account is a tenant: every other row belongs to exactly one.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// Source says who manages a resource.
type Source string

const (
	SourceAD    Source = "ad"    // read from Active Directory; read-only over SCIM unless protected
	SourceLocal Source = "local" // created over SCIM; fully writable
)

// Status is the lifecycle state of a user or group.
type Status string

const (
	StatusActive      Status = "active"
	StatusDeactivated Status = "deactivated" // disabled or expired in AD: served with active=false
	StatusDeleted     Status = "deleted"     // gone from AD: kept for audit, not served
)

// GroupKind is what an AD object a Group came from.
type GroupKind string

const (
	KindOU           GroupKind = "ou"
	KindSecurity     GroupKind = "security"
	KindDistribution GroupKind = "distribution"
	KindLocal        GroupKind = "local"
)

// User is a SCIM User of one account. Attributes is the SCIM document
// without id, meta and schemas: core attributes at the top level, extension
// attributes under their schema URN. The indexed fields (UserName,
// DisplayName, ...) duplicate it for queries.
type User struct {
	ID          string
	AccountID   string
	ExternalID  string // objectGUID, canonical form, for AD users
	Source      Source
	UserName    string
	DisplayName string
	Active      bool
	Status      Status
	DN          string
	OUPath      string
	Attributes  map[string]any
	// AttributesJSON, when not "", is a cache: it must equal the JSON the
	// store writes for Attributes (AppendJSON's bytes), and the store then
	// writes it instead of encoding the map again on the sync's critical
	// path. Only Mapper.User sets it, from the finished document it also
	// hashes, and no step between the mapper and the store changes a
	// mapped user's Attributes (the plan decides, the sink sets AccountID
	// and the times, which are columns, not attributes). Users read from
	// the store or built from a SCIM request leave it "". Code that changes
	// the Attributes of a mapped user must set it to "".
	AttributesJSON string `json:"-"`
	// Hash is a digest of what AD last gave for the user, so an unchanged
	// entry costs no write.
	Hash         string
	Version      int64
	DeletedAt    *time.Time
	DeleteReason string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Member is one member of a Group.
type Member struct {
	ID   string // SCIM id of the member
	Type string // "User" or "Group"
}

// Group is a SCIM Group of one account.
type Group struct {
	ID           string
	AccountID    string
	ExternalID   string
	Source       Source
	Kind         GroupKind
	DisplayName  string
	DN           string
	ParentID     string // for OU groups: the parent OU group
	Status       Status
	Attributes   map[string]any
	Members      []Member
	Hash         string
	Version      int64
	DeletedAt    *time.Time
	DeleteReason string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ObjectType is the kind of object a protection or event concerns.
type ObjectType string

const (
	ObjectUser         ObjectType = "user"
	ObjectGroup        ObjectType = "group"
	ObjectDistribution ObjectType = "distribution"
	ObjectOU           ObjectType = "ou"
)

// ProtectionRole separates objects AD must not overwrite from owners, whom a
// sync must never delete or deactivate.
type ProtectionRole string

const (
	RoleProtected ProtectionRole = "protected"
	RoleOwner     ProtectionRole = "owner"
)

// Protection marks one object of an account. It names the object by its
// objectGUID (ExternalID) or, for local objects, its SCIM id.
type Protection struct {
	ID         string         `json:"id"`
	AccountID  string         `json:"accountId"`
	Role       ProtectionRole `json:"role"`
	ObjectType ObjectType     `json:"objectType"`
	ExternalID string         `json:"externalId,omitempty"`
	ResourceID string         `json:"resourceId,omitempty"`
	Note       string         `json:"note,omitempty"`
	CreatedAt  time.Time      `json:"createdAt"`
}

// TokenRole decides what a bearer token may reach.
type TokenRole string

const (
	TokenAdmin   TokenRole = "admin"
	TokenAuditor TokenRole = "auditor"
	TokenSCIM    TokenRole = "scim"
)

// Token is an API token; only the SHA-256 hash of its secret is stored.
type Token struct {
	ID         string     `json:"id"`
	AccountID  string     `json:"accountId"`
	Role       TokenRole  `json:"role"`
	Name       string     `json:"name,omitempty"`
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}
