package bridge

import (
	"fmt"
	"regexp"
	"strings"
)

// Schema URNs served by scimbridge.
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// The scimbridge extension carries AD facts (dn, ouPath, kind, parent,
	// status, deletedAt, protected) on Users and Groups.
	SchemaBridgeUser  = "urn:scimbridge:params:scim:schemas:extension:ad:2.0:User"
	SchemaBridgeGroup = "urn:scimbridge:params:scim:schemas:extension:ad:2.0:Group"
)

// userPaths lists the SCIM user attribute paths a mapping may target, in
// canonical spelling, keyed by lower case. Multi-valued attributes are
// addressed by type: emails[type eq "work"].value.
var userPaths = map[string]string{}

// readOnlyUserPaths are set by scimbridge itself (from userAccountControl,
// the DN, the manager reference) and cannot be a mapping target.
var readOnlyUserPaths = map[string]bool{}

func init() {
	add := func(p string) { userPaths[strings.ToLower(p)] = p }
	for _, p := range []string{"userName", "displayName", "nickName", "profileUrl", "title", "userType",
		"preferredLanguage", "locale", "timezone", "active", "externalId"} {
		add(p)
	}
	for _, p := range []string{"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"} {
		add("name." + p)
	}
	for _, t := range []string{"work", "home", "other"} {
		add(`emails[type eq "` + t + `"].value`)
	}
	for _, t := range []string{"work", "home", "mobile", "fax", "pager", "other"} {
		add(`phoneNumbers[type eq "` + t + `"].value`)
	}
	for _, t := range []string{"work", "home", "other"} {
		for _, sub := range []string{"formatted", "streetAddress", "locality", "region", "postalCode", "country"} {
			add(`addresses[type eq "` + t + `"].` + sub)
		}
	}
	for _, p := range []string{"employeeNumber", "costCenter", "organization", "division", "department", "manager"} {
		add(SchemaEnterpriseUser + ":" + p)
	}
	for i := 1; i <= 15; i++ {
		add(fmt.Sprintf("%s:extensionAttribute%d", SchemaBridgeUser, i))
	}
	for _, p := range []string{"dn", "ouPath", "kind", "parent", "status", "deletedAt", "protected"} {
		add(SchemaBridgeUser + ":" + p)
		readOnlyUserPaths[SchemaBridgeUser+":"+p] = true
	}
	readOnlyUserPaths["active"] = true
	readOnlyUserPaths["externalId"] = true
	readOnlyUserPaths[SchemaEnterpriseUser+":manager"] = true
}

var (
	spaces         = regexp.MustCompile(`\s+`)
	shortValuePath = regexp.MustCompile(`^(?i)(emails|phoneNumbers)\[type eq "[a-z]+"\]$`)
)

// CanonicalUserPath returns the canonical spelling of a SCIM user path, or an
// error naming the path when it is not one scimbridge knows.
func CanonicalUserPath(path string) (string, error) {
	p := strings.TrimSpace(spaces.ReplaceAllString(path, " "))
	if shortValuePath.MatchString(p) {
		p += ".value"
	}
	// The core schema URN may prefix core attributes.
	if strings.HasPrefix(strings.ToLower(p), strings.ToLower(SchemaUser)+":") {
		p = p[len(SchemaUser)+1:]
	}
	if c, ok := userPaths[strings.ToLower(p)]; ok {
		return c, nil
	}
	if p == "" {
		return "", fmt.Errorf("is empty; name a SCIM attribute path such as title or name.givenName")
	}
	return "", fmt.Errorf("%q is not a SCIM user attribute path scimbridge knows (for example title, name.givenName, "+
		`emails[type eq "work"].value, %s:department or %s:extensionAttribute1)`, path, SchemaEnterpriseUser, SchemaBridgeUser)
}

// IsReadOnlyUserPath reports whether scimbridge sets path itself.
func IsReadOnlyUserPath(canonical string) bool { return readOnlyUserPaths[canonical] }
