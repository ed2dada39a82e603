package scimapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
)

// Writes. Resources created over SCIM are local and fully writable. A
// resource AD manages is read-only over SCIM unless it is protected (a
// Protection with role protected, or the protected flag the sync engine
// sets), in which case local edits are kept; it can never be deleted over
// SCIM, since AD would only bring it back.
//
// password is writeOnly: it is accepted on POST, PUT and PATCH and then
// dropped. scimbridge does not authenticate users, so it stores no
// password, not even a hash.

func isInvalid(err error) bool { return errors.Is(err, bridge.ErrInvalid) }

var errManagedByAD = &apiError{status: http.StatusBadRequest, scimType: scimerrors.ScimTypeMutability,
	detail: "This resource is managed by Active Directory; it is read-only over SCIM."}

// userFromDoc builds the stored user from a normalized document.
func userFromDoc(id string, doc map[string]any, source bridge.Source) bridge.User {
	u := bridge.User{ID: id, Source: source, Attributes: doc, Active: true}
	u.UserName, _ = doc["userName"].(string)
	u.DisplayName, _ = doc["displayName"].(string)
	u.ExternalID, _ = doc["externalId"].(string)
	if b, ok := doc["active"].(bool); ok {
		u.Active = b
	}
	doc["active"] = u.Active
	u.Status = bridge.StatusActive
	if !u.Active {
		u.Status = bridge.StatusDeactivated
	}
	return u
}

func groupFromDoc(id string, doc map[string]any, source bridge.Source, kind bridge.GroupKind) bridge.Group {
	g := bridge.Group{ID: id, Source: source, Kind: kind, Status: bridge.StatusActive, Attributes: doc}
	g.DisplayName, _ = doc["displayName"].(string)
	g.ExternalID, _ = doc["externalId"].(string)
	return g
}

// localExt marks a document as local in the scimbridge extension.
func localExt(doc map[string]any, urn string, status bridge.Status) {
	ext, _ := doc[urn].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
		doc[urn] = ext
	}
	ext["kind"] = string(bridge.KindLocal)
	ext["status"] = string(status)
}

// keepReadOnly carries what SCIM cannot write from the stored document
// into a new one: the scimbridge extension's AD facts, and for AD
// resources the externalId (the objectGUID anchor) and the manager link.
func keepReadOnly(rt *resourceType, old, doc map[string]any, src bridge.Source) {
	for _, e := range rt.exts {
		om, _ := old[e.id].(map[string]any)
		if om == nil {
			continue
		}
		for _, a := range e.attrs {
			if a.mutability != "readOnly" {
				continue
			}
			if v, ok := om[a.name]; ok {
				nm, _ := doc[e.id].(map[string]any)
				if nm == nil {
					nm = map[string]any{}
					doc[e.id] = nm
				}
				nm[a.name] = v
			}
		}
	}
	if src == bridge.SourceAD {
		if v, ok := old["externalId"]; ok {
			doc["externalId"] = v
		} else {
			delete(doc, "externalId")
		}
	}
}

// members resolves a members array to bridge members: every value must be
// a live user or group of the account.
func (s *server) members(r *http.Request, groupID string, list []any) ([]bridge.Member, error) {
	ids := make([]string, 0, len(list))
	given := map[string]string{}
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "Each member must be an object with a value.")
		}
		var id, typ string
		for k, v := range m {
			switch strings.ToLower(k) {
			case "value":
				id, _ = v.(string)
			case "type":
				typ, _ = v.(string)
			}
		}
		if id == "" {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "Each member needs a value (the member's id).")
		}
		if id == groupID {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "A group cannot be a member of itself.")
		}
		if _, dup := given[id]; !dup {
			ids = append(ids, id)
		}
		given[id] = typ
	}
	if len(ids) == 0 {
		return []bridge.Member{}, nil
	}
	types, err := s.store.ResolveMembers(r.Context(), account(r), ids)
	if err != nil {
		return nil, err
	}
	out := make([]bridge.Member, 0, len(ids))
	for _, id := range ids {
		t, ok := types[id]
		if !ok {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "Member %q is not a user or group of this account.", id)
		}
		if g := given[id]; g != "" && !strings.EqualFold(g, t) {
			return nil, badRequest(scimerrors.ScimTypeInvalidValue, "Member %q is a %s, not a %s.", id, t, g)
		}
		out = append(out, bridge.Member{ID: id, Type: t})
	}
	return out, nil
}

func (s *server) create(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	body, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status, doc, version, err := s.createDoc(r, rt, body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", doc["meta"].(map[string]any)["location"].(string))
	w.Header().Set("ETag", etag(version))
	proj, _ := parseProjection(rt, r.URL.Query()["attributes"], r.URL.Query()["excludedAttributes"])
	writeSCIM(w, status, proj.apply(rt, doc))
}

// createDoc creates the resource body describes and returns its status,
// document and version.
func (s *server) createDoc(r *http.Request, rt *resourceType, body map[string]any) (int, map[string]any, string, error) {
	doc, memberList, err := normalize(rt, body, true)
	if err != nil {
		return 0, nil, "", err
	}
	id := uuid.NewString()
	acct := account(r)
	if rt == userType {
		u := userFromDoc(id, doc, bridge.SourceLocal)
		localExt(doc, bridge.SchemaBridgeUser, u.Status)
		u, err := s.store.CreateUser(r.Context(), acct, u)
		if err != nil {
			return 0, nil, "", err
		}
		// groups is read-only: a new user is in none yet.
		return http.StatusCreated, s.userDoc(r, u, nil), userVersion(u.Version, nil), nil
	}
	ms, err := s.members(r, id, memberList)
	if err != nil {
		return 0, nil, "", err
	}
	localExt(doc, bridge.SchemaBridgeGroup, bridge.StatusActive)
	g := groupFromDoc(id, doc, bridge.SourceLocal, bridge.KindLocal)
	g.Members = ms
	g, err = s.store.CreateGroup(r.Context(), acct, g)
	if err != nil {
		return 0, nil, "", err
	}
	return http.StatusCreated, s.groupDoc(r, g, true), groupVersion(g.Version), nil
}

// current is a stored resource about to be written.
type current struct {
	user    bridge.User
	group   bridge.Group
	attrs   map[string]any
	source  bridge.Source
	version int64  // the row's, which the store's write checks
	tag     string // the version If-Match names (version.go)
}

// loadForWrite reads the resource, checks If-Match, and refuses resources
// AD manages unless they are protected.
func (s *server) loadForWrite(r *http.Request, rt *resourceType, id string, withMembers bool) (current, error) {
	acct := account(r)
	var c current
	var extURN, externalID string
	if rt == userType {
		u, err := s.store.LiveUser(r.Context(), acct, id)
		if err != nil {
			return c, err
		}
		// The user's version digests its groups: If-Match needs them.
		groups, err := s.store.UserGroups(r.Context(), acct, []string{id})
		if err != nil {
			return c, err
		}
		c = current{user: u, attrs: u.Attributes, source: u.Source, version: u.Version, tag: userVersion(u.Version, groups[id])}
		extURN, externalID = bridge.SchemaBridgeUser, u.ExternalID
	} else {
		g, err := s.store.LiveGroup(r.Context(), acct, id, withMembers)
		if err != nil {
			return c, err
		}
		c = current{group: g, attrs: g.Attributes, source: g.Source, version: g.Version, tag: groupVersion(g.Version)}
		extURN, externalID = bridge.SchemaBridgeGroup, g.ExternalID
	}
	if c.attrs == nil {
		c.attrs = map[string]any{}
	}
	if im := r.Header.Get("If-Match"); im != "" && !matchesETag(im, c.tag) {
		return c, &apiError{status: http.StatusPreconditionFailed, detail: fmt.Sprintf("If-Match does not match the current version %s.", etag(c.tag))}
	}
	if c.source != bridge.SourceLocal {
		if r.Method == http.MethodDelete {
			return c, errManagedByAD
		}
		ext, _ := c.attrs[extURN].(map[string]any)
		protected := ext != nil && ext["protected"] == true
		if !protected {
			p, err := s.store.IsProtected(r.Context(), acct, externalID, id)
			if err != nil {
				return c, err
			}
			protected = p
		}
		if !protected {
			return c, errManagedByAD
		}
	}
	return c, nil
}

func (s *server) replace(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	s.update(w, r, rt, s.replaceDoc)
}

// update serves PUT and PATCH alike: read the JSON body, change the
// resource with change, and answer the new document with its ETag.
func (s *server) update(w http.ResponseWriter, r *http.Request, rt *resourceType,
	change func(r *http.Request, rt *resourceType, id string, body map[string]any) (map[string]any, string, error)) {
	body, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	doc, version, err := change(r, rt, mux.Vars(r)["id"], body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(version))
	proj, _ := parseProjection(rt, r.URL.Query()["attributes"], r.URL.Query()["excludedAttributes"])
	writeSCIM(w, http.StatusOK, proj.apply(rt, doc))
}

func (s *server) replaceDoc(r *http.Request, rt *resourceType, id string, body map[string]any) (map[string]any, string, error) {
	c, err := s.loadForWrite(r, rt, id, false)
	if err != nil {
		return nil, "", err
	}
	doc, memberList, err := normalize(rt, body, true)
	if err != nil {
		return nil, "", err
	}
	_, hasMembers := findKey(body, "members")
	return s.store1(r, rt, c, doc, memberList, hasMembers)
}

// store1 writes a new document for the resource c; for groups, members
// replaces the member set when replaceMembers (PUT) and mc applies.
func (s *server) store1(r *http.Request, rt *resourceType, c current, doc map[string]any, memberList []any, replaceMembers bool) (map[string]any, string, error) {
	keepReadOnly(rt, c.attrs, doc, c.source)
	acct := account(r)
	if rt == userType {
		u := userFromDoc(c.user.ID, doc, c.source)
		ext, _ := doc[bridge.SchemaBridgeUser].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			doc[bridge.SchemaBridgeUser] = ext
		}
		ext["status"] = string(u.Status)
		if c.source == bridge.SourceLocal {
			ext["kind"] = string(bridge.KindLocal)
		}
		u, err := s.store.UpdateUser(r.Context(), acct, u, c.version)
		if err != nil {
			return nil, "", err
		}
		groups, err := s.store.UserGroups(r.Context(), acct, []string{u.ID})
		if err != nil {
			return nil, "", err
		}
		return s.userDoc(r, u, groups[u.ID]), userVersion(u.Version, groups[u.ID]), nil
	}
	var mc bridge.MemberChange
	if replaceMembers {
		ms, err := s.members(r, c.group.ID, memberList)
		if err != nil {
			return nil, "", err
		}
		mc = bridge.MemberChange{Replace: true, Set: ms}
	}
	return s.writeGroup(r, c, doc, mc)
}

func (s *server) writeGroup(r *http.Request, c current, doc map[string]any, mc bridge.MemberChange) (map[string]any, string, error) {
	g := groupFromDoc(c.group.ID, doc, c.source, c.group.Kind)
	if c.source == bridge.SourceLocal {
		localExt(doc, bridge.SchemaBridgeGroup, bridge.StatusActive)
	}
	withMembers := true
	if q := r.URL.Query(); len(q["excludedAttributes"]) > 0 || len(q["attributes"]) > 0 {
		proj, _ := parseProjection(groupType, q["attributes"], q["excludedAttributes"])
		withMembers = proj.wants("members")
	}
	g, err := s.store.UpdateGroup(r.Context(), account(r), g, mc, c.version, withMembers)
	if err != nil {
		return nil, "", err
	}
	return s.groupDoc(r, g, withMembers), groupVersion(g.Version), nil
}

func findKey(m map[string]any, key string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func (s *server) delete(w http.ResponseWriter, r *http.Request, rt *resourceType) {
	id := mux.Vars(r)["id"]
	if err := s.deleteID(r, rt, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) deleteID(r *http.Request, rt *resourceType, id string) error {
	c, err := s.loadForWrite(r, rt, id, false)
	if err != nil {
		return err
	}
	// Local resources are removed for good (with their memberships): they
	// have no AD history to audit, and a soft-deleted row would keep its
	// externalId taken.
	if rt == userType {
		return s.store.DeleteUser(r.Context(), account(r), id, c.version)
	}
	return s.store.DeleteGroup(r.Context(), account(r), id, c.version)
}
