package scimapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
)

const (
	schemaListResponse  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaSearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
)

// listParams is a list request from the query string or a SearchRequest.
type listParams struct {
	filter, sortBy, sortOrder string
	startIndex, count         int
	countSet                  bool
	attributes, excluded      []string
	// byCursor: the request names a cursor (RFC 9865), empty for the
	// first page; startIndexSet: it names a startIndex.
	byCursor, startIndexSet bool
	cursor                  string
}

func paramsFromQuery(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	p := listParams{filter: q.Get("filter"), sortBy: q.Get("sortBy"), sortOrder: q.Get("sortOrder"), startIndex: 1, count: defaultCount,
		byCursor: q.Has("cursor"), cursor: q.Get("cursor")}
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, badRequest(scimerrors.ScimTypeInvalidValue, "startIndex must be an integer.")
		}
		p.startIndex, p.startIndexSet = n, true
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			if p.byCursor {
				return p, badRequest(scimTypeInvalidCount, "count must be an integer.")
			}
			return p, badRequest(scimerrors.ScimTypeInvalidValue, "count must be an integer.")
		}
		p.count, p.countSet = n, true
	}
	p.attributes = q["attributes"]
	p.excluded = q["excludedAttributes"]
	return p, nil
}

func paramsFromSearch(r *http.Request) (listParams, error) {
	body, err := readJSON(r)
	if err != nil {
		return listParams{}, err
	}
	b, _ := json.Marshal(body)
	var sr struct {
		Schemas            []string `json:"schemas"`
		Attributes         attrList `json:"attributes"`
		ExcludedAttributes attrList `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
		Cursor             *string  `json:"cursor"`
	}
	if err := json.Unmarshal(b, &sr); err != nil {
		return listParams{}, badRequest(scimerrors.ScimTypeInvalidSyntax, "The SearchRequest does not have the shape RFC 7644 3.4.3 gives it.")
	}
	ok := false
	for _, s := range sr.Schemas {
		// URNs compare without regard to case (RFC 8141 3.1).
		ok = ok || strings.EqualFold(s, schemaSearchRequest)
	}
	if !ok {
		return listParams{}, badRequest(scimerrors.ScimTypeInvalidSyntax, "schemas must be [%q].", schemaSearchRequest)
	}
	p := listParams{filter: sr.Filter, sortBy: sr.SortBy, sortOrder: sr.SortOrder, startIndex: 1, count: defaultCount,
		attributes: sr.Attributes, excluded: sr.ExcludedAttributes}
	if sr.StartIndex != nil {
		p.startIndex, p.startIndexSet = *sr.StartIndex, true
	}
	if sr.Cursor != nil {
		p.byCursor, p.cursor = true, *sr.Cursor
	}
	if sr.Count != nil {
		p.count, p.countSet = *sr.Count, true
	}
	return p, nil
}

// attrList is the attributes or excludedAttributes of a SearchRequest: RFC
// 7644 3.4.3 makes it an array of strings, and clients also send one
// string, comma-separated as in the query string (3.9); both are taken.
type attrList []string

func (l *attrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// query builds the bridge.Query and projection of p for rt.
func (p listParams) query(rt *resourceType) (bridge.Query, projection, error) {
	q := bridge.Query{StartIndex: max(p.startIndex, 1), Count: min(max(p.count, 0), maxCount)}
	if strings.TrimSpace(p.filter) != "" {
		f, err := parseFilter(rt, p.filter)
		if err != nil {
			return q, projection{}, badRequest(scimerrors.ScimTypeInvalidFilter, "Invalid filter: %s.", err)
		}
		q.Filter = f
	}
	if p.sortBy != "" {
		r, err := rt.resolvePath(p.sortBy)
		if err != nil || r.top == nil {
			return q, projection{}, badRequest(scimerrors.ScimTypeInvalidPath, "sortBy names no attribute of %s.", rt.name)
		}
		if r.top.typ == bridge.AttrComplex && r.sub == nil && !r.top.multi {
			return q, projection{}, badRequest(scimerrors.ScimTypeInvalidPath, "sortBy must name a simple attribute, such as name.familyName.")
		}
		if inMemberships(rt, r) {
			// RFC 7644 3.4.2.3 would sort by each resource's first value,
			// which no index holds: every page would read every row's
			// memberships. RFC 7644 3.12 has no scimType for an
			// unsupported sort; invalidValue is the sortBy value's
			// (invalidFilter is for filters).
			return q, projection{}, badRequest(scimerrors.ScimTypeInvalidValue,
				"Sorting by %s is not supported: sort by another attribute, such as %s.", r.top.name, sortHint(rt))
		}
		bp := r.bridgePath()
		q.SortBy = &bp
	}
	switch strings.ToLower(p.sortOrder) {
	case "", "ascending":
	case "descending":
		q.SortDescending = true
	default:
		return q, projection{}, badRequest(scimerrors.ScimTypeInvalidValue, `sortOrder must be "ascending" or "descending".`)
	}
	proj, err := parseProjection(rt, p.attributes, p.excluded)
	if err != nil {
		return q, proj, err
	}
	q.WithMembers = rt == groupType && proj.wants("members")
	return q, proj, nil
}

// inMemberships reports whether r is a Group's members or a User's groups
// (or one of their sub-attributes), which live in group memberships rather
// than in the resource's row.
func inMemberships(rt *resourceType, r resolved) bool {
	if r.urn != "" || r.top == nil {
		return false
	}
	return rt == groupType && r.top.name == "members" || rt == userType && r.top.name == "groups"
}

func sortHint(rt *resourceType) string {
	if rt == groupType {
		return "displayName"
	}
	return "userName"
}

func (s *server) list(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	p, err := paramsFromQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.runList(w, r, rt, p)
}

func (s *server) search(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	p, err := paramsFromSearch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.runList(w, r, rt, p)
}

func (s *server) runList(w http.ResponseWriter, r *http.Request, rt *resourceType, p listParams) {
	if p.byCursor {
		s.cursorList(w, r, rt, p)
		return
	}
	q, proj, err := p.query(rt)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.fast != nil && proj.splices() {
		s.listFast(w, r, rt, p, q, proj)
		return
	}
	docs, total, err := s.page(r, rt, q, proj)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, listResponse(docs, total, q.StartIndex))
}

func listResponse(docs []any, total, start int) map[string]any {
	if docs == nil {
		docs = []any{}
	}
	return map[string]any{
		"schemas": []string{schemaListResponse}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(docs), "Resources": docs,
	}
}

// page runs q and renders the resources.
func (s *server) page(r *http.Request, rt *resourceType, q bridge.Query, proj projection) ([]any, int, error) {
	acct := account(r)
	var docs []any
	if rt == userType {
		users, total, err := s.store.QueryUsers(r.Context(), acct, q)
		if err != nil {
			return nil, 0, translateQueryErr(err)
		}
		groups := map[string][]bridge.GroupRef{}
		// meta.version digests the groups (version.go).
		if len(users) > 0 && (proj.wants("groups") || proj.wants("meta")) {
			ids := make([]string, len(users))
			for i, u := range users {
				ids[i] = u.ID
			}
			if groups, err = s.store.UserGroups(r.Context(), acct, ids); err != nil {
				return nil, 0, err
			}
		}
		for _, u := range users {
			docs = append(docs, proj.apply(rt, s.userDoc(r, u, groups[u.ID])))
		}
		return docs, total, nil
	}
	groups, total, err := s.store.QueryGroups(r.Context(), acct, q)
	if err != nil {
		return nil, 0, translateQueryErr(err)
	}
	for _, g := range groups {
		docs = append(docs, proj.apply(rt, s.groupDoc(r, g, q.WithMembers)))
	}
	return docs, total, nil
}

// translateQueryErr: the compiler refuses what it cannot express with
// ErrInvalid, which is the client's filter.
func translateQueryErr(err error) error {
	if isInvalid(err) {
		return badRequest(scimerrors.ScimTypeInvalidFilter, "The filter or sortBy cannot be evaluated: an operator does not apply to an attribute's type.")
	}
	return err
}

// get serves GET /Users/{id} and /Groups/{id}, with If-None-Match.
func (s *server) get(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	id := mux.Vars(r)["id"]
	proj, err := parseProjection(rt, r.URL.Query()["attributes"], r.URL.Query()["excludedAttributes"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.fast != nil && proj.splices() {
		s.getFast(w, r, rt, id, proj)
		return
	}
	doc, version, err := s.load(r, rt, id, proj)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(version))
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeSCIM(w, http.StatusOK, proj.apply(rt, doc))
}

// load reads and renders one live resource, and returns its version.
func (s *server) load(r *http.Request, rt *resourceType, id string, proj projection) (map[string]any, string, error) {
	acct := account(r)
	if rt == userType {
		u, err := s.store.LiveUser(r.Context(), acct, id)
		if err != nil {
			return nil, "", err
		}
		// Read even when the response leaves them out: the ETag digests them.
		groups, err := s.store.UserGroups(r.Context(), acct, []string{id})
		if err != nil {
			return nil, "", err
		}
		return s.userDoc(r, u, groups[id]), userVersion(u.Version, groups[id]), nil
	}
	withMembers := proj.wants("members")
	g, err := s.store.LiveGroup(r.Context(), acct, id, withMembers)
	if err != nil {
		return nil, "", err
	}
	return s.groupDoc(r, g, withMembers), groupVersion(g.Version), nil
}

// rootList and rootSearch query Users and Groups together (RFC 7644
// 3.4.2.1): the filter applies to each resource type it resolves against,
// users come first, and one page spans both.
func (s *server) rootList(w http.ResponseWriter, r *http.Request) {
	p, err := paramsFromQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.runRoot(w, r, p)
}

func (s *server) rootSearch(w http.ResponseWriter, r *http.Request) {
	p, err := paramsFromSearch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.runRoot(w, r, p)
}

func (s *server) runRoot(w http.ResponseWriter, r *http.Request, p listParams) {
	if p.byCursor {
		s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidValue, "cursor pagination is not supported across resource types; query /Users or /Groups."))
		return
	}
	if p.sortBy != "" {
		s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidValue, "sortBy is not supported across resource types; query /Users or /Groups."))
		return
	}
	start := max(p.startIndex, 1)
	count := min(max(p.count, 0), maxCount)
	var all []any
	total, matched := 0, 0
	offset := start - 1
	for _, rt := range []*resourceType{userType, groupType} {
		q, proj, err := p.query(rt)
		if err != nil {
			continue // the filter names attributes of the other type only
		}
		matched++
		// Count first, then read the part of this type's results the page covers.
		q.Count = 0
		_, n, err := s.page(r, rt, q, proj)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if need := count - len(all); need > 0 && offset < n {
			q.StartIndex, q.Count = offset+1, need
			docs, _, err := s.page(r, rt, q, proj)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			all = append(all, docs...)
		}
		offset = max(offset-n, 0)
		total += n
	}
	if matched == 0 {
		s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidFilter, "The filter names attributes of no resource type."))
		return
	}
	writeSCIM(w, http.StatusOK, listResponse(all, total, start))
}
