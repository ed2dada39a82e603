package scimapi

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

const (
	userURN  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

func patchBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{schemaPatchOp}, "Operations": ops}
}

func op(o, path string, value any) map[string]any {
	m := map[string]any{"op": o}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// TestEntraFlow replays how Entra ID provisions (shapes from
// elimity-com/scim internal/idp_test/testdata/azuread and Microsoft's
// validator): lookup by userName first, create, PATCH with "Replace" and
// string booleans, group lookup by displayName, members added and removed
// one by one with excludedAttributes=members.
func TestEntraFlow(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/scim/v2/Users?filter=userName+eq+%22Test_User_ab6490ee%22", nil).want(t, 200, "")
		if r.num("totalResults") != 0 || len(r.get("Resources").([]any)) != 0 {
			t.Fatalf("empty lookup: %s", r.Body.String())
		}
		r = e.do("POST", "/scim/v2/Users", map[string]any{
			"schemas":    []string{userURN, bridge.SchemaEnterpriseUser},
			"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "userName": "Test_User_ab6490ee", "active": true,
			"emails":                    []any{map[string]any{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}},
			"meta":                      map[string]any{"resourceType": "User"},
			"name":                      map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
			"roles":                     []any{},
			bridge.SchemaEnterpriseUser: map[string]any{"department": "R&D"},
		}).want(t, 201, "")
		id := r.str("id")
		if r.Header().Get("Location") != "https://scim.example.com/scim/v2/Users/"+id || r.str("meta.version") != `W/"1"` {
			t.Errorf("create: location %q %s", r.Header().Get("Location"), r.Body.String())
		}
		if r.str(bridge.SchemaBridgeUser+".kind") != "local" || r.get("roles") != nil {
			t.Errorf("create body: %s", r.Body.String())
		}
		e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{userURN}, "userName": "test_user_AB6490EE"}).want(t, 409, "uniqueness")
		r = e.do("GET", "/scim/v2/Users?filter=userName+eq+%22Test_User_ab6490ee%22", nil).want(t, 200, "")
		if r.num("totalResults") != 1 || r.str("Resources.0.id") != id {
			t.Fatalf("lookup: %s", r.Body.String())
		}
		r = e.do("PATCH", "/scim/v2/Users/"+id, patchBody(
			op("Replace", `emails[type eq "work"].value`, "updatedEmail@microsoft.com"),
			op("Replace", "name.familyName", "updatedFamilyName"),
			op("Add", bridge.SchemaEnterpriseUser+":department", "Sales"),
			op("Replace", "active", "False"),
		)).want(t, 200, "")
		if r.str("emails.0.value") != "updatedEmail@microsoft.com" || r.str("name.familyName") != "updatedFamilyName" ||
			r.get("active") != false || r.str(bridge.SchemaEnterpriseUser+".department") != "Sales" || r.str("meta.version") != `W/"2"` {
			t.Errorf("patch: %s", r.Body.String())
		}
		// Same PATCH again: nothing changes, nor does the version.
		r = e.do("PATCH", "/scim/v2/Users/"+id, patchBody(op("Replace", "active", "False"))).want(t, 200, "")
		if r.str("meta.version") != `W/"2"` {
			t.Errorf("no-op patch moved the version: %s", r.str("meta.version"))
		}
		r = e.do("GET", "/scim/v2/Users?filter=active+eq+false", nil).want(t, 200, "")
		if r.num("totalResults") != 1 {
			t.Errorf("active eq false: %d", r.num("totalResults"))
		}
		// Groups.
		e.do("GET", "/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22Sales%22", nil).want(t, 200, "")
		r = e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []string{groupURN}, "externalId": "8aa1a0c0", "displayName": "Sales",
			"meta": map[string]any{"resourceType": "Group"}}).want(t, 201, "")
		gid := r.str("id")
		r = e.do("PATCH", "/scim/v2/Groups/"+gid+"?excludedAttributes=members", patchBody(
			op("Replace", "displayName", "Sales EMEA"),
			op("Add", "members", []any{map[string]any{"$ref": nil, "value": id}}),
		)).want(t, 200, "")
		if r.str("displayName") != "Sales EMEA" || r.get("members") != nil {
			t.Errorf("group patch: %s", r.Body.String())
		}
		r = e.do("GET", "/scim/v2/Groups?excludedAttributes=members&filter="+url.QueryEscape(`id eq "`+gid+`" and members[value eq "`+id+`"]`), nil).want(t, 200, "")
		if r.num("totalResults") != 1 {
			t.Errorf("membership check: %s", r.Body.String())
		}
		v := e.do("GET", "/scim/v2/Groups/"+gid, nil).str("meta.version")
		// Adding the same member again changes nothing.
		r = e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("Add", "members", []any{map[string]any{"value": id}}))).want(t, 200, "")
		if r.str("meta.version") != v {
			t.Errorf("re-adding a member moved the version %s -> %s", v, r.str("meta.version"))
		}
		e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("Remove", "members", []any{map[string]any{"value": id}}))).want(t, 200, "")
		r = e.do("GET", "/scim/v2/Groups/"+gid, nil).want(t, 200, "")
		if r.get("members") != nil {
			t.Errorf("member not removed: %s", r.Body.String())
		}
		e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("Add", "members", []any{map[string]any{"value": "no-such-id"}}))).want(t, 400, "invalidValue")
		e.do("DELETE", "/scim/v2/Users/"+id, nil).want(t, 204, "")
		e.do("GET", "/scim/v2/Users/"+id, nil).want(t, 404, "")
		e.do("DELETE", "/scim/v2/Users/"+id, nil).want(t, 404, "")
	})
}

// TestOktaFlow replays Okta's calls (elimity-com/scim testdata/okta):
// lookup with startIndex and count, create with a password and groups,
// PUT, path-less replace, member add / remove by filter / replace.
func TestOktaFlow(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/scim/v2/Users?filter=userName+eq+%22test.user%40okta.local%22&startIndex=1&count=100", nil).want(t, 200, "")
		if r.num("totalResults") != 0 {
			t.Fatal(r.Body.String())
		}
		r = e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{userURN}, "userName": "test.user@okta.local",
			"name":        map[string]any{"givenName": "Test", "familyName": "User"},
			"emails":      []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}},
			"displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "groups": []any{},
			"password": "1mz050nq", "active": true}).want(t, 201, "")
		uid := r.str("id")
		if strings.Contains(r.Body.String(), "1mz050nq") || r.get("password") != nil {
			t.Error("password returned")
		}
		u, err := e.store.LiveUser(t.Context(), e.acct, uid)
		if err != nil || fmt.Sprint(u.Attributes["password"]) != "<nil>" {
			t.Errorf("password stored: %v %v", err, u.Attributes)
		}
		r = e.do("PUT", "/scim/v2/Users/"+uid, map[string]any{"schemas": []string{userURN}, "id": uid, "userName": "test.user@okta.local",
			"name":   map[string]any{"givenName": "Another", "middleName": "Excited", "familyName": "User"},
			"emails": []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local"}},
			"active": true, "groups": []any{}, "meta": map[string]any{"resourceType": "User"}}).want(t, 200, "")
		if r.str("name.middleName") != "Excited" || r.get("displayName") != nil || r.str("externalId") != "" {
			t.Errorf("PUT replaces everything: %s", r.Body.String())
		}
		r = e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(op("replace", "", map[string]any{"active": false}))).want(t, 200, "")
		if r.get("active") != false {
			t.Errorf("path-less replace: %s", r.Body.String())
		}
		r = e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{userURN}, "userName": "other@okta.local"}).want(t, 201, "")
		uid2 := r.str("id")
		r = e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": "Test SCIMv2", "members": []any{}}).want(t, 201, "")
		gid := r.str("id")
		r = e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(
			op("remove", `members[value eq "`+uid2+`"]`, nil),
			op("add", "members", []any{map[string]any{"value": uid, "display": "test.user@okta.local"}}),
			op("replace", "members", []any{map[string]any{"value": uid}, map[string]any{"value": uid2}}),
		)).want(t, 200, "")
		if ms, _ := r.get("members").([]any); len(ms) != 2 {
			t.Errorf("members after replace: %s", r.Body.String())
		}
		r = e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("replace", "", map[string]any{"id": gid, "displayName": "Test SCIMv2 renamed"}))).want(t, 200, "")
		if r.str("displayName") != "Test SCIMv2 renamed" {
			t.Errorf("rename: %s", r.Body.String())
		}
		// Deleting a user removes it from the group and moves the group's version.
		v := r.str("meta.version")
		e.do("DELETE", "/scim/v2/Users/"+uid2, nil).want(t, 204, "")
		r = e.do("GET", "/scim/v2/Groups/"+gid, nil).want(t, 200, "")
		if ms, _ := r.get("members").([]any); len(ms) != 1 || r.str("meta.version") == v {
			t.Errorf("after member delete: %s", r.Body.String())
		}
	})
}

func TestWriteRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		f := e.seed()
		// AD-managed: read-only unless protected; never deleted.
		e.do("PATCH", "/scim/v2/Users/"+f.alice.ID, patchBody(op("replace", "title", "Boss"))).want(t, 400, "mutability")
		e.do("PUT", "/scim/v2/Users/"+f.alice.ID, map[string]any{"schemas": []string{userURN}, "userName": "x"}).want(t, 400, "mutability")
		e.do("DELETE", "/scim/v2/Groups/"+f.eng.ID, nil).want(t, 400, "mutability")
		r := e.do("PATCH", "/scim/v2/Users/"+f.dave.ID, patchBody(op("replace", "title", "Boss"))).want(t, 200, "")
		if r.str("title") != "Boss" || r.str(bridge.SchemaBridgeUser+".dn") == "" || r.str("externalId") != f.dave.ExternalID {
			t.Errorf("protected edit: %s", r.Body.String())
		}
		e.do("DELETE", "/scim/v2/Users/"+f.dave.ID, nil).want(t, 400, "mutability")
		// Protection by a Protection row.
		if err := e.store.AddProtection(t.Context(), bridge.Protection{ID: newID(), AccountID: e.acct, Role: bridge.RoleProtected,
			ObjectType: bridge.ObjectUser, ExternalID: f.alice.ExternalID}); err != nil {
			t.Fatal(err)
		}
		e.do("PATCH", "/scim/v2/Users/"+f.alice.ID, patchBody(op("replace", "title", "Boss"))).want(t, 200, "")

		r = e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{userURN}, "userName": "local1",
			"emails": []any{map[string]any{"type": "work", "value": "a@x"}, map[string]any{"type": "home", "value": "b@x"}}}).want(t, 201, "")
		id := r.str("id")
		etag := r.Header().Get("ETag")
		for _, tc := range []struct {
			name     string
			method   string
			body     any
			headers  []string
			status   int
			scimType string
		}{
			{"malformed JSON", "POST", `{"schemas": [`, nil, 400, "invalidSyntax"},
			{"not an object", "POST", `[1,2]`, nil, 400, "invalidSyntax"},
			{"no schemas", "POST", map[string]any{"userName": "z"}, nil, 400, "invalidSyntax"},
			{"no userName", "POST", map[string]any{"schemas": []string{userURN}}, nil, 400, "invalidValue"},
			{"userName taken (other case)", "POST", map[string]any{"schemas": []string{userURN}, "userName": "ALICE@example.com"}, nil, 409, "uniqueness"},
			{"two primaries", "POST", map[string]any{"schemas": []string{userURN}, "userName": "p2", "emails": []any{
				map[string]any{"value": "a", "primary": true}, map[string]any{"value": "b", "primary": "True"}}}, nil, 400, "invalidValue"},
			{"wrong type", "POST", map[string]any{"schemas": []string{userURN}, "userName": 5}, nil, 400, "invalidValue"},
			{"body too large", "POST", `{"schemas":["` + userURN + `"],"userName":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, ""},
			{"patch no schemas", "PATCH", map[string]any{"Operations": []any{op("add", "title", "x")}}, nil, 400, "invalidSyntax"},
			{"patch bad op", "PATCH", patchBody(op("frobnicate", "title", "x")), nil, 400, "invalidSyntax"},
			{"patch remove no path", "PATCH", patchBody(op("remove", "", nil)), nil, 400, "noTarget"},
			{"patch no target", "PATCH", patchBody(op("replace", `emails[type eq "other"].value`, "x")), nil, 400, "noTarget"},
			{"patch remove no target", "PATCH", patchBody(op("remove", `emails[value eq "zzz"]`, nil)), nil, 400, "noTarget"},
			{"patch bad path", "PATCH", patchBody(op("replace", "nosuch", "x")), nil, 400, "invalidPath"},
			// A bad filter in a well-formed path is invalidFilter (RFC
			// 7644 3.5.2, 3.12); a malformed path is invalidPath.
			{"patch bad filter", "PATCH", patchBody(op("replace", `emails[type eq].value`, "x")), nil, 400, "invalidFilter"},
			{"patch filter on an unknown sub-attribute", "PATCH", patchBody(op("replace", `emails[colour eq "red"].value`, "x")), nil, 400, "invalidFilter"},
			{"patch unbalanced brackets", "PATCH", patchBody(op("replace", `emails[type eq "work".value`, "x")), nil, 400, "invalidPath"},
			{"patch filter on a single-valued attribute", "PATCH", patchBody(op("replace", `userName[value eq "x"]`, "x")), nil, 400, "invalidPath"},
			{"patch remove required", "PATCH", patchBody(op("remove", "userName", nil)), nil, 400, "mutability"},
			{"patch read-only", "PATCH", patchBody(op("replace", "id", "x")), nil, 400, "mutability"},
			{"patch read-only ext", "PATCH", patchBody(op("replace", bridge.SchemaBridgeUser+":dn", "x")), nil, 400, "mutability"},
			{"patch If-Match stale", "PATCH", patchBody(op("replace", "title", "x")), []string{"If-Match", `W/"99"`}, 412, ""},
			{"put If-Match stale", "PUT", map[string]any{"schemas": []string{userURN}, "userName": "local1"}, []string{"If-Match", `W/"99"`}, 412, ""},
			{"delete If-Match stale", "DELETE", nil, []string{"If-Match", `W/"99"`}, 412, ""},
			{"patch If-Match ok", "PATCH", patchBody(op("replace", "title", "x")), []string{"If-Match", etag}, 200, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				path := "/scim/v2/Users"
				if tc.method != "POST" {
					path += "/" + id
				}
				e.do(tc.method, path, tc.body, tc.headers...).want(t, tc.status, tc.scimType)
			})
		}
		// PATCH semantics on multi-valued attributes.
		r = e.do("PATCH", "/scim/v2/Users/"+id, patchBody(
			op("add", "emails", []any{map[string]any{"type": "other", "value": "c@x", "primary": true}}),
			op("add", `phoneNumbers[type eq "mobile"].value`, "+1 555"),
			op("remove", `emails[type eq "home"]`, nil),
			op("add", bridge.SchemaBridgeUser+":extensionAttribute3", "e3"),
		)).want(t, 200, "")
		emails, _ := r.get("emails").([]any)
		if len(emails) != 2 || r.str("phoneNumbers.0.type") != "mobile" || r.str(bridge.SchemaBridgeUser+".extensionAttribute3") != "e3" {
			t.Errorf("multi-valued patch: %s", r.Body.String())
		}
		r = e.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`emails[type eq "other" and primary eq true]`), nil).want(t, 200, "")
		if r.num("totalResults") != 1 {
			t.Errorf("primary filter: %s", r.Body.String())
		}
	})
}

func TestBulk(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/scim/v2/Bulk", map[string]any{
			"schemas": []string{schemaBulkRequest}, "failOnErrors": 2,
			"Operations": []any{
				// Forward reference: the group names a user created later.
				map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{
					"schemas": []string{groupURN}, "displayName": "Bulk group",
					"members": []any{map[string]any{"type": "User", "value": "bulkId:u1"}}}},
				map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1", "data": map[string]any{
					"schemas": []string{userURN}, "userName": "bulk1"}},
				map[string]any{"method": "PATCH", "path": "/Users/bulkId:u1", "data": patchBody(op("replace", "title", "T"))},
				map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": map[string]any{
					"schemas": []string{userURN}, "userName": "bulk1"}},
			},
		}).want(t, 200, "")
		ops, _ := r.get("Operations").([]any)
		if len(ops) != 4 {
			t.Fatalf("bulk response: %s", r.Body.String())
		}
		statuses := map[string]string{}
		for _, o := range ops {
			m := o.(map[string]any)
			statuses[fmt.Sprintf("%v%v", m["method"], m["bulkId"])] = m["status"].(string)
		}
		want := map[string]string{"POSTg1": "201", "POSTu1": "201", "PATCH<nil>": "200", "POSTdup": "409"}
		for k, v := range want {
			if statuses[k] != v {
				t.Errorf("bulk %s: status %q, want %q (%s)", k, statuses[k], v, r.Body.String())
			}
		}
		r = e.do("GET", "/scim/v2/Groups?filter="+url.QueryEscape(`displayName eq "Bulk group"`), nil).want(t, 200, "")
		if ms, _ := r.get("Resources.0.members").([]any); len(ms) != 1 {
			t.Errorf("bulk group members: %s", r.Body.String())
		}
		ops2 := make([]any, maxBulkOperations+1)
		for i := range ops2 {
			ops2[i] = map[string]any{"method": "DELETE", "path": "/Users/x"}
		}
		e.do("POST", "/scim/v2/Bulk", map[string]any{"schemas": []string{schemaBulkRequest}, "Operations": ops2}).want(t, 413, "")
		e.do("POST", "/scim/v2/Bulk", map[string]any{"Operations": []any{}}).want(t, 400, "invalidSyntax")
	})
}
