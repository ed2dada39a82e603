package scimapi

import (
	"fmt"
	"strings"
	"testing"
)

// Conformance: Groups and their members (RFC 7643 4.2, RFC 7644 3.5.2),
// and /Bulk (RFC 7644 3.7).

func confGroups(c *confRun) []conf {
	pg := func(name, ops string, status int, scimType string, check func(t *testing.T, r resp, c *confRun)) conf {
		return conf{name: name, method: "PATCH", path: "/Groups/{group}", body: patchOps(ops), status: status, scimType: scimType, check: check}
	}
	memberIDs := func(r resp) map[string]bool {
		out := map[string]bool{}
		ms, _ := r.get("members").([]any)
		for _, m := range ms {
			out[m.(map[string]any)["value"].(string)] = true
		}
		return out
	}
	return []conf{
		{name: "POST /Groups with members given as value, $ref, type and display", method: "POST", path: "/Groups", status: 201,
			body: `{"schemas":["` + groupURN + `"],"displayName":"Conformance Group","externalId":"conf-g",
				"members":[{"value":"{alice}","$ref":"https://elsewhere.example/Users/{alice}","type":"User","display":"Alice Archer"}]}`,
			check: func(t *testing.T, r resp, c *confRun) {
				c.set("group", r.str("id"))
				wantEq(t, "Location", r.Header().Get("Location"), r.str("meta.location"))
				wantEq(t, "meta.resourceType", r.str("meta.resourceType"), "Group")
				wantEq(t, "members.0.value", r.str("members.0.value"), c.f.alice.ID)
				wantEq(t, "members.0.type", r.str("members.0.type"), "User")
				wantEq(t, "members.0.$ref", r.str("members.0.$ref"), "https://scim.example.com/scim/v2/Users/"+c.f.alice.ID)
				// display is taken and not kept: /Schemas says returned "never".
				wantNoKeys(t, "members.0", r.get("members.0").(map[string]any), "display")
			}},
		{name: "POST /Groups with a displayName in use is accepted (displayName is not unique)", method: "POST", path: "/Groups", status: 201,
			body:  `{"schemas":["` + groupURN + `"],"displayName":"Conformance Group"}`,
			check: func(t *testing.T, r resp, c *confRun) { c.set("group2", r.str("id")) }},
		{name: "PATCH remove members[...] with a malformed filter is 400 invalidFilter", method: "PATCH", path: "/Groups/{group}", status: 400,
			scimType: "invalidFilter", body: patchOps(`[{"op":"remove","path":"members[value eq]"}]`)},
		{name: "sortBy members is not supported: 400 invalidValue", method: "GET", path: "/Groups?sortBy=members", status: 400, scimType: "invalidValue"},
		{name: "GET /Groups filtered by displayName (Entra ID's lookup)", method: "GET", status: 200,
			path: "/Groups?excludedAttributes=members&filter=" + c.q(`displayName eq "conformance group"`), check: listShape(2)},
		{name: "excludedAttributes=members leaves the members out", method: "GET", path: "/Groups/{group}?excludedAttributes=members", status: 200,
			check: func(t *testing.T, r resp, c *confRun) { wantNoKeys(t, "group", r.body, "members") }},
		{name: "attributes=members.value keeps only the value of each member", method: "GET", path: "/Groups/{group}?attributes=members.value", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "members", jsonString(r.get("members")), `[{"value":"`+c.f.alice.ID+`"}]`)
			}},
		{name: "excludedAttributes=members.$ref drops only $ref", method: "GET", path: "/Groups/{group}?excludedAttributes=members.$ref", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "members", jsonString(r.get("members")), `[{"type":"User","value":"`+c.f.alice.ID+`"}]`)
			}},
		pg("PATCH add members", `[{"op":"add","path":"members","value":[{"value":"{dave}"},{"value":"{ops}","type":"Group"}]}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "members", len(memberIDs(r)), 3)
			}),
		pg(`PATCH remove members[value eq "..."]`, `[{"op":"remove","path":"members[value eq \"{dave}\"]"}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				if memberIDs(r)[c.f.dave.ID] {
					t.Errorf("dave is still a member")
				}
			}),
		pg("PATCH remove members with a value array (Entra ID)", `[{"op":"Remove","path":"members","value":[{"value":"{ops}"}]}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) { wantEq(t, "members", len(memberIDs(r)), 1) }),
		{name: "PATCH add members answers without them under excludedAttributes=members", method: "PATCH", status: 200,
			path: "/Groups/{group}?excludedAttributes=members", body: patchOps(`[{"op":"add","path":"members","value":[{"value":"{bob}"}]}]`),
			check: func(t *testing.T, r resp, c *confRun) { wantNoKeys(t, "group", r.body, "members") }},
		pg("PATCH replace members", `[{"op":"replace","path":"members","value":[{"value":"{dave}"}]}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "members", jsonString(memberIDs(r)), jsonString(map[string]bool{c.f.dave.ID: true}))
			}),
		pg("PATCH add a member that does not exist is 400 invalidValue", `[{"op":"add","path":"members","value":[{"value":"00000000-0000-0000-0000-000000000000"}]}]`, 400, "invalidValue", nil),
		pg("PATCH replace displayName without path (Okta)", `[{"op":"replace","value":{"id":"{group}","displayName":"Conformance Group Renamed"}}]`, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "displayName", r.str("displayName"), "Conformance Group Renamed")
			}),
		{name: "GET /Groups filtered by members.value", method: "GET", status: 200,
			path: "/Groups?attributes=displayName&filter=" + c.q(`members.value eq "{dave}"`), check: listShape(2)},
		{name: "the member's groups show the group", method: "GET", path: "/Users/{dave}?attributes=groups", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				found := false
				for _, g := range r.get("groups").([]any) {
					m := g.(map[string]any)
					if m["value"] == c.vars["group"] {
						found = true
						wantEq(t, "display", m["display"], "Conformance Group Renamed")
						wantEq(t, "$ref", m["$ref"], "https://scim.example.com/scim/v2/Groups/"+c.vars["group"])
					}
				}
				if !found {
					t.Errorf("groups: %s", r.Body.String())
				}
			}},
		{name: "PUT /Groups replaces members", method: "PUT", path: "/Groups/{group}", status: 200,
			body:  `{"schemas":["` + groupURN + `"],"displayName":"Conformance Group","members":[{"value":"{alice}"},{"value":"{bob}"}]}`,
			check: func(t *testing.T, r resp, c *confRun) { wantEq(t, "members", len(memberIDs(r)), 2) }},
		{name: "DELETE /Groups is 204", method: "DELETE", path: "/Groups/{group2}", status: 204},
		{name: "GET of the deleted group is 404", method: "GET", path: "/Groups/{group2}", status: 404},
	}
}

func confBulk(c *confRun) []conf {
	bulk := func(ops string, failOnErrors string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]` + failOnErrors + `,"Operations":` + ops + `}`
	}
	statuses := func(r resp) string {
		var out []string
		for _, o := range r.get("Operations").([]any) {
			out = append(out, o.(map[string]any)["status"].(string))
		}
		return strings.Join(out, ",")
	}
	many := make([]string, maxBulkOperations+1)
	for i := range many {
		many[i] = `{"method":"DELETE","path":"/Users/x"}`
	}
	return []conf{
		{name: "Bulk resolves bulkId references, forward ones too", method: "POST", path: "/Bulk", status: 200,
			body: bulk(`[
				{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["`+groupURN+`"],"displayName":"Bulk Group","members":[{"type":"User","value":"bulkId:u"}]}},
				{"method":"POST","path":"/Users","bulkId":"u","data":{"schemas":["`+userURN+`"],"userName":"bulk.user@example.com"}},
				{"method":"PATCH","path":"/Users/bulkId:u","data":`+patchOps(`[{"op":"replace","path":"title","value":"Bulk"}]`)+`},
				{"method":"DELETE","path":"/Users/00000000-0000-0000-0000-000000000000"}]`, ""),
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "schemas.0", r.get("schemas.0"), "urn:ietf:params:scim:api:messages:2.0:BulkResponse")
				wantEq(t, "statuses", statuses(r), "201,201,200,404")
				wantEq(t, "error status", r.get("Operations.3.response.status"), "404")
				for i := 0; i < 3; i++ {
					if r.str(fmt.Sprint("Operations.", i, ".location")) == "" {
						t.Errorf("operation %d has no location", i)
					}
				}
			}},
		{name: "Bulk POST without bulkId is 400 for that operation", method: "POST", path: "/Bulk", status: 200,
			body: bulk(`[{"method":"POST","path":"/Users","data":{"schemas":["`+userURN+`"],"userName":"bulk.nobulkid@example.com"}}]`, ""),
			check: func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "statuses", statuses(r), "400")
				wantEq(t, "scimType", r.get("Operations.0.response.scimType"), "invalidSyntax")
			}},
		{name: "Bulk with a bulkId used twice fails the second", method: "POST", path: "/Bulk", status: 200,
			body: bulk(`[{"method":"POST","path":"/Users","bulkId":"d","data":{"schemas":["`+userURN+`"],"userName":"bulk.dup1@example.com"}},
				{"method":"POST","path":"/Users","bulkId":"d","data":{"schemas":["`+userURN+`"],"userName":"bulk.dup2@example.com"}}]`, ""),
			check: func(t *testing.T, r resp, c *confRun) { wantEq(t, "statuses", statuses(r), "201,400") }},
		{name: "Bulk stops after failOnErrors errors", method: "POST", path: "/Bulk", status: 200,
			body: bulk(`[{"method":"DELETE","path":"/Users/00000000-0000-0000-0000-000000000000"},
				{"method":"POST","path":"/Users","bulkId":"late","data":{"schemas":["`+userURN+`"],"userName":"bulk.late@example.com"}}]`, `,"failOnErrors":1`),
			check: func(t *testing.T, r resp, c *confRun) { wantEq(t, "statuses", statuses(r), "404") }},
		{name: "Bulk with the BulkRequest URN in another case", method: "POST", path: "/Bulk", status: 200,
			body: `{"schemas":["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:BULKREQUEST"],"Operations":[]}`},
		{name: "Bulk beyond maxOperations is 413", method: "POST", path: "/Bulk", status: 413,
			body: bulk("["+strings.Join(many, ",")+"]", "")},
		{name: "Bulk beyond maxPayloadSize is 413", method: "POST", path: "/Bulk", status: 413,
			body: bulk(`[]`, `,"pad":"`+strings.Repeat("x", defaultMaxBody)+`"`)},
	}
}
