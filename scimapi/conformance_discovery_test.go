package scimapi

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// Conformance: discovery (RFC 7644 4, RFC 7643 5-7) and the HTTP surface
// (methods, paths, media types, authentication).

func confDiscovery(c *confRun) []conf {
	return []conf{
		{name: "ServiceProviderConfig has every capability and meta", method: "GET", path: "/ServiceProviderConfig", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "schemas", r.get("schemas.0"), "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")
				wantKeys(t, "config", r.body, "patch", "bulk", "filter", "changePassword", "sort", "etag", "authenticationSchemes")
				for _, k := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
					if _, ok := r.get(k + ".supported").(bool); !ok {
						t.Errorf("%s.supported is not a boolean", k)
					}
				}
				wantKeys(t, "bulk", r.get("bulk").(map[string]any), "maxOperations", "maxPayloadSize")
				wantKeys(t, "filter", r.get("filter").(map[string]any), "maxResults")
				wantKeys(t, "authenticationSchemes[0]", r.get("authenticationSchemes.0").(map[string]any), "type", "name", "description")
				wantEq(t, "meta.resourceType", r.get("meta.resourceType"), "ServiceProviderConfig")
				wantEq(t, "meta.location", r.get("meta.location"), "https://scim.example.com/scim/v2/ServiceProviderConfig")
			}},
		{name: "ResourceTypes is a ListResponse of User and Group", method: "GET", path: "/ResourceTypes", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantList(t, r, 2)
				for _, rt := range resources(r) {
					wantKeys(t, "ResourceType", rt, "schemas", "id", "name", "endpoint", "schema", "meta")
					meta, _ := rt["meta"].(map[string]any)
					wantEq(t, "meta.resourceType", meta["resourceType"], "ResourceType")
					wantEq(t, "meta.location", meta["location"], "https://scim.example.com/scim/v2/ResourceTypes/"+rt["id"].(string))
				}
			}},
		{name: "ResourceTypes/User names its endpoint, schema and extensions", method: "GET", path: "/ResourceTypes/User", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "endpoint", r.get("endpoint"), "/Users")
				wantEq(t, "schema", r.get("schema"), userURN)
				wantEq(t, "schemaExtensions.0.schema", r.get("schemaExtensions.0.schema"), bridge.SchemaEnterpriseUser)
				if _, ok := r.get("schemaExtensions.0.required").(bool); !ok {
					t.Errorf("schemaExtensions.0.required is not a boolean")
				}
			}},
		{name: "ResourceTypes/unknown is 404", method: "GET", path: "/ResourceTypes/Printer", status: 404},
		{name: "Schemas is a ListResponse with meta on each schema", method: "GET", path: "/Schemas", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantList(t, r, 5)
				for _, sc := range resources(r) {
					wantKeys(t, "Schema", sc, "schemas", "id", "name", "attributes", "meta")
					meta, _ := sc["meta"].(map[string]any)
					wantEq(t, "meta.resourceType", meta["resourceType"], "Schema")
					wantEq(t, "meta.location", meta["location"], "https://scim.example.com/scim/v2/Schemas/"+sc["id"].(string))
				}
			}},
		{name: "Schemas/User defines every attribute completely", method: "GET", path: "/Schemas/" + userURN, status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "id", r.get("id"), userURN)
				checkAttrDefs(t, "", r.get("attributes"))
				for _, a := range r.get("attributes").([]any) {
					m := a.(map[string]any)
					switch m["name"] {
					case "userName":
						wantEq(t, "userName uniqueness", m["uniqueness"], "server")
						wantEq(t, "userName required", m["required"], true)
						wantEq(t, "userName caseExact", m["caseExact"], false)
					case "groups":
						wantEq(t, "groups mutability", m["mutability"], "readOnly")
					case "password":
						wantEq(t, "password returned", m["returned"], "never")
					}
				}
			}},
		{name: "Schemas/Group defines members with value, $ref and type, and display as never returned (it is not kept)", method: "GET", path: "/Schemas/" + groupURN, status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				checkAttrDefs(t, "", r.get("attributes"))
				found := map[string]bool{}
				for _, a := range r.get("attributes").([]any) {
					if m := a.(map[string]any); m["name"] == "members" {
						for _, s := range m["subAttributes"].([]any) {
							sub := s.(map[string]any)
							found[sub["name"].(string)] = true
							if sub["name"] == "display" {
								wantEq(t, "members.display returned", sub["returned"], "never")
							}
						}
					}
				}
				for _, n := range []string{"value", "$ref", "type"} {
					if !found[n] {
						t.Errorf("members has no %s sub-attribute", n)
					}
				}
			}},
		{name: "Schemas/enterprise extension defines manager", method: "GET", path: "/Schemas/" + bridge.SchemaEnterpriseUser, status: 200,
			check: func(t *testing.T, r resp, c *confRun) { checkAttrDefs(t, "", r.get("attributes")) }},
		{name: "Schemas/scimbridge Group extension gives booleans a uniqueness", method: "GET", path: "/Schemas/" + bridge.SchemaBridgeGroup, status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				checkAttrDefs(t, "", r.get("attributes"))
				for _, a := range r.get("attributes").([]any) {
					if m := a.(map[string]any); m["name"] == "protected" {
						wantEq(t, "protected uniqueness", m["uniqueness"], "none")
					}
				}
			}},
		{name: "Schemas/{urn} ignores the case of the URN", method: "GET", path: "/Schemas/" + strings.ToUpper(userURN), status: 200},
		{name: "Schemas/unknown URN is 404", method: "GET", path: "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Printer", status: 404},
	}
}

// checkAttrDefs checks RFC 7643 7's characteristics on attribute
// definitions: every one names its type, multiValued, required,
// mutability, returned and uniqueness (booleans and complex ones too);
// strings and references say caseExact, references list referenceTypes, complex ones have
// subAttributes (checked the same way).
func checkAttrDefs(t *testing.T, parent string, v any) {
	t.Helper()
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		t.Errorf("%s: no attribute definitions", parent)
		return
	}
	for _, x := range list {
		a := x.(map[string]any)
		name := parent + "." + a["name"].(string)
		wantKeys(t, name, a, "name", "type", "multiValued", "required", "mutability", "returned", "description", "uniqueness")
		switch a["type"] {
		case "string", "reference", "binary":
			wantKeys(t, name, a, "caseExact")
		}
		switch a["uniqueness"] {
		case "none", "server", "global":
		default:
			t.Errorf("%s: uniqueness %v", name, a["uniqueness"])
		}
		if a["type"] == "reference" {
			if rts, _ := a["referenceTypes"].([]any); len(rts) == 0 {
				t.Errorf("%s: reference without referenceTypes", name)
			}
		}
		if a["type"] == "complex" {
			checkAttrDefs(t, name, a["subAttributes"])
		}
		switch a["mutability"] {
		case "readOnly", "readWrite", "immutable", "writeOnly":
		default:
			t.Errorf("%s: mutability %v", name, a["mutability"])
		}
		switch a["returned"] {
		case "always", "never", "default", "request":
		default:
			t.Errorf("%s: returned %v", name, a["returned"])
		}
	}
}

func confHTTP(c *confRun) []conf {
	return []conf{
		{name: "methods a discovery endpoint does not serve are 405 with Allow", method: "PUT", path: "/ServiceProviderConfig", body: `{}`, status: 405,
			check: func(t *testing.T, r resp, c *confRun) { wantEq(t, "Allow", r.Header().Get("Allow"), "GET, HEAD") }},
		{name: "DELETE on a collection is 405 with Allow", method: "DELETE", path: "/Users", status: 405,
			check: func(t *testing.T, r resp, c *confRun) { wantEq(t, "Allow", r.Header().Get("Allow"), "GET, HEAD, POST") }},
		{name: "GET on .search is 405", method: "GET", path: "/Users/.search", status: 405},
		{name: "POST on a resource is 405", method: "POST", path: "/Users/{alice}", body: `{}`, status: 405},
		{name: "HEAD is served where GET is", method: "HEAD", path: "/ServiceProviderConfig", status: 200},
		{name: "HEAD on a resource carries its ETag", method: "HEAD", path: "/Users/{alice}", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				if r.Header().Get("ETag") == "" {
					t.Errorf("no ETag")
				}
			}},
		{name: "a trailing slash names the same endpoint", method: "GET", path: "/ServiceProviderConfig/", status: 200},
		{name: "a trailing slash on a collection lists it", method: "GET", path: "/Users/?count=1", status: 200,
			check: listShape(-1)},
		{name: "the base URL without a slash is the root query", method: "GET", path: "/scim/v2?count=1", status: 200,
			check: listShape(-1)},
		{name: "an unknown endpoint is a SCIM 404", method: "GET", path: "/Printers", status: 404},
		{name: "/Me is 501 (RFC 7644 3.11)", method: "GET", path: "/Me", status: 501},
		{name: "no token is 401 with WWW-Authenticate", method: "GET", path: "/Users", headers: []string{"Authorization", ""}, status: 401,
			check: func(t *testing.T, r resp, c *confRun) {
				if !strings.HasPrefix(r.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", r.Header().Get("WWW-Authenticate"))
				}
			}},
		{name: "a request body as application/json is accepted", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"userName":"json.client@example.com"}`, headers: []string{"Content-Type", "application/json"}, status: 201},
		{name: "a request body as application/scim+json with charset is accepted", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"userName":"charset.client@example.com"}`, headers: []string{"Content-Type", "application/scim+json; charset=utf-8"}, status: 201},
		{name: "a request body as text/plain is 415", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"userName":"text.client@example.com"}`, headers: []string{"Content-Type", "text/plain"}, status: 415},
	}
}
