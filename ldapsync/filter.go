package ldapsync

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// Object filters, as AD admins write them. objectCategory=person is indexed
// in AD (objectClass=user alone also matches computers), so users are
// "person AND user".
const (
	UserFilter  = "(&(objectCategory=person)(objectClass=user))"
	GroupFilter = "(objectClass=group)"
	OUFilter    = "(objectClass=organizationalUnit)"
	// SecurityGroupFilter keeps groups with the security bit (0x80000000)
	// through the LDAP_MATCHING_RULE_BIT_AND rule; distribution lists lack it.
	SecurityGroupFilter = "(groupType:1.2.840.113556.1.4.803:=2147483648)"
)

// Equals returns (attr=value) with value escaped: every value ldapsync puts
// into a filter goes through ldap.EscapeFilter, here.
func Equals(attr, value string) string {
	return "(" + attr + "=" + ldap.EscapeFilter(value) + ")"
}

// normalizeFilter puts an admin-written filter in parentheses when it has
// none ("department=*" is common in forms) and checks that it compiles.
func normalizeFilter(f string) (string, error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return "", nil
	}
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	if err := CheckFilter(f); err != nil {
		return "", err
	}
	return f, nil
}

// filterFor builds the server-side filter for kind in scope:
// (&(base)(inclusion)(!(exclusion))) for users, security groups only unless
// distribution lists are imported.
func filterFor(scope bridge.Scope, kind bridge.EntryKind) (string, error) {
	f, err := kindFilter(scope, kind)
	if err != nil {
		return "", err
	}
	extra := ""
	if scope.ChangedAfter > 0 {
		extra += "(uSNChanged>=" + strconv.FormatInt(scope.ChangedAfter+1, 10) + ")"
	}
	if scope.Where != "" {
		w, err := normalizeFilter(scope.Where)
		if err != nil {
			return "", err
		}
		extra += w
	}
	if extra == "" {
		return f, nil
	}
	return "(&" + f + extra + ")", nil
}

func kindFilter(scope bridge.Scope, kind bridge.EntryKind) (string, error) {
	switch kind {
	case bridge.EntryUser:
		inc, err := normalizeFilter(scope.InclusionFilter)
		if err != nil {
			return "", err
		}
		exc, err := normalizeFilter(scope.ExclusionFilter)
		if err != nil {
			return "", err
		}
		if inc == "" && exc == "" {
			return UserFilter, nil
		}
		f := "(&(objectCategory=person)(objectClass=user)" + inc
		if exc != "" {
			f += "(!" + exc + ")"
		}
		return f + ")", nil
	case bridge.EntryGroup:
		if scope.DistributionLists {
			return GroupFilter, nil
		}
		return "(&" + GroupFilter + SecurityGroupFilter + ")", nil
	case bridge.EntryOU:
		return OUFilter, nil
	}
	return "", fmt.Errorf("unknown entry kind %q", kind)
}

// CheckFilter compiles an LDAP filter and returns one sentence when it does
// not parse. It implements bridge.FilterChecker.
func CheckFilter(filter string) error {
	if _, err := ldap.CompileFilter(filter); err != nil {
		return newError(KindFilter, err, "filter %q is not a valid LDAP filter: %s", filter, filterReason(err))
	}
	return nil
}

var _ bridge.FilterChecker = CheckFilter

// filterReason strips go-ldap's "LDAP Result Code 201 ...:" prefix.
func filterReason(err error) string {
	var le *ldap.Error
	if e, ok := err.(*ldap.Error); ok {
		le = e
	}
	if le != nil && le.Err != nil {
		return strings.TrimPrefix(le.Err.Error(), "ldap: ")
	}
	return err.Error()
}
