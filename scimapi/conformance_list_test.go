package scimapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// Conformance: queries (RFC 7644 3.4.2, 3.4.3) and attribute projection
// (3.9). The live users at this point: alice, bob (inactive), dave, erin
// (seeded, AD), json.client, charset.client, upper.case, Conf.User
// (created by earlier areas), and the two created here.

func confLists(c *confRun) []conf {
	list := func(name, query string, status int, scimType string, check func(t *testing.T, r resp, c *confRun)) conf {
		return conf{name: name, method: "GET", path: "/Users?" + query, status: status, scimType: scimType, check: check}
	}
	filter := func(name, f string, total int) conf {
		return list(name, "attributes=userName&filter="+c.q(f), 200, "", listShape(total))
	}
	bad := func(name, f string) conf {
		return list(name, "filter="+c.q(f), 400, "invalidFilter", nil)
	}
	long := make([]string, 400)
	for i := range long {
		long[i] = fmt.Sprintf(`userName eq "nobody%d@example.com"`, i)
	}
	long[399] = `userName eq "alice@example.com"`
	return []conf{
		{name: "POST a user whose primary email is not the first", method: "POST", path: "/Users", status: 201,
			body: `{"schemas":["` + userURN + `"],"userName":"sort.primary@example.com",
				"emails":[{"type":"home","value":"zz@example.org"},{"type":"work","value":"aa@example.org","primary":true}],
				"` + bridge.SchemaEnterpriseUser + `":{"manager":{"value":"{dave}"}}}`,
			check: func(t *testing.T, r resp, c *confRun) {
				c.set("sortPrimary", r.str("id"))
				c.set("sortPrimaryModified", r.str("meta.lastModified"))
			}},
		{name: "POST a user with no emails", method: "POST", path: "/Users", status: 201,
			body: `{"schemas":["` + userURN + `"],"userName":"no.mail@example.com"}`},
		list("a filter matching nothing answers totalResults 0 and an empty Resources (as Entra ID and Okta expect)",
			"filter="+c.q(`userName eq "nobody@example.com"`), 200, "", func(t *testing.T, r resp, c *confRun) {
				wantList(t, r, 0)
				if _, ok := r.body["Resources"].([]any); !ok {
					t.Errorf("Resources is not an empty array: %s", r.Body.String())
				}
			}),
		list("count=0 answers totalResults only", "count=0", 200, "", func(t *testing.T, r resp, c *confRun) {
			wantList(t, r, 10)
			wantEq(t, "resources", len(resources(r)), 0)
		}),
		list("a negative count is 0", "count=-3", 200, "", func(t *testing.T, r resp, c *confRun) {
			wantList(t, r, 10)
			wantEq(t, "resources", len(resources(r)), 0)
		}),
		list("startIndex below 1 is 1", "startIndex=0&count=2", 200, "", func(t *testing.T, r resp, c *confRun) {
			wantList(t, r, 10)
			wantEq(t, "startIndex", r.num("startIndex"), 1)
			wantEq(t, "itemsPerPage", r.num("itemsPerPage"), 2)
		}),
		list("startIndex past the end answers no resources", "startIndex=50", 200, "", func(t *testing.T, r resp, c *confRun) {
			wantList(t, r, 10)
			wantEq(t, "startIndex", r.num("startIndex"), 50)
		}),
		list("an empty filter lists everything", "filter=", 200, "", listShape(10)),
		filter("filter eq ignores the case of userName (caseExact false)", `userName eq "ALICE@example.com"`, 1),
		filter("attribute names and operators ignore case", `USERNAME EQ "alice@example.com"`, 1),
		filter("a core attribute may carry its schema URN, in any case", strings.ToUpper(userURN)+`:userName eq "alice@example.com"`, 1),
		filter("filter on a sub-attribute: name.familyName", `name.familyName eq "Archer"`, 1),
		filter("filter on a multi-valued sub-attribute: emails.value", `emails.value eq "alice@home.example.org"`, 1),
		filter("filter on a multi-valued attribute: emails co compares value", `emails co "home.example"`, 1),
		filter("filter with a value path: emails[type eq and value sw]", `emails[type eq "work" and value sw "alice"]`, 1),
		filter("filter on an extension attribute", bridge.SchemaEnterpriseUser+`:department eq "Ops"`, 2),
		filter("filter on enterprise manager.value", bridge.SchemaEnterpriseUser+`:manager.value eq "{dave}"`, 1),
		filter("filter on groups.display", `groups.display eq "Engineering"`, 2),
		filter("filter on groups.value", `groups.value eq "{eng}"`, 2),
		filter("pr on a complex attribute", `name pr`, 5),
		filter("pr on a multi-valued attribute", `emails pr`, 6),
		filter("not (...)", `not (active eq true)`, 1),
		filter("and / or with grouping", `(userName sw "alice" or userName sw "bob") and active eq true`, 1),
		filter("meta.resourceType eq User matches every user", `meta.resourceType eq "User"`, 10),
		filter("meta pr matches every user", `meta pr`, 10),
		filter("meta.lastModified gt an old time matches every user", `meta.lastModified gt "2000-01-01T00:00:00Z"`, 10),
		filter("meta.lastModified eq the value a resource shows matches it", `meta.lastModified eq "{sortPrimaryModified}" and userName eq "sort.primary@example.com"`, 1),
		filter("meta.lastModified gt the value a resource shows excludes it", `meta.lastModified gt "{sortPrimaryModified}" and userName eq "sort.primary@example.com"`, 0),
		filter("meta.lastModified ge the value a resource shows includes it", `meta.lastModified ge "{sortPrimaryModified}" and userName eq "sort.primary@example.com"`, 1),
		filter("a long filter (400 or-ed terms) is answered", strings.Join(long, " or "), 1),
		bad("a deeply nested filter is 400 invalidFilter, not a 500", strings.Repeat("not (", 80)+`userName eq "x"`+strings.Repeat(")", 80)),
		bad("an unknown attribute is 400 invalidFilter", `favouriteColour eq "green"`),
		bad("malformed syntax is 400 invalidFilter", `userName eq`),
		bad("an unknown operator is 400 invalidFilter", `userName like "a"`),
		bad("a value of the wrong type is 400 invalidFilter", `active eq "yes"`),
		list("sortBy a multi-valued attribute sorts by its primary value", "sortBy=emails&attributes=userName&count=2", 200, "",
			func(t *testing.T, r resp, c *confRun) {
				// sort.primary's primary email, aa@example.org, comes first
				// (its first one, zz@, would put it last).
				wantEq(t, "first", userNames(r)[0], "sort.primary@example.com")
			}),
		list("sortBy sorts resources without a value last when ascending", "sortBy=emails.value&attributes=userName&count=20", 200, "",
			func(t *testing.T, r resp, c *confRun) {
				names := userNames(r)
				wantEq(t, "last 4", noMail(names[len(names)-4:]), true)
			}),
		list("sortBy sorts resources without a value first when descending", "sortBy=emails.value&sortOrder=descending&attributes=userName&count=20", 200, "",
			func(t *testing.T, r resp, c *confRun) { wantEq(t, "first 4", noMail(userNames(r)[:4]), true) }),
		list("sortBy a sub-attribute: name.familyName", "sortBy=name.familyName&attributes=userName&count=2", 200, "",
			func(t *testing.T, r resp, c *confRun) { wantEq(t, "first", userNames(r)[0], "alice@example.com") }),
		list("sortBy names attributes in any case", "sortBy=USERNAME&sortOrder=descending&attributes=userName&count=1", 200, "",
			func(t *testing.T, r resp, c *confRun) { wantEq(t, "first", userNames(r)[0], "upper.case@example.com") }),
		list("sortBy a column-backed attribute (displayName) sorts resources without a value last when ascending",
			"sortBy=displayName&attributes=displayName&count=20", 200, "", missingOrder("displayName", true)),
		list("sortBy displayName sorts resources without a value first when descending",
			"sortBy=displayName&sortOrder=descending&attributes=displayName&count=20", 200, "", missingOrder("displayName", false)),
		list("sortBy externalId sorts resources without a value last when ascending",
			"sortBy=externalId&attributes=externalId&count=20", 200, "", missingOrder("externalId", true)),
		list("sortBy externalId sorts resources without a value first when descending",
			"sortBy=externalId&sortOrder=descending&attributes=externalId&count=20", 200, "", missingOrder("externalId", false)),
		list("cursor pages sorted by displayName put resources without a value last", "sortBy=displayName&attributes=displayName&count=20&cursor=",
			200, "", missingOrder("displayName", true)),
		list("a later startIndex page sorted by displayName puts resources without a value last", "sortBy=displayName&attributes=displayName&startIndex=3&count=20",
			200, "", missingOrder("displayName", true)),
		list("sortBy a complex attribute is 400 invalidPath", "sortBy=name", 400, "invalidPath", nil),
		list("sortBy a User's groups is not supported: 400 invalidValue", "sortBy=groups.display", 400, "invalidValue", nil),
		{name: "POST /Users/.search takes a SearchRequest", method: "POST", path: "/Users/.search", status: 200,
			body: `{"schemas":["` + schemaSearchRequest + `"],"filter":"userName sw \"alice\"","attributes":["userName"],"startIndex":1,"count":5}`,
			check: func(t *testing.T, r resp, c *confRun) {
				wantList(t, r, 1)
				wantEq(t, "userName", userNames(r)[0], "alice@example.com")
			}},
		{name: "POST /.search spans Users and Groups", method: "POST", path: "/.search", status: 200,
			body:  `{"schemas":["` + schemaSearchRequest + `"],"filter":"displayName sw \"Engineering\"","attributes":["displayName"]}`,
			check: listShape(1)},
		{name: "POST /.search takes attributes of either type", method: "POST", path: "/.search", status: 200,
			body: `{"schemas":["` + schemaSearchRequest + `"],"excludedAttributes":["members","groups"],"count":1}`,
			check: func(t *testing.T, r resp, c *confRun) {
				wantList(t, r, -1)
				wantNoKeys(t, "resource", resources(r)[0], "groups", "members")
			}},
		{name: "POST .search takes the SearchRequest URN in any case (URNs are case-insensitive)", method: "POST", path: "/Users/.search", status: 200,
			body:  `{"schemas":["` + strings.ToUpper(schemaSearchRequest) + `"],"filter":"userName sw \"alice\"","attributes":["userName"]}`,
			check: listShape(1)},
		{name: "POST .search takes attributes as one comma-separated string", method: "POST", path: "/Users/.search", status: 200,
			body: `{"schemas":["` + schemaSearchRequest + `"],"filter":"userName sw \"alice\"","attributes":"userName, active"}`,
			check: func(t *testing.T, r resp, c *confRun) {
				wantList(t, r, 1)
				wantKeys(t, "user", resources(r)[0], "id", "userName", "active")
				wantNoKeys(t, "user", resources(r)[0], "emails", "meta")
			}},
		{name: "POST .search takes excludedAttributes as one comma-separated string", method: "POST", path: "/Users/.search", status: 200,
			body: `{"schemas":["` + schemaSearchRequest + `"],"filter":"userName sw \"alice\"","excludedAttributes":"emails,meta"}`,
			check: func(t *testing.T, r resp, c *confRun) {
				wantList(t, r, 1)
				wantKeys(t, "user", resources(r)[0], "id", "userName")
				wantNoKeys(t, "user", resources(r)[0], "emails", "meta")
			}},
		{name: "POST .search with attributes neither a string nor strings is 400 invalidSyntax", method: "POST", path: "/Users/.search", status: 400,
			scimType: "invalidSyntax", body: `{"schemas":["` + schemaSearchRequest + `"],"attributes":7}`},
		{name: "POST .search with another schema is 400 invalidSyntax", method: "POST", path: "/Users/.search", status: 400, scimType: "invalidSyntax",
			body: `{"schemas":["` + schemaPatchOp + `"]}`},
		{name: "GET / lists both types", method: "GET", path: "/?count=0", status: 200, check: listShape(13)},
	}
}

func confProjection(c *confRun) []conf {
	get := func(name, query string, status int, scimType string, check func(t *testing.T, r resp, c *confRun)) conf {
		return conf{name: name, method: "GET", path: "/Users/{alice}?" + query, status: status, scimType: scimType, check: check}
	}
	return []conf{
		get("attributes returns those asked for, with id and schemas", "attributes=userName", 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantKeys(t, "user", r.body, "id", "schemas", "userName")
				wantNoKeys(t, "user", r.body, "name", "emails", "meta", "active")
			}),
		get("attributes with sub-attributes of a multi-valued attribute", "attributes=emails.value,meta.lastModified", 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "emails.0", jsonString(r.get("emails.0")), `{"value":"alice@example.com"}`)
				wantEq(t, "meta", jsonString(r.get("meta")), jsonString(map[string]any{"lastModified": r.str("meta.lastModified")}))
			}),
		get("attributes name extension attributes by URN, in any case", "attributes="+strings.ToUpper(bridge.SchemaEnterpriseUser)+":department", 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantEq(t, "department", r.str(bridge.SchemaEnterpriseUser+".department"), "Engineering")
				wantEq(t, "schemas", jsonString(r.get("schemas")), jsonString([]string{userURN, bridge.SchemaEnterpriseUser}))
			}),
		get("excludedAttributes never removes id or schemas", "excludedAttributes=id,schemas,emails", 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantKeys(t, "user", r.body, "id", "schemas", "userName", "meta")
				wantNoKeys(t, "user", r.body, "emails")
			}),
		get("excludedAttributes of a meta sub-attribute", "excludedAttributes=meta.location,groups", 200, "",
			func(t *testing.T, r resp, c *confRun) {
				wantKeys(t, "meta", r.get("meta").(map[string]any), "created", "lastModified", "resourceType", "version")
				wantNoKeys(t, "meta", r.get("meta").(map[string]any), "location")
				wantNoKeys(t, "user", r.body, "groups")
			}),
		get("excludedAttributes of an extension drops it from schemas", "excludedAttributes="+bridge.SchemaEnterpriseUser, 200, "",
			func(t *testing.T, r resp, c *confRun) {
				for _, s := range r.get("schemas").([]any) {
					if s == bridge.SchemaEnterpriseUser {
						t.Errorf("schemas still lists the excluded extension")
					}
				}
			}),
		get("attributes naming an unknown attribute is 400 invalidPath", "attributes=favouriteColour", 400, "invalidPath", nil),
		{name: "attributes apply to list responses", method: "GET", path: "/Users?count=2&attributes=userName", status: 200,
			check: func(t *testing.T, r resp, c *confRun) {
				for _, m := range resources(r) {
					wantNoKeys(t, "user", m, "meta", "emails")
				}
			}},
		{name: "attributes apply to the POST answer", method: "POST", path: "/Users?attributes=userName", status: 201,
			body:  `{"schemas":["` + userURN + `"],"userName":"projected@example.com","title":"T"}`,
			check: func(t *testing.T, r resp, c *confRun) { wantNoKeys(t, "user", r.body, "title", "meta") }},
	}
}

// noMail reports whether names are the four users without emails.
func noMail(names []string) bool {
	want := map[string]bool{"json.client@example.com": true, "charset.client@example.com": true,
		"upper.case@example.com": true, "no.mail@example.com": true}
	for _, n := range names {
		if !want[n] {
			return false
		}
	}
	return len(names) == 4
}

// missingOrder checks that the resources of a list without attr come after
// those with it (last true) or before them, and that there are both.
func missingOrder(attr string, last bool) func(t *testing.T, r resp, c *confRun) {
	return func(t *testing.T, r resp, c *confRun) {
		t.Helper()
		var has []bool
		seen := map[bool]bool{}
		for _, m := range resources(r) {
			v, _ := m[attr].(string)
			has = append(has, v != "")
			seen[v != ""] = true
		}
		if !seen[true] || !seen[false] {
			t.Fatalf("the page needs resources with and without %s: %s", attr, r.Body.String())
		}
		for i := 1; i < len(has); i++ {
			if has[i] != has[i-1] && has[i] == last {
				t.Fatalf("resources without %s are not all %s: %v", attr, map[bool]string{true: "last", false: "first"}[last], has)
			}
		}
	}
}
