package bridge

import (
	"strings"
	"time"
)

// EntryKind is the kind of AD object an Entry describes.
type EntryKind string

const (
	EntryUser  EntryKind = "user"
	EntryGroup EntryKind = "group"
	EntryOU    EntryKind = "ou"
)

// userAccountControl bits (MS-ADTS 2.2.16) that the engine uses.
const (
	UACAccountDisabled    uint32 = 0x2
	UACNormalAccount      uint32 = 0x200
	UACDontExpirePassword uint32 = 0x10000
)

// groupType bits (MS-ADTS 2.2.12).
const (
	GroupTypeGlobal      int64 = 0x2
	GroupTypeDomainLocal int64 = 0x4
	GroupTypeUniversal   int64 = 0x8
	GroupTypeSecurity    int64 = 0x80000000
)

// Entry is one AD object as ldapsync reads it: what the engine needs and
// nothing LDAP-specific. Attribute names in Attrs are lower-case; binary
// attributes (objectGUID, objectSid) are decoded into their own fields and are
// not in Attrs.
type Entry struct {
	Kind EntryKind
	DN   string
	// GUID is the objectGUID in canonical form (see ldapsync.FormatGUID): the
	// form AD's own tools display, lower-case.
	GUID  string
	Attrs map[string][]string
	// Members holds every member DN of a group, read whole with ranged
	// retrieval however large the group is.
	Members []string
	// UserAccountControl and AccountExpires are decoded for users.
	UserAccountControl uint32
	// AccountExpires is zero when the account never expires (0 or
	// 0x7FFFFFFFFFFFFFFF in AD).
	AccountExpires time.Time
	GroupType      int64
	USNChanged     int64
	// USNCreated is 0 when the directory did not say.
	USNCreated int64
}

// Get returns the first value of attr, or "".
func (e Entry) Get(attr string) string {
	if v := e.Attrs[strings.ToLower(attr)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Disabled reports whether userAccountControl has ACCOUNTDISABLE set.
func (e Entry) Disabled() bool { return e.UserAccountControl&UACAccountDisabled != 0 }

// Expired reports whether accountExpires lies before now.
func (e Entry) Expired(now time.Time) bool {
	return !e.AccountExpires.IsZero() && e.AccountExpires.Before(now)
}

// SecurityGroup reports whether groupType has the security bit; a group
// without it is a distribution list.
func (e Entry) SecurityGroup() bool { return e.GroupType&GroupTypeSecurity != 0 }
