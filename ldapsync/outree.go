package ldapsync

import (
	"context"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// OUTree lists the OU hierarchy under baseDN (baseDN itself included when it
// is an OU), children sorted by name. It holds one small node per OU; a
// directory has thousands of OUs at most, not millions.
func (d *Directory) OUTree(ctx context.Context, baseDN string) ([]bridge.OUNode, error) {
	type node struct {
		bridge.OUNode
		parent   string
		children []*node
	}
	nodes := map[string]*node{}
	var order []*node
	req := ldap.NewSearchRequest(baseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		OUFilter, []string{"objectGUID", "ou", "name"}, nil)
	err := d.pagedSearch(ctx, req, func(le *ldap.Entry) error {
		dn, err := ldap.ParseDN(le.DN)
		if err != nil {
			return newError(KindOther, err, "the server returned an OU with an unreadable DN %q", le.DN)
		}
		n := &node{OUNode: bridge.OUNode{DN: le.DN}}
		n.Name = le.GetEqualFoldAttributeValue("ou")
		if n.Name == "" {
			n.Name = le.GetEqualFoldAttributeValue("name")
		}
		if raw := le.GetEqualFoldRawAttributeValue("objectGUID"); raw != nil {
			n.GUID, _ = FormatGUID(raw)
		}
		if len(dn.RDNs) > 1 {
			n.parent = dnKey(&ldap.DN{RDNs: dn.RDNs[1:]})
		}
		nodes[dnKey(dn)] = n
		order = append(order, n)
		return nil
	})
	if err != nil {
		return nil, searchError(baseDN, OUFilter, err)
	}
	var roots []*node
	for _, n := range order {
		if p, ok := nodes[n.parent]; ok && n.parent != "" {
			p.children = append(p.children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var build func([]*node) []bridge.OUNode
	build = func(ns []*node) []bridge.OUNode {
		if len(ns) == 0 {
			return nil
		}
		sort.Slice(ns, func(i, j int) bool { return strings.ToLower(ns[i].Name) < strings.ToLower(ns[j].Name) })
		out := make([]bridge.OUNode, len(ns))
		for i, n := range ns {
			out[i] = n.OUNode
			out[i].Children = build(n.children)
		}
		return out
	}
	return build(roots), nil
}

// dnKey is a DN in a form that compares equal for DNs that differ only in
// case or spacing, for map keys.
func dnKey(dn *ldap.DN) string {
	var b strings.Builder
	for i, rdn := range dn.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Type))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(a.Value))
		}
	}
	return b.String()
}
