package scimapi

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

func TestAuth(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.newToken(bridge.DefaultAccount, bridge.TokenAdmin)
		for _, tc := range []struct {
			name   string
			header string
			status int
		}{
			{"no header", "", 401},
			{"basic", "Basic dXNlcjpwYXNz", 401},
			{"unknown token", "Bearer scb_nope", 401},
			{"empty bearer", "Bearer ", 401},
			{"admin token", "Bearer " + admin, 403},
			{"scim token", "Bearer " + e.token, 200},
			{"scheme case", "bearer " + e.token, 200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("GET", "/scim/v2/Users", nil, "Authorization", tc.header)
				r.want(t, tc.status, "")
				if tc.status == 401 && r.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
		// healthz stays open.
		e.token = ""
		if r := e.do("GET", "/healthz", nil, "Authorization", ""); r.Code != 200 {
			t.Errorf("healthz %d", r.Code)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		f := e.seed()
		if err := e.store.CreateAccount(t.Context(), bridge.Account{ID: "other"}); err != nil {
			t.Fatal(err)
		}
		e.token = e.newToken("other", bridge.TokenSCIM)
		e.do("GET", "/scim/v2/Users/"+f.alice.ID, nil).want(t, 404, "")
		r := e.do("GET", "/scim/v2/Users", nil).want(t, 200, "")
		if r.num("totalResults") != 0 {
			t.Errorf("other account sees %d users", r.num("totalResults"))
		}
	})
}

func TestGetUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		f := e.seed()
		r := e.do("GET", "/scim/v2/Users/"+f.alice.ID, nil).want(t, 200, "")
		if r.str("userName") != "alice@example.com" || r.str("id") != f.alice.ID || r.str("externalId") != f.alice.ExternalID {
			t.Errorf("user: %s", r.Body.String())
		}
		// Alice is in Engineering: her version digests that (version.go).
		tag := etag(userVersion(1, []bridge.GroupRef{{ID: f.eng.ID, DisplayName: "Engineering"}}))
		if !strings.HasPrefix(tag, `W/"1.`) || r.str("meta.version") != tag || r.Header().Get("ETag") != tag {
			t.Errorf("version %q etag %q, want %s", r.str("meta.version"), r.Header().Get("ETag"), tag)
		}
		if r.str("meta.location") != "https://scim.example.com/scim/v2/Users/"+f.alice.ID || r.str("meta.resourceType") != "User" {
			t.Errorf("meta: %v", r.get("meta"))
		}
		if r.str(bridge.SchemaEnterpriseUser+".department") != "Engineering" {
			t.Errorf("enterprise extension missing: %s", r.Body.String())
		}
		if r.str(bridge.SchemaBridgeUser+".dn") == "" || r.str(bridge.SchemaBridgeUser+".status") != "active" {
			t.Errorf("scimbridge extension: %v", r.get(bridge.SchemaBridgeUser))
		}
		if r.str("groups.0.value") != f.eng.ID {
			t.Errorf("groups: %v", r.get("groups"))
		}
		schemas := r.get("schemas").([]any)
		if len(schemas) != 3 || schemas[0] != bridge.SchemaUser {
			t.Errorf("schemas %v", schemas)
		}
		if _, ok := r.body["password"]; ok {
			t.Error("password returned")
		}
		// If-None-Match
		e.do("GET", "/scim/v2/Users/"+f.alice.ID, nil, "If-None-Match", tag).want(t, 304, "")
		e.do("GET", "/scim/v2/Users/"+f.alice.ID, nil, "If-None-Match", `W/"1"`).want(t, 200, "")
		e.do("GET", "/scim/v2/Users/"+f.alice.ID, nil, "If-None-Match", `W/"7"`).want(t, 200, "")
		// Deactivated: served with active=false. Deleted: 404.
		if r := e.do("GET", "/scim/v2/Users/"+f.bob.ID, nil).want(t, 200, ""); r.get("active") != false {
			t.Errorf("bob active = %v", r.get("active"))
		}
		e.do("GET", "/scim/v2/Users/"+f.carol.ID, nil).want(t, 404, "")
		e.do("GET", "/scim/v2/Users/nope", nil).want(t, 404, "")
		// Projection.
		r = e.do("GET", "/scim/v2/Users/"+f.alice.ID+"?attributes=userName,name.givenName,"+url.QueryEscape(bridge.SchemaEnterpriseUser+":department"), nil).want(t, 200, "")
		if r.str("id") == "" || r.str("userName") == "" || r.str("name.givenName") != "Alice" || r.get("name.familyName") != nil ||
			r.get("emails") != nil || r.str(bridge.SchemaEnterpriseUser+".department") != "Engineering" || r.get(bridge.SchemaEnterpriseUser+".employeeNumber") != nil {
			t.Errorf("attributes projection: %s", r.Body.String())
		}
		r = e.do("GET", "/scim/v2/Users/"+f.alice.ID+"?excludedAttributes=emails,groups,id", nil).want(t, 200, "")
		if r.get("emails") != nil || r.get("groups") != nil || r.str("id") == "" || r.str("userName") == "" {
			t.Errorf("excludedAttributes projection: %s", r.Body.String())
		}
		e.do("GET", "/scim/v2/Users/"+f.alice.ID+"?attributes=nosuch", nil).want(t, 400, "invalidPath")
	})
}

func TestGetGroup(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		f := e.seed()
		r := e.do("GET", "/scim/v2/Groups/"+f.eng.ID, nil).want(t, 200, "")
		ms, _ := r.get("members").([]any)
		if len(ms) != 2 { // carol was deleted and left the group
			t.Fatalf("members: %v", r.get("members"))
		}
		if r.str("members.0.$ref") == "" || r.str("members.0.type") != "User" {
			t.Errorf("member: %v", ms[0])
		}
		r = e.do("GET", "/scim/v2/Groups/"+f.eng.ID+"?excludedAttributes=members", nil).want(t, 200, "")
		if r.get("members") != nil || r.str("displayName") != "Engineering" {
			t.Errorf("excludedAttributes=members: %s", r.Body.String())
		}
		if r.str(bridge.SchemaBridgeGroup+".kind") != "security" {
			t.Errorf("kind: %v", r.get(bridge.SchemaBridgeGroup))
		}
	})
}

func TestFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		f := e.seed()
		ent, ext := bridge.SchemaEnterpriseUser, bridge.SchemaBridgeUser
		users := []struct {
			filter string
			want   []string
		}{
			{`userName eq "alice@example.com"`, []string{"alice"}},
			{`userName eq "ALICE@Example.com"`, []string{"alice"}},
			{`UserName Eq "alice@example.com"`, []string{"alice"}},
			{`externalId eq "` + f.alice.ExternalID + `"`, []string{"alice"}},
			{`externalId eq "` + upper(f.alice.ExternalID) + `"`, nil}, // caseExact
			{`id eq "` + f.bob.ID + `"`, []string{"bob"}},
			{`active eq false`, []string{"bob"}},
			{`active eq true`, []string{"alice", "dave", "erin"}},
			{`userName sw "a"`, []string{"alice"}},
			{`userName ew "example.com"`, []string{"alice", "bob", "dave", "erin"}},
			{`userName co "RIN"`, []string{"erin"}},
			{`userName gt "c"`, []string{"dave", "erin"}},
			{`userName le "bob@example.com"`, []string{"alice", "bob"}},
			{`userName ne "alice@example.com"`, []string{"bob", "dave", "erin"}},
			{`displayName eq "alice archer"`, []string{"alice"}},
			{`name.familyName eq "baker"`, []string{"bob"}},
			{`name.givenName sw "D" or name.givenName sw "E"`, []string{"dave", "erin"}},
			{`title pr`, []string{"alice", "bob", "dave", "erin"}},
			{`nickName pr`, nil},
			{`emails co "home.example"`, []string{"alice"}},
			{`emails.value ew "@example.com"`, []string{"alice", "bob", "dave", "erin"}},
			{`emails[type eq "home"]`, []string{"alice"}},
			{`emails[type eq "work" and value co "BOB"]`, []string{"bob"}},
			{`emails[type eq "home" and value co "bob"]`, nil},
			{`emails[not (type eq "work")]`, []string{"alice"}},
			{`emails pr`, []string{"alice", "bob", "dave", "erin"}},
			{`not (userName eq "alice@example.com") and active eq true`, []string{"dave", "erin"}},
			{`(userName eq "alice@example.com" or userName eq "bob@example.com") and active eq true`, []string{"alice"}},
			{ent + `:department eq "ops"`, []string{"dave", "erin"}},
			{ent + `:employeeNumber eq "E-bob"`, []string{"bob"}},
			{ext + `:extensionAttribute1 eq "xalice"`, []string{"alice"}},
			{ext + `:protected eq true`, []string{"dave"}},
			{ext + `:status eq "deactivated"`, []string{"bob"}},
			{bridge.SchemaUser + `:userName eq "dave@example.com"`, []string{"dave"}},
			{`meta.lastModified gt "2000-01-01T00:00:00Z"`, []string{"alice", "bob", "dave", "erin"}},
			{`meta.created lt "2000-01-01T00:00:00Z"`, nil},
			{`groups.value eq "` + f.eng.ID + `"`, []string{"alice", "bob"}},
			{`groups[display eq "ops team"]`, []string{"dave"}},
			{`name.familyName eq "écoute"`, []string{"erin"}},
			{`userName eq "x\" or \"1\"=\"1"`, nil},
			{`userName eq "a'); DROP TABLE users; --"`, nil},
			{`userName co "%"`, nil},
			{`userName co "_"`, nil},
			{`userName co "*"`, nil},
			{`userName co "\\"`, nil},
			{`userName eq null`, nil},
			{`nickName eq null`, []string{"alice", "bob", "dave", "erin"}},
		}
		names := map[string]string{f.alice.ID: "alice", f.bob.ID: "bob", f.dave.ID: "dave", f.erin.ID: "erin", f.carol.ID: "carol"}
		for _, tc := range users {
			t.Run(tc.filter, func(t *testing.T) {
				r := e.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(tc.filter), nil).want(t, 200, "")
				var got []string
				for _, x := range r.get("Resources").([]any) {
					got = append(got, names[x.(map[string]any)["id"].(string)])
				}
				sort.Strings(got)
				if !equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				if r.num("totalResults") != len(tc.want) {
					t.Errorf("totalResults %d, want %d", r.num("totalResults"), len(tc.want))
				}
			})
		}
		groups := []struct {
			filter string
			want   int
		}{
			{`displayName eq "engineering"`, 1},
			{`members[value eq "` + f.alice.ID + `"]`, 1},
			{`id eq "` + f.eng.ID + `" and members[value eq "` + f.dave.ID + `"]`, 0},
			{`members.value eq "` + f.eng.ID + `"`, 1},
			{`members pr`, 2},
			{`members[type eq "Group"]`, 1},
			{bridge.SchemaBridgeGroup + `:kind eq "ou"`, 1},
		}
		for _, tc := range groups {
			t.Run(tc.filter, func(t *testing.T) {
				r := e.do("GET", "/scim/v2/Groups?excludedAttributes=members&filter="+url.QueryEscape(tc.filter), nil).want(t, 200, "")
				if r.num("totalResults") != tc.want {
					t.Errorf("totalResults %d, want %d: %s", r.num("totalResults"), tc.want, r.Body.String())
				}
			})
		}
		for _, bad := range []string{`nosuch eq "x"`, `userName eq`, `userName xx "a"`, `active eq "yes"`, `active gt true`,
			`name eq "x"`, `emails[nosuch eq "x"]`, `urn:nope:attr eq "x"`, `meta.created eq "yesterday"`, `userName eq "a` + "\x00" + `"`,
			`members[value eq "x"]`} {
			t.Run("bad "+bad, func(t *testing.T) {
				e.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(bad), nil).want(t, 400, "invalidFilter")
			})
		}
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPagingAndSorting(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.seed()
		page := func(q string) []string {
			r := e.do("GET", "/scim/v2/Users?"+q, nil).want(t, 200, "")
			var out []string
			for _, x := range r.get("Resources").([]any) {
				out = append(out, x.(map[string]any)["userName"].(string))
			}
			if r.num("itemsPerPage") != len(out) {
				t.Errorf("%s: itemsPerPage %d for %d resources", q, r.num("itemsPerPage"), len(out))
			}
			if r.num("totalResults") != 4 {
				t.Errorf("%s: totalResults %d", q, r.num("totalResults"))
			}
			return out
		}
		all := page("sortBy=userName")
		if !equal(all, []string{"alice@example.com", "bob@example.com", "dave@example.com", "Erin.Upper@example.com"}) {
			t.Errorf("sorted: %v", all)
		}
		if got := page("sortBy=userName&sortOrder=descending&count=2"); !equal(got, []string{"Erin.Upper@example.com", "dave@example.com"}) {
			t.Errorf("descending page: %v", got)
		}
		if got := page("sortBy=name.familyName&startIndex=2&count=2"); !equal(got, []string{"bob@example.com", "dave@example.com"}) {
			t.Errorf("by familyName page 2: %v", got)
		}
		if got := page("sortBy=emails&count=1"); len(got) != 1 {
			t.Errorf("by emails: %v", got)
		}
		if got := page("count=0"); len(got) != 0 {
			t.Errorf("count=0: %v", got)
		}
		if got := page("startIndex=0&count=-5"); len(got) != 0 {
			t.Errorf("negative count: %v", got)
		}
		if got := page("startIndex=10"); len(got) != 0 {
			t.Errorf("past the end: %v", got)
		}
		// Pages never overlap without sortBy either.
		a, b := page("count=2"), page("count=2&startIndex=3")
		seen := map[string]bool{}
		for _, x := range append(a, b...) {
			if seen[x] {
				t.Errorf("%s on two pages", x)
			}
			seen[x] = true
		}
		e.do("GET", "/scim/v2/Users?sortBy=nosuch", nil).want(t, 400, "invalidPath")
		e.do("GET", "/scim/v2/Users?sortBy=userName&sortOrder=sideways", nil).want(t, 400, "invalidValue")
		e.do("GET", "/scim/v2/Users?count=ten", nil).want(t, 400, "invalidValue")
		// Sorting by memberships is not supported (no index holds a
		// resource's first member or group): 400 invalidValue, saying so.
		for _, path := range []string{"/scim/v2/Groups?sortBy=members", "/scim/v2/Groups?sortBy=members.value", "/scim/v2/Users?sortBy=groups.display",
			"/scim/v2/Groups?sortBy=members&cursor="} {
			if r := e.do("GET", path, nil).want(t, 400, "invalidValue"); !strings.Contains(r.str("detail"), "not supported") {
				t.Errorf("%s: detail %q", path, r.str("detail"))
			}
		}
	})
}

func TestSearchAndDiscovery(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.seed()
		r := e.do("POST", "/scim/v2/Users/.search", map[string]any{
			"schemas": []string{schemaSearchRequest}, "filter": `active eq true`, "sortBy": "userName",
			"attributes": []string{"userName"}, "count": 2, "startIndex": 1,
		}).want(t, 200, "")
		if r.num("totalResults") != 3 || r.num("itemsPerPage") != 2 || r.get("Resources.0.name") != nil {
			t.Errorf(".search: %s", r.Body.String())
		}
		e.do("POST", "/scim/v2/Users/.search", map[string]any{"filter": "x"}).want(t, 400, "invalidSyntax")
		r = e.do("POST", "/scim/v2/.search", map[string]any{"schemas": []string{schemaSearchRequest}, "count": 100}).want(t, 200, "")
		if r.num("totalResults") != 7 || r.num("itemsPerPage") != 7 {
			t.Errorf("root search: total %d items %d", r.num("totalResults"), r.num("itemsPerPage"))
		}
		r = e.do("GET", "/scim/v2/?filter="+url.QueryEscape(`displayName sw "Eng"`), nil).want(t, 200, "")
		if r.num("totalResults") != 1 {
			t.Errorf("root filter: %s", r.Body.String())
		}
		r = e.do("GET", "/scim/v2/ServiceProviderConfig", nil).want(t, 200, "")
		for _, k := range []string{"patch", "bulk", "filter", "sort", "etag"} {
			if r.get(k+".supported") != true {
				t.Errorf("SPC %s not supported: %v", k, r.get(k))
			}
		}
		if r.num("bulk.maxOperations") != maxBulkOperations || r.num("filter.maxResults") != maxCount {
			t.Errorf("SPC limits: %s", r.Body.String())
		}
		r = e.do("GET", "/scim/v2/Schemas", nil).want(t, 200, "")
		if r.num("totalResults") != 5 {
			t.Errorf("schemas: %d", r.num("totalResults"))
		}
		e.do("GET", "/scim/v2/Schemas/"+bridge.SchemaBridgeUser, nil).want(t, 200, "")
		r = e.do("GET", "/scim/v2/ResourceTypes/User", nil).want(t, 200, "")
		if r.str("endpoint") != "/Users" {
			t.Errorf("resource type: %s", r.Body.String())
		}
		e.do("GET", "/scim/v2/ResourceTypes/Nope", nil).want(t, 404, "")
		e.do("GET", "/scim/v2/Nope", nil).want(t, 404, "")
		e.do("DELETE", "/scim/v2/Users", nil).want(t, http.StatusMethodNotAllowed, "")
	})
}
