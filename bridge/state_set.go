package bridge

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// stateSet holds a run's stored states, keyed as stateKey keys them. A full
// run holds one per stored object for the whole run, and an ObjectState
// costs about 500 bytes on the heap (eleven string headers, six separate
// strings, a map slot): 50 MB for 100,000 users. Here a state is one fixed
// record with its UUIDs and hash as bytes, and its DN and names packed in
// shared blocks, about 180 bytes; lookups rebuild the ObjectState.
//
// Values that do not have the usual shape (an id or objectGUID that is not
// a lower-case UUID, a hash of another form) are kept as text, so every
// state comes back exactly as it was put.
type stateSet struct {
	byGUID map[[16]byte]int32 // keys that are canonical UUIDs
	byKey  map[string]int32   // every other key ("local:"+id, odd objectGUIDs)
	recs   [][]stateRec       // blocks of stateBlock records
	blocks [][]byte           // the records' variable parts
	enums  []string           // Type, Kind, Source and Status values
	enumAt map[string]uint16
	n      int
}

type stateRec struct {
	id, ext                   [16]byte
	hash                      [32]byte
	block, at                 uint32 // where the variable part starts
	typ, kind, source, status uint16 // indexes into enums
	idText, extText, hashText bool   // kept as text in the variable part
	dead                      bool   // replaced by a later put of its key
}

// Records and variable parts are allocated in blocks so a growing set never
// copies (and briefly doubles) what it holds.
const (
	stateBlock = 4096
	textBlock  = 64 << 10
)

func newStateSet() *stateSet {
	return &stateSet{byGUID: map[[16]byte]int32{}, byKey: map[string]int32{}, enumAt: map[string]uint16{}}
}

// stateKey is the key a state is filed under: its lower-case objectGUID
// for AD objects, "local:"+id otherwise.
func stateKey(st ObjectState) string {
	if st.Source == SourceAD && st.ExternalID != "" {
		return normGUID(st.ExternalID)
	}
	return "local:" + st.ID
}

func (s *stateSet) len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// put files st under stateKey(st), replacing the state the key held.
func (s *stateSet) put(st ObjectState) {
	r := stateRec{typ: s.enum(string(st.Type)), kind: s.enum(string(st.Kind)),
		source: s.enum(string(st.Source)), status: s.enum(string(st.Status))}
	fields := []string{st.DN, st.Name, st.Display}
	if r.id, r.idText = textUnlessUUID(st.ID); r.idText {
		fields = append(fields, st.ID)
	}
	if r.ext, r.extText = textUnlessUUID(st.ExternalID); r.extText {
		fields = append(fields, st.ExternalID)
	}
	if r.hash, r.hashText = textUnlessHash(st.Hash); r.hashText {
		fields = append(fields, st.Hash)
	}
	r.block, r.at = s.pack(fields, st.Version)
	if len(s.recs) == 0 || len(s.lastRecs()) == stateBlock {
		s.recs = append(s.recs, make([]stateRec, 0, stateBlock))
	}
	last := &s.recs[len(s.recs)-1]
	*last = append(*last, r)
	i := int32((len(s.recs)-1)*stateBlock + len(*last) - 1)

	key := stateKey(st)
	if old, _, ok := s.find(key); ok {
		s.rec(old).dead = true
	} else {
		s.n++
	}
	if g, ok := parseUUID(key); ok {
		s.byGUID[g] = i
	} else {
		s.byKey[key] = i
	}
}

func (s *stateSet) lastRecs() []stateRec {
	if len(s.recs) == 0 {
		return nil
	}
	return s.recs[len(s.recs)-1]
}

func (s *stateSet) rec(i int32) *stateRec { return &s.recs[i/stateBlock][i%stateBlock] }

// find returns the record filed under key, and whether key is a
// canonical UUID.
func (s *stateSet) find(key string) (int32, bool, bool) {
	if s == nil {
		return 0, false, false
	}
	if g, ok := parseUUID(key); ok {
		i, ok := s.byGUID[g]
		return i, true, ok
	}
	i, ok := s.byKey[key]
	return i, false, ok
}

// get returns the state filed under key.
func (s *stateSet) get(key string) (ObjectState, bool) {
	i, canonical, ok := s.find(key)
	if !ok {
		return ObjectState{}, false
	}
	if !canonical {
		key = ""
	}
	return s.state(s.rec(i), key), true
}

// each calls fn with every state and its key, in the order they were put,
// until fn returns false.
func (s *stateSet) each(fn func(key string, st ObjectState) bool) {
	if s == nil {
		return
	}
	for _, blk := range s.recs {
		for i := range blk {
			if blk[i].dead {
				continue
			}
			st := s.state(&blk[i], "")
			if !fn(stateKey(st), st) {
				return
			}
		}
	}
}

func (s *stateSet) enum(v string) uint16 {
	if i, ok := s.enumAt[v]; ok {
		return i
	}
	i := uint16(len(s.enums))
	if len(s.enums) == 1<<16 {
		panic("stateSet: more than 65536 distinct type, kind, source and status values")
	}
	s.enums = append(s.enums, v)
	s.enumAt[v] = i
	return i
}

// pack appends a record's variable part (DN, Name, Display, the values
// kept as text, Version) to the last block and says where it starts.
func (s *stateSet) pack(fields []string, version int64) (uint32, uint32) {
	size := binary.MaxVarintLen64 * (1 + len(fields))
	for _, v := range fields {
		size += len(v)
	}
	if n := len(s.blocks); n == 0 || cap(s.blocks[n-1])-len(s.blocks[n-1]) < size {
		s.blocks = append(s.blocks, make([]byte, 0, max(textBlock, size)))
	}
	n := len(s.blocks) - 1
	b := s.blocks[n]
	at := len(b)
	for _, v := range fields {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	s.blocks[n] = binary.AppendVarint(b, version)
	return uint32(n), uint32(at)
}

// state rebuilds the ObjectState of r. guidKey, when not "", is the
// canonical objectGUID r was found under: its ExternalID when that is not
// kept as text, so a lookup does not allocate it again.
func (s *stateSet) state(r *stateRec, guidKey string) ObjectState {
	b := s.blocks[r.block][r.at:]
	next := func() string {
		n, k := binary.Uvarint(b)
		v := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return v
	}
	st := ObjectState{Type: ObjectType(s.enums[r.typ]), Kind: GroupKind(s.enums[r.kind]),
		Source: Source(s.enums[r.source]), Status: Status(s.enums[r.status])}
	st.DN, st.Name, st.Display = next(), next(), next()
	if r.idText {
		st.ID = next()
	} else {
		st.ID = formatUUID(r.id)
	}
	switch {
	case r.extText:
		st.ExternalID = next()
	case guidKey != "":
		st.ExternalID = guidKey
	default:
		st.ExternalID = formatUUID(r.ext)
	}
	if r.hashText {
		st.Hash = next()
	} else {
		st.Hash = mappingVersion + ":" + hex.EncodeToString(r.hash[:])
	}
	st.Version, _ = binary.Varint(b)
	return st
}

// parseUUID reads a UUID in its canonical form only: lower-case hex in
// groups of 8-4-4-4-12, so that formatUUID gives back the same string.
func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return u, false
			}
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i++
	}
	return u, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

func textUnlessUUID(s string) ([16]byte, bool) {
	u, ok := parseUUID(s)
	return u, !ok
}

// textUnlessHash packs a contentHash of this mapping version; any other
// value stays text.
func textUnlessHash(s string) ([32]byte, bool) {
	var h [32]byte
	hexPart, ok := strings.CutPrefix(s, mappingVersion+":")
	if !ok || len(hexPart) != 64 {
		return h, true
	}
	for i := 0; i < 32; i++ {
		hi, ok1 := lowerHex(hexPart[2*i])
		lo, ok2 := lowerHex(hexPart[2*i+1])
		if !ok1 || !ok2 {
			return h, true
		}
		h[i] = hi<<4 | lo
	}
	return h, false
}
