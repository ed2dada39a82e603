package ldapsync

import (
	"context"
	"slices"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// Control OIDs the rootDSE advertises that the engine cares about.
const (
	OIDPagedResults = "1.2.840.113556.1.4.319"
	OIDDirSync      = "1.2.840.113556.1.4.841"
	OIDShowDeleted  = "1.2.840.113556.1.4.417"
)

// ServerInfo reads the rootDSE, and the DC's invocationId from the nTDSDSA
// object named by dsServiceName when the bind account may read it (a
// change of invocationId means the DC was restored: USNs no longer compare
// and the engine must do a full run).
func (d *Directory) ServerInfo(ctx context.Context) (bridge.ServerInfo, error) {
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)",
		[]string{"defaultNamingContext", "highestCommittedUSN", "supportedControl", "dnsHostName", "dsServiceName"}, nil)
	entries, _, err := d.search(ctx, req)
	if err != nil {
		return bridge.ServerInfo{}, classify(err, "read the rootDSE")
	}
	if len(entries) == 0 {
		return bridge.ServerInfo{}, newError(KindOther, nil, "the server returned no rootDSE")
	}
	info, err := parseRootDSE(entries[0])
	if err != nil {
		return bridge.ServerInfo{}, err
	}
	if info.DSServiceName != "" {
		info.InvocationID = d.invocationID(ctx, info.DSServiceName)
	}
	return info, nil
}

func parseRootDSE(e *ldap.Entry) (bridge.ServerInfo, error) {
	info := bridge.ServerInfo{
		DNSHostName:          e.GetEqualFoldAttributeValue("dnsHostName"),
		DefaultNamingContext: e.GetEqualFoldAttributeValue("defaultNamingContext"),
		DSServiceName:        e.GetEqualFoldAttributeValue("dsServiceName"),
		SupportedControls:    e.GetEqualFoldAttributeValues("supportedControl"),
	}
	usn, err := decodeInt64("highestCommittedUSN", e.GetEqualFoldAttributeValue("highestCommittedUSN"))
	if err != nil {
		return info, newError(KindOther, err, "the rootDSE is unreadable: %v", err)
	}
	info.HighestCommittedUSN = usn
	info.SupportsPaging = slices.Contains(info.SupportedControls, OIDPagedResults)
	info.SupportsDirSync = slices.Contains(info.SupportedControls, OIDDirSync)
	info.SupportsShowDeleted = slices.Contains(info.SupportedControls, OIDShowDeleted)
	return info, nil
}

func (d *Directory) invocationID(ctx context.Context, dsa string) string {
	req := ldap.NewSearchRequest(dsa, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)",
		[]string{"invocationId"}, nil)
	entries, _, err := d.search(ctx, req)
	if err != nil || len(entries) == 0 {
		d.log.Debug("invocationId not readable", "dsServiceName", dsa, "err", err)
		return ""
	}
	id, err := FormatGUID(entries[0].GetEqualFoldRawAttributeValue("invocationId"))
	if err != nil {
		d.log.Debug("invocationId not readable", "dsServiceName", dsa, "err", err)
		return ""
	}
	return id
}
