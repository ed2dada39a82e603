package scimapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/bridge"
)

// Cursor-paginated lists (RFC 9865) of /Users and /Groups, GET with
// ?cursor= or POST /.search with "cursor": "". Each page is one index range
// after the previous page's last row (db/scim_cursor.go), so the hundredth
// thousand row costs what the first does. Index pagination (startIndex)
// stays the default; a request naming both is refused.

// cursorStore is the cursor-taking part of a store (implemented by
// db.Store): QueryUsersAfter / QueryGroupsAfter return the total (-1 when
// not asked for) and the position of the page's last row when another
// page follows.
type cursorStore interface {
	QueryUsersAfter(ctx context.Context, account string, q bridge.Query, after *cursorPos, countTotal, withGroups bool,
		fn func(bridge.User, []byte, []bridge.GroupRef) error) (int, *cursorPos, error)
	QueryGroupsAfter(ctx context.Context, account string, q bridge.Query, after *cursorPos, countTotal bool,
		fn func(g bridge.Group, doc, userIDs, groupIDs []byte) error) (int, *cursorPos, error)
}

var errCursorSort = badRequest(scimerrors.ScimTypeInvalidValue,
	"Cursor pagination sorts by id, userName, externalId, displayName, or the scimbridge extension's status, dn or ouPath; use startIndex for other sortBy.")

// cursorList serves one cursor page.
func (s *server) cursorList(w http.ResponseWriter, r *http.Request, rt *resourceType, p listParams) {
	cs, ok := s.store.(cursorStore)
	if !ok {
		s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidValue, "Cursor pagination is not available on this server; use startIndex."))
		return
	}
	if p.startIndexSet {
		s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidValue, "cursor and startIndex select two pagination methods; send one of them."))
		return
	}
	// count: negative is 0 (RFC 9865 section 2), above maxCount is
	// maxCount (maxPageSize: "regardless of what is specified").
	q, proj, err := p.query(rt)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	acct := account(r)
	key := cursorKey(r)
	fp := cursorFingerprint(acct, rt, p)
	now := time.Now()
	var after *cursorPos
	carried := -1
	if p.cursor != "" {
		c, err := decodeCursor(p.cursor, key, fp, now)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		after, carried = &c.pos, c.total
	}
	// The total comes from scim_counts without a filter; with one it is
	// counted on the first page and carried in the cursors after it, so
	// that no later page counts the matches again.
	countTotal := q.Filter == nil || after == nil || carried < 0

	pg := cursorPage{s: s, r: r, rt: rt, proj: proj, withMembers: q.WithMembers, fast: proj.splices()}
	if pg.fast {
		bp := getBuf()
		defer putBuf(bp)
		pg.sc = getScratch()
		defer putScratch(pg.sc)
		pg.b = append((*bp)[:0], `{"Resources":[`...)
		defer func() { *bp = pg.b }()
	}
	var total int
	var next *cursorPos
	if rt == userType {
		// meta.version digests the groups (version.go).
		withGroups := proj.wants("groups") || proj.wants("meta")
		total, next, err = cs.QueryUsersAfter(r.Context(), acct, q, after, countTotal, withGroups, pg.user)
	} else {
		total, next, err = cs.QueryGroupsAfter(r.Context(), acct, q, after, countTotal, pg.group)
	}
	if errors.Is(err, bridge.ErrNotImplemented) {
		err = errCursorSort
	}
	if err != nil {
		s.fail(w, r, translateQueryErr(err))
		return
	}
	if !countTotal {
		total = carried
	}
	nextCursor := ""
	if next != nil {
		c := pageCursor{issued: now, total: -1, fp: fp, pos: *next}
		if q.Filter != nil {
			c.total = total
		}
		nextCursor = c.encode(key)
	}
	if !pg.fast {
		resp := listResponse(pg.docs, total, 1)
		delete(resp, "startIndex")
		if nextCursor != "" {
			resp["nextCursor"] = nextCursor
		}
		writeSCIM(w, http.StatusOK, resp)
		return
	}
	b := append(pg.b, `],"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(pg.n), 10)
	if nextCursor != "" {
		// base64url: nothing to escape.
		b = append(append(append(b, `,"nextCursor":"`...), nextCursor...), '"')
	}
	b = append(b, `,"schemas":["`+schemaListResponse+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, '}')
	pg.b = b
	writeRaw(w, http.StatusOK, b)
}

// cursorPage renders the resources of a cursor page as the store passes
// them: spliced into b (fast), or through the map path of render.go into
// docs for a projection the fast path does not serve.
type cursorPage struct {
	s           *server
	r           *http.Request
	rt          *resourceType
	proj        projection
	withMembers bool
	fast        bool
	sc          *scratch
	b           []byte
	n           int
	docs        []any
}

func (pg *cursorPage) user(u bridge.User, doc []byte, groups []bridge.GroupRef) error {
	pg.n++
	if !pg.fast {
		attrs, err := decodeAttrs(doc)
		if err != nil {
			return err
		}
		u.Attributes = attrs
		pg.docs = append(pg.docs, pg.proj.apply(pg.rt, pg.s.userDoc(pg.r, u, groups)))
		return nil
	}
	if pg.n > 1 {
		pg.b = append(pg.b, ',')
	}
	var err error
	pg.b, err = appendUser(pg.b, pg.sc, pg.s.base(pg.r), u, doc, groups, pg.proj)
	return err
}

func (pg *cursorPage) group(g bridge.Group, doc, userIDs, groupIDs []byte) error {
	pg.n++
	if !pg.fast {
		attrs, err := decodeAttrs(doc)
		if err != nil {
			return err
		}
		g.Attributes = attrs
		if pg.withMembers {
			if g.Members, err = decodeMembers(nil, userIDs, "User"); err != nil {
				return err
			}
			if g.Members, err = decodeMembers(g.Members, groupIDs, "Group"); err != nil {
				return err
			}
		}
		pg.docs = append(pg.docs, pg.proj.apply(pg.rt, pg.s.groupDoc(pg.r, g, pg.withMembers)))
		return nil
	}
	if pg.n > 1 {
		pg.b = append(pg.b, ',')
	}
	var err error
	pg.b, err = appendGroup(pg.b, pg.sc, pg.s.base(pg.r), g, doc, userIDs, groupIDs, pg.proj)
	return err
}

// decodeAttrs decodes a stored attributes document as the store's map
// reads do.
func decodeAttrs(doc []byte) (map[string]any, error) {
	if len(doc) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeMembers appends the ids of a JSON array (SQL NULL: none) as
// members of type typ.
func decodeMembers(ms []bridge.Member, ids []byte, typ string) ([]bridge.Member, error) {
	if len(ids) == 0 {
		return ms, nil
	}
	var list []string
	if err := json.Unmarshal(ids, &list); err != nil {
		return ms, err
	}
	for _, id := range list {
		ms = append(ms, bridge.Member{ID: id, Type: typ})
	}
	return ms, nil
}
