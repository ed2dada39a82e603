package bridge

import (
	"encoding/json"
	"slices"
	"strconv"
)

// AppendJSON appends v encoded exactly as encoding/json.Marshal encodes it,
// for the values a mapping builds (maps with string keys, lists, strings,
// booleans, nil). It is the hot path of every full sync: each object's
// attributes are encoded once for the content hash and once for the
// store, and reflection over map[string]any was most of both. Map keys are
// sorted as encoding/json sorts them; strings that need escaping, and
// every other type, are left to encoding/json itself, so the bytes (and
// the hashes made of them) are the same.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x)
	case bool:
		return strconv.AppendBool(dst, x), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		var err error
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSONString(dst, k); err != nil {
				return dst, err
			}
			dst = append(dst, ':')
			if dst, err = AppendJSON(dst, x[k]); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
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

// appendJSONString writes plain printable ASCII directly; anything that
// encoding/json escapes (quotes, backslashes, control characters, <, >, &,
// non-ASCII) goes through it.
func appendJSONString(dst []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, err := json.Marshal(s)
			return append(dst, b...), err
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), nil
}
