package scimapi

import (
	"net/http"
	"strings"

	"github.com/elimity-com/scim/schema"
	"github.com/gorilla/mux"
)

// Discovery endpoints (RFC 7644 section 4). The ServiceProviderConfig is
// written here rather than by elimity's, which cannot advertise sort, etag
// or bulk; each flag below is true because this package implements it.

func (s *server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	_, cursors := s.store.(cursorStore)
	writeSCIM(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/scimbridge/scimbridge",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": maxBulkOperations, "maxPayloadSize": s.maxBody},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		// RFC 9865 section 4: cursors on /Users and /Groups (cursor_list.go),
		// index pages everywhere and by default.
		"pagination": map[string]any{
			"cursor": cursors, "index": true, "defaultPaginationMethod": "index",
			"defaultPageSize": defaultCount, "maxPageSize": maxCount, "cursorTimeout": cursorTimeout,
		},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "A scimbridge API token with role scim: Authorization: Bearer <token>. Create one with `scimbridge token create --account A --role scim`.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.base(r) + "/ServiceProviderConfig"},
	})
}

func (s *server) allSchemas() []schema.Schema {
	var out []schema.Schema
	seen := map[string]bool{}
	for _, rt := range []*resourceType{userType, groupType} {
		for _, d := range append([]*schemaDef{rt.core}, rt.exts...) {
			if !seen[d.id] {
				seen[d.id] = true
				out = append(out, d.src)
			}
		}
	}
	return out
}

func (s *server) schemaDoc(r *http.Request, sc schema.Schema) map[string]any {
	m := sc.ToMap()
	if attrs, ok := m["attributes"].([]map[string]any); ok {
		completeAttrDefs(attrs)
	}
	m["meta"] = map[string]any{"resourceType": "Schema", "location": s.base(r) + "/Schemas/" + sc.ID}
	return m
}

// completeAttrDefs gives every attribute definition a uniqueness (RFC
// 7643 7 lists it for every attribute, "none" by default): elimity leaves
// it out of booleans and complex attributes.
func completeAttrDefs(attrs []map[string]any) {
	for _, a := range attrs {
		if _, ok := a["uniqueness"]; !ok {
			a["uniqueness"] = "none"
		}
		if subs, ok := a["subAttributes"].([]map[string]any); ok {
			completeAttrDefs(subs)
		}
	}
}

func (s *server) schemas(w http.ResponseWriter, r *http.Request) {
	var docs []any
	for _, sc := range s.allSchemas() {
		docs = append(docs, s.schemaDoc(r, sc))
	}
	writeSCIM(w, http.StatusOK, listResponse(docs, len(docs), 1))
}

func (s *server) schemaByID(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	for _, sc := range s.allSchemas() {
		if strings.EqualFold(sc.ID, id) {
			writeSCIM(w, http.StatusOK, s.schemaDoc(r, sc))
			return
		}
	}
	writeSCIMError(w, http.StatusNotFound, "", "No such schema.")
}

func (s *server) resourceTypeDoc(r *http.Request, rt *resourceType) map[string]any {
	exts := make([]any, 0, len(rt.exts))
	for _, e := range rt.exts {
		exts = append(exts, map[string]any{"schema": e.id, "required": false})
	}
	return map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id":               rt.name,
		"name":             rt.name,
		"endpoint":         rt.endpoint,
		"description":      rt.name + "s of the account, read from Active Directory or created over SCIM.",
		"schema":           rt.core.id,
		"schemaExtensions": exts,
		"meta":             map[string]any{"resourceType": "ResourceType", "location": s.base(r) + "/ResourceTypes/" + rt.name},
	}
}

func (s *server) resourceTypes(w http.ResponseWriter, r *http.Request) {
	docs := []any{s.resourceTypeDoc(r, userType), s.resourceTypeDoc(r, groupType)}
	writeSCIM(w, http.StatusOK, listResponse(docs, len(docs), 1))
}

func (s *server) resourceTypeByID(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	for _, rt := range []*resourceType{userType, groupType} {
		if strings.EqualFold(rt.name, id) {
			writeSCIM(w, http.StatusOK, s.resourceTypeDoc(r, rt))
			return
		}
	}
	writeSCIMError(w, http.StatusNotFound, "", "No such resource type.")
}
