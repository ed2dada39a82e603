package ldapsync

import (
	"context"
	"errors"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// Stream calls fn for every entry of kind in scope, page by page. Groups
// come with every member, read with ranged retrieval when AD splits them.
// A nil return means the enumeration was complete.
func (d *Directory) Stream(ctx context.Context, scope bridge.Scope, kind bridge.EntryKind, fn func(bridge.Entry) error) error {
	filter, err := filterFor(scope, kind)
	if err != nil {
		return err
	}
	attrs, err := attributesFor(kind, scope.Attributes)
	if err != nil {
		return err
	}
	var fnErr error
	for _, base := range searchBases(scope) {
		req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
		d.log.Debug("stream", "kind", string(kind), "base", base, "filter", filter)
		// Groups are read a page at a time, since their ranged member
		// reads are searches of their own; users and OUs stream entry by
		// entry, so memory stays a few entries whatever the page size.
		search := d.pagedSearchInline
		if kind == bridge.EntryGroup {
			search = d.pagedSearch
		}
		err := search(ctx, req, func(le *ldap.Entry) error {
			e, err := decodeEntry(le, kind)
			if err != nil {
				return err
			}
			if kind == bridge.EntryGroup {
				if e.Members, err = d.members(ctx, le); err != nil {
					return err
				}
			}
			if err := fn(e); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
		if err != nil {
			if fnErr != nil && errors.Is(err, fnErr) {
				return err // the caller's own error, unchanged
			}
			return searchError(base, filter, err)
		}
	}
	return nil
}

// searchBases returns the bases to search: the selected subtrees, or the
// base DN. A subtree inside another selected subtree is dropped, since the
// outer wholeSubtree search already covers it and would yield its entries
// twice.
func searchBases(scope bridge.Scope) []string {
	if len(scope.Subtrees) == 0 {
		return []string{scope.BaseDN}
	}
	var syn Syntax
	var out []string
	for i, s := range scope.Subtrees {
		covered := false
		for j, o := range scope.Subtrees {
			if i == j {
				continue
			}
			// Strictly inside another, or an exact duplicate listed earlier.
			if syn.DNWithin(s, o) && (!syn.DNWithin(o, s) || j < i) {
				covered = true
				break
			}
		}
		if !covered && strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// decodeEntry turns an LDAP entry into a bridge.Entry: names lower-cased,
// objectGUID formatted, the numeric AD attributes decoded, binary
// attributes left out of Attrs. member is handled by members().
func decodeEntry(le *ldap.Entry, kind bridge.EntryKind) (bridge.Entry, error) {
	e := bridge.Entry{Kind: kind, DN: strings.ToValidUTF8(le.DN, "\uFFFD"), Attrs: make(map[string][]string, len(le.Attributes))}
	for _, a := range le.Attributes {
		name := strings.ToLower(a.Name)
		switch {
		case name == "objectguid":
			g, err := FormatGUID(firstRaw(a))
			if err != nil {
				return e, newError(KindOther, err, "entry %q has an unreadable objectGUID: %v", le.DN, err)
			}
			e.GUID = g
			continue
		case name == "objectsid", name == "member", strings.HasPrefix(name, "member;"):
			continue
		}
		e.Attrs[name] = validUTF8(a.Values)
	}
	if e.GUID == "" {
		return e, newError(KindOther, nil, "entry %q has no objectGUID (may the bind account read it?)", le.DN)
	}
	var err error
	if e.USNChanged, err = decodeInt64("uSNChanged", e.Get("usnchanged")); err != nil {
		return e, newError(KindOther, err, "entry %q: %v", le.DN, err)
	}
	if e.USNCreated, err = decodeInt64("uSNCreated", e.Get("usncreated")); err != nil {
		return e, newError(KindOther, err, "entry %q: %v", le.DN, err)
	}
	switch kind {
	case bridge.EntryUser:
		if e.UserAccountControl, err = decodeUAC(e.Get("useraccountcontrol")); err != nil {
			return e, newError(KindOther, err, "entry %q: %v", le.DN, err)
		}
		if e.AccountExpires, err = decodeFiletime(e.Get("accountexpires")); err != nil {
			return e, newError(KindOther, err, "entry %q: %v", le.DN, err)
		}
	case bridge.EntryGroup:
		if e.GroupType, err = decodeGroupType(e.Get("grouptype")); err != nil {
			return e, newError(KindOther, err, "entry %q: %v", le.DN, err)
		}
	}
	return e, nil
}

func firstRaw(a *ldap.EntryAttribute) []byte {
	if len(a.ByteValues) > 0 {
		return a.ByteValues[0]
	}
	return nil
}
