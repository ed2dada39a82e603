package ldapsync

import (
	"context"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// noAttributes is RFC 4511's "1.1": return no attributes, only DNs. A count
// then costs the server nothing beyond the index walk.
var noAttributes = []string{"1.1"}

// Count returns how many users, groups and OUs scope covers, with the same
// filters and bases as Stream.
func (d *Directory) Count(ctx context.Context, scope bridge.Scope) (bridge.ScopeCounts, error) {
	var c bridge.ScopeCounts
	for _, k := range []struct {
		kind bridge.EntryKind
		n    *int
	}{
		{bridge.EntryUser, &c.Users},
		{bridge.EntryGroup, &c.Groups},
		{bridge.EntryOU, &c.OrganizationalUnits},
	} {
		n, err := d.count(ctx, scope, k.kind)
		if err != nil {
			return bridge.ScopeCounts{}, err
		}
		*k.n = n
	}
	return c, nil
}

func (d *Directory) count(ctx context.Context, scope bridge.Scope, kind bridge.EntryKind) (int, error) {
	filter, err := filterFor(scope, kind)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, base := range searchBases(scope) {
		req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, noAttributes, nil)
		if err := d.pagedSearchInline(ctx, req, func(*ldap.Entry) error { n++; return nil }); err != nil {
			return 0, searchError(base, filter, err)
		}
	}
	return n, nil
}
