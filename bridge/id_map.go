package bridge

// idMap maps the objectGUIDs a read returned (lower case) to the SCIM ids
// they get. A full read of 100,000 users held them as a map of strings,
// about 14 MB; canonical UUIDs on both sides (every objectGUID ldapsync
// reads, every id the engine makes) are kept here as 32 bytes instead.
// Anything else is kept as text.
type idMap struct {
	uu   map[[16]byte][16]byte
	text map[string]string
}

func newIDMap() *idMap {
	return &idMap{uu: map[[16]byte][16]byte{}, text: map[string]string{}}
}

func (m *idMap) get(guid string) (string, bool) {
	if m == nil {
		return "", false
	}
	if g, ok := parseUUID(guid); ok {
		if id, ok := m.uu[g]; ok {
			return formatUUID(id), true
		}
	}
	id, ok := m.text[guid]
	return id, ok
}

func (m *idMap) has(guid string) bool {
	_, ok := m.get(guid)
	return ok
}

func (m *idMap) set(guid, id string) {
	g, gok := parseUUID(guid)
	u, uok := parseUUID(id)
	if gok && uok {
		m.uu[g] = u
		return
	}
	if gok {
		// Keep one place per key: an odd id moves the key to text.
		delete(m.uu, g)
	}
	m.text[guid] = id
}

// each calls fn with every objectGUID (lower case).
func (m *idMap) each(fn func(guid string)) {
	if m == nil {
		return
	}
	for g := range m.uu {
		fn(formatUUID(g))
	}
	for g := range m.text {
		fn(g)
	}
}
