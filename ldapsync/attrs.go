package ldapsync

import (
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// Attributes every kind needs: the anchor, the delta cursor, naming.
var commonAttrs = []string{"objectGUID", "objectClass", "uSNChanged", "uSNCreated", "whenChanged", "cn", "name", "description"}

// UserAttributes are the attributes read for users: DESIGN.md's default
// mapping plus what the engine decodes. Custom mappings add theirs through
// Scope.Attributes.
var UserAttributes = []string{
	"userPrincipalName", "sAMAccountName", "givenName", "sn", "displayName", "mail",
	"telephoneNumber", "mobile", "title", "l", "streetAddress", "postalCode", "co", "c",
	"physicalDeliveryOfficeName", "department", "company", "employeeID", "manager",
	"userAccountControl", "accountExpires",
	"extensionAttribute1", "extensionAttribute2", "extensionAttribute3", "extensionAttribute4",
	"extensionAttribute5", "extensionAttribute6", "extensionAttribute7", "extensionAttribute8",
	"extensionAttribute9", "extensionAttribute10", "extensionAttribute11", "extensionAttribute12",
	"extensionAttribute13", "extensionAttribute14", "extensionAttribute15",
}

// GroupAttributes are read for groups; member is read ranged (see ranged.go).
var GroupAttributes = []string{"sAMAccountName", "displayName", "mail", "groupType", "member", "managedBy"}

// OUAttributes are read for organizational units.
var OUAttributes = []string{"ou"}

// attributesFor returns the attribute list of a search for kind, with the
// caller's extras, without duplicates (LDAP names are case-insensitive).
func attributesFor(kind bridge.EntryKind, extra []string) ([]string, error) {
	var own []string
	switch kind {
	case bridge.EntryUser:
		own = UserAttributes
	case bridge.EntryGroup:
		own = GroupAttributes
	case bridge.EntryOU:
		own = OUAttributes
	default:
		return nil, fmt.Errorf("unknown entry kind %q", kind)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(commonAttrs)+len(own)+len(extra))
	for _, list := range [][]string{commonAttrs, own, extra} {
		for _, a := range list {
			a = strings.TrimSpace(a)
			if a == "" || seen[strings.ToLower(a)] {
				continue
			}
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	return out, nil
}
