package ldapsync

import (
	"context"
	"fmt"
	"strconv"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

var _ bridge.DeltaDirectory = (*Directory)(nil)

// DeletedObjectsDN is the Deleted Objects container of a naming context.
func DeletedObjectsDN(namingContext string) string { return "CN=Deleted Objects," + namingContext }

// Deleted lists the tombstones of namingContext with a uSNChanged above
// usn: a paged one-level search of CN=Deleted Objects for
// (isDeleted=TRUE), with the Show Deleted control (critical: a server that
// ignores it would answer "nothing was deleted"). It implements
// bridge.DeltaDirectory.
func (d *Directory) Deleted(ctx context.Context, namingContext string, usn int64, fn func(bridge.Tombstone) error) error {
	base := DeletedObjectsDN(namingContext)
	// An account without rights there sees the container but nothing in it
	// (AD's default: only administrators list tombstones), which would read
	// as "nothing was deleted". Its objectGUID is readable only with them.
	probe := ldap.NewSearchRequest(base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)",
		[]string{"objectGUID"}, []ldap.Control{ldap.NewControlString(OIDShowDeleted, true, "")})
	entries, _, err := d.search(ctx, probe)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return searchError(base, probe.Filter, err)
	}
	if err != nil || len(entries) == 0 || len(entries[0].GetEqualFoldRawAttributeValue("objectGUID")) == 0 {
		return fmt.Errorf("%w (%s): grant the bind account List Contents and Read Property on it", bridge.ErrDeletedNotReadable, base)
	}
	filter := "(&(isDeleted=TRUE)(uSNChanged>=" + strconv.FormatInt(usn+1, 10) + "))"
	req := ldap.NewSearchRequest(base, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false, filter,
		[]string{"objectGUID", "uSNChanged", "lastKnownParent", "isDeleted"},
		[]ldap.Control{ldap.NewControlString(OIDShowDeleted, true, "")})
	d.log.Debug("tombstones", "base", base, "filter", filter)
	var fnErr error
	err = d.pagedSearch(ctx, req, func(le *ldap.Entry) error {
		g, err := FormatGUID(le.GetEqualFoldRawAttributeValue("objectGUID"))
		if err != nil {
			return newError(KindOther, err, "tombstone %q has an unreadable objectGUID: %v", le.DN, err)
		}
		u, err := decodeInt64("uSNChanged", le.GetEqualFoldAttributeValue("uSNChanged"))
		if err != nil {
			return newError(KindOther, err, "tombstone %q: %v", le.DN, err)
		}
		t := bridge.Tombstone{GUID: g, DN: le.DN, LastKnownParent: le.GetEqualFoldAttributeValue("lastKnownParent"), USNChanged: u}
		if err := fn(t); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if err != nil {
		if fnErr != nil && err == fnErr {
			return err
		}
		return searchError(base, filter, err)
	}
	return nil
}
