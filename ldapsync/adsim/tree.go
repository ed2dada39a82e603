package adsim

import (
	"crypto/sha1"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Entry is one directory object. Attribute names keep the case they are
// given in (and are answered in); lookups are case-insensitive. Binary
// values (objectGUID) are strings holding the raw bytes.
type Entry struct {
	DN    string
	Attrs map[string][]string
}

// Get returns the first value of attr (case-insensitive), or "".
func (e Entry) Get(attr string) string {
	for k, v := range e.Attrs {
		if strings.EqualFold(k, attr) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// stored is an entry as the server keeps it: attributes indexed by
// lower-case name, the DN parsed once.
type stored struct {
	dn     string
	key    string // normalized DN, see dnKey
	parent string // key of the parent
	attrs  map[string]*attr
	order  []string // lower-case names in insertion order, for stable output
}

type attr struct {
	name string
	vals []string
}

func (s *stored) get(name string) *attr { return s.attrs[strings.ToLower(name)] }

func (s *stored) first(name string) string {
	if a := s.get(name); a != nil && len(a.vals) > 0 {
		return a.vals[0]
	}
	return ""
}

func (s *stored) set(name string, vals []string) {
	l := strings.ToLower(name)
	if len(vals) == 0 {
		if _, ok := s.attrs[l]; ok {
			delete(s.attrs, l)
			for i, n := range s.order {
				if n == l {
					s.order = append(s.order[:i], s.order[i+1:]...)
					break
				}
			}
		}
		return
	}
	if a, ok := s.attrs[l]; ok {
		a.vals = vals
		return
	}
	s.attrs[l] = &attr{name: name, vals: vals}
	s.order = append(s.order, l)
}

func (s *stored) entry() Entry {
	e := Entry{DN: s.dn, Attrs: make(map[string][]string, len(s.attrs))}
	for _, l := range s.order {
		a := s.attrs[l]
		e.Attrs[a.name] = append([]string(nil), a.vals...)
	}
	return e
}

// tree is the in-memory directory: a map by normalized DN plus insertion
// order, so that searches answer in a stable order like a real DC.
type tree struct {
	mu    sync.RWMutex
	byKey map[string]*stored
	order []*stored
	usn   int64
	now   func() time.Time
	// deleted is the Deleted Objects container's DN; tombs holds it and
	// the tombstones, seen only by searches with the Show Deleted control.
	deleted   string
	tombs     map[string]*stored
	tombOrder []*stored
}

func newTree() *tree {
	return &tree{byKey: map[string]*stored{}, usn: 12000, now: time.Now}
}

// dnKey normalizes a DN for comparison: lower case, no spaces around
// separators, special characters in values re-escaped so that a suffix
// test on keys is a correct "is under" test.
func dnKey(dn string) (key, parent string, err error) {
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a valid DN: %w", dn, err)
	}
	parts := make([]string, len(d.RDNs))
	for i, rdn := range d.RDNs {
		var b strings.Builder
		for j, a := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Type))
			b.WriteByte('=')
			b.WriteString(escapeRDNValue(strings.ToLower(a.Value)))
		}
		parts[i] = b.String()
	}
	key = strings.Join(parts, ",")
	if len(parts) > 1 {
		parent = strings.Join(parts[1:], ",")
	}
	return key, parent, nil
}

func escapeRDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ',', '+', '"', '\\', '<', '>', ';', '=', '#':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// under reports whether key equals base or lies below it.
func under(key, base string) bool {
	if base == "" {
		return true
	}
	return key == base || strings.HasSuffix(key, ","+base)
}

// put adds or replaces an entry and stamps the AD bookkeeping attributes
// (objectGUID when missing, uSNCreated/uSNChanged, whenCreated/whenChanged).
func (t *tree) put(e Entry) error {
	key, parent, err := dnKey(e.DN)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &stored{dn: e.DN, key: key, parent: parent, attrs: make(map[string]*attr, len(e.Attrs)+4)}
	for k, v := range e.Attrs {
		s.set(k, append([]string(nil), v...))
	}
	t.usn++
	usn := strconv.FormatInt(t.usn, 10)
	when := t.now().UTC().Format("20060102150405.0Z")
	old, exists := t.byKey[key]
	if s.get("objectGUID") == nil {
		if exists && old.get("objectGUID") != nil {
			s.set("objectGUID", old.get("objectGUID").vals)
		} else {
			s.set("objectGUID", []string{string(GUIDFor(e.DN))})
		}
	}
	if s.get("uSNCreated") == nil {
		s.set("uSNCreated", []string{usn})
	}
	s.set("uSNChanged", []string{usn})
	if s.get("whenCreated") == nil {
		s.set("whenCreated", []string{when})
	}
	if s.get("whenChanged") == nil {
		s.set("whenChanged", []string{when})
	}
	if exists {
		for i, o := range t.order {
			if o == old {
				t.order[i] = s
				break
			}
		}
	} else {
		t.order = append(t.order, s)
	}
	t.byKey[key] = s
	return nil
}

func (t *tree) remove(dn string) bool {
	key, _, err := dnKey(dn)
	if err != nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byKey[key]
	if !ok {
		return false
	}
	delete(t.byKey, key)
	for i, o := range t.order {
		if o == s {
			t.order = append(t.order[:i], t.order[i+1:]...)
			break
		}
	}
	t.usn++
	if t.deleted != "" {
		t.tombstone(s, t.deleted)
	}
	// Links to the deleted object go with it (AD removes the forward links
	// of a deleted target).
	gone := strings.ToLower(s.dn)
	t.rewriteLinks(func(v string) (string, bool) {
		if strings.ToLower(v) == gone {
			return "", true
		}
		return "", false
	})
	return true
}

// modify replaces the given attributes of dn (an empty value list deletes
// the attribute) and bumps uSNChanged.
func (t *tree) modify(dn string, changes map[string][]string) error {
	key, _, err := dnKey(dn)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byKey[key]
	if !ok {
		return fmt.Errorf("no entry %q", dn)
	}
	// Copy on write: a search in flight keeps the old version.
	n := &stored{dn: s.dn, key: s.key, parent: s.parent, attrs: make(map[string]*attr, len(s.attrs))}
	for _, l := range s.order {
		a := s.attrs[l]
		n.set(a.name, a.vals)
	}
	for k, v := range changes {
		n.set(k, append([]string(nil), v...))
	}
	t.usn++
	n.set("uSNChanged", []string{strconv.FormatInt(t.usn, 10)})
	n.set("whenChanged", []string{t.now().UTC().Format("20060102150405.0Z")})
	t.byKey[key] = n
	for i, o := range t.order {
		if o == s {
			t.order[i] = n
			break
		}
	}
	return nil
}

// GUIDFor returns the deterministic 16-byte objectGUID adsim gives an entry
// added without one: a name-based (SHA-1) value of the lower-cased DN, so
// the same tree always has the same GUIDs.
func GUIDFor(dn string) []byte {
	sum := sha1.Sum([]byte(strings.ToLower(dn)))
	g := make([]byte, 16)
	copy(g, sum[:16])
	// Stored little-endian like AD: the version nibble lives in byte 7.
	g[7] = (g[7] & 0x0f) | 0x50
	g[8] = (g[8] & 0x3f) | 0x80
	return g
}
