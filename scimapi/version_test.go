package scimapi

import (
	"net/url"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// versionFixture is one user in two local groups' reach and two AD groups'
// (the user starts in g1 and ad1), created fresh for each case.
type versionFixture struct {
	user, userName string
	g1, g2         string
	ad1, ad2       bridge.Group
}

func (e *env) versionFixture(t *testing.T, name string) versionFixture {
	t.Helper()
	f := versionFixture{userName: "v-" + name}
	f.user = e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{userURN}, "userName": f.userName}).want(t, 201, "").str("id")
	f.g1 = e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": name + " one",
		"members": []any{map[string]any{"value": f.user}}}).want(t, 201, "").str("id")
	f.g2 = e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": name + " two"}).want(t, 201, "").str("id")
	f.ad1, f.ad2 = adGroup(name+" ad one", bridge.KindSecurity), adGroup(name+" ad two", bridge.KindSecurity)
	if err := e.store.Apply(t.Context(), e.acct, bridge.Changes{Groups: []bridge.Group{f.ad1, f.ad2},
		SetMembers: map[string][]bridge.Member{f.ad1.ID: {{ID: f.user, Type: "User"}}}}); err != nil {
		t.Fatalf("seed AD groups: %v", err)
	}
	return f
}

// userTag reads the user's ETag and checks that every way of showing its
// version agrees: meta.version, the list page (fast path, and the map path
// a projection takes), and the same list with its groups excluded.
func (e *env) userTag(t *testing.T, f versionFixture) string {
	t.Helper()
	r := e.do("GET", "/scim/v2/Users/"+f.user, nil).want(t, 200, "")
	tag := r.Header().Get("ETag")
	if tag == "" || r.str("meta.version") != tag {
		t.Fatalf("ETag %q, meta.version %q", tag, r.str("meta.version"))
	}
	filter := "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "`+f.userName+`"`)
	for _, q := range []string{"", "&attributes=userName,meta", "&excludedAttributes=groups"} {
		if v := e.do("GET", filter+q, nil).want(t, 200, "").str("Resources.0.meta.version"); v != tag {
			t.Errorf("list%s: meta.version %q, GET's ETag %q", q, v, tag)
		}
	}
	if v := e.do("GET", "/scim/v2/Users/"+f.user+"?excludedAttributes=groups", nil).want(t, 200, "").Header().Get("ETag"); v != tag {
		t.Errorf("GET without groups: ETag %q, with them %q", v, tag)
	}
	return tag
}

func (r resp) groupIDs() []string {
	var ids []string
	gs, _ := r.get("groups").([]any)
	for _, g := range gs {
		ids = append(ids, g.(map[string]any)["value"].(string))
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

// TestUserVersionFollowsGroups: a change to a user's groups (membership,
// a group's name, a group's deletion), by SCIM or by a sync, is a change
// of the user: its ETag moves, and a client holding the old one is not
// told 304 nor allowed to write.
func TestUserVersionFollowsGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		apply := func(t *testing.T, c bridge.Changes) {
			t.Helper()
			if err := e.store.Apply(t.Context(), e.acct, c); err != nil {
				t.Fatalf("apply: %v", err)
			}
		}
		for _, tc := range []struct {
			name   string
			change func(t *testing.T, f versionFixture)
			groups func(f versionFixture) []string // the user's groups after the change
		}{
			{"SCIM PATCH adds to a group", func(t *testing.T, f versionFixture) {
				e.do("PATCH", "/scim/v2/Groups/"+f.g2, patchBody(op("add", "members", []any{map[string]any{"value": f.user}}))).want(t, 200, "")
			}, func(f versionFixture) []string { return sorted(f.g1, f.g2, f.ad1.ID) }},
			{"SCIM PATCH removes from a group", func(t *testing.T, f versionFixture) {
				e.do("PATCH", "/scim/v2/Groups/"+f.g1, patchBody(op("remove", `members[value eq "`+f.user+`"]`, nil))).want(t, 200, "")
			}, func(f versionFixture) []string { return sorted(f.ad1.ID) }},
			{"SCIM PUT of a group with new members", func(t *testing.T, f versionFixture) {
				e.do("PUT", "/scim/v2/Groups/"+f.g2, map[string]any{"schemas": []string{groupURN}, "displayName": "put two",
					"members": []any{map[string]any{"value": f.user}}}).want(t, 200, "")
			}, func(f versionFixture) []string { return sorted(f.g1, f.g2, f.ad1.ID) }},
			{"SCIM rename of a group", func(t *testing.T, f versionFixture) {
				e.do("PATCH", "/scim/v2/Groups/"+f.g1, patchBody(op("replace", "displayName", "renamed one"))).want(t, 200, "")
			}, func(f versionFixture) []string { return sorted(f.g1, f.ad1.ID) }},
			{"SCIM DELETE of a group", func(t *testing.T, f versionFixture) {
				e.do("DELETE", "/scim/v2/Groups/"+f.g1, nil).want(t, 204, "")
			}, func(f versionFixture) []string { return sorted(f.ad1.ID) }},
			{"sync SetMembers adds", func(t *testing.T, f versionFixture) {
				apply(t, bridge.Changes{SetMembers: map[string][]bridge.Member{f.ad2.ID: {{ID: f.user, Type: "User"}}}})
			}, func(f versionFixture) []string { return sorted(f.g1, f.ad1.ID, f.ad2.ID) }},
			{"sync SetMembers removes", func(t *testing.T, f versionFixture) {
				apply(t, bridge.Changes{SetMembers: map[string][]bridge.Member{f.ad1.ID: {}}})
			}, func(f versionFixture) []string { return sorted(f.g1) }},
			{"sync renames a group", func(t *testing.T, f versionFixture) {
				g := f.ad1
				g.DisplayName, g.Hash = "renamed by AD", "h2"
				apply(t, bridge.Changes{Groups: []bridge.Group{g}})
			}, func(f versionFixture) []string { return sorted(f.g1, f.ad1.ID) }},
			{"sync deletes a group", func(t *testing.T, f versionFixture) {
				apply(t, bridge.Changes{DeleteGroups: []bridge.Deletion{{ID: f.ad1.ID, Reason: "gone from AD"}}})
			}, func(f versionFixture) []string { return sorted(f.g1) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := e.versionFixture(t, tc.name)
				path := "/scim/v2/Users/" + f.user
				old := e.userTag(t, f)
				if again := e.userTag(t, f); again != old {
					t.Fatalf("nothing changed, yet the ETag moved %s -> %s", old, again)
				}
				e.do("GET", path, nil, "If-None-Match", old).want(t, 304, "")

				tc.change(t, f)

				now := e.userTag(t, f)
				if now == old {
					t.Fatalf("the user's groups changed, its ETag %s did not", old)
				}
				r := e.do("GET", path, nil, "If-None-Match", old).want(t, 200, "")
				if got, want := r.groupIDs(), tc.groups(f); !slices.Equal(got, want) || r.str("meta.version") != now {
					t.Errorf("If-None-Match old: groups %v version %s, want %v %s", got, r.str("meta.version"), want, now)
				}
				e.do("GET", path, nil, "If-None-Match", now).want(t, 304, "")

				// The old version is refused by every write, the new one taken.
				put := map[string]any{"schemas": []string{userURN}, "userName": f.userName, "title": "put"}
				e.do("PATCH", path, patchBody(op("replace", "title", "x")), "If-Match", old).want(t, 412, "")
				e.do("PUT", path, put, "If-Match", old).want(t, 412, "")
				e.do("DELETE", path, nil, "If-Match", old).want(t, 412, "")
				b := e.do("POST", "/scim/v2/Bulk", map[string]any{"schemas": []string{schemaBulkRequest}, "Operations": []any{
					map[string]any{"method": "PATCH", "path": "/Users/" + f.user, "version": old, "data": patchBody(op("replace", "title", "x"))}}}).want(t, 200, "")
				if b.str("Operations.0.status") != "412" {
					t.Errorf("bulk PATCH with the old version: %s", b.Body.String())
				}

				r = e.do("PATCH", path, patchBody(op("replace", "title", "x")), "If-Match", now).want(t, 200, "")
				patched := r.Header().Get("ETag")
				if patched == now || r.str("meta.version") != patched || e.userTag(t, f) != patched {
					t.Errorf("PATCH: ETag %q meta.version %q, was %q", patched, r.str("meta.version"), now)
				}
				b = e.do("POST", "/scim/v2/Bulk", map[string]any{"schemas": []string{schemaBulkRequest}, "Operations": []any{
					map[string]any{"method": "PATCH", "path": "/Users/" + f.user, "version": patched, "data": patchBody(op("replace", "title", "y"))}}}).want(t, 200, "")
				bulked := b.str("Operations.0.version")
				if b.str("Operations.0.status") != "200" || bulked == patched || e.userTag(t, f) != bulked {
					t.Errorf("bulk PATCH with the current version: %s", b.Body.String())
				}
				r = e.do("PUT", path, put, "If-Match", bulked).want(t, 200, "")
				if got := r.groupIDs(); !slices.Equal(got, tc.groups(f)) {
					t.Errorf("PUT response groups %v, want %v", got, tc.groups(f))
				}
				e.do("DELETE", path, nil, "If-Match", r.Header().Get("ETag")).want(t, 204, "")
			})
		}
	})
}

// TestGroupVersionFollowsMembers: a group shows its members' ids and types
// only, so its row version is its version; every way its members change
// must move it, and a change to a member alone must not.
func TestGroupVersionFollowsMembers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name    string
			change  func(t *testing.T, f versionFixture) string // the group to look at
			changes bool
		}{
			{"SCIM PATCH adds a member", func(t *testing.T, f versionFixture) string {
				e.do("PATCH", "/scim/v2/Groups/"+f.g2, patchBody(op("add", "members", []any{map[string]any{"value": f.user}}))).want(t, 200, "")
				return f.g2
			}, true},
			{"SCIM PATCH removes a member", func(t *testing.T, f versionFixture) string {
				e.do("PATCH", "/scim/v2/Groups/"+f.g1, patchBody(op("remove", `members[value eq "`+f.user+`"]`, nil))).want(t, 200, "")
				return f.g1
			}, true},
			{"SCIM PUT replaces the members", func(t *testing.T, f versionFixture) string {
				e.do("PUT", "/scim/v2/Groups/"+f.g1, map[string]any{"schemas": []string{groupURN}, "displayName": "put one"}).want(t, 200, "")
				return f.g1
			}, true},
			{"SCIM DELETE of a member", func(t *testing.T, f versionFixture) string {
				e.do("DELETE", "/scim/v2/Users/"+f.user, nil).want(t, 204, "")
				return f.g1
			}, true},
			// What the engine writes when AD changes a group's members: the
			// group (its content hash covers its members), then SetMembers.
			{"sync changes the members", func(t *testing.T, f versionFixture) string {
				g := f.ad1
				g.Hash = "members changed"
				if err := e.store.Apply(t.Context(), e.acct, bridge.Changes{Groups: []bridge.Group{g},
					SetMembers: map[string][]bridge.Member{g.ID: {}}}); err != nil {
					t.Fatal(err)
				}
				return f.ad1.ID
			}, true},
			{"a member changes", func(t *testing.T, f versionFixture) string {
				e.do("PATCH", "/scim/v2/Users/"+f.user, patchBody(op("replace", "userName", "renamed-"+f.userName))).want(t, 200, "")
				return f.g1
			}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := e.versionFixture(t, tc.name)
				before := map[string]resp{}
				for _, id := range []string{f.g1, f.g2, f.ad1.ID} {
					before[id] = e.do("GET", "/scim/v2/Groups/"+id, nil).want(t, 200, "")
				}
				id := tc.change(t, f)
				old := before[id]
				r := e.do("GET", "/scim/v2/Groups/"+id, nil, "If-None-Match", old.Header().Get("ETag"))
				switch {
				case tc.changes && r.Code != 200:
					t.Errorf("members changed, the ETag %s did not (status %d)", old.Header().Get("ETag"), r.Code)
				case !tc.changes && r.Code != 304:
					t.Errorf("status %d, want 304", r.Code)
				case !tc.changes && e.do("GET", "/scim/v2/Groups/"+id, nil).Body.String() != old.Body.String():
					t.Errorf("the group's body changed under the same ETag")
				}
			})
		}
	})
}

// TestUserVersionDigest: the digest is a fixed function of the set of
// (id, display name) pairs: the same in every process (the golden value),
// whatever the order, and different when either part of a pair differs.
func TestUserVersionDigest(t *testing.T) {
	a, b := bridge.GroupRef{ID: "a", DisplayName: "Alpha"}, bridge.GroupRef{ID: "b", DisplayName: "Beta"}
	base := userVersion(7, []bridge.GroupRef{a, b})
	for _, tc := range []struct {
		name   string
		groups []bridge.GroupRef
		same   bool
	}{
		{"other order", []bridge.GroupRef{b, a}, true},
		{"one group fewer", []bridge.GroupRef{a}, false},
		{"a group renamed", []bridge.GroupRef{a, {ID: "b", DisplayName: "Beta2"}}, false},
		{"another group, same name", []bridge.GroupRef{a, {ID: "c", DisplayName: "Beta"}}, false},
		{"id and name split elsewhere", []bridge.GroupRef{a, {ID: "bB", DisplayName: "eta"}}, false},
	} {
		if got := userVersion(7, tc.groups); (got == base) != tc.same {
			t.Errorf("%s: %s vs %s, same=%v", tc.name, got, base, tc.same)
		}
	}
	if got := userVersion(7, nil); got != "7" {
		t.Errorf("no groups: %q, want the plain row version", got)
	}
	// Golden: a change here moves every client's ETag (and breaks a mixed
	// fleet during a rolling upgrade); change it only on purpose.
	if base != "7.b5b568c5" { // computed independently (Python)
		t.Errorf("digest of {a Alpha, b Beta} = %s", base)
	}
}
