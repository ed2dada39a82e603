package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// A mapped object's content hash, and the one rendering of a user's
// attributes that the hash and the store share.

// mappingVersion is part of every hash: bump it when the mapping code
// changes what it produces, so the next run rewrites every object once.
const mappingVersion = "m1"

// contentHash digests what the engine writes for an object: the JSON of
// struct{A map[string]any `json:"a"`; M []Member `json:"m,omitempty"`},
// written by AppendJSON (same bytes as encoding/json, which sorts map
// keys), so equal content gives equal hashes, the same as before.
//
// The JSON goes to the digest a few KB at a time: a group of 100,000
// members would otherwise build 6 MB of it at once.
func contentHash(attrs map[string]any, members []Member) string {
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b := append((*bp)[:0], `{"a":`...)
	b, _ = AppendJSON(b, attrs)
	if len(members) == 0 {
		b = append(b, '}')
		*bp = b
		return hashText(sha256.Sum256(b))
	}
	h := sha256.New()
	b = append(b, `,"m":[`...)
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ID":`...)
		b = appendJSONString(b, m.ID)
		b = append(b, `,"Type":`...)
		b = appendJSONString(b, m.Type)
		b = append(b, '}')
		if len(b) >= 4096 {
			h.Write(b)
			b = b[:0]
		}
	}
	b = append(b, ']', '}')
	h.Write(b)
	*bp = b
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return hashText(sum)
}

// renderUserAttributes encodes a user's attributes once for both of its
// uses: the content hash (contentHash(attrs, nil) digests {"a":<attrs>})
// and the store's attributes column (encodeAttributes in package db writes
// the same AppendJSON bytes). doc is "" when attrs cannot be encoded; the
// store then encodes the map and reports the error itself.
func renderUserAttributes(attrs map[string]any) (doc, hash string) {
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b := append((*bp)[:0], `{"a":`...)
	b, err := AppendJSON(b, attrs)
	b = append(b, '}')
	*bp = b
	if err == nil && len(attrs) > 0 {
		doc = string(b[len(`{"a":`) : len(b)-1])
	}
	return doc, hashText(sha256.Sum256(b))
}

// jsonBuffers holds the scratch buffers hashes are written in; only the
// digest (and a user's JSON, copied) leaves them.
var jsonBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 2048)
	return &b
}}

// hashText is a digest as a hash: mappingVersion, a colon, lower-case hex.
func hashText(sum [sha256.Size]byte) string {
	var out [len(mappingVersion) + 1 + 2*sha256.Size]byte
	n := copy(out[:], mappingVersion)
	out[n] = ':'
	hex.Encode(out[n+1:], sum[:])
	return string(out[:])
}
