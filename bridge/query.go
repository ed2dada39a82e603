package bridge

import (
	"context"
	"errors"
	"strings"
)

// A Query is a SCIM list request in the domain's own terms: scimapi parses
// the request (filter, sortBy, startIndex, count, attributes) and resolves
// every attribute path against the SCIM schemas it serves; db compiles the
// Query to SQL. Paths arrive resolved and typed, so db needs no SCIM schema
// knowledge, only the mapping from paths to its columns and JSON documents.

// AttrType is the SCIM data type of an attribute (RFC 7643 section 2.3).
type AttrType string

const (
	AttrString    AttrType = "string"
	AttrBoolean   AttrType = "boolean"
	AttrDecimal   AttrType = "decimal"
	AttrInteger   AttrType = "integer"
	AttrDateTime  AttrType = "dateTime"
	AttrReference AttrType = "reference"
	AttrBinary    AttrType = "binary"
	AttrComplex   AttrType = "complex"
)

// AttrPath is a resolved attribute path: URN:Name.Sub in canonical
// spelling. URN is empty for the resource's core schema and names an
// extension otherwise; its attributes live under the URN key of the
// document.
type AttrPath struct {
	URN  string
	Name string
	Sub  string
	// Type and CaseExact describe the leaf (Sub when set, else Name).
	Type      AttrType
	CaseExact bool
	// MultiValued reports whether Name is multi-valued.
	MultiValued bool
}

// String is the path in SCIM notation.
func (p AttrPath) String() string {
	var b strings.Builder
	if p.URN != "" {
		b.WriteString(p.URN + ":")
	}
	b.WriteString(p.Name)
	if p.Sub != "" {
		b.WriteString("." + p.Sub)
	}
	return b.String()
}

// CompareOp is a SCIM attribute operator.
type CompareOp string

const (
	OpEq      CompareOp = "eq"
	OpNe      CompareOp = "ne"
	OpCo      CompareOp = "co"
	OpSw      CompareOp = "sw"
	OpEw      CompareOp = "ew"
	OpGt      CompareOp = "gt"
	OpGe      CompareOp = "ge"
	OpLt      CompareOp = "lt"
	OpLe      CompareOp = "le"
	OpPresent CompareOp = "pr"
)

// Filter is a node of a parsed SCIM filter: *Compare, *And, *Or, *Not or
// *ValuePath.
type Filter interface{ filterNode() }

// Compare is `path op value`. Value is a string, bool, float64, time.Time
// (for dateTime attributes) or nil (for pr, and for eq/ne null).
type Compare struct {
	Path  AttrPath
	Op    CompareOp
	Value any
}

// And is `left and right`.
type And struct{ Left, Right Filter }

// Or is `left or right`.
type Or struct{ Left, Right Filter }

// Not is `not (filter)`.
type Not struct{ Filter Filter }

// ValuePath is `attr[filter]`: some value of the multi-valued Path matches
// Filter. The paths inside Filter name Path's sub-attributes (Sub is set,
// URN and Name equal Path's).
type ValuePath struct {
	Path   AttrPath
	Filter Filter
}

func (*Compare) filterNode()   {}
func (*And) filterNode()       {}
func (*Or) filterNode()        {}
func (*Not) filterNode()       {}
func (*ValuePath) filterNode() {}

// Query is one page of a filtered, sorted list of users or groups. Deleted
// resources are never part of a Query's results.
type Query struct {
	Filter Filter // nil: everything
	// SortBy nil: an order that is stable across pages, but unspecified.
	SortBy         *AttrPath
	SortDescending bool
	// StartIndex is 1-based; Count is the page size (0: only the total).
	StartIndex int
	Count      int
	// WithMembers loads Group members; a query for groups whose members
	// are not returned leaves it false and costs no membership read.
	WithMembers bool
}

// GroupRef is a group a user is a direct member of.
type GroupRef struct {
	ID          string
	DisplayName string
}

// MemberChange updates a group's members: Replace sets them to Set;
// otherwise Add are added (existing ones ignored) and Remove removed.
type MemberChange struct {
	Replace bool
	Set     []Member
	Add     []Member
	Remove  []string
}

// IsZero reports whether the change changes nothing.
func (c MemberChange) IsZero() bool {
	return !c.Replace && len(c.Add) == 0 && len(c.Remove) == 0
}

// ResourceStore serves the SCIM endpoint. Every method is scoped to one
// account and never returns soft-deleted resources (ErrNotFound instead).
// Writers pass the version they read: a write fails with ErrVersionMismatch
// when the stored version differs, so concurrent PATCHes never lose an
// update.
type ResourceStore interface {
	QueryUsers(ctx context.Context, account string, q Query) ([]User, int, error)
	QueryGroups(ctx context.Context, account string, q Query) ([]Group, int, error)
	LiveUser(ctx context.Context, account, id string) (User, error)
	LiveGroup(ctx context.Context, account, id string, withMembers bool) (Group, error)
	// UserGroups returns the live groups each user is a direct member of.
	UserGroups(ctx context.Context, account string, userIDs []string) (map[string][]GroupRef, error)
	// IsProtected reports whether a Protection with role protected names
	// the object (by externalId or resource id).
	IsProtected(ctx context.Context, account, externalID, id string) (bool, error)

	// CreateUser inserts u (ErrConflict when userName or externalId is
	// taken) and returns it as stored.
	CreateUser(ctx context.Context, account string, u User) (User, error)
	// UpdateUser replaces the stored user u.ID, version expected, and
	// returns it with its new version.
	UpdateUser(ctx context.Context, account string, u User, expected int64) (User, error)
	// DeleteUser removes a user and its memberships.
	DeleteUser(ctx context.Context, account, id string, expected int64) error

	CreateGroup(ctx context.Context, account string, g Group) (Group, error)
	// UpdateGroup writes g's fields and applies members; the result has
	// Members loaded only when withMembers.
	UpdateGroup(ctx context.Context, account string, g Group, members MemberChange, expected int64, withMembers bool) (Group, error)
	DeleteGroup(ctx context.Context, account, id string, expected int64) error
	// ResolveMembers returns the type ("User" or "Group") of each id that
	// is a live user or group of the account; other ids are absent.
	ResolveMembers(ctx context.Context, account string, ids []string) (map[string]string, error)
}

// ErrVersionMismatch: the resource changed since the caller read it.
var ErrVersionMismatch = errors.New("the resource was changed by another request")
