package ldapsync

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// Syntax implements bridge.LDAPSyntax with go-ldap's own parsers, so that
// what settings validation accepts is exactly what the searches accept.
type Syntax struct{}

var _ bridge.LDAPSyntax = Syntax{}

// CheckFilter compiles filter (see CheckFilter).
func (Syntax) CheckFilter(filter string) error { return CheckFilter(filter) }

// CheckDN parses dn.
func (Syntax) CheckDN(dn string) error {
	if strings.TrimSpace(dn) == "" {
		return newError(KindOther, nil, "the DN is empty")
	}
	if _, err := ldap.ParseDN(dn); err != nil {
		return newError(KindOther, err, "%q is not a valid DN: %s", dn, strings.TrimPrefix(err.Error(), "ldap: "))
	}
	return nil
}

// DNWithin reports whether dn equals base or lies under it, comparing RDNs
// case-insensitively (never by splitting strings: escaped commas).
func (Syntax) DNWithin(dn, base string) bool {
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return false
	}
	b, err := ldap.ParseDN(base)
	if err != nil {
		return false
	}
	return d.EqualFold(b) || b.AncestorOfFold(d)
}
