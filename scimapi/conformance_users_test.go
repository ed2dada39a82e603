package scimapi

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// Conformance: a User's life as a client drives it (RFC 7644 3.3, 3.4.1,
// 3.5, 3.6, 3.14): create, read, replace, patch, delete, with ETags.

const newUser = `{"schemas":["` + userURN + `","` + bridge.SchemaEnterpriseUser + `"],
	"userName":"Conf.User@example.com","externalId":"conf-1","active":true,"displayName":"Conf User",
	"name":{"givenName":"Conf","familyName":"User"},"title":"Tester","password":"S3cret!pass",
	"emails":[{"type":"work","value":"conf.user@example.com","primary":true}],
	"` + bridge.SchemaEnterpriseUser + `":{"department":"QA","manager":{"value":"{alice}"}},
	"id":"chosen-by-client","meta":{"created":"2000-01-01T00:00:00Z"},"groups":[{"value":"{eng}"}],
	"favouriteColour":"green"}`

func confUsers(c *confRun) []conf {
	return []conf{
		{name: "POST /Users creates: 201, Location is meta.location, ETag is meta.version", method: "POST", path: "/Users", body: newUser, status: 201,
			check: func(t *testing.T, r resp, c *confRun) {
				id := r.str("id")
				c.set("user", id)
				c.set("userTag", r.Header().Get("ETag"))
				c.set("userModified", r.str("meta.lastModified"))
				wantEq(t, "Location", r.Header().Get("Location"), r.str("meta.location"))
				wantEq(t, "meta.location", r.str("meta.location"), "https://scim.example.com/scim/v2/Users/"+id)
				wantEq(t, "ETag", r.Header().Get("ETag"), r.str("meta.version"))
				wantEq(t, "meta.resourceType", r.str("meta.resourceType"), "User")
				if id == "" || id == "chosen-by-client" {
					t.Errorf("id %q: the server assigns it", id)
				}
				if strings.HasPrefix(r.str("meta.created"), "2000") || r.get("groups") != nil {
					t.Errorf("readOnly meta.created or groups taken from the request: %s", r.Body.String())
				}
				wantNoKeys(t, "user", r.body, "password", "favouriteColour")
				wantEq(t, "manager.value", r.str(bridge.SchemaEnterpriseUser+".manager.value"), c.f.alice.ID)
				wantEq(t, "schemas.0", r.get("schemas.0"), userURN)
			}},
		{name: "POST with a userName taken in another case is 409 uniqueness", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"userName":"conf.user@EXAMPLE.com"}`, status: 409, scimType: "uniqueness"},
		{name: "POST without schemas is 400 invalidSyntax", method: "POST", path: "/Users",
			body: `{"userName":"noschemas@example.com"}`, status: 400, scimType: "invalidSyntax"},
		{name: "POST without userName is 400 invalidValue", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"displayName":"Nobody"}`, status: 400, scimType: "invalidValue"},
		{name: "POST with a non-boolean active is 400 invalidValue", method: "POST", path: "/Users",
			body: `{"schemas":["` + userURN + `"],"userName":"maybe@example.com","active":"maybe"}`, status: 400, scimType: "invalidValue"},
		{name: "POST with a body that is not JSON is 400 invalidSyntax", method: "POST", path: "/Users",
			body: `{"schemas":`, status: 400, scimType: "invalidSyntax"},
		{name: "POST with the core schema URN in another case is accepted", method: "POST", path: "/Users",
			body: `{"schemas":["` + strings.ToUpper(userURN) + `"],"USERNAME":"upper.case@example.com"}`, status: 201,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "userName", r.str("userName"), "upper.case@example.com")
			}},
		{name: "GET /Users/{id} answers the resource with its ETag", method: "GET", path: "/Users/{user}", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "ETag", r.Header().Get("ETag"), c.vars["userTag"])
				wantEq(t, "meta.version", r.str("meta.version"), c.vars["userTag"])
				wantEq(t, "userName", r.str("userName"), "Conf.User@example.com")
			}},
		{name: "GET with If-None-Match of the current version is 304", method: "GET", path: "/Users/{user}",
			headers: []string{"If-None-Match", "{userTag}"}, status: 304},
		{name: "GET with If-None-Match of another version is 200", method: "GET", path: "/Users/{user}",
			headers: []string{"If-None-Match", `W/"999"`}, status: 200},
		{name: "GET of an unknown id is 404 in the error schema", method: "GET", path: "/Users/00000000-0000-0000-0000-000000000000", status: 404,
			check: func(t *testing.T, r resp, c *confRun) { wantKeys(t, "error", r.body, "detail") }},
		{name: "PUT with a stale If-Match is 412", method: "PUT", path: "/Users/{user}", headers: []string{"If-Match", `W/"999"`},
			body: `{"schemas":["` + userURN + `"],"userName":"Conf.User@example.com"}`, status: 412},
		{name: "PUT replaces: omitted attributes go, readOnly ones are ignored", method: "PUT", path: "/Users/{user}",
			headers: []string{"If-Match", "{userTag}"},
			body: `{"schemas":["` + userURN + `"],"id":"other-id","userName":"Conf.User@example.com","externalId":"conf-1",
				"displayName":"Conf User Replaced","emails":[{"type":"work","value":"conf.user@example.com","primary":true}],
				"meta":{"resourceType":"Group"},"groups":[{"value":"{eng}"}]}`, status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "id", r.str("id"), c.vars["user"])
				wantEq(t, "displayName", r.str("displayName"), "Conf User Replaced")
				wantEq(t, "meta.resourceType", r.str("meta.resourceType"), "User")
				wantNoKeys(t, "user", r.body, "title", "name", "groups", bridge.SchemaEnterpriseUser)
				if r.Header().Get("ETag") == c.vars["userTag"] {
					t.Errorf("the ETag did not move")
				}
				c.set("userTag", r.Header().Get("ETag"))
			}},
		{name: "PUT of an unknown id is 404", method: "PUT", path: "/Users/00000000-0000-0000-0000-000000000000",
			body: `{"schemas":["` + userURN + `"],"userName":"ghost@example.com"}`, status: 404},
		{name: "PUT of an AD-managed user is 400 mutability", method: "PUT", path: "/Users/{alice}",
			body: `{"schemas":["` + userURN + `"],"userName":"alice@example.com"}`, status: 400, scimType: "mutability"},
	}
}

func patchOps(ops string) string {
	return `{"schemas":["` + schemaPatchOp + `"],"Operations":` + ops + `}`
}

func confPatch(c *confRun) []conf {
	p := func(name, ops string, status int, scimType string, check func(t *testing.T, r resp, c *confRun)) conf {
		return conf{name: name, method: "PATCH", path: "/Users/{user}", body: patchOps(ops), status: status, scimType: scimType, check: check}
	}
	return []conf{
		p("PATCH add to a multi-valued attribute appends", `[{"op":"add","path":"emails","value":[{"type":"home","value":"conf@home.example.org"}]}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "emails", len(r.get("emails").([]any)), 2)
				wantEq(t, "ETag", r.Header().Get("ETag"), r.str("meta.version"))
			}),
		p("PATCH replace through a value filter (Entra ID)", `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"conf.work@example.com"}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				for _, e := range r.get("emails").([]any) {
					if m := e.(map[string]any); m["type"] == "work" {
						wantEq(t, "work email", m["value"], "conf.work@example.com")
					}
				}
			}),
		p("PATCH \"Replace\" with string booleans (Entra ID)", `[{"op":"Replace","path":"active","value":"False"},{"op":"Add","path":"title","value":"Lead"}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "active", r.get("active"), false)
				wantEq(t, "title", r.get("title"), "Lead")
			}),
		p("PATCH without path, value an object (Okta)", `[{"op":"replace","value":{"active":true,"id":"{user}","name.givenName":"Conf",
			"`+bridge.SchemaEnterpriseUser+`":{"department":"QA"}}}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "active", r.get("active"), true)
				wantEq(t, "name.givenName", r.str("name.givenName"), "Conf")
				wantEq(t, "department", r.str(bridge.SchemaEnterpriseUser+".department"), "QA")
			}),
		p("PATCH with the extension URN path in another case", `[{"op":"replace","path":"`+strings.ToUpper(bridge.SchemaEnterpriseUser)+`:Department","value":"Research"}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "department", r.str(bridge.SchemaEnterpriseUser+".department"), "Research")
			}),
		p("PATCH with the core URN written in full", `[{"op":"replace","path":"`+userURN+`:name.familyName","value":"Userson"}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) { wantEq(t, "familyName", r.str("name.familyName"), "Userson") }),
		{name: "PATCH with the PatchOp URN in another case", method: "PATCH", path: "/Users/{user}", status: 200,
			body: `{"schemas":["` + strings.ToUpper(schemaPatchOp) + `"],"Operations":[{"op":"replace","path":"nickName","value":"Confy"}]}`},
		p("PATCH remove through a value filter drops the element", `[{"op":"remove","path":"emails[type eq \"home\"]"}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "emails", len(r.get("emails").([]any)), 1)
				c.set("userTag", r.Header().Get("ETag"))
			}),
		p("PATCH replace externalId by path (Entra ID): it is readWrite", `[{"op":"Replace","path":"externalId","value":"conf-2"}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) { wantEq(t, "externalId", r.str("externalId"), "conf-2") }),
		p("PATCH replace externalId without path", `[{"op":"replace","value":{"externalId":"conf-3"}}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "externalId", r.str("externalId"), "conf-3")
				c.set("userTag", r.Header().Get("ETag"))
			}),
		p("PATCH of meta.created is 400 mutability", `[{"op":"replace","path":"meta.created","value":"2000-01-01T00:00:00Z"}]`, 400, "mutability", nil),
		p("PATCH remove without path is 400 noTarget", `[{"op":"remove"}]`, 400, "noTarget", nil),
		p("PATCH replace through a filter matching nothing is 400 noTarget", `[{"op":"replace","path":"emails[type eq \"other\"].value","value":"x@example.com"}]`, 400, "noTarget", nil),
		p("PATCH of id is 400 mutability", `[{"op":"replace","path":"id","value":"x"}]`, 400, "mutability", nil),
		p("PATCH of groups is 400 mutability", `[{"op":"add","path":"groups","value":[{"value":"{eng}"}]}]`, 400, "mutability", nil),
		p("PATCH of an unknown attribute is 400 invalidPath", `[{"op":"replace","path":"favouriteColour","value":"x"}]`, 400, "invalidPath", nil),
		p("PATCH with a malformed value filter in a well-formed path is 400 invalidFilter (RFC 7644 3.5.2, 3.12)",
			`[{"op":"replace","path":"emails[type eq].value","value":"x"}]`, 400, "invalidFilter", nil),
		p("PATCH with a value filter on an unknown sub-attribute is 400 invalidFilter",
			`[{"op":"remove","path":"emails[colour eq \"red\"]"}]`, 400, "invalidFilter", nil),
		p("PATCH with a malformed path (unbalanced [ ]) is 400 invalidPath", `[{"op":"replace","path":"emails[type eq \"work\".value","value":"x"}]`,
			400, "invalidPath", nil),
		p("PATCH with an unknown op is 400 invalidSyntax", `[{"op":"merge","path":"title","value":"x"}]`, 400, "invalidSyntax", nil),
		p("PATCH with a value of the wrong type is 400 invalidValue", `[{"op":"replace","path":"active","value":"maybe"}]`, 400, "invalidValue", nil),
		p("PATCH to a userName in use is 409 uniqueness", `[{"op":"replace","path":"userName","value":"ALICE@example.com"}]`, 409, "uniqueness", nil),
		{name: "PATCH with a stale If-Match is 412", method: "PATCH", path: "/Users/{user}", headers: []string{"If-Match", `W/"1"`},
			body: patchOps(`[{"op":"replace","path":"title","value":"x"}]`), status: 412},
		{name: "PATCH with the current If-Match applies", method: "PATCH", path: "/Users/{user}", headers: []string{"If-Match", "{userTag}"},
			body: patchOps(`[{"op":"replace","path":"title","value":"Principal"}]`), status: 200},
		{name: "PATCH of an unknown id is 404", method: "PATCH", path: "/Users/00000000-0000-0000-0000-000000000000",
			body: patchOps(`[{"op":"replace","path":"title","value":"x"}]`), status: 404},
		// The end of the user's life; it was also made for the list rows, so
		// delete a second one.
		{name: "POST a user to delete", method: "POST", path: "/Users", body: `{"schemas":["` + userURN + `"],"userName":"doomed@example.com"}`, status: 201,
			check: func(t *testing.T, r resp, c *confRun) { c.set("doomed", r.str("id")) }},
		{name: "DELETE with a stale If-Match is 412", method: "DELETE", path: "/Users/{doomed}", headers: []string{"If-Match", `W/"7"`}, status: 412},
		{name: "DELETE is 204", method: "DELETE", path: "/Users/{doomed}", status: 204,
			check: func(t *testing.T, r resp, c *confRun) {
				if r.Body.Len() != 0 {
					t.Errorf("204 with a body: %s", r.Body.String())
				}
			}},
		{name: "GET after DELETE is 404", method: "GET", path: "/Users/{doomed}", status: 404},
		{name: "DELETE again is 404", method: "DELETE", path: "/Users/{doomed}", status: 404},
		{name: "DELETE of an AD-managed user is 400 mutability", method: "DELETE", path: "/Users/{alice}", status: 400, scimType: "mutability"},
	}
}
