package bridge

import (
	"context"
	"log/slog"
)

// Scope says which part of the directory a sync reads.
type Scope struct {
	// BaseDN is the search base for everything.
	BaseDN string
	// Subtrees, when not empty, limits users, groups and OUs to these OU
	// subtrees (organizationalUnits mode "selected"); each is searched with
	// scope wholeSubtree, so sub-OUs are included.
	Subtrees []string
	// InclusionFilter and ExclusionFilter are admin-written LDAP filters
	// applied to users on the server: (&(base)(inclusion)(!(exclusion))).
	InclusionFilter string
	ExclusionFilter string
	// DistributionLists includes groups without the security bit.
	DistributionLists bool
	// Attributes are extra LDAP attributes to fetch for users, beyond the
	// default mapping's (custom mappings name them).
	Attributes []string
	// ChangedAfter, when above zero, limits a read to objects whose
	// uSNChanged is above it: the changes since a delta cursor.
	ChangedAfter int64
	// Where is an extra LDAP filter ANDed into the search of every kind
	// (delta runs use it to find the reports of a renamed manager).
	Where string
}

// Tombstone is a deleted AD object as the Deleted Objects container keeps
// it: only its anchor survives that the engine can use.
type Tombstone struct {
	GUID            string
	DN              string
	LastKnownParent string
	USNChanged      int64
}

// DeltaDirectory is a Directory that can list deletions. Delta runs need
// it; with a Directory that lacks it every run is full.
type DeltaDirectory interface {
	Directory
	// Deleted calls fn for every object deleted from namingContext with a
	// uSNChanged above usn: a search of its Deleted Objects container for
	// (isDeleted=TRUE) with the Show Deleted control. A nil return means
	// the list is complete.
	Deleted(ctx context.Context, namingContext string, usn int64, fn func(Tombstone) error) error
}

// ServerInfo is what the rootDSE says about the domain controller.
type ServerInfo struct {
	DNSHostName          string   `json:"dnsHostName"`
	DefaultNamingContext string   `json:"defaultNamingContext"`
	HighestCommittedUSN  int64    `json:"highestCommittedUSN"`
	SupportedControls    []string `json:"supportedControls"`
	DSServiceName        string   `json:"dsServiceName"`
	// InvocationID identifies the DC's database instance (from the
	// nTDSDSA object named by dsServiceName); a change forces a full run.
	InvocationID        string `json:"invocationId,omitempty"`
	SupportsPaging      bool   `json:"supportsPaging"`
	SupportsDirSync     bool   `json:"supportsDirSync"`
	SupportsShowDeleted bool   `json:"supportsShowDeleted"`
}

// OUNode is one organizational unit in the tree shown to OU pickers.
type OUNode struct {
	DN       string   `json:"dn"`
	Name     string   `json:"name"`
	GUID     string   `json:"guid"`
	Children []OUNode `json:"children,omitempty"`
}

// ScopeCounts is how many objects of each kind a Scope covers.
type ScopeCounts struct {
	Users               int `json:"users"`
	Groups              int `json:"groups"`
	OrganizationalUnits int `json:"organizationalUnits"`
}

// Directory reads an Active Directory. It never writes to it.
type Directory interface {
	// ServerInfo reads the rootDSE.
	ServerInfo(ctx context.Context) (ServerInfo, error)
	// Stream calls fn for every entry of kind in scope, page by page, so
	// memory stays flat whatever the directory size. It returns the first
	// error of the read or of fn. A nil return means the enumeration was
	// complete.
	Stream(ctx context.Context, scope Scope, kind EntryKind, fn func(Entry) error) error
	// Count returns how many users, groups and OUs scope covers.
	Count(ctx context.Context, scope Scope) (ScopeCounts, error)
	// OUTree lists the OU hierarchy under baseDN.
	OUTree(ctx context.Context, baseDN string) ([]OUNode, error)
	Close() error
}

// DirectoryOpener dials and binds a Directory from connection settings and
// the decrypted bind password.
type DirectoryOpener func(ctx context.Context, conn Connection, password string, log *slog.Logger) (Directory, error)

// FilterChecker compiles an LDAP filter and returns a readable error when it
// does not parse. ldapsync.CheckFilter implements it.
type FilterChecker func(filter string) error
