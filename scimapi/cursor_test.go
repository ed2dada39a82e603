package scimapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

var _ cursorStore = (*db.Store)(nil)

// seedWalk adds 40 users whose display names repeat (ties broken by id),
// a quarter of them inactive, and 10 groups, to the fixture.
func (e *env) seedWalk() fixture {
	f := e.seed()
	var c bridge.Changes
	for i := range 40 {
		c.Users = append(c.Users, adUser(fmt.Sprintf("walk%02d", (i*7)%40), "Dup", fmt.Sprint(i%5), "Dept", i%4 != 0))
	}
	c.SetMembers = map[string][]bridge.Member{}
	for i := range 10 {
		g := adGroup(fmt.Sprintf("Team %d", i%3), bridge.KindSecurity)
		c.Groups = append(c.Groups, g)
		c.SetMembers[g.ID] = []bridge.Member{{ID: c.Users[i].ID, Type: "User"}, {ID: f.eng.ID, Type: "Group"}}
	}
	if err := e.store.Apply(context.Background(), e.acct, c); err != nil {
		e.t.Fatalf("seed walk: %v", err)
	}
	return f
}

// cursorWalk reads every page of a list by cursor: GET path (a query
// string to add cursor to) or, with body, POST path with body's cursor set.
// It checks each page's shape and returns the resources in order.
func (e *env) cursorWalk(t *testing.T, path string, body map[string]any, count int) (docs []map[string]any, total int) {
	t.Helper()
	cursor := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("the walk does not end")
		}
		var r resp
		if body != nil {
			body["cursor"] = cursor
			r = e.do("POST", path, body).want(t, 200, "")
		} else {
			r = e.do("GET", path+"&cursor="+url.QueryEscape(cursor), nil).want(t, 200, "")
		}
		res, _ := r.get("Resources").([]any)
		if r.num("itemsPerPage") != len(res) || len(res) > count || r.get("startIndex") != nil {
			t.Fatalf("page %d: %s", page, r.Body.String())
		}
		if page == 0 {
			total = r.num("totalResults")
		} else if r.num("totalResults") != total {
			t.Fatalf("page %d: totalResults %d, first page said %d", page, r.num("totalResults"), total)
		}
		for _, d := range res {
			docs = append(docs, d.(map[string]any))
		}
		next := r.str("nextCursor")
		if next == "" {
			if r.get("nextCursor") != nil {
				t.Fatalf("page %d: nextCursor present but empty", page)
			}
			return docs, total
		}
		if len(res) != count {
			t.Fatalf("page %d: %d resources of %d and a nextCursor", page, len(res), count)
		}
		if strings.Trim(next, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
			t.Fatalf("nextCursor %q holds characters outside RFC 3986's unreserved set", next)
		}
		cursor = next
	}
}

func docIDs(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i], _ = d["id"].(string)
	}
	return out
}

// TestCursorWalk walks lists by cursor: every resource of one index read
// of the whole list, in its order, exactly once, rendered the same way.
func TestCursorWalk(t *testing.T) {
	status := bridge.SchemaBridgeUser + ":status"
	cases := []struct {
		name, endpoint, query string
		count                 int
	}{
		{"users", "/Users", "", 7},
		{"users by userName", "/Users", "sortBy=userName", 10},
		{"users by userName descending", "/Users", "sortBy=userName&sortOrder=descending", 9},
		{"users by displayName (ties)", "/Users", "sortBy=displayName", 4},
		{"active users by displayName descending", "/Users", "sortBy=displayName&sortOrder=descending&filter=" + url.QueryEscape("active eq true"), 5},
		{"users by externalId, filtered", "/Users", "sortBy=externalId&filter=" + url.QueryEscape(`displayName sw "dup 1" or userName ew "example.com"`), 3},
		{"users by extension status", "/Users", "sortBy=" + url.QueryEscape(status), 6},
		{"users in a group", "/Users", "filter=" + url.QueryEscape("groups pr"), 2},
		{"users with attributes", "/Users", "sortBy=userName&attributes=userName,name.givenName", 8},
		{"users without emails", "/Users", "excludedAttributes=emails,groups", 11},
		{"users one page", "/Users", "sortBy=userName", 1000},
		{"groups by displayName", "/Groups", "sortBy=displayName", 3},
		{"groups without members", "/Groups", "excludedAttributes=members", 4},
		{"groups with members projected", "/Groups", "attributes=displayName,members", 5},
	}
	eachBackend(t, func(t *testing.T, e *env) {
		e.seedWalk()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				want := e.do("GET", "/scim/v2"+c.endpoint+"?"+c.query+"&startIndex=1&count=1000", nil).want(t, 200, "")
				wantDocs, _ := want.get("Resources").([]any)
				if len(wantDocs) < 3 {
					t.Fatalf("only %d resources: the case tests nothing", len(wantDocs))
				}
				got, total := e.cursorWalk(t, "/scim/v2"+c.endpoint+"?"+c.query+"&count="+fmt.Sprint(c.count), nil, c.count)
				if total != want.num("totalResults") {
					t.Errorf("totalResults %d, want %d", total, want.num("totalResults"))
				}
				if len(got) != len(wantDocs) {
					t.Fatalf("%d resources by cursor, %d by index", len(got), len(wantDocs))
				}
				for i := range got {
					g, _ := json2(got[i])
					w, _ := json2(wantDocs[i])
					if g != w {
						t.Fatalf("resource %d by cursor:\n%s\nby index:\n%s", i, g, w)
					}
				}
			})
		}
		t.Run("POST .search", func(t *testing.T) {
			want := e.do("GET", "/scim/v2/Users?sortBy=userName&filter="+url.QueryEscape("active eq true")+"&attributes=userName&count=1000", nil).want(t, 200, "")
			body := map[string]any{"schemas": []string{schemaSearchRequest}, "filter": "active eq true", "sortBy": "userName",
				"attributes": []string{"userName"}, "count": 4}
			got, total := e.cursorWalk(t, "/scim/v2/Users/.search", body, 4)
			var wantIDs []string
			for _, d := range want.get("Resources").([]any) {
				wantIDs = append(wantIDs, d.(map[string]any)["id"].(string))
			}
			if !slices.Equal(docIDs(got), wantIDs) || total != len(wantIDs) {
				t.Fatalf("by cursor %v (total %d), by index %v", docIDs(got), total, wantIDs)
			}
			if got[0]["name"] != nil || got[0]["userName"] == nil {
				t.Errorf("attributes not applied: %v", got[0])
			}
		})
		t.Run("index pages unchanged", func(t *testing.T) {
			r := e.do("GET", "/scim/v2/Users?count=2", nil).want(t, 200, "")
			if r.num("startIndex") != 1 || r.get("nextCursor") != nil || r.num("itemsPerPage") != 2 {
				t.Errorf("index page: %s", r.Body.String())
			}
		})
		t.Run("count", func(t *testing.T) {
			for _, count := range []string{"0", "-3"} {
				r := e.do("GET", "/scim/v2/Users?cursor=&count="+count, nil).want(t, 200, "")
				if r.num("totalResults") != 44 || r.num("itemsPerPage") != 0 || r.get("nextCursor") != nil {
					t.Errorf("count=%s: %s", count, r.Body.String())
				}
			}
			r := e.do("GET", "/scim/v2/Users?cursor&count=5000", nil).want(t, 200, "")
			if r.num("itemsPerPage") != 44 || r.get("nextCursor") != nil {
				t.Errorf("count=5000: itemsPerPage %d", r.num("itemsPerPage"))
			}
			r = e.do("GET", "/scim/v2/Users?cursor", nil).want(t, 200, "")
			if r.num("itemsPerPage") != 44 {
				t.Errorf("default count: itemsPerPage %d", r.num("itemsPerPage"))
			}
		})
	})
}

func json2(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// TestCursorRefusals: what a client can get wrong, and what an attacker can
// try, each with its RFC 9865 or RFC 7644 error.
func TestCursorRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.seedWalk()
		first := e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor=", nil).want(t, 200, "")
		next := first.str("nextCursor")
		if next == "" {
			t.Fatalf("no nextCursor: %s", first.Body.String())
		}
		// A cursor names no account and no rows of its own: the page after
		// it is the one the query reads, for this token only.
		e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor="+next, nil).want(t, 200, "")
		tampered := []byte(next)
		tampered[len(tampered)/2] ^= 1
		if tampered[len(tampered)/2] == '.' || tampered[len(tampered)/2] == '/' {
			tampered[len(tampered)/2] = 'A'
		}
		grown := next + "AA"
		plain := e.do("GET", "/scim/v2/Users?count=5&cursor=", nil).want(t, 200, "").str("nextCursor")
		for _, tc := range []struct {
			name, path, scimType string
		}{
			{"not base64", "/Users?sortBy=userName&count=5&cursor=" + url.QueryEscape("*()\\\x00"), "invalidCursor"},
			{"too short", "/Users?sortBy=userName&count=5&cursor=AAAA", "invalidCursor"},
			{"tampered", "/Users?sortBy=userName&count=5&cursor=" + string(tampered), "invalidCursor"},
			{"grown", "/Users?sortBy=userName&count=5&cursor=" + grown, "invalidCursor"},
			{"huge", "/Users?sortBy=userName&count=5&cursor=" + strings.Repeat("A", 5000), "invalidCursor"},
			{"another sortBy", "/Users?sortBy=displayName&count=5&cursor=" + next, "invalidCursor"},
			{"another sortOrder", "/Users?sortBy=userName&sortOrder=descending&count=5&cursor=" + next, "invalidCursor"},
			{"another filter", "/Users?sortBy=userName&filter=" + url.QueryEscape("active eq true") + "&count=5&cursor=" + next, "invalidCursor"},
			{"another resource type", "/Groups?count=5&cursor=" + plain, "invalidCursor"},
			{"with startIndex", "/Users?sortBy=userName&count=5&startIndex=6&cursor=" + next, "invalidValue"},
			{"first page with startIndex", "/Users?startIndex=1&cursor=", "invalidValue"},
			{"count not a number", "/Users?count=ten&cursor=", "invalidCount"},
			{"sort a seek cannot serve", "/Users?sortBy=name.familyName&cursor=", "invalidValue"},
			{"sort by time", "/Users?sortBy=meta.lastModified&cursor=", "invalidValue"},
			{"root endpoint", "/?cursor=", "invalidValue"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("GET", "/scim/v2"+tc.path, nil).want(t, 400, tc.scimType)
				if r.get("Resources") != nil {
					t.Errorf("resources in a refusal: %s", r.Body.String())
				}
			})
		}
		t.Run("POST .search with startIndex", func(t *testing.T) {
			e.do("POST", "/scim/v2/Users/.search", map[string]any{"schemas": []string{schemaSearchRequest}, "cursor": next,
				"startIndex": 6, "sortBy": "userName", "count": 5}).want(t, 400, "invalidValue")
		})
		t.Run("POST .search with another query's cursor", func(t *testing.T) {
			e.do("POST", "/scim/v2/Users/.search", map[string]any{"schemas": []string{schemaSearchRequest}, "cursor": next,
				"count": 5}).want(t, 400, "invalidCursor")
		})
		t.Run("another token of the account", func(t *testing.T) {
			mine := e.token
			defer func() { e.token = mine }()
			e.token = e.newToken(bridge.DefaultAccount, bridge.TokenSCIM)
			e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor="+next, nil).want(t, 400, "invalidCursor")
		})
		t.Run("another account's token", func(t *testing.T) {
			if err := e.store.CreateAccount(t.Context(), bridge.Account{ID: "other"}); err != nil {
				t.Fatal(err)
			}
			mine := e.token
			defer func() { e.token = mine }()
			e.token = e.newToken("other", bridge.TokenSCIM)
			r := e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor="+next, nil).want(t, 400, "invalidCursor")
			tamperedDetail := e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor="+string(tampered), nil).want(t, 400, "invalidCursor").str("detail")
			if r.str("detail") != tamperedDetail {
				t.Errorf("another account's cursor is told apart from a forged one: %q, %q", r.str("detail"), tamperedDetail)
			}
		})
		t.Run("expired", func(t *testing.T) {
			key := e.cursorKey(t)
			fp := cursorFingerprint(e.acct, userType, listParams{sortBy: "userName"})
			c, err := decodeCursor(next, key, fp, time.Now())
			if err != nil {
				t.Fatalf("decode the server's own cursor: %v", err)
			}
			c.issued = time.Now().Add(-cursorTimeout*time.Second - time.Minute)
			e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor="+c.encode(key), nil).want(t, 400, "expiredCursor")
			c.issued = time.Now().Add(-cursorTimeout*time.Second + time.Minute)
			e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor="+c.encode(key), nil).want(t, 200, "")
			c.issued = time.Now().Add(time.Hour)
			e.do("GET", "/scim/v2/Users?sortBy=userName&count=5&cursor="+c.encode(key), nil).want(t, 400, "invalidCursor")
		})
	})
}

// cursorKey is the signing key of e's token, as a request carries it.
func (e *env) cursorKey(t *testing.T) []byte {
	t.Helper()
	tok, err := e.store.FindToken(context.Background(), bridge.HashToken(e.token))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	return cursorKey(r.WithContext(auth.WithToken(r.Context(), tok)))
}

// TestCursorUnderWrites: users added, renamed and deleted while a client
// walks the list; every user that exists unchanged throughout comes once.
func TestCursorUnderWrites(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.seedWalk()
		before := e.do("GET", "/scim/v2/Users?count=1000", nil).want(t, 200, "")
		var all []string
		for _, d := range before.get("Resources").([]any) {
			all = append(all, d.(map[string]any)["id"].(string))
		}
		touched := map[string]bool{}
		seen := map[string]int{}
		cursor := ""
		for page := 0; ; page++ {
			r := e.do("GET", "/scim/v2/Users?sortBy=userName&count=4&cursor="+cursor, nil).want(t, 200, "")
			for _, d := range r.get("Resources").([]any) {
				seen[d.(map[string]any)["id"].(string)]++
			}
			if cursor = r.str("nextCursor"); cursor == "" {
				break
			}
			added := adUser(fmt.Sprintf("walk%02d-added", (page*13)%40), "New", "User", "Dept", true)
			gone := all[(page*7+3)%len(all)]
			touched[added.ID], touched[gone] = true, true
			if err := e.store.Apply(context.Background(), e.acct, bridge.Changes{Users: []bridge.User{added}}); err != nil {
				t.Fatal(err)
			}
			if err := e.store.Apply(context.Background(), e.acct, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: gone, Reason: "gone", At: time.Now()}}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range all {
			if !touched[id] && seen[id] != 1 {
				t.Errorf("user %s, untouched throughout, read %d times", id, seen[id])
			}
		}
	})
}

func TestServiceProviderConfigPagination(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/scim/v2/ServiceProviderConfig", nil).want(t, 200, "")
		if r.get("pagination.cursor") != true || r.get("pagination.index") != true || r.str("pagination.defaultPaginationMethod") != "index" ||
			r.num("pagination.defaultPageSize") != defaultCount || r.num("pagination.maxPageSize") != maxCount ||
			r.num("pagination.cursorTimeout") != cursorTimeout {
			t.Errorf("pagination: %v", r.get("pagination"))
		}
	})
}
