package adsim

import (
	"fmt"
	"strconv"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// AD's bitwise matching rules (MS-ADTS 3.1.1.3.4.4.1 / .2).
const (
	ruleBitAnd = "1.2.840.113556.1.4.803"
	ruleBitOr  = "1.2.840.113556.1.4.804"
)

// matcher is a compiled filter: go-ldap's CompileFilter gives the RFC 4515
// filter as a BER tree, and eval walks it.
type matcher struct{ root *ber.Packet }

func compileFilter(f string) (*matcher, error) {
	p, err := ldap.CompileFilter(f)
	if err != nil {
		return nil, err
	}
	return &matcher{root: p}, nil
}

func (m *matcher) match(s *stored) (bool, error) { return eval(m.root, s) }

func eval(p *ber.Packet, s *stored) (bool, error) {
	switch p.Tag {
	case ldap.FilterAnd:
		for _, c := range p.Children {
			ok, err := eval(c, s)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case ldap.FilterOr:
		for _, c := range p.Children {
			ok, err := eval(c, s)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	case ldap.FilterNot:
		if len(p.Children) != 1 {
			return false, fmt.Errorf("malformed NOT")
		}
		ok, err := eval(p.Children[0], s)
		return !ok, err
	case ldap.FilterPresent:
		name := string(p.Data.Bytes())
		if strings.EqualFold(name, "objectClass") {
			return true, nil // every entry has one
		}
		return s.get(name) != nil, nil
	case ldap.FilterEqualityMatch, ldap.FilterApproxMatch:
		name, val := str(p.Children[0]), str(p.Children[1])
		return anyValue(s, name, func(v string) bool { return equal(name, v, val) }), nil
	case ldap.FilterGreaterOrEqual:
		name, val := str(p.Children[0]), str(p.Children[1])
		return anyValue(s, name, func(v string) bool { return compare(v, val) >= 0 }), nil
	case ldap.FilterLessOrEqual:
		name, val := str(p.Children[0]), str(p.Children[1])
		return anyValue(s, name, func(v string) bool { return compare(v, val) <= 0 }), nil
	case ldap.FilterSubstrings:
		name := str(p.Children[0])
		return anyValue(s, name, func(v string) bool { return substrings(strings.ToLower(v), p.Children[1].Children) }), nil
	case ldap.FilterExtensibleMatch:
		return extensible(p, s)
	}
	return false, fmt.Errorf("unsupported filter item %d", p.Tag)
}

func str(p *ber.Packet) string { return string(p.Data.Bytes()) }

func anyValue(s *stored, name string, f func(string) bool) bool {
	a := s.get(name)
	if a == nil {
		return false
	}
	for _, v := range a.vals {
		if f(v) {
			return true
		}
	}
	return false
}

// equal compares case-insensitively, except binary attributes, byte for
// byte. objectCategory holds a DN in AD (CN=Person,CN=Schema,...) but
// (objectCategory=person) matches it: AD maps the short name to the
// class's defaultObjectCategory. Here the first RDN value stands in.
func equal(name, stored, asserted string) bool {
	switch strings.ToLower(name) {
	case "objectguid", "objectsid":
		return stored == asserted
	case "objectcategory":
		if strings.EqualFold(stored, asserted) {
			return true
		}
		if d, err := ldap.ParseDN(stored); err == nil && len(d.RDNs) > 0 && len(d.RDNs[0].Attributes) > 0 {
			return strings.EqualFold(d.RDNs[0].Attributes[0].Value, asserted)
		}
		return false
	}
	return strings.EqualFold(stored, asserted)
}

// compare orders integers numerically (uSNChanged>=N) and anything else as
// case-insensitive text.
func compare(a, b string) int {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 == nil && err2 == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func substrings(v string, parts []*ber.Packet) bool {
	pos := 0
	for i, part := range parts {
		sub := strings.ToLower(str(part))
		switch part.Tag {
		case 0: // initial
			if !strings.HasPrefix(v, sub) {
				return false
			}
			pos = len(sub)
		case 1: // any
			j := strings.Index(v[pos:], sub)
			if j < 0 {
				return false
			}
			pos += j + len(sub)
		case 2: // final
			if len(v)-len(sub) < pos || !strings.HasSuffix(v, sub) {
				return false
			}
		}
		_ = i
	}
	return true
}

// extensible handles (attr:rule:=value): AD's bit-AND and bit-OR rules, or
// equality when no rule is given.
func extensible(p *ber.Packet, s *stored) (bool, error) {
	var rule, name, val string
	for _, c := range p.Children {
		switch c.Tag {
		case 1:
			rule = str(c)
		case 2:
			name = str(c)
		case 3:
			val = str(c)
		}
	}
	switch rule {
	case "":
		return anyValue(s, name, func(v string) bool { return equal(name, v, val) }), nil
	case ruleBitAnd, ruleBitOr:
		want, err := parseBits(val)
		if err != nil {
			return false, nil // AD: an unparsable assertion matches nothing
		}
		return anyValue(s, name, func(v string) bool {
			have, err := parseBits(v)
			if err != nil {
				return false
			}
			if rule == ruleBitAnd {
				return have&want == want
			}
			return have&want != 0
		}), nil
	}
	return false, fmt.Errorf("unsupported matching rule %s", rule)
}

// parseBits reads a signed or unsigned decimal as its 32-bit pattern
// (groupType is stored signed: -2147483646 has bit 0x80000000 set).
func parseBits(v string) (uint64, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 && n >= -1<<31 {
			return uint64(uint32(int32(n))), nil
		}
		return uint64(n), nil
	}
	return strconv.ParseUint(v, 10, 64)
}
