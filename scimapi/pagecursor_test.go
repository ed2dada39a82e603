package scimapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
)

// seekCounting is the store with a count of the list reads that were given
// a cursor: it shows the endpoint passes them on.
type seekCounting struct {
	*db.Store
	withCursor atomic.Int64
}

func (s *seekCounting) QueryUsersPage(ctx context.Context, account string, q bridge.Query, after string, withGroups bool, fn db.UserFunc) (int, string, error) {
	if after != "" {
		s.withCursor.Add(1)
	}
	return s.Store.QueryUsersPage(ctx, account, q, after, withGroups, fn)
}

func (s *seekCounting) QueryGroupsPage(ctx context.Context, account string, q bridge.Query, after string, fn db.GroupFunc) (int, string, error) {
	if after != "" {
		s.withCursor.Add(1)
	}
	return s.Store.QueryGroupsPage(ctx, account, q, after, fn)
}

// offsetPage is page of the list request query through the store's map
// path (gorm, LIMIT/OFFSET): what the endpoint must return.
func offsetPage(t *testing.T, e *env, rt *resourceType, query string) []string {
	t.Helper()
	v, _ := url.ParseQuery(query)
	p := listParams{filter: v.Get("filter"), sortBy: v.Get("sortBy"), sortOrder: v.Get("sortOrder"), startIndex: 1, count: defaultCount}
	fmt.Sscan(v.Get("startIndex"), &p.startIndex)
	fmt.Sscan(v.Get("count"), &p.count)
	q, _, err := p.query(rt)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if rt == userType {
		us, _, err := e.store.QueryUsers(context.Background(), e.acct, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			ids = append(ids, u.ID)
		}
	} else {
		gs, _, err := e.store.QueryGroups(context.Background(), e.acct, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
	}
	return ids
}

func pageIDs(r resp) []string {
	var ids []string
	for i := 0; ; i++ {
		id := r.str(fmt.Sprintf("Resources.%d.id", i))
		if id == "" {
			return ids
		}
		ids = append(ids, id)
	}
}

// TestSequentialPages walks lists as Entra ID and Okta do (startIndex 1,
// 1+count, ...) and checks every page against LIMIT/OFFSET through the map
// path, with writes of each kind between pages; and that the walk did run
// on cursors.
func TestSequentialPages(t *testing.T) {
	shapes := []struct {
		name, rt, query string
		seeks           bool
	}{
		{"users", "Users", "", true},
		{"users by userName", "Users", "sortBy=userName", true},
		{"users by userName descending", "Users", "sortBy=userName&sortOrder=descending", true},
		{"active users by displayName", "Users", "filter=" + url.QueryEscape("active eq true") + "&sortBy=displayName", true},
		{"users by title", "Users", "sortBy=title", false},
		{"users by userName prefix", "Users", "filter=" + url.QueryEscape(`userName sw "p"`), true},
		{"groups by displayName", "Groups", "sortBy=displayName&excludedAttributes=members", true},
	}
	var deletes [2][]string // local users and groups to delete
	// Each write runs once per shape (k counts them) and changes rows that
	// move pages: new rows first in the order, rows removed from the start.
	writes := []struct {
		name  string
		write func(t *testing.T, e *env, k int, users []bridge.User, groups []bridge.Group)
	}{
		{"nothing", func(*testing.T, *env, int, []bridge.User, []bridge.Group) {}},
		{"sync adds a user and a group", func(t *testing.T, e *env, k int, _ []bridge.User, _ []bridge.Group) {
			u := adUser(fmt.Sprintf("p00-first%d", k), "Aaron", "First", "Ops", true)
			g := adGroup(fmt.Sprintf("AAA first %d", k), bridge.KindSecurity)
			if err := e.store.Apply(context.Background(), e.acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"sync soft-deletes", func(t *testing.T, e *env, k int, users []bridge.User, groups []bridge.Group) {
			at := time.Now()
			if err := e.store.Apply(context.Background(), e.acct, bridge.Changes{
				DeleteUsers:  []bridge.Deletion{{ID: users[2*k].ID, Reason: "gone", At: at}, {ID: users[2*k+1].ID, Reason: "gone", At: at}},
				DeleteGroups: []bridge.Deletion{{ID: groups[k].ID, Reason: "gone", At: at}},
			}); err != nil {
				t.Fatal(err)
			}
		}},
		{"SCIM POST and PATCH", func(t *testing.T, e *env, k int, _ []bridge.User, _ []bridge.Group) {
			uid := e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{bridge.SchemaUser}, "userName": fmt.Sprintf("z%d@example.com", k)}).want(t, 201, "").str("id")
			e.do("PATCH", "/scim/v2/Users/"+uid, patchBody(op("replace", "userName", fmt.Sprintf("a%d@example.com", k)), op("replace", "displayName", "Aaa"))).want(t, 200, "")
			gid := e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []string{bridge.SchemaGroup}, "displayName": fmt.Sprintf("ZZ %d", k)}).want(t, 201, "").str("id")
			e.do("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("replace", "displayName", fmt.Sprintf("AA %d", k)))).want(t, 200, "")
		}},
		{"SCIM DELETE", func(t *testing.T, e *env, k int, users []bridge.User, groups []bridge.Group) {
			e.do("DELETE", "/scim/v2/Users/"+deletes[0][k], nil).want(t, 204, "")
			e.do("DELETE", "/scim/v2/Groups/"+deletes[1][k], nil).want(t, 204, "")
		}},
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			for _, w := range writes {
				t.Run(w.name, func(t *testing.T) {
					e := newEnv(t, backend)
					counting := &seekCounting{Store: e.store}
					e.h = NewRouter(Options{Store: e.store, Resources: counting, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
						SCIMBaseURL: "https://scim.example.com/scim/v2"})
					var users []bridge.User
					for i := range 30 {
						users = append(users, adUser(fmt.Sprintf("p%02d", (i*7)%30), fmt.Sprintf("Given%d", i%4), "Family", "Dept", i%3 != 0))
					}
					var groups []bridge.Group
					for i := range 20 {
						groups = append(groups, adGroup(fmt.Sprintf("Group %d", i%6), bridge.KindSecurity))
					}
					if err := e.store.Apply(context.Background(), e.acct, bridge.Changes{Users: users, Groups: groups}); err != nil {
						t.Fatal(err)
					}
					// Local rows, first in their order, for the SCIM DELETE
					// case (rows from AD are read-only over SCIM).
					var localUsers, localGroups []string
					for i := range len(shapes) {
						localUsers = append(localUsers, e.do("POST", "/scim/v2/Users", map[string]any{"schemas": []string{bridge.SchemaUser},
							"userName": fmt.Sprintf("a-local%d@example.com", i)}).want(t, 201, "").str("id"))
						localGroups = append(localGroups, e.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []string{bridge.SchemaGroup},
							"displayName": fmt.Sprintf("AA local %d", i)}).want(t, 201, "").str("id"))
					}
					deletes = [2][]string{localUsers, localGroups}
					for k, sh := range shapes {
						rt := userType
						if sh.rt == "Groups" {
							rt = groupType
						}
						before := counting.withCursor.Load()
						const count = 4
						for start := 1; ; start += count {
							if start == 1+2*count {
								w.write(t, e, k, sortedBy(users), sortedGroups(groups))
							}
							query := fmt.Sprintf("startIndex=%d&count=%d", start, count)
							if sh.query != "" {
								query = sh.query + "&" + query
							}
							got := pageIDs(e.do("GET", "/scim/v2/"+sh.rt+"?"+query, nil).want(t, 200, ""))
							if want := offsetPage(t, e, rt, query); !slices.Equal(got, want) {
								t.Fatalf("%s: page at %d:\n got %v\nwant %v", sh.name, start, got, want)
							}
							if len(got) < count {
								break
							}
						}
						if used := counting.withCursor.Load() > before; used != sh.seeks {
							t.Errorf("%s: cursors used %v, want %v", sh.name, used, sh.seeks)
						}
					}
				})
			}
		})
	}
}

// TestCursorCacheBounds: the cache keeps the most recent entries within
// both bounds and refuses keys too long to be worth keeping.
func TestCursorCacheBounds(t *testing.T) {
	cases := []struct {
		name          string
		max, maxBytes int
		puts          int
		wantLen       int
	}{
		{"by entries", 3, 1 << 20, 10, 3},
		{"by bytes", 100, 5 * 20, 10, 5},
		{"under both", 100, 1 << 20, 10, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := newCursorCache(c.max, c.maxBytes)
			for i := range c.puts {
				cc.put(fmt.Sprintf("key%06d", i), fmt.Sprintf("cur%06d", i)) // 20 bytes each
			}
			if got := cc.len(); got != c.wantLen {
				t.Fatalf("len %d, want %d", got, c.wantLen)
			}
			if got := cc.get(fmt.Sprintf("key%06d", c.puts-1)); got != fmt.Sprintf("cur%06d", c.puts-1) {
				t.Fatalf("newest entry: %q", got)
			}
			if c.wantLen < c.puts && cc.get("key000000") != "" {
				t.Fatal("oldest entry kept")
			}
			if cc.bytes > c.maxBytes {
				t.Fatalf("%d bytes over the bound %d", cc.bytes, c.maxBytes)
			}
		})
	}
	cc := newCursorCache(10, 1<<20)
	cc.put(string(make([]byte, maxShapeKey+1)), "x")
	if cc.len() != 0 {
		t.Fatal("a key over maxShapeKey was kept")
	}
}

// sortedBy orders users by userName: writes to the first rows move every
// later page.
func sortedBy(users []bridge.User) []bridge.User {
	return slices.SortedFunc(slices.Values(users), func(a, b bridge.User) int { return strings.Compare(a.UserName, b.UserName) })
}

func sortedGroups(groups []bridge.Group) []bridge.Group {
	return slices.SortedFunc(slices.Values(groups), func(a, b bridge.Group) int {
		if c := strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
