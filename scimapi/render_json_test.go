package scimapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// mapOnly hides the store's JSON read path, so the router renders through
// maps (render.go).
type mapOnly struct{ bridge.ResourceStore }

// TestFastPathMatchesMapPath checks that every read the fast path serves
// (render_json.go) decodes to the same document as the map path gives,
// status and ETag included: users of both sources, with and without
// externalId, groups and extensions, groups with user and group members,
// lists, filters, sorting, paging and excludedAttributes.
func TestFastPathMatchesMapPath(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		f := e.seed()
		slow := NewRouter(Options{Store: e.store, Resources: mapOnly{e.store}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			SCIMBaseURL: "https://scim.example.com/scim/v2"})
		if _, ok := any(e.store).(jsonStore); !ok {
			t.Fatal("db.Store does not implement jsonStore: the fast path is off")
		}
		// A local user without externalId, with odd characters, and a
		// group holding a user and a group.
		local := e.do("POST", "/scim/v2/Users", map[string]any{
			"schemas":  []string{bridge.SchemaUser},
			"userName": `local"<&>\é@example.com`, "displayName": "Loc\u2028al", "name": map[string]any{"givenName": "L"},
			"emails": []any{map[string]any{"value": "l@example.com", "type": "work", "primary": true}},
		}).want(t, 201, "")
		grp := e.do("POST", "/scim/v2/Groups", map[string]any{
			"schemas": []string{bridge.SchemaGroup}, "displayName": "Mixed",
			"members": []any{map[string]any{"value": f.alice.ID}, map[string]any{"value": f.eng.ID}},
		}).want(t, 201, "")
		paths := []string{
			"/Users/" + f.alice.ID, "/Users/" + f.bob.ID, "/Users/" + f.dave.ID, "/Users/" + f.erin.ID,
			"/Users/" + local.str("id"), "/Users/" + f.carol.ID, "/Users/nope",
			"/Users/" + f.alice.ID + "?excludedAttributes=emails,groups,id",
			"/Users/" + f.alice.ID + "?excludedAttributes=meta",
			"/Users/" + f.alice.ID + "?excludedAttributes=" + url.QueryEscape(bridge.SchemaEnterpriseUser),
			"/Groups/" + f.eng.ID, "/Groups/" + f.ops.ID, "/Groups/" + f.ou.ID, "/Groups/" + grp.str("id"),
			"/Groups/" + f.eng.ID + "?excludedAttributes=members",
			"/Users", "/Users?count=2", "/Users?startIndex=2&count=2", "/Users?count=0", "/Users?startIndex=50",
			"/Users?sortBy=userName&sortOrder=descending", "/Users?sortBy=name.familyName",
			"/Users?filter=" + url.QueryEscape(`userName eq "alice@example.com"`),
			"/Users?filter=" + url.QueryEscape(`externalId eq "`+f.bob.ExternalID+`"`),
			"/Users?filter=" + url.QueryEscape(`emails co "example"`) + "&count=1",
			"/Users?filter=" + url.QueryEscape(`userName eq "nobody"`),
			"/Users?filter=" + url.QueryEscape(`nosuch eq "x"`),
			"/Users?excludedAttributes=groups,emails",
			"/Groups", "/Groups?excludedAttributes=members", "/Groups?count=1&startIndex=2",
			"/Groups?filter=" + url.QueryEscape(`displayName eq "Engineering"`),
			"/Groups?filter=" + url.QueryEscape(`members.value eq "`+f.alice.ID+`"`),
		}
		for _, p := range paths {
			fast, want := e.do("GET", "/scim/v2"+p, nil), serve(t, e, slow, "/scim/v2"+p)
			if fast.Code != want.Code || fast.Header().Get("ETag") != want.Header().Get("ETag") {
				t.Errorf("%s: status %d etag %q, map path %d %q", p, fast.Code, fast.Header().Get("ETag"), want.Code, want.Header().Get("ETag"))
				continue
			}
			if !reflect.DeepEqual(fast.body, want.body) {
				t.Errorf("%s:\nfast %s\nmaps %s", p, fast.Body.String(), want.Body.String())
			}
		}
	})
}

func serve(t *testing.T, e *env, h http.Handler, path string) resp {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := resp{ResponseRecorder: rec}
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return r
}

// TestSplitDoc checks the top-level scan against encoding/json, on
// documents as encoding/json and PostgreSQL write them and on awkward ones.
func TestSplitDoc(t *testing.T) {
	for _, doc := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a": {"b": [1, 2, {"c": "}]"}]}, "d": "x\"}y", "e": null, "f": true, "g": -1.5e3}`,
		`{"name":{"familyName":"Archer","givenName":"Alice"},"emails":[{"primary":true,"type":"work","value":"a@x"}]}`,
		`{"k\u0065y": 1, "other": "\\"}`, `{"a":"\u2028<&>"}`, `{"a": [], "b": {}, "c": ""}`,
	} {
		got, err := splitDoc([]byte(doc), nil)
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d members, want %d", doc, len(got), len(want))
		}
		for _, f := range got {
			var a, b any
			if json.Unmarshal(f.raw, &a) != nil || json.Unmarshal(want[f.key], &b) != nil || !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %s = %s, want %s", doc, f.key, f.raw, want[f.key])
			}
		}
	}
	if _, err := splitDoc([]byte(`{"a":`), nil); err == nil {
		t.Error("truncated document accepted")
	}
}

// TestAppendMemberIDs checks members written from the aggregated id arrays,
// with PostgreSQL's spacing and with an id that needs escaping.
func TestAppendMemberIDs(t *testing.T) {
	var b []byte
	b = append(b, '[')
	b, n, err := appendMemberIDs(b, "https://x/scim/v2", "/Users/", "User", []byte(`["u1", "u\"2"]`), false)
	if err != nil || n != 2 {
		t.Fatalf("users: %d, %v", n, err)
	}
	if b, _, err = appendMemberIDs(b, "https://x/scim/v2", "/Groups/", "Group", []byte(`["g1"]`), true); err != nil {
		t.Fatal(err)
	}
	b = append(b, ']')
	var got []memberJSON
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	want := []memberJSON{{Value: "u1", Ref: "https://x/scim/v2/Users/u1", Type: "User"},
		{Value: `u"2`, Ref: `https://x/scim/v2/Users/u"2`, Type: "User"},
		{Value: "g1", Ref: "https://x/scim/v2/Groups/g1", Type: "Group"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if _, _, err := appendMemberIDs(nil, "b", "/Users/", "User", []byte(`["u1",`), false); err == nil {
		t.Error("truncated list accepted")
	}
}
