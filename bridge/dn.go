package bridge

import (
	"encoding/hex"
	"strings"
)

// DN helpers for the sync engine. bridge imports no LDAP library, so these
// parse just enough of RFC 4514 to compare AD DNs: RDNs separated by
// unescaped commas, attribute=value pairs, backslash escapes (\, and \2C
// alike) and insignificant spaces around '=' and ','. Multi-valued RDNs
// (a+b) are kept as one RDN whose value includes the '+'; AD does not create
// them for users, groups or OUs.

// rdn is one relative distinguished name, with its value unescaped.
type rdn struct {
	Type  string
	Value string
}

const escapedSpace = "\uE000"

// parseDN splits dn into RDNs, leaf first. It is lenient: a malformed DN
// parses to whatever RDNs it can make out, so that a comparison never panics.
func parseDN(dn string) []rdn {
	var out []rdn
	var cur strings.Builder
	var typ string
	inValue := false
	flush := func() {
		v := strings.TrimSpace(cur.String())
		cur.Reset()
		if !inValue {
			if v != "" {
				out = append(out, rdn{Value: v})
			}
			return
		}
		out = append(out, rdn{Type: strings.TrimSpace(typ), Value: v})
		typ, inValue = "", false
	}
	// Escaped spaces are significant: they are written as a placeholder
	// that TrimSpace leaves alone, and restored at the end.
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == '\\' && i+1 < len(dn):
			if i+2 < len(dn) && isHex(dn[i+1]) && isHex(dn[i+2]) {
				b, _ := hex.DecodeString(dn[i+1 : i+3])
				if b[0] == ' ' {
					cur.WriteString(escapedSpace)
				} else {
					cur.WriteByte(b[0]) // UTF-8 sequences reassemble byte by byte
				}
				i += 2
			} else {
				i++
				if dn[i] == ' ' {
					// an escaped space survives trimming: use a placeholder
					cur.WriteString(escapedSpace)
				} else {
					cur.WriteByte(dn[i])
				}
			}
		case c == '=' && !inValue:
			typ = cur.String()
			cur.Reset()
			inValue = true
		case c == ',' || c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	for i := range out {
		out[i].Value = strings.ReplaceAll(out[i].Value, escapedSpace, " ")
	}
	return out
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// escapeRDNValue escapes a value for a normalized DN string.
func escapeRDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == ' ' && (i == 0 || i == len(v)-1):
			b.WriteString(`\ `)
		case c == '#' && i == 0:
			b.WriteString(`\#`)
		case c == 0:
			b.WriteString(`\00`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func formatRDNs(rdns []rdn) string {
	parts := make([]string, len(rdns))
	for i, r := range rdns {
		if r.Type == "" {
			parts[i] = escapeRDNValue(r.Value)
		} else {
			parts[i] = r.Type + "=" + escapeRDNValue(r.Value)
		}
	}
	return strings.Join(parts, ",")
}

// NormalizeDN returns the form of dn used as a map key: attribute types and
// values lower-cased, spaces around '=' and ',' removed, escapes in one
// canonical spelling. Two DNs AD considers equal normalize to the same
// string.
func NormalizeDN(dn string) string {
	if plainDN(dn) {
		return strings.ToLower(dn)
	}
	rdns := parseDN(dn)
	for i := range rdns {
		rdns[i].Type = strings.ToLower(rdns[i].Type)
		rdns[i].Value = strings.ToLower(rdns[i].Value)
	}
	return formatRDNs(rdns)
}

// EqualDN compares two DNs case-insensitively, RDN by RDN.
func EqualDN(a, b string) bool { return NormalizeDN(a) == NormalizeDN(b) }

// ParentDN returns the normalized DN of dn's parent, or "" for a single RDN.
func ParentDN(dn string) string {
	if plainDN(dn) {
		i := strings.IndexByte(dn, ',')
		if i < 0 {
			return ""
		}
		return strings.ToLower(dn[i+1:])
	}
	rdns := parseDN(dn)
	if len(rdns) <= 1 {
		return ""
	}
	return NormalizeDN(formatRDNs(rdns[1:]))
}

// DNWithin reports whether dn equals base or lies under it.
func DNWithin(dn, base string) bool {
	d, b := NormalizeDN(dn), NormalizeDN(base)
	if b == "" {
		return true
	}
	return d == b || strings.HasSuffix(d, ","+b)
}

// RDNValue returns the (unescaped) value of dn's first RDN.
func RDNValue(dn string) string {
	rdns := parseDN(dn)
	if len(rdns) == 0 {
		return ""
	}
	return rdns[0].Value
}

// OUPath turns the OU RDNs of dn into a path, top-down: the user
// CN=Ann,OU=Backend,OU=Engineering,OU=Corp,DC=example,DC=com has the path
// "Corp/Engineering/Backend". With self, dn's own first RDN counts too when
// it is an OU (for the path of an OU group). Containers (CN=Users) are not
// OUs and do not appear.
func OUPath(dn string, self bool) string {
	if p, ok := plainOUPath(dn, self); ok {
		return p
	}
	rdns := parseDN(dn)
	if !self && len(rdns) > 0 {
		rdns = rdns[1:]
	}
	var parts []string
	for i := len(rdns) - 1; i >= 0; i-- {
		if strings.EqualFold(rdns[i].Type, "ou") {
			parts = append(parts, rdns[i].Value)
		}
	}
	return strings.Join(parts, "/")
}

// plainOUPath is OUPath for a plainDN, read from dn in place: each RDN is
// type=value as written, so the OU values are substrings of dn, and a path
// of one OU costs nothing. It declines (ok false) what parseDN would change:
// a type or an OU value with surrounding white space it trims (a tab, a
// non-ASCII space) or an OU value holding its escaped-space placeholder.
func plainOUPath(dn string, self bool) (path string, ok bool) {
	if !plainDN(dn) {
		return "", false
	}
	rest := dn
	if !self {
		i := strings.IndexByte(dn, ',')
		if i < 0 {
			return "", true
		}
		rest = dn[i+1:]
	}
	var buf [8]string
	ous := buf[:0] // leaf first
	n := 0
	for rest != "" {
		r := rest
		if i := strings.IndexByte(rest, ','); i >= 0 {
			r, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		typ, val, _ := strings.Cut(r, "=")
		if strings.TrimSpace(typ) != typ {
			return "", false
		}
		if !strings.EqualFold(typ, "ou") {
			continue
		}
		if strings.TrimSpace(val) != val || strings.Contains(val, escapedSpace) {
			return "", false
		}
		ous = append(ous, val)
		n += len(val)
	}
	switch len(ous) {
	case 0:
		return "", true
	case 1:
		return ous[0], true
	}
	var b strings.Builder
	b.Grow(n + len(ous) - 1)
	for i := len(ous) - 1; i >= 0; i-- {
		b.WriteString(ous[i])
		if i > 0 {
			b.WriteByte('/')
		}
	}
	return b.String(), true
}

// plainDN reports whether dn needs no parsing to normalize: no escapes or
// characters that need them, exactly one '=' per RDN, no spaces around
// separators, no empty RDN. Then NormalizeDN(dn) is strings.ToLower(dn);
// most AD DNs are like this, and a sync normalizes several per object.
func plainDN(dn string) bool {
	if dn == "" {
		return false
	}
	eq := 0
	prev := byte(',')
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch c {
		case '\\', '"', ';', '+', '<', '>', '#', 0:
			return false
		case ',':
			if eq != 1 || prev == ' ' || prev == ',' {
				return false
			}
			eq = 0
		case '=':
			if prev == ' ' || prev == ',' {
				return false
			}
			eq++
		case ' ':
			if prev == ',' || prev == '=' {
				return false
			}
		}
		prev = c
	}
	return eq == 1 && prev != ' '
}
