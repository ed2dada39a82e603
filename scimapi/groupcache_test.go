package scimapi

import (
	"slices"
	"strconv"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
)

// TestLargeGroupCacheNeverStale: a large group's response is served from
// the cache only while the group's version is the one it was rendered at.
// The test first proves the cache is used (a change written behind the
// store's back, without a version bump, stays invisible), then makes every
// kind of write that changes what the group shows and expects each to
// appear at once, with a new ETag, on both stores.
func TestLargeGroupCacheNeverStale(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		apply := func(t *testing.T, c bridge.Changes) {
			t.Helper()
			if err := e.store.Apply(ctx, e.acct, c); err != nil {
				t.Fatalf("apply: %v", err)
			}
		}
		// 1,000 AD members render to well over groupCacheMin.
		var users []bridge.User
		var members []bridge.Member
		for i := range 1000 {
			u := adUser(userName(i), "G", "F", "D", true)
			users = append(users, u)
			members = append(members, bridge.Member{ID: u.ID, Type: "User"})
		}
		g := adGroup("Cached", bridge.KindSecurity)
		apply(t, bridge.Changes{Users: users, Groups: []bridge.Group{g}, SetMembers: map[string][]bridge.Member{g.ID: members}})
		local := e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{userURN}, "userName": "cache-local"}).want(t, 201, "").str("id")
		scimGroup := e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": "Cached local",
			"members": memberValues(append(ids(users), local))}).want(t, 201, "").str("id")

		get := func(t *testing.T, id string) resp {
			t.Helper()
			r := e.do("GET", "/scim/v2/Groups/"+id, nil).want(t, 200, "")
			if len(r.Body.Bytes()) < groupCacheMin {
				t.Fatalf("group renders to %d bytes, below the cache's %d", len(r.Body.Bytes()), groupCacheMin)
			}
			return r
		}

		// The cache is used: a name written without a version bump stays
		// unseen while the version stands.
		first := get(t, g.ID)
		sdb, err := e.store.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		q := "UPDATE groups SET display_name = ?, attributes = ? WHERE id = ?"
		if e.store.Dialect() == db.DialectPostgres {
			q = "UPDATE groups SET display_name = $1, attributes = $2 WHERE id = $3"
		}
		if _, err := sdb.ExecContext(ctx, q, "Behind the back", `{"displayName":"Behind the back"}`, g.ID); err != nil {
			t.Fatal(err)
		}
		if again := get(t, g.ID); again.Body.String() != first.Body.String() {
			t.Fatalf("second GET was rendered again, not served from the cache")
		}
		if r := e.do("GET", "/scim/v2/Groups/"+g.ID, nil, "If-None-Match", first.Header().Get("ETag")); r.Code != 304 {
			t.Fatalf("If-None-Match on a cached group: status %d, want 304", r.Code)
		}

		for _, tc := range []struct {
			name  string
			group string
			write func(t *testing.T)
			check func(t *testing.T, r resp) string
		}{
			{"sync adds a member", g.ID, func(t *testing.T) {
				apply(t, bridge.Changes{SetMembers: map[string][]bridge.Member{g.ID: append(slices.Clone(members), bridge.Member{ID: local, Type: "User"})}})
			}, wantMember(local, true)},
			{"sync removes a member", g.ID, func(t *testing.T) {
				apply(t, bridge.Changes{SetMembers: map[string][]bridge.Member{g.ID: members[1:]}})
			}, wantMember(users[0].ID, false)},
			{"sync soft-deletes a member", g.ID, func(t *testing.T) {
				apply(t, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: users[1].ID, Reason: "gone"}}})
			}, wantMember(users[1].ID, false)},
			{"sync renames the group", g.ID, func(t *testing.T) {
				renamed := g
				renamed.DisplayName, renamed.Attributes = "Renamed", map[string]any{"displayName": "Renamed"}
				apply(t, bridge.Changes{Groups: []bridge.Group{renamed}})
			}, func(t *testing.T, r resp) string { return want(r.str("displayName"), "Renamed") }},
			{"SCIM PATCH removes a member", scimGroup, func(t *testing.T) {
				e.do("PATCH", "/scim/v2/Groups/"+scimGroup, patchBody(map[string]any{"op": "remove",
					"path": `members[value eq "` + users[2].ID + `"]`})).want(t, 200, "")
			}, wantMember(users[2].ID, false)},
			{"SCIM DELETE of a member user", scimGroup, func(t *testing.T) {
				e.do("DELETE", "/scim/v2/Users/"+local, nil).want(t, 204, "")
			}, wantMember(local, false)},
			{"sync soft-deletes a member of a SCIM group", scimGroup, func(t *testing.T) {
				apply(t, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: users[3].ID, Reason: "gone"}}})
			}, wantMember(users[3].ID, false)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := get(t, tc.group)
				again := get(t, tc.group) // cached now, if it was not
				tc.write(t)
				after := get(t, tc.group)
				if msg := tc.check(t, after); msg != "" {
					t.Fatalf("after the write: %s", msg)
				}
				if after.Header().Get("ETag") == before.Header().Get("ETag") || again.Header().Get("ETag") != before.Header().Get("ETag") {
					t.Errorf("ETags before %s, again %s, after %s", before.Header().Get("ETag"), again.Header().Get("ETag"), after.Header().Get("ETag"))
				}
				if r := e.do("GET", "/scim/v2/Groups/"+tc.group, nil, "If-None-Match", before.Header().Get("ETag")); r.Code != 200 {
					t.Errorf("If-None-Match with the old ETag: status %d, want 200", r.Code)
				}
			})
		}

		// A deleted group is gone, whatever was cached.
		get(t, scimGroup)
		e.do("DELETE", "/scim/v2/Groups/"+scimGroup, nil).want(t, 204, "")
		e.do("GET", "/scim/v2/Groups/"+scimGroup, nil).want(t, 404, "")
	})
}

func userName(i int) string { return "cache-user-" + strconv.Itoa(i) }

func ids(users []bridge.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

func memberValues(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

func wantMember(id string, present bool) func(t *testing.T, r resp) string {
	return func(t *testing.T, r resp) string {
		ms, _ := r.get("members").([]any)
		found := slices.ContainsFunc(ms, func(m any) bool { return m.(map[string]any)["value"] == id })
		if found != present {
			return "member " + id + " present: " + map[bool]string{true: "yes", false: "no"}[found]
		}
		return ""
	}
}

func want(got, expected string) string {
	if got != expected {
		return "got " + got + ", want " + expected
	}
	return ""
}
