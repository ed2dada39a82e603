package adsim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// OIDShowDeleted is AD's LDAP_SERVER_SHOW_DELETED_OID control: searches
// that carry it also see tombstones (isDeleted=TRUE) and the Deleted
// Objects container.
const OIDShowDeleted = "1.2.840.113556.1.4.417"

// DeletedObjectsDN is the well-known container tombstones move to.
func DeletedObjectsDN(baseDN string) string { return "CN=Deleted Objects," + baseDN }

// tombstone turns a removed entry into what AD keeps of it (MS-ADTS
// 3.1.1.5.5.1.1): objectGUID, objectClass and a few more attributes, under
// CN=Deleted Objects with an RDN mangled by "\nDEL:<guid>", isDeleted=TRUE,
// lastKnownParent, and a new uSNChanged. Caller holds t.mu.
func (t *tree) tombstone(s *stored, deletedObjects string) {
	if t.tombs == nil {
		t.tombs = map[string]*stored{}
	}
	guid := s.first("objectGUID")
	rdn := s.first("cn")
	if rdn == "" {
		rdn = s.first("ou")
	}
	if rdn == "" {
		rdn = s.first("name")
	}
	display := guidDisplay([]byte(guid))
	dn := "CN=" + escapeDNValue(rdn) + "\\0ADEL:" + display + "," + deletedObjects
	key, parent, err := dnKey(dn)
	if err != nil {
		return
	}
	ts := &stored{dn: dn, key: key, parent: parent, attrs: map[string]*attr{}}
	for _, name := range []string{"objectGUID", "objectClass", "objectSid", "sAMAccountName", "uSNCreated", "whenCreated"} {
		if a := s.get(name); a != nil {
			ts.set(a.name, a.vals)
		}
	}
	ts.set("cn", []string{rdn + "\nDEL:" + display})
	ts.set("name", []string{rdn + "\nDEL:" + display})
	ts.set("isDeleted", []string{"TRUE"})
	ts.set("lastKnownParent", []string{parentDN(s.dn)})
	ts.set("uSNChanged", []string{strconv.FormatInt(t.usn, 10)})
	ts.set("whenChanged", []string{t.now().UTC().Format("20060102150405.0Z")})
	t.tombs[key] = ts
	t.tombOrder = append(t.tombOrder, ts)
}

// ensureDeletedObjects adds the Deleted Objects container, itself a
// tombstone-like object only Show Deleted searches see. Caller holds t.mu.
func (t *tree) ensureDeletedObjects(dn string) {
	key, parent, err := dnKey(dn)
	if err != nil {
		return
	}
	if t.tombs == nil {
		t.tombs = map[string]*stored{}
	}
	if _, ok := t.tombs[key]; ok {
		return
	}
	c := &stored{dn: dn, key: key, parent: parent, attrs: map[string]*attr{}}
	c.set("objectClass", []string{"top", "container"})
	c.set("cn", []string{"Deleted Objects"})
	c.set("isDeleted", []string{"TRUE"})
	c.set("objectGUID", []string{string(GUIDFor(dn))})
	c.set("uSNChanged", []string{strconv.FormatInt(t.usn, 10)})
	t.tombs[key] = c
	t.tombOrder = append(t.tombOrder, c)
}

// guidDisplay formats a raw little-endian objectGUID the way AD displays
// it (and mangles deleted RDNs with it).
func guidDisplay(b []byte) string {
	if len(b) != 16 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}

func parentDN(dn string) string {
	d, err := ldap.ParseDN(dn)
	if err != nil || len(d.RDNs) < 2 {
		return ""
	}
	// Keep the server's spelling: cut at the first unescaped comma.
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return strings.TrimSpace(dn[i+1:])
		}
	}
	return ""
}

// Tombstones is how many deleted objects the server keeps (tests).
func (s *Server) Tombstones() int {
	s.tree.mu.RLock()
	defer s.tree.mu.RUnlock()
	n := 0
	for _, ts := range s.tree.tombOrder {
		if ts.first("cn") != "Deleted Objects" {
			n++
		}
	}
	return n
}

// Move renames or moves dn to newDN (an LDAP ModifyDN), keeping its
// objectGUID, and bumps its uSNChanged. Like AD, objects below a moved OU
// follow without a new uSNChanged of their own, and member and manager
// values naming the old DNs are rewritten (linked attributes follow their
// target) without touching the referring objects' uSNChanged.
func (s *Server) Move(dn, newDN string) error {
	t := s.tree
	oldKey, _, err := dnKey(dn)
	if err != nil {
		return err
	}
	newKey, newParent, err := dnKey(newDN)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byKey[oldKey]; !ok {
		return fmt.Errorf("no entry %q", dn)
	}
	if _, ok := t.byKey[newKey]; ok && newKey != oldKey {
		return fmt.Errorf("entry %q exists", newDN)
	}
	if _, ok := t.byKey[newParent]; !ok {
		return fmt.Errorf("no parent for %q", newDN)
	}
	renamed := map[string]string{} // old lower DN -> new DN
	for i, e := range t.order {
		if !under(e.key, oldKey) {
			continue
		}
		n := e.clone()
		if e.key == oldKey {
			n.dn = newDN
			t.usn++
			n.set("uSNChanged", []string{strconv.FormatInt(t.usn, 10)})
			n.set("whenChanged", []string{t.now().UTC().Format("20060102150405.0Z")})
			if rdn := rdnValue(newDN); rdn != "" {
				for _, a := range []string{"cn", "ou"} {
					if n.get(a) != nil {
						n.set(a, []string{rdn})
					}
				}
				n.set("name", []string{rdn})
			}
		} else if strings.HasSuffix(strings.ToLower(e.dn), ","+strings.ToLower(dn)) {
			n.dn = e.dn[:len(e.dn)-len(dn)] + newDN
		} else {
			return fmt.Errorf("cannot move %q: its DN is not spelled under %q", e.dn, dn)
		}
		n.key, n.parent, err = dnKey(n.dn)
		if err != nil {
			return err
		}
		renamed[strings.ToLower(e.dn)] = n.dn
		delete(t.byKey, e.key)
		t.byKey[n.key] = n
		t.order[i] = n
	}
	t.rewriteLinks(func(v string) (string, bool) {
		n, ok := renamed[strings.ToLower(v)]
		return n, ok
	})
	return nil
}

// rewriteLinks replaces member and manager values in place (copy on
// write), without new USNs. Caller holds t.mu.
func (t *tree) rewriteLinks(f func(string) (string, bool)) {
	for i, e := range t.order {
		var changed *stored
		for _, name := range []string{"member", "manager"} {
			a := e.get(name)
			if a == nil {
				continue
			}
			var vals []string
			for j, v := range a.vals {
				n, ok := f(v)
				if !ok {
					continue
				}
				if vals == nil {
					vals = append([]string(nil), a.vals...)
				}
				vals[j] = n
			}
			if vals == nil {
				continue
			}
			if changed == nil {
				changed = e.clone()
			}
			kept := vals[:0]
			for _, v := range vals {
				if v != "" {
					kept = append(kept, v)
				}
			}
			changed.set(a.name, kept)
		}
		if changed != nil {
			t.order[i] = changed
			t.byKey[changed.key] = changed
		}
	}
}

func (s *stored) clone() *stored {
	n := &stored{dn: s.dn, key: s.key, parent: s.parent, attrs: make(map[string]*attr, len(s.attrs))}
	for _, l := range s.order {
		a := s.attrs[l]
		n.set(a.name, a.vals)
	}
	return n
}

func rdnValue(dn string) string {
	d, err := ldap.ParseDN(dn)
	if err != nil || len(d.RDNs) == 0 || len(d.RDNs[0].Attributes) == 0 {
		return ""
	}
	return d.RDNs[0].Attributes[0].Value
}

// SetInvocationID changes the DC's invocationId, as a restore from backup
// does: a client must stop trusting its USN cursor.
func (s *Server) SetInvocationID(id []byte) {
	s.tree.mu.Lock()
	defer s.tree.mu.Unlock()
	key, _, _ := dnKey(s.dsServiceName())
	if e, ok := s.tree.byKey[key]; ok {
		e.set("invocationId", []string{string(id)})
	}
}

// SetHighestCommittedUSN moves the USN counter (a DC restored from an older
// backup answers with a lower highestCommittedUSN).
func (s *Server) SetHighestCommittedUSN(usn int64) {
	s.tree.mu.Lock()
	defer s.tree.mu.Unlock()
	s.tree.usn = usn
}
