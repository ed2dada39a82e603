package reliability

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	bulkSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
)

// seedForBadInput gives the store something to lose: SCIM users and a
// group, directory settings, a schedule. It returns a SCIM user id.
func seedForBadInput(t *testing.T, r *router) string {
	t.Helper()
	var id string
	for _, name := range []string{"alice@example.com", "bob@example.com"} {
		w := r.do(req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: "application/scim+json",
			body: []byte(`{"schemas":["` + userSchema + `"],"userName":"` + name + `","name":{"givenName":"A"}}`)})
		if w.Code != 201 {
			t.Fatalf("seed user: %d %s", w.Code, w.Body)
		}
		var doc map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &doc)
		id, _ = doc["id"].(string)
	}
	if w := r.do(req{method: "POST", path: "/scim/v2/Groups", token: "scim", ctype: "application/scim+json",
		body: []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"` + id + `"}]}`)}); w.Code != 201 {
		t.Fatalf("seed group: %d %s", w.Code, w.Body)
	}
	settings := `{"connection":{"host":"127.0.0.1","port":1,"security":"none","baseDn":"DC=example,DC=com",` +
		`"bindDn":"CN=svc,DC=example,DC=com","password":"seed-password","timeoutSeconds":5},"organizationalUnits":{"mode":"all"}}`
	if w := r.do(req{method: "PUT", path: "/api/v1/accounts/default/directory", token: "admin", ctype: "application/json", body: []byte(settings)}); w.Code != 200 {
		t.Fatalf("seed settings: %d %s", w.Code, w.Body)
	}
	return id
}

// storeState is every row count, every SCIM user and group with its
// version, the settings and the schedule, as the API shows them.
func storeState(t *testing.T, r *router) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n", tableCounts(t, r.store))
	snap := takeSnapshot(t, r.store, "default")
	fmt.Fprintf(&b, "%v\n", map[string]string(snap))
	for _, p := range []string{"/api/v1/accounts/default/directory", "/api/v1/accounts/default/schedule", "/api/v1/accounts/default/tokens"} {
		w := r.do(req{method: "GET", path: p, token: "admin"})
		fmt.Fprintf(&b, "%s %d %s\n", p, w.Code, w.Body)
	}
	return b.String()
}

func nested(open, closeWith string, depth int, inner string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(closeWith, depth)
}

// badCase is one request that must be refused with want and change
// nothing. check, when set, looks at the answer further.
type badCase struct {
	name  string
	req   req
	want  int
	check func(t *testing.T, w *httptest.ResponseRecorder)
}

func scimError(scimType string) func(t *testing.T, w *httptest.ResponseRecorder) {
	return func(t *testing.T, w *httptest.ResponseRecorder) {
		t.Helper()
		var e struct {
			Schemas  []string
			ScimType string
			Status   string
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e.Schemas) != 1 ||
			e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || e.Status != fmt.Sprint(w.Code) ||
			w.Header().Get("Content-Type") != "application/scim+json" {
			t.Errorf("not a SCIM error: %s %s", w.Header().Get("Content-Type"), w.Body)
		}
		if scimType != "" && e.ScimType != scimType {
			t.Errorf("scimType %q, want %q: %s", e.ScimType, scimType, w.Body)
		}
	}
}

func problemDoc(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	var p struct{ Status int }
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code ||
		w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("not a problem document: %s %s", w.Header().Get("Content-Type"), w.Body)
	}
}

// TestBadRequestBodiesChangeNothing sends oversized bodies, 10,000-deep
// JSON, unknown fields and wrong content types to SCIM, the admin API
// and the console through the real router, on SQLite and PostgreSQL:
// each gets its 4xx (never a 500, never a crash) and no row changes.
func TestBadRequestBodiesChangeNothing(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRouter(t, b.open(t).store, nil)
			id := seedForBadInput(t, r)
			cookie, csrf := r.consoleSession("admin")
			session := http.Header{"Cookie": {cookie}, "X-Csrf-Token": {csrf}}
			user := func(extra string) []byte {
				return []byte(`{"schemas":["` + userSchema + `"],"userName":"mallory@example.com"` + extra + `}`)
			}
			oversized := user(`,"displayName":"` + strings.Repeat("x", 1<<20) + `"`)
			deepArr := nested("[", "]", 10000, "")
			deepObj := nested(`{"a":`, "}", 10000, "1")
			scim := "application/scim+json"
			cases := []badCase{
				// Oversized: 413 whether the size is announced or not.
				{"SCIM POST oversized", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: scim, body: oversized}, 413, scimError("")},
				{"SCIM POST oversized, chunked", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: scim, body: oversized, chunked: true}, 413, scimError("")},
				{"SCIM PUT oversized", req{method: "PUT", path: "/scim/v2/Users/" + id, token: "scim", ctype: scim, body: oversized}, 413, scimError("")},
				{"SCIM PATCH oversized, chunked", req{method: "PATCH", path: "/scim/v2/Users/" + id, token: "scim", ctype: scim, chunked: true,
					body: []byte(`{"schemas":["` + patchSchema + `"],"Operations":[{"op":"replace","path":"displayName","value":"` + strings.Repeat("x", 1<<20) + `"}]}`)}, 413, scimError("")},
				{"SCIM Bulk oversized", req{method: "POST", path: "/scim/v2/Bulk", token: "scim", ctype: scim, chunked: true,
					body: []byte(`{"schemas":["` + bulkSchema + `"],"Operations":[{"method":"POST","path":"/Users","bulkId":"1","data":` + string(oversized) + `}]}`)}, 413, scimError("")},
				{"SCIM .search oversized", req{method: "POST", path: "/scim/v2/Users/.search", token: "scim", ctype: scim, chunked: true,
					body: []byte(`{"filter":"userName eq \"` + strings.Repeat("x", 1<<20) + `\""}`)}, 413, scimError("")},
				{"admin PUT directory oversized", req{method: "PUT", path: "/api/v1/accounts/default/directory", token: "admin", ctype: "application/json",
					body: []byte(`{"connection":{"host":"` + strings.Repeat("h", 1<<20) + `"}}`)}, 413, problemDoc},
				{"admin PUT directory oversized, chunked", req{method: "PUT", path: "/api/v1/accounts/default/directory", token: "admin", ctype: "application/json", chunked: true,
					body: []byte(`{"connection":{"host":"` + strings.Repeat("h", 1<<20) + `"}}`)}, 413, problemDoc},
				{"admin POST tokens oversized", req{method: "POST", path: "/api/v1/accounts/default/tokens", token: "admin", ctype: "application/json",
					body: []byte(`{"role":"scim","name":"` + strings.Repeat("n", 1<<20) + `"}`)}, 413, problemDoc},
				{"admin POST test-connection oversized", req{method: "POST", path: "/api/v1/accounts/default/directory/test", token: "admin", ctype: "application/json", chunked: true,
					body: []byte(`{"connection":{"host":"` + strings.Repeat("h", 1<<20) + `"}}`)}, 413, problemDoc},
				{"console sign-in oversized", req{method: "POST", path: "/console/login", ctype: "application/x-www-form-urlencoded",
					body: []byte("csrf=x&token=" + strings.Repeat("t", 65<<10))}, 413, nil},
				{"console validate oversized", req{method: "POST", path: "/console/validate", ctype: "application/json", header: session,
					body: []byte(`{"connection":{"host":"` + strings.Repeat("h", 1<<20) + `"}}`)}, 413, problemDoc},
				{"console API proxy oversized", req{method: "PUT", path: "/console/api/directory", ctype: "application/json", header: session, chunked: true,
					body: []byte(`{"connection":{"host":"` + strings.Repeat("h", 1<<20) + `"}}`)}, 413, problemDoc},

				// 10,000-deep JSON: a 400 (422 for the settings document,
				// whose problems are listed), no stack overflow, no 500.
				{"SCIM POST deep arrays", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: scim, body: []byte(deepArr)}, 400, scimError("invalidSyntax")},
				{"SCIM POST deep arrays in an attribute", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: scim, body: user(`,"emails":` + deepArr)}, 400, scimError("invalidSyntax")},
				{"SCIM POST deep objects", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: scim, body: []byte(deepObj)}, 400, scimError("invalidSyntax")},
				{"SCIM POST deep objects in an unknown attribute", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: scim, body: user(`,"x":` + deepObj)}, 400, scimError("invalidSyntax")},
				{"SCIM PUT deep objects", req{method: "PUT", path: "/scim/v2/Users/" + id, token: "scim", ctype: scim, body: user(`,"name":` + deepObj)}, 400, scimError("invalidSyntax")},
				{"SCIM PATCH deep value", req{method: "PATCH", path: "/scim/v2/Users/" + id, token: "scim", ctype: scim,
					body: []byte(`{"schemas":["` + patchSchema + `"],"Operations":[{"op":"add","value":` + deepObj + `}]}`)}, 400, scimError("invalidSyntax")},
				{"SCIM Bulk deep", req{method: "POST", path: "/scim/v2/Bulk", token: "scim", ctype: scim,
					body: []byte(`{"schemas":["` + bulkSchema + `"],"Operations":` + deepArr + `}`)}, 400, scimError("invalidSyntax")},
				{"SCIM .search deep", req{method: "POST", path: "/scim/v2/.search", token: "scim", ctype: scim, body: []byte(deepArr)}, 400, scimError("invalidSyntax")},
				{"admin PUT schedule deep", req{method: "PUT", path: "/api/v1/accounts/default/schedule", token: "admin", ctype: "application/json", body: []byte(deepObj)}, 400, problemDoc},
				{"admin POST tokens deep", req{method: "POST", path: "/api/v1/accounts/default/tokens", token: "admin", ctype: "application/json", body: []byte(deepArr)}, 400, problemDoc},
				{"admin PUT directory deep", req{method: "PUT", path: "/api/v1/accounts/default/directory", token: "admin", ctype: "application/json", body: []byte(deepArr)}, 422, problemDoc},
				{"admin POST runs deep", req{method: "POST", path: "/api/v1/accounts/default/runs", token: "admin", ctype: "application/json", body: []byte(deepObj)}, 400, problemDoc},
				{"console API proxy deep", req{method: "PUT", path: "/console/api/schedule", ctype: "application/json", header: session, body: []byte(deepObj)}, 400, problemDoc},
				{"console validate deep", req{method: "POST", path: "/console/validate", ctype: "application/json", header: session, body: []byte(deepObj)}, 200,
					func(t *testing.T, w *httptest.ResponseRecorder) {
						if !strings.Contains(w.Body.String(), `"problems":[{`) {
							t.Errorf("validate lists no problem: %s", w.Body)
						}
					}},

				// Unknown fields: the admin API refuses them (a misspelt
				// setting must not be dropped silently).
				{"admin PUT schedule unknown field", req{method: "PUT", path: "/api/v1/accounts/default/schedule", token: "admin", ctype: "application/json",
					body: []byte(`{"enabled":false,"frequncy":"daily"}`)}, 400, problemDoc},
				{"admin POST tokens unknown field", req{method: "POST", path: "/api/v1/accounts/default/tokens", token: "admin", ctype: "application/json",
					body: []byte(`{"role":"admin","account":"other"}`)}, 400, problemDoc},
				{"admin PUT directory unknown field", req{method: "PUT", path: "/api/v1/accounts/default/directory", token: "admin", ctype: "application/json",
					body: []byte(`{"connection":{"host":"dc1","passwd":"x"}}`)}, 422, problemDoc},
				{"admin PUT directory trailing document", req{method: "PUT", path: "/api/v1/accounts/default/directory", token: "admin", ctype: "application/json",
					body: []byte(`{"connection":{"host":"127.0.0.1","port":1,"security":"none","baseDn":"DC=example,DC=com","bindDn":"CN=svc,DC=example,DC=com","timeoutSeconds":5}} {"connection":{"host":"evil"}}`)}, 422, problemDoc},
				{"SCIM PATCH unknown path", req{method: "PATCH", path: "/scim/v2/Users/" + id, token: "scim", ctype: scim,
					body: []byte(`{"schemas":["` + patchSchema + `"],"Operations":[{"op":"replace","path":"favouriteColour","value":"red"}]}`)}, 400, scimError("invalidPath")},

				// Wrong content types (RFC 7644 section 3.1: SCIM bodies are
				// application/scim+json or application/json).
				{"SCIM POST text/plain", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: "text/plain", body: user("")}, 415, scimError("")},
				{"SCIM POST application/xml", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: "application/xml",
					body: []byte(`<User><userName>mallory</userName></User>`)}, 415, scimError("")},
				{"SCIM POST form", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: "application/x-www-form-urlencoded", body: user("")}, 415, scimError("")},
				{"SCIM POST malformed Content-Type", req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: "application/", body: user("")}, 415, scimError("")},
				{"SCIM PUT text/plain", req{method: "PUT", path: "/scim/v2/Users/" + id, token: "scim", ctype: "text/plain", body: user("")}, 415, scimError("")},
				{"SCIM PATCH application/xml", req{method: "PATCH", path: "/scim/v2/Users/" + id, token: "scim", ctype: "application/xml",
					body: []byte(`{"schemas":["` + patchSchema + `"],"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`)}, 415, scimError("")},
				{"SCIM Bulk text/plain", req{method: "POST", path: "/scim/v2/Bulk", token: "scim", ctype: "text/plain",
					body: []byte(`{"schemas":["` + bulkSchema + `"],"Operations":[{"method":"DELETE","path":"/Users/` + id + `"}]}`)}, 415, scimError("")},
				{"admin PUT schedule text/plain", req{method: "PUT", path: "/api/v1/accounts/default/schedule", token: "admin", ctype: "text/plain",
					body: []byte(`{"enabled":true,"frequency":"daily"}`)}, 415, problemDoc},
				{"admin PUT directory application/xml", req{method: "PUT", path: "/api/v1/accounts/default/directory", token: "admin", ctype: "application/xml",
					body: []byte(`<connection host="evil"/>`)}, 415, problemDoc},
				{"admin POST tokens multipart", req{method: "POST", path: "/api/v1/accounts/default/tokens", token: "admin", ctype: "multipart/form-data; boundary=x",
					body: []byte(`{"role":"admin"}`)}, 415, problemDoc},
				{"admin POST runs text/plain", req{method: "POST", path: "/api/v1/accounts/default/runs", token: "admin", ctype: "text/plain",
					body: []byte(`{"dryRun":true}`)}, 415, problemDoc},
				{"console API proxy text/plain", req{method: "PUT", path: "/console/api/schedule", ctype: "text/plain", header: session,
					body: []byte(`{"enabled":true,"frequency":"daily"}`)}, 415, problemDoc},
			}
			before := storeState(t, r)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					w := r.do(c.req)
					if w.Code != c.want {
						body := w.Body.String()
						if len(body) > 300 {
							body = body[:300]
						}
						t.Fatalf("%d, want %d: %s", w.Code, c.want, body)
					}
					if c.check != nil {
						c.check(t, w)
					}
				})
			}
			if after := storeState(t, r); after != before {
				t.Fatalf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestSCIMUnknownAttributesIgnored: RFC 7643 section 3.3 and this
// endpoint's documented behaviour (scimapi normalize): attributes the
// schema does not define, and extensions it does not serve, are ignored on
// POST and PUT, not stored and not returned; the known attributes of the
// same request are. The accepted content types are application/scim+json
// (with parameters) and application/json, and a body without one.
func TestSCIMUnknownAttributesIgnored(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRouter(t, b.open(t).store, nil)
			unknown := `,"favouriteColour":"red","urn:example:params:scim:schemas:extension:custom:2.0:User":{"badge":"42"},` +
				`"name":{"givenName":"Eve","middleName2":"x"},"emails":[{"value":"eve@example.com","type":"work","color":"blue"}]`
			w := r.do(req{method: "POST", path: "/scim/v2/Users", token: "scim", ctype: "application/scim+json; charset=utf-8",
				body: []byte(`{"schemas":["` + userSchema + `"],"userName":"eve@example.com"` + unknown + `}`)})
			if w.Code != 201 {
				t.Fatalf("POST: %d %s", w.Code, w.Body)
			}
			var doc map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &doc)
			id, _ := doc["id"].(string)
			check := func(what string) {
				t.Helper()
				g := r.do(req{method: "GET", path: "/scim/v2/Users/" + id, token: "scim"})
				body := g.Body.String()
				for _, bad := range []string{"favouriteColour", "badge", "custom", "middleName2", "color"} {
					if strings.Contains(body, bad) {
						t.Errorf("%s: the unknown %q was stored: %s", what, bad, body)
					}
				}
				var got struct {
					Name   struct{ GivenName string }
					Emails []struct{ Value string }
				}
				if err := json.Unmarshal(g.Body.Bytes(), &got); err != nil || got.Name.GivenName != "Eve" ||
					len(got.Emails) != 1 || got.Emails[0].Value != "eve@example.com" {
					t.Errorf("%s: the known attributes were lost: %s", what, body)
				}
			}
			check("POST")
			w = r.do(req{method: "PUT", path: "/scim/v2/Users/" + id, token: "scim", ctype: "application/json",
				body: []byte(`{"schemas":["` + userSchema + `"],"userName":"eve@example.com","shoeSize":44` + unknown + `}`)})
			if w.Code != 200 || strings.Contains(w.Body.String(), "shoeSize") {
				t.Fatalf("PUT: %d %s", w.Code, w.Body)
			}
			check("PUT")
			// No Content-Type at all: read as JSON.
			w = r.do(req{method: "POST", path: "/scim/v2/Users", token: "scim",
				body: []byte(`{"schemas":["` + userSchema + `"],"userName":"frank@example.com"}`)})
			if w.Code != 201 {
				t.Fatalf("POST without a Content-Type: %d %s", w.Code, w.Body)
			}
			// The admin API takes curl's default form type (docs/api.md).
			w = r.do(req{method: "POST", path: "/api/v1/accounts/default/tokens", token: "admin", ctype: "application/x-www-form-urlencoded",
				body: []byte(`{"role":"auditor","name":"curl"}`)})
			if w.Code != 201 {
				t.Fatalf("admin POST with curl's form type: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestConsolePathTraversal: paths that climb out of /console/static (or
// /console) with .., encoded dots and slashes, backslashes, double
// encoding or NUL never serve a file: in-process and through a live
// server whose client follows redirects, the answer is 400 or 404 (or a
// redirect to the cleaned path, which is then 404) without file contents.
func TestConsolePathTraversal(t *testing.T) {
	r := newRouter(t, openSQLite(t).store, nil)
	before := tableCounts(t, r.store)
	srv := httptest.NewServer(r.h)
	defer srv.Close()
	paths := []string{
		"/console/static/../../etc/passwd",
		"/console/static/../../../../../../etc/passwd",
		"/console/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/console/static/%2e%2e/%2e%2e/etc/passwd",
		"/console/static/..%2f..%2f..%2fetc%2fpasswd",
		"/console/static/..%5c..%5c..%5cetc%5cpasswd",
		"/console/static/..\\..\\etc\\passwd",
		"/console/static/%252e%252e%252fetc%252fpasswd",
		"/console/static/....//....//etc/passwd",
		"/console/static/app.js%00.png",
		"/console/static/%2e%2e%2fconsole.go",
		"/console/static/..%2fstatic.go",
		"/console/..%2f..%2fgo.mod",
		"/console/../go.mod",
		"/console/static//etc/passwd",
		"/console/static/%2fetc%2fpasswd",
		"/console/api/..%2f..%2faccounts",
		"/console/api/../../api/v1/accounts",
		"/console/runs/..%2f..%2fetc%2fpasswd",
	}
	leaked := func(body string) bool {
		for _, s := range []string{"root:", "module github.com", "package console", "package main", "/bin/"} {
			if strings.Contains(body, s) {
				return true
			}
		}
		return false
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			w := r.do(req{method: "GET", path: p})
			switch w.Code {
			case 400, 404:
			case 301, 302, 307, 308:
				loc := w.Header().Get("Location")
				for _, seg := range strings.Split(loc, "/") {
					if seg == ".." || strings.Contains(strings.ToLower(seg), "%2e%2e") {
						t.Errorf("redirect to %q", loc)
					}
				}
			default:
				t.Errorf("in-process: %d", w.Code)
			}
			if leaked(w.Body.String()) {
				t.Fatalf("in-process answer holds file contents: %s", w.Body)
			}
			hr, err := http.NewRequest("GET", srv.URL+p, nil)
			if err != nil {
				t.Skipf("not a URL the client sends: %v", err)
			}
			res, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 400 && res.StatusCode != 404 && res.StatusCode != 401 {
				t.Errorf("live server, redirects followed: %d %s", res.StatusCode, res.Request.URL)
			}
			if leaked(string(data)) {
				t.Fatalf("live answer holds file contents: %s", data)
			}
		})
	}
	// The real asset is still served (the table is not passing because
	// nothing is).
	if w := r.do(req{method: "GET", path: "/console/static/app.js"}); w.Code != 200 {
		t.Fatalf("GET /console/static/app.js: %d", w.Code)
	}
	after := tableCounts(t, r.store)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("rows changed: %v -> %v", before, after)
	}
}
