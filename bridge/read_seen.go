package bridge

// readSeen remembers the entries a full read returned, so an entry
// returned twice (overlapping selected subtrees) counts once: by kind and
// objectGUID, or by kind and DN when it has none. A canonical objectGUID
// is kept as 16 bytes: a string key per entry ("user/" + GUID) cost 8 MB
// for 100,000 users, for the whole read.
type readSeen struct {
	guids map[seenGUID]struct{}
	other map[string]struct{}
}

type seenGUID struct {
	kind byte
	g    [16]byte
}

func newReadSeen() *readSeen {
	return &readSeen{guids: map[seenGUID]struct{}{}, other: map[string]struct{}{}}
}

// first reports whether e is seen for the first time, and remembers it.
func (s *readSeen) first(e Entry) bool {
	g := normGUID(e.GUID)
	if u, ok := parseUUID(g); ok {
		k := seenGUID{kind: kindByte(e.Kind), g: u}
		if _, dup := s.guids[k]; dup {
			return false
		}
		s.guids[k] = struct{}{}
		return true
	}
	key := string(e.Kind) + "/" + g
	if e.GUID == "" {
		key = string(e.Kind) + "/dn:" + NormalizeDN(e.DN)
	}
	if _, dup := s.other[key]; dup {
		return false
	}
	s.other[key] = struct{}{}
	return true
}

func kindByte(k EntryKind) byte {
	switch k {
	case EntryUser:
		return 1
	case EntryGroup:
		return 2
	case EntryOU:
		return 3
	}
	return 0
}
