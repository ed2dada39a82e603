package scimapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/bridge"
)

// The fast read path. A store that can hand over the stored attributes
// document as JSON text (db.Store can) lets GET and list requests splice
// id, meta, schemas and the authoritative columns into that text, instead
// of decoding it into maps and encoding the maps again: the response is
// appended to one pooled buffer. It covers responses without a projection,
// or with excludedAttributes naming core attributes (Entra ID's
// excludedAttributes=members); anything else takes the map path of
// render.go, which produces the same document.

// jsonStore is the optional part of a ResourceStore behind the fast path
// (implemented by db.Store). Each fn receives one resource and its stored
// attributes document, valid only during the call.
type jsonStore interface {
	LiveUserJSON(ctx context.Context, account, id string, withGroups bool, fn func(bridge.User, []byte, []bridge.GroupRef) error) error
	LiveGroupJSON(ctx context.Context, account, id string, withMembers bool, fn func(bridge.Group, []byte) error) error
	QueryUsersJSON(ctx context.Context, account string, q bridge.Query, withGroups bool, fn func(bridge.User, []byte, []bridge.GroupRef) error) (int, error)
	QueryGroupsJSON(ctx context.Context, account string, q bridge.Query, fn func(bridge.Group, []byte) error) (int, error)
}

// splices reports whether the fast path can serve proj: no attributes
// list, and excludedAttributes naming whole core attributes only.
func (p projection) splices() bool {
	if len(p.include) > 0 {
		return false
	}
	for _, r := range p.exclude {
		if r.urn != "" || r.top == nil || r.sub != nil {
			return false
		}
	}
	return true
}

// excludes reports whether the projection drops the top-level key.
func (p projection) excludes(key string) bool {
	for _, r := range p.exclude {
		if r.top.name == key && r.top.returned != "always" {
			return true
		}
	}
	return false
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return // a 5,000-member group: not worth keeping
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// getFast serves GET /Users/{id} and /Groups/{id} on the fast path.
func (s *server) getFast(w http.ResponseWriter, r *http.Request, rt *resourceType, id string, proj projection) {
	bp := getBuf()
	defer putBuf(bp)
	base := s.base(r)
	var version int64
	var err error
	if rt == userType {
		err = s.fast.LiveUserJSON(r.Context(), account(r), id, proj.wants("groups"), func(u bridge.User, doc []byte, groups []bridge.GroupRef) error {
			version = u.Version
			var err error
			*bp, err = appendUser((*bp)[:0], base, u, doc, groups, proj)
			return err
		})
	} else {
		err = s.fast.LiveGroupJSON(r.Context(), account(r), id, proj.wants("members"), func(g bridge.Group, doc []byte) error {
			version = g.Version
			var err error
			*bp, err = appendGroup((*bp)[:0], base, g, doc, proj)
			return err
		})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(version))
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeRaw(w, http.StatusOK, *bp)
}

// listFast serves a list or search of one resource type on the fast path.
func (s *server) listFast(w http.ResponseWriter, r *http.Request, rt *resourceType, q bridge.Query, proj projection) {
	bp := getBuf()
	defer putBuf(bp)
	base := s.base(r)
	b := append((*bp)[:0], `{"Resources":[`...)
	n := 0
	var total int
	var err error
	if rt == userType {
		total, err = s.fast.QueryUsersJSON(r.Context(), account(r), q, proj.wants("groups"), func(u bridge.User, doc []byte, groups []bridge.GroupRef) error {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			var err error
			b, err = appendUser(b, base, u, doc, groups, proj)
			return err
		})
	} else {
		total, err = s.fast.QueryGroupsJSON(r.Context(), account(r), q, func(g bridge.Group, doc []byte) error {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			var err error
			b, err = appendGroup(b, base, g, doc, proj)
			return err
		})
	}
	*bp = b
	if err != nil {
		s.fail(w, r, translateQueryErr(err))
		return
	}
	b = append(b, `],"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"schemas":["`+schemaListResponse+`"],"startIndex":`...)
	b = strconv.AppendInt(b, int64(q.StartIndex), 10)
	b = append(b, `,"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, '}')
	*bp = b
	writeRaw(w, http.StatusOK, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", scimContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// field is one top-level member of a document being written: raw JSON, or
// a value appended by fn.
type field struct {
	key string
	raw []byte
	fn  func([]byte) []byte
}

// splitDoc reads the top level of a stored document.
func splitDoc(doc []byte) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if len(doc) == 0 {
		return top, nil
	}
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, err
	}
	return top, nil
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

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// extWith is the extension object raw with the given members set: an
// object that is not one (or is absent) starts empty, as in userDoc.
func extWith(raw []byte, set ...string) ([]byte, error) {
	var m map[string]json.RawMessage
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
	}
	fs := make([]field, 0, len(m)+len(set)/2)
	for k, v := range m {
		if indexOf(set, k) < 0 {
			fs = append(fs, field{key: k, raw: v})
		}
	}
	for i := 0; i+1 < len(set); i += 2 {
		fs = append(fs, field{key: set[i], raw: appendString(nil, set[i+1])})
	}
	return appendObject(nil, fs), nil
}

// indexOf is the position of key v in a key, value, ... list, or -1.
func indexOf(s []string, v string) int {
	for i := 0; i < len(s); i += 2 {
		if s[i] == v {
			return i
		}
	}
	return -1
}

// appendObject writes fields as a JSON object, keys in sorted order (as
// encoding/json writes maps).
func appendObject(b []byte, fs []field) []byte {
	slices.SortFunc(fs, func(a, b field) int { return strings.Compare(a.key, b.key) })
	b = append(b, '{')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.key)
		b = append(b, ':')
		if f.fn != nil {
			b = f.fn(b)
		} else {
			b = append(b, f.raw...)
		}
	}
	return append(b, '}')
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMeta(b []byte, base string, rt *resourceType, id string, created, modified string, version int64) []byte {
	b = append(b, `{"created":`...)
	b = appendString(b, created)
	b = append(b, `,"lastModified":`...)
	b = appendString(b, modified)
	b = append(b, `,"location":`...)
	b = appendString(b, base+rt.endpoint+"/"+id)
	b = append(b, `,"resourceType":`...)
	b = appendString(b, rt.name)
	b = append(b, `,"version":`...)
	b = appendString(b, etag(version))
	return append(b, '}')
}

func appendSchemas(b []byte, rt *resourceType, present func(urn string) bool) []byte {
	b = append(b, '[')
	b = appendString(b, rt.core.id)
	for _, e := range rt.exts {
		if present(e.id) {
			b = append(b, ',')
			b = appendString(b, e.id)
		}
	}
	return append(b, ']')
}

// appendUser writes the document userDoc and proj.apply would build.
func appendUser(b []byte, base string, u bridge.User, doc []byte, groups []bridge.GroupRef, proj projection) ([]byte, error) {
	top, err := splitDoc(doc)
	if err != nil {
		return b, err
	}
	set := []string{"status", string(u.Status)}
	if u.Source == bridge.SourceLocal {
		set = append(set, "kind", string(bridge.KindLocal))
	}
	ext, err := extWith(top[bridge.SchemaBridgeUser], set...)
	if err != nil {
		return b, err
	}
	fs := make([]field, 0, len(top)+8)
	for k, v := range top {
		switch k {
		case "password", "id", "userName", "active", "externalId", "groups", "meta", "schemas", bridge.SchemaBridgeUser:
			continue
		}
		if !proj.excludes(k) {
			fs = append(fs, field{key: k, raw: v})
		}
	}
	add := func(key string, f field) {
		if !proj.excludes(key) {
			f.key = key
			fs = append(fs, f)
		}
	}
	fs = append(fs, field{key: "id", raw: appendString(nil, u.ID)})
	add("userName", field{raw: appendString(nil, u.UserName)})
	add("active", field{raw: strconv.AppendBool(nil, u.Active)})
	if u.ExternalID != "" {
		add("externalId", field{raw: appendString(nil, u.ExternalID)})
	}
	fs = append(fs, field{key: bridge.SchemaBridgeUser, raw: ext})
	if len(groups) > 0 {
		add("groups", field{fn: func(b []byte) []byte {
			b = append(b, '[')
			for i, g := range groups {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"$ref":`...)
				b = appendString(b, base+groupType.endpoint+"/"+g.ID)
				b = append(b, `,"display":`...)
				b = appendString(b, g.DisplayName)
				b = append(b, `,"type":"direct","value":`...)
				b = appendString(b, g.ID)
				b = append(b, '}')
			}
			return append(b, ']')
		}})
	}
	add("meta", field{fn: func(b []byte) []byte {
		return appendMeta(b, base, userType, u.ID, timeString(u.CreatedAt), timeString(u.UpdatedAt), u.Version)
	}})
	fs = append(fs, field{key: "schemas", fn: func(b []byte) []byte {
		return appendSchemas(b, userType, func(urn string) bool {
			if urn == bridge.SchemaBridgeUser {
				return true
			}
			return nonEmptyObject(top[urn]) && !proj.excludes(urn)
		})
	}})
	return appendObject(b, fs), nil
}

// appendGroup writes the document groupDoc and proj.apply would build.
func appendGroup(b []byte, base string, g bridge.Group, doc []byte, proj projection) ([]byte, error) {
	top, err := splitDoc(doc)
	if err != nil {
		return b, err
	}
	ext, err := extWith(top[bridge.SchemaBridgeGroup], "status", string(g.Status), "kind", string(g.Kind))
	if err != nil {
		return b, err
	}
	fs := make([]field, 0, len(top)+8)
	for k, v := range top {
		switch k {
		case "id", "displayName", "externalId", "members", "meta", "schemas", bridge.SchemaBridgeGroup:
			continue
		}
		if !proj.excludes(k) {
			fs = append(fs, field{key: k, raw: v})
		}
	}
	add := func(key string, f field) {
		if !proj.excludes(key) {
			f.key = key
			fs = append(fs, f)
		}
	}
	fs = append(fs, field{key: "id", raw: appendString(nil, g.ID)})
	add("displayName", field{raw: appendString(nil, g.DisplayName)})
	if g.ExternalID != "" {
		add("externalId", field{raw: appendString(nil, g.ExternalID)})
	}
	fs = append(fs, field{key: bridge.SchemaBridgeGroup, raw: ext})
	if len(g.Members) > 0 {
		add("members", field{fn: func(b []byte) []byte { return appendMembers(b, base, g.Members) }})
	}
	add("meta", field{fn: func(b []byte) []byte {
		return appendMeta(b, base, groupType, g.ID, timeString(g.CreatedAt), timeString(g.UpdatedAt), g.Version)
	}})
	fs = append(fs, field{key: "schemas", fn: func(b []byte) []byte {
		return appendSchemas(b, groupType, func(urn string) bool {
			if urn == bridge.SchemaBridgeGroup {
				return true
			}
			return nonEmptyObject(top[urn]) && !proj.excludes(urn)
		})
	}})
	return appendObject(b, fs), nil
}

// appendMembers writes members as memberJSON values, straight into b.
func appendMembers(b []byte, base string, ms []bridge.Member) []byte {
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		ep := "/Users/"
		if m.Type == "Group" {
			ep = "/Groups/"
		}
		b = append(b, `{"value":`...)
		b = appendString(b, m.ID)
		b = append(b, `,"$ref":`...)
		if plain(base) && plain(m.ID) {
			b = append(b, '"')
			b = append(b, base...)
			b = append(b, ep...)
			b = append(b, m.ID...)
			b = append(b, '"')
		} else {
			b = appendString(b, base+ep+m.ID)
		}
		b = append(b, `,"type":`...)
		b = appendString(b, m.Type)
		b = append(b, '}')
	}
	return append(b, ']')
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
