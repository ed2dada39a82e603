package bridge

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendJSON appends v encoded exactly as encoding/json.Marshal encodes it,
// for the values a mapping builds (maps with string keys, lists, strings,
// booleans, nil). It is the hot path of every full sync: each user's
// attributes are encoded once, for the content hash and the store alike
// (see User.AttributesJSON), and reflection over map[string]any was most
// of it. Map keys are sorted as encoding/json sorts them (byte-wise) and
// strings are escaped as it escapes them (HTML characters, U+2028/U+2029,
// invalid UTF-8 as U+FFFD); every other type is left to encoding/json
// itself, so the bytes (and the hashes made of them) are the same.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return appendJSONObject(dst, x)
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = AppendJSON(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	b, err := json.Marshal(v)
	return append(dst, b...), err
}

// jsonMember is one member of an object being written.
type jsonMember struct {
	key string
	val any
}

// appendJSONObject writes m's members in key order. The members are taken
// with their values in one pass over the map (no second lookup per key)
// into an array on the stack, and a small object (a mapped user's have 2
// to 12 members) is put in order by an insertion sort of their indexes,
// which moves no pointers.
func appendJSONObject(dst []byte, m map[string]any) ([]byte, error) {
	var buf [16]jsonMember
	var order [len(buf)]uint8
	ms := buf[:0]
	if len(m) > len(buf) {
		ms = make([]jsonMember, 0, len(m))
	}
	for k, v := range m {
		ms = append(ms, jsonMember{k, v})
	}
	if len(ms) > len(buf) {
		slices.SortFunc(ms, func(a, b jsonMember) int { return strings.Compare(a.key, b.key) })
	} else {
		for i := range ms {
			order[i] = uint8(i)
			for j := i; j > 0 && ms[i].key < ms[order[j-1]].key; j-- {
				order[j], order[j-1] = order[j-1], order[j]
			}
		}
	}
	dst = append(dst, '{')
	var err error
	for i := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		f := &ms[i]
		if len(ms) <= len(buf) {
			f = &ms[order[i]]
		}
		dst = appendJSONString(dst, f.key)
		dst = append(dst, ':')
		if dst, err = AppendJSON(dst, f.val); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// jsonSafe marks the bytes encoding/json writes as they are: the ASCII
// ones but the control characters, '"', '\\' and (HTML escaping, its
// default) '<', '>' and '&'. Bytes of UTF-8 sequences are not marked: the
// sequence is decoded. (256 entries: indexing with a byte needs no bounds
// check.)
var jsonSafe = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const lowerHexDigits = "0123456789abcdef"

// appendJSONString writes s quoted and escaped as encoding/json does
// (its appendString with escapeHTML): plain printable ASCII goes as it
// is, and nothing is allocated.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control characters, '<', '>', '&'
				dst = append(dst, '\\', 'u', '0', '0', lowerHexDigits[c>>4], lowerHexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', lowerHexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
