package scimapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// The SCIM 2.0 conformance suite (issue #4): one row per check, in the
// order a conformance client (Okta's SCIM validator, Microsoft's Entra
// validator, scim2-tester) runs them, replayed against the real router on
// each backend. Rows share one seeded store and run in order: a row may
// save values (an id, an ETag) that later rows name as {key} in their path,
// body or headers. The areas are split across conformance_*_test.go.

// conf is one conformance check.
type conf struct {
	name     string
	method   string
	path     string // under /scim/v2; {key} is replaced by a saved value
	body     string // raw JSON; {key} replaced likewise
	headers  []string
	status   int
	scimType string
	// check, when set, looks at the answer; it may save values with c.set.
	check func(t *testing.T, r resp, c *confRun)
}

// confRun is the state of one run of the suite on one backend.
type confRun struct {
	e    *env
	f    fixture
	vars map[string]string
}

func (c *confRun) set(key, value string) { c.vars[key] = value }

func (c *confRun) expand(s string) string {
	for k, v := range c.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// q escapes a filter (or any query value) and keeps its {key}s, which the
// row expands when it runs (saved values are ids and times, which need no
// escaping in a query).
func (c *confRun) q(s string) string {
	return strings.NewReplacer("%7B", "{", "%7D", "}").Replace(url.QueryEscape(s))
}

// runConformance runs the rows of every area, in order, on each backend.
func runConformance(t *testing.T, areas ...func(c *confRun) []conf) {
	eachBackend(t, func(t *testing.T, e *env) {
		c := &confRun{e: e, f: e.seed(), vars: map[string]string{}}
		c.vars["alice"], c.vars["bob"], c.vars["dave"] = c.f.alice.ID, c.f.bob.ID, c.f.dave.ID
		c.vars["eng"], c.vars["ops"] = c.f.eng.ID, c.f.ops.ID
		for _, area := range areas {
			// An area builds its rows when it runs, so they can read what
			// earlier areas saved.
			for _, row := range area(c) {
				t.Run(row.name, func(t *testing.T) { c.run(t, row) })
			}
		}
	})
}

func (c *confRun) run(t *testing.T, row conf) {
	var body any
	if row.body != "" {
		body = c.expand(row.body)
	}
	headers := make([]string, len(row.headers))
	for i, h := range row.headers {
		headers[i] = c.expand(h)
	}
	path := c.expand(row.path)
	if !strings.HasPrefix(path, "/scim/v2") {
		path = "/scim/v2" + path
	}
	r := c.e.do(row.method, path, body, headers...)
	r.want(t, row.status, row.scimType)
	if row.status < 300 && row.status != 204 && row.method != "HEAD" && row.status != 304 {
		if ct := r.Header().Get("Content-Type"); ct != scimContentType {
			t.Errorf("Content-Type %q, want %q", ct, scimContentType)
		}
	}
	if row.check != nil {
		row.check(t, r, c)
	}
}

func TestConformance(t *testing.T) {
	runConformance(t, confDiscovery, confHTTP, confUsers, confPatch, confLists, confProjection, confGroups, confBulk)
}

// Helpers for checks.

func wantEq(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no %q: %v", what, k, m)
		}
	}
}

func wantNoKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; ok {
			t.Errorf("%s has %q: %v", what, k, m)
		}
	}
}

// resources is the Resources of a ListResponse (nil when absent).
func resources(r resp) []map[string]any {
	list, _ := r.body["Resources"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// listShape checks a ListResponse and its totalResults.
func listShape(total int) func(t *testing.T, r resp, c *confRun) {
	return func(t *testing.T, r resp, c *confRun) {
		t.Helper()
		wantList(t, r, total)
	}
}

func wantList(t *testing.T, r resp, total int) {
	t.Helper()
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != schemaListResponse {
		t.Errorf("schemas %v, want the ListResponse schema", schemas)
	}
	wantKeys(t, "ListResponse", r.body, "totalResults", "itemsPerPage", "startIndex")
	if total >= 0 && r.num("totalResults") != total {
		t.Errorf("totalResults %d, want %d: %s", r.num("totalResults"), total, r.Body.String())
	}
	if n := len(resources(r)); n != r.num("itemsPerPage") {
		t.Errorf("itemsPerPage %d, but %d resources", r.num("itemsPerPage"), n)
	}
}

// userNames are the userName of each resource of a list.
func userNames(r resp) []string {
	var out []string
	for _, m := range resources(r) {
		s, _ := m["userName"].(string)
		out = append(out, s)
	}
	return out
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }
