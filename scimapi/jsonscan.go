package scimapi

import (
	"encoding/json"
	"sync"
	"unicode/utf8"
)

// Reading and writing raw JSON for the fast read path (render_json.go):
// the top level of a stored document as members whose values stay raw,
// and strings written without encoding/json when they need no escaping.

// splitDoc reads the members of a stored document's top level, values
// left as raw JSON inside doc. The documents were written by encoding/json
// or by PostgreSQL (jsonb), so they are valid JSON: the scan only finds
// where each value ends. A key with an escape sequence, or anything
// unexpected, goes through encoding/json instead.
func splitDoc(doc []byte, dst []field) ([]field, error) {
	if fs, ok := scanObject(doc, dst[:0]); ok {
		return fs, nil
	}
	var top map[string]json.RawMessage
	if len(doc) > 0 {
		if err := json.Unmarshal(doc, &top); err != nil {
			return nil, err
		}
	}
	fs := dst[:0]
	for k, v := range top {
		fs = append(fs, field{key: k, raw: v})
	}
	return fs, nil
}

func scanObject(b []byte, fs []field) ([]field, bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return fs, skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := i + 1
		for end < len(b) && b[end] != '"' && b[end] != '\\' {
			end++
		}
		if end >= len(b) || b[end] != '"' {
			return nil, false
		}
		key, ok := knownKeys()[string(b[i+1:end])]
		if !ok {
			key = string(b[i+1 : end])
		}
		i = skipWS(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipWS(b, i+1)
		vend, ok := skipValue(b, i)
		if !ok {
			return nil, false
		}
		fs = append(fs, field{key: key, raw: b[i:vend]})
		i = skipWS(b, vend)
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '}' {
			return fs, skipWS(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return nil, false
		}
		i = skipWS(b, i+1)
	}
}

// skipValue returns the end of the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return i, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	default: // number, true, false, null
		start := i
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
			i++
		}
		return i, i > start
	}
}

func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// knownKeys holds the attribute names and extension URNs the schemas
// define, so scanning a document finds its keys without allocating them.
var knownKeys = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, rt := range []*resourceType{userType, groupType} {
		for _, d := range append([]*schemaDef{rt.core}, rt.exts...) {
			m[d.id] = d.id
			for _, a := range d.attrs {
				m[a.name] = a.name
				for _, sub := range a.subs {
					m[sub.name] = sub.name
				}
			}
		}
	}
	for _, k := range []string{"id", "externalId", "meta", "schemas", "value", "type", "primary", "display"} {
		m[k] = k
	}
	return m
})

// lookup is the raw value of key among fs, or nil.
func lookup(fs []field, key string) []byte {
	for _, f := range fs {
		if f.key == key {
			return f.raw
		}
	}
	return nil
}

// nonEmptyObject reports whether raw is a JSON object with a member (what
// schemasOf counts as a present extension).
func nonEmptyObject(raw []byte) bool {
	i := 0
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	for i++; i < len(raw) && isSpace(raw[i]); i++ {
	}
	return i < len(raw) && raw[i] != '}'
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	if !plain(s) {
		q, _ := json.Marshal(s)
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// hasItems reports whether raw is a JSON array with an element.
func hasItems(raw []byte) bool {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return false
	}
	i = skipWS(raw, i+1)
	return i < len(raw) && raw[i] != ']'
}

func plainBytes(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plain reports whether s needs no escaping in a JSON string.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }
