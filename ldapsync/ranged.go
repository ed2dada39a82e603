package ldapsync

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// members returns every member DN of a group entry.
//
// AD never returns more than MaxValRange (1500 by default) values of an
// attribute in one answer. A larger member comes back as an empty "member"
// plus "member;range=0-1499", and the rest has to be asked for with
// base-object searches for "member;range=1500-*", "member;range=3000-*" ...
// until the returned range ends with "*" (RFC-less AD behaviour, MS-ADTS
// 3.1.1.3.1.3.3). This is always handled, even when the first answer was
// complete, since the limit is a server policy we cannot see.
func (d *Directory) members(ctx context.Context, le *ldap.Entry) ([]string, error) {
	var out []string
	var rng *valueRange
	for _, a := range le.Attributes {
		name := strings.ToLower(a.Name)
		switch {
		case name == "member":
			out = append(out, a.Values...)
		case strings.HasPrefix(name, "member;"):
			r, err := parseRange(a.Name)
			if err != nil {
				return nil, newError(KindOther, err, "group %q: %v", le.DN, err)
			}
			if r == nil {
				continue
			}
			out = append(out, a.Values...)
			rng = r
		}
	}
	for rng != nil && !rng.last {
		next := rng.high + 1
		attr := fmt.Sprintf("member;range=%d-*", next)
		req := ldap.NewSearchRequest(le.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{attr}, nil)
		entries, _, err := d.search(ctx, req)
		if err != nil {
			return nil, searchError(le.DN, req.Filter, err)
		}
		rng = nil
		for _, e := range entries {
			for _, a := range e.Attributes {
				if !strings.HasPrefix(strings.ToLower(a.Name), "member;") {
					continue
				}
				r, err := parseRange(a.Name)
				if err != nil || r == nil {
					continue
				}
				if r.low != next {
					return nil, newError(KindOther, nil, "group %q: asked for members from %d, the server answered %s", le.DN, next, a.Name)
				}
				out = append(out, a.Values...)
				rng = r
			}
		}
		// No ranged attribute in the answer: the previous range was the end
		// (some servers answer this way when the count is an exact multiple).
		d.log.Debug("ranged member read", "group", le.DN, "from", next, "total", len(out))
	}
	return out, nil
}

// valueRange is a parsed ";range=low-high" attribute option; last is true
// when high is "*".
type valueRange struct {
	low, high int
	last      bool
}

// parseRange reads the range option of an attribute description such as
// "member;range=0-1499" or "member;range=1500-*". It returns nil, nil when
// there is no range option.
func parseRange(desc string) (*valueRange, error) {
	for _, opt := range strings.Split(desc, ";")[1:] {
		k, v, ok := strings.Cut(opt, "=")
		if !ok || !strings.EqualFold(k, "range") {
			continue
		}
		lo, hi, ok := strings.Cut(v, "-")
		if !ok {
			return nil, fmt.Errorf("attribute %q has a malformed range", desc)
		}
		low, err := strconv.Atoi(lo)
		if err != nil || low < 0 {
			return nil, fmt.Errorf("attribute %q has a malformed range", desc)
		}
		if hi == "*" {
			return &valueRange{low: low, last: true}, nil
		}
		high, err := strconv.Atoi(hi)
		if err != nil || high < low {
			return nil, fmt.Errorf("attribute %q has a malformed range", desc)
		}
		return &valueRange{low: low, high: high}, nil
	}
	return nil, nil
}
