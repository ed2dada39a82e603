package scimapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

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
	// Groups come with their member ids as two JSON arrays of strings,
	// users and groups, each in id order.
	LiveGroupJSON(ctx context.Context, account, id string, withMembers bool, fn func(g bridge.Group, doc, userIDs, groupIDs []byte) error) error
	QueryUsersJSON(ctx context.Context, account string, q bridge.Query, withGroups bool, fn func(bridge.User, []byte, []bridge.GroupRef) error) (int, error)
	QueryGroupsJSON(ctx context.Context, account string, q bridge.Query, fn func(g bridge.Group, doc, userIDs, groupIDs []byte) error) (int, error)
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
	if cap(*b) > 8<<20 {
		return // a group of tens of thousands of members: not worth keeping
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// getFast serves GET /Users/{id} and /Groups/{id} on the fast path.
func (s *server) getFast(w http.ResponseWriter, r *http.Request, rt *resourceType, id string, proj projection) {
	bp := getBuf()
	defer putBuf(bp)
	sc := getScratch()
	defer putScratch(sc)
	base := s.base(r)
	var version string
	var err error
	if rt == userType {
		// The groups are read even when the response leaves them out: the
		// ETag digests them (version.go).
		err = s.fast.LiveUserJSON(r.Context(), account(r), id, true, func(u bridge.User, doc []byte, groups []bridge.GroupRef) error {
			version = userVersion(u.Version, groups)
			var err error
			*bp, err = appendUser((*bp)[:0], sc, base, u, doc, groups, proj)
			return err
		})
	} else {
		key := groupCacheKey{account: account(r), id: id, base: base, query: r.URL.RawQuery}
		if body, v, ok, err := s.cachedGroup(r.Context(), key); err != nil {
			s.fail(w, r, err)
			return
		} else if ok {
			s.writeFast(w, r, groupVersion(v), body)
			return
		}
		var rowVersion int64
		err = s.fast.LiveGroupJSON(r.Context(), account(r), id, proj.wants("members"), func(g bridge.Group, doc, users, groups []byte) error {
			version, rowVersion = groupVersion(g.Version), g.Version
			var err error
			*bp, err = appendGroup((*bp)[:0], sc, base, g, doc, users, groups, proj)
			return err
		})
		if err == nil && s.groups != nil {
			s.groups.put(key, rowVersion, *bp)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeFast(w, r, version, *bp)
}

// writeFast answers a GET with its ETag, or 304 when the client has it.
func (s *server) writeFast(w http.ResponseWriter, r *http.Request, version string, body []byte) {
	w.Header().Set("ETag", etag(version))
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeRaw(w, http.StatusOK, body)
}

// listFast serves a list or search of one resource type on the fast path.
func (s *server) listFast(w http.ResponseWriter, r *http.Request, rt *resourceType, p listParams, q bridge.Query, proj projection) {
	bp := getBuf()
	defer putBuf(bp)
	base := s.base(r)
	sc := getScratch()
	defer putScratch(sc)
	b := append((*bp)[:0], `{"Resources":[`...)
	n := 0
	var total int
	var err error
	if rt == userType {
		// meta.version digests the groups (version.go).
		withGroups := proj.wants("groups") || proj.wants("meta")
		userFn := func(u bridge.User, doc []byte, groups []bridge.GroupRef) error {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			var err error
			b, err = appendUser(b, sc, base, u, doc, groups, proj)
			return err
		}
		if s.pages != nil {
			total, err = s.pagedList(r, rt, p, q, &n, func(after string) (int, string, error) {
				return s.pages.QueryUsersPage(r.Context(), account(r), q, after, withGroups, userFn)
			})
		} else {
			total, err = s.fast.QueryUsersJSON(r.Context(), account(r), q, withGroups, userFn)
		}
	} else {
		groupFn := func(g bridge.Group, doc, users, groups []byte) error {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			var err error
			b, err = appendGroup(b, sc, base, g, doc, users, groups, proj)
			return err
		}
		if s.pages != nil {
			total, err = s.pagedList(r, rt, p, q, &n, func(after string) (int, string, error) {
				return s.pages.QueryGroupsPage(r.Context(), account(r), q, after, groupFn)
			})
		} else {
			total, err = s.fast.QueryGroupsJSON(r.Context(), account(r), q, groupFn)
		}
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

// field is one member of an object being written. Values are written
// when the object is, from raw JSON or from the resource being rendered
// (res), so building the list allocates nothing per member.
type field struct {
	key  string
	kind fieldKind
	raw  []byte // kRaw
	str  string // kStr
}

type fieldKind uint8

const (
	kRaw fieldKind = iota
	kStr
	kBool    // str "true" or "false"
	kExt     // the scimbridge extension: raw with res.ext set
	kGroups  // res.groups
	kMembers // res.members
	kMeta
	kSchemas
)

// res is the resource appendObject is writing.
type res struct {
	rt                *resourceType
	base, id          string
	created, updated  time.Time
	version           string
	ext               []string // key, value, ... set in the scimbridge extension
	groups            []bridge.GroupRef
	userIDs, groupIDs []byte // JSON arrays of member ids
	top               []field
	proj              projection
	scratch           []field // for the extension's members
}

// appendExt writes the extension object raw with the given members set:
// an object that is not one (or is absent) starts empty, as in userDoc.
func appendExt(b []byte, raw []byte, set []string, scratch []field) ([]byte, error) {
	fs := scratch[:0]
	if len(raw) > 0 && raw[0] == '{' {
		m, err := splitDoc(raw, scratch)
		if err != nil {
			return b, err
		}
		fs = m[:0]
		for _, f := range m {
			if indexOf(set, f.key) < 0 {
				fs = append(fs, f)
			}
		}
	}
	for i := 0; i+1 < len(set); i += 2 {
		fs = append(fs, field{key: set[i], kind: kStr, str: set[i+1]})
	}
	return appendObject(b, fs, nil)
}

// scratch is the working memory of one response, reused for each of its
// resources.
type scratch struct {
	top, fs, ext []field
	r            res
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{top: make([]field, 0, 24), fs: make([]field, 0, 32), ext: make([]field, 0, 16)}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch returns sc to the pool without what it points into (the
// documents and the request's values).
func putScratch(sc *scratch) {
	clear(sc.top[:cap(sc.top)])
	clear(sc.fs[:cap(sc.fs)])
	clear(sc.ext[:cap(sc.ext)])
	clear(sc.r.ext[:cap(sc.r.ext)])
	sc.r = res{ext: sc.r.ext[:0]}
	scratchPool.Put(sc)
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

// appendObject writes fields as a JSON object, in their order (the stored
// document's, then the computed members); r supplies computed values.
func appendObject(b []byte, fs []field, r *res) ([]byte, error) {
	b = append(b, '{')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.key)
		b = append(b, ':')
		switch f.kind {
		case kRaw:
			b = append(b, f.raw...)
		case kStr:
			b = appendString(b, f.str)
		case kBool:
			b = append(b, f.str...)
		case kExt:
			var err error
			if b, err = appendExt(b, f.raw, r.ext, r.scratch); err != nil {
				return b, err
			}
		case kGroups:
			b = appendGroupRefs(b, r.base, r.groups)
		case kMembers:
			var n int
			var err error
			b = append(b, '[')
			if b, n, err = appendMemberIDs(b, r.base, "/Users/", "User", r.userIDs, false); err != nil {
				return b, err
			}
			if b, _, err = appendMemberIDs(b, r.base, "/Groups/", "Group", r.groupIDs, n > 0); err != nil {
				return b, err
			}
			b = append(b, ']')
		case kMeta:
			b = appendMeta(b, r)
		case kSchemas:
			b = appendSchemas(b, r)
		}
	}
	return append(b, '}'), nil
}

// appendURL writes the JSON string base + ep + id.
func appendURL(b []byte, base, ep, id string) []byte {
	if !plain(base) || !plain(id) {
		return appendString(b, base+ep+id)
	}
	b = append(b, '"')
	b = append(b, base...)
	b = append(b, ep...)
	b = append(b, id...)
	return append(b, '"')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano) // as timeString
	return append(b, '"')
}

func appendMeta(b []byte, r *res) []byte {
	b = append(b, `{"created":`...)
	b = appendTime(b, r.created)
	b = append(b, `,"lastModified":`...)
	b = appendTime(b, r.updated)
	b = append(b, `,"location":`...)
	b = appendURL(b, r.base, r.rt.endpoint+"/", r.id)
	b = append(b, `,"resourceType":`...)
	b = appendString(b, r.rt.name)
	b = append(b, `,"version":"W/\"`...)
	b = append(b, r.version...) // digits, '.' and hex: nothing to escape
	return append(b, `\""}`...)
}

func appendSchemas(b []byte, r *res) []byte {
	b = append(b, '[')
	b = appendString(b, r.rt.core.id)
	for _, e := range r.rt.exts {
		// The scimbridge extension always has status; others count when
		// they are objects with members (schemasOf).
		if e.id == bridge.SchemaBridgeUser || e.id == bridge.SchemaBridgeGroup || nonEmptyObject(lookup(r.top, e.id)) {
			b = append(b, ',')
			b = appendString(b, e.id)
		}
	}
	return append(b, ']')
}

func appendGroupRefs(b []byte, base string, groups []bridge.GroupRef) []byte {
	b = append(b, '[')
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = appendURL(b, base, groupType.endpoint+"/", g.ID)
		b = append(b, `,"display":`...)
		b = appendString(b, g.DisplayName)
		b = append(b, `,"type":"direct","value":`...)
		b = appendString(b, g.ID)
		b = append(b, '}')
	}
	return append(b, ']')
}

func boolText(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

// appendUser writes the document userDoc and proj.apply would build.
func appendUser(b []byte, sc *scratch, base string, u bridge.User, doc []byte, groups []bridge.GroupRef, proj projection) ([]byte, error) {
	top, err := splitDoc(doc, sc.top)
	if err != nil {
		return b, err
	}
	sc.top = top
	r := &sc.r
	*r = res{rt: userType, base: base, id: u.ID, created: u.CreatedAt, updated: u.UpdatedAt, version: userVersion(u.Version, groups),
		groups: groups, top: top, proj: proj, ext: append(r.ext[:0], "status", string(u.Status)), scratch: sc.ext}
	if u.Source == bridge.SourceLocal {
		r.ext = append(r.ext, "kind", string(bridge.KindLocal))
	}
	fs := sc.fs[:0]
	defer func() { sc.fs = fs }()
	for _, f := range top {
		switch f.key {
		case "password", "id", "userName", "active", "externalId", "groups", "meta", "schemas", bridge.SchemaBridgeUser:
			continue
		}
		if !proj.excludes(f.key) {
			fs = append(fs, f)
		}
	}
	add := func(f field) {
		if !proj.excludes(f.key) {
			fs = append(fs, f)
		}
	}
	fs = append(fs, field{key: "id", kind: kStr, str: u.ID})
	add(field{key: "userName", kind: kStr, str: u.UserName})
	add(field{key: "active", kind: kBool, str: boolText(u.Active)})
	if u.ExternalID != "" {
		add(field{key: "externalId", kind: kStr, str: u.ExternalID})
	}
	fs = append(fs, field{key: bridge.SchemaBridgeUser, kind: kExt, raw: lookup(top, bridge.SchemaBridgeUser)})
	if len(groups) > 0 {
		add(field{key: "groups", kind: kGroups})
	}
	add(field{key: "meta", kind: kMeta})
	fs = append(fs, field{key: "schemas", kind: kSchemas})
	return appendObject(b, fs, r)
}

// appendGroup writes the document groupDoc and proj.apply would build.
func appendGroup(b []byte, sc *scratch, base string, g bridge.Group, doc, userIDs, groupIDs []byte, proj projection) ([]byte, error) {
	top, err := splitDoc(doc, sc.top)
	if err != nil {
		return b, err
	}
	sc.top = top
	r := &sc.r
	*r = res{rt: groupType, base: base, id: g.ID, created: g.CreatedAt, updated: g.UpdatedAt, version: groupVersion(g.Version),
		userIDs: userIDs, groupIDs: groupIDs, top: top, proj: proj,
		ext: append(r.ext[:0], "status", string(g.Status), "kind", string(g.Kind)), scratch: sc.ext}
	fs := sc.fs[:0]
	defer func() { sc.fs = fs }()
	for _, f := range top {
		switch f.key {
		case "id", "displayName", "externalId", "members", "meta", "schemas", bridge.SchemaBridgeGroup:
			continue
		}
		if !proj.excludes(f.key) {
			fs = append(fs, f)
		}
	}
	add := func(f field) {
		if !proj.excludes(f.key) {
			fs = append(fs, f)
		}
	}
	fs = append(fs, field{key: "id", kind: kStr, str: g.ID})
	add(field{key: "displayName", kind: kStr, str: g.DisplayName})
	if g.ExternalID != "" {
		add(field{key: "externalId", kind: kStr, str: g.ExternalID})
	}
	fs = append(fs, field{key: bridge.SchemaBridgeGroup, kind: kExt, raw: lookup(top, bridge.SchemaBridgeGroup)})
	if hasItems(userIDs) || hasItems(groupIDs) {
		add(field{key: "members", kind: kMembers})
	}
	add(field{key: "meta", kind: kMeta})
	fs = append(fs, field{key: "schemas", kind: kSchemas})
	return appendObject(b, fs, r)
}

// appendMemberIDs writes one memberJSON value per id of the JSON array ids,
// straight from its bytes; comma: whether one was written before. An
// array with an escape sequence (no UUID has one) is decoded first.
func appendMemberIDs(b []byte, base, ep, typ string, ids []byte, comma bool) ([]byte, int, error) {
	n := 0
	one := func(id []byte) {
		if comma || n > 0 {
			b = append(b, ',')
		}
		n++
		if !plainBytes(id) || !plain(base) {
			b = append(b, `{"value":`...)
			b = appendString(b, string(id))
			b = append(b, `,"$ref":`...)
			b = appendString(b, base+ep+string(id))
			b = append(b, `,"type":"`+typ+`"}`...)
			return
		}
		b = append(b, `{"value":"`...)
		b = append(b, id...)
		b = append(b, `","$ref":"`...)
		b = append(b, base...)
		b = append(b, ep...)
		b = append(b, id...)
		b = append(b, `","type":"`+typ+`"}`...)
	}
	if !hasItems(ids) {
		return b, 0, nil
	}
	if bytes.IndexByte(ids, '\\') >= 0 {
		var strs []string
		if err := json.Unmarshal(ids, &strs); err != nil {
			return b, n, err
		}
		for _, s := range strs {
			one([]byte(s))
		}
		return b, n, nil
	}
	i := skipWS(ids, 0) + 1 // past '['
	for {
		i = skipWS(ids, i)
		if i >= len(ids) || ids[i] != '"' {
			return b, n, fmt.Errorf("malformed member list")
		}
		end := bytes.IndexByte(ids[i+1:], '"')
		if end < 0 {
			return b, n, fmt.Errorf("malformed member list")
		}
		one(ids[i+1 : i+1+end])
		i = skipWS(ids, i+end+2)
		if i < len(ids) && ids[i] == ',' {
			i++
			continue
		}
		if i < len(ids) && ids[i] == ']' {
			return b, n, nil
		}
		return b, n, fmt.Errorf("malformed member list")
	}
}
