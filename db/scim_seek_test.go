package db

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

// seekUser is a user whose display name repeats (tie-breaks by id) and
// whose title is in the JSON document only (a sort a seek does not serve).
// Every sixth has no display name and every eighth no externalId: they
// sort last (RFC 7644 3.4.2.3), in a range of their own (pageRanges).
func seekUser(i int) bridge.User {
	name := fmt.Sprintf("user%03d", (i*37)%1000)
	dn := fmt.Sprintf("Person %d", i%7)
	if i%6 == 5 {
		dn = ""
	}
	ext := fmt.Sprintf("ext-%03d", (i*53)%1000)
	if i%8 == 7 {
		ext = ""
	}
	attrs := map[string]any{"userName": name, "title": fmt.Sprintf("T%d", i%5)}
	if dn != "" {
		attrs["displayName"] = dn
	}
	return bridge.User{ID: uuid.NewString(), ExternalID: ext, UserName: name,
		DisplayName: dn, Active: i%3 != 0, Status: bridge.StatusActive, Attributes: attrs}
}

// walk reads every page of q, count rows at a time; with cursors, each page
// gets the cursor of the one before. It returns the ids in page order and
// the cursors handed out.
func walk(t *testing.T, s *Store, kind resourceKind, q bridge.Query, count int, cursors bool) (ids, nexts []string) {
	t.Helper()
	after := ""
	for start := 1; ; start += count {
		q.StartIndex, q.Count = start, count
		page, next := readPage(t, s, kind, q, after)
		ids = append(ids, page...)
		nexts = append(nexts, next)
		if len(page) < count {
			return ids, nexts
		}
		if cursors {
			after = next
		}
	}
}

func readPage(t *testing.T, s *Store, kind resourceKind, q bridge.Query, after string) ([]string, string) {
	t.Helper()
	ids, _, next := readPageWith(t, s, kind, q, after, true)
	return ids, next
}

// TestSCIMSeekEqualsOffset walks whole lists page by page with cursors and
// without: the pages must be the same, for every order a seek serves and
// for those it does not (which must hand out no cursor).
func TestSCIMSeekEqualsOffset(t *testing.T) {
	path := func(name string, typ bridge.AttrType, caseExact bool) *bridge.AttrPath {
		return &bridge.AttrPath{Name: name, Type: typ, CaseExact: caseExact}
	}
	active := &bridge.Compare{Path: bridge.AttrPath{Name: "active", Type: bridge.AttrBoolean}, Op: bridge.OpEq, Value: true}
	cases := []struct {
		name     string
		kind     resourceKind
		q        bridge.Query
		seekable bool
	}{
		{"users by id", kindUsers, bridge.Query{}, true},
		{"users by id descending", kindUsers, bridge.Query{SortDescending: true}, true},
		{"users by userName", kindUsers, bridge.Query{SortBy: path("userName", bridge.AttrString, false)}, true},
		{"users by userName descending", kindUsers, bridge.Query{SortBy: path("userName", bridge.AttrString, false), SortDescending: true}, true},
		{"users by displayName (ties)", kindUsers, bridge.Query{SortBy: path("displayName", bridge.AttrString, false)}, true},
		{"users by displayName descending", kindUsers, bridge.Query{SortBy: path("displayName", bridge.AttrString, false), SortDescending: true}, true},
		{"users by externalId", kindUsers, bridge.Query{SortBy: path("externalId", bridge.AttrString, true)}, true},
		{"users by externalId descending", kindUsers, bridge.Query{SortBy: path("externalId", bridge.AttrString, true), SortDescending: true}, true},
		{"active users by displayName descending", kindUsers, bridge.Query{Filter: active, SortBy: path("displayName", bridge.AttrString, false), SortDescending: true}, true},
		{"active users by displayName", kindUsers, bridge.Query{Filter: active, SortBy: path("displayName", bridge.AttrString, false)}, true},
		{"active users by id", kindUsers, bridge.Query{Filter: active}, true},
		{"users by title (JSON)", kindUsers, bridge.Query{SortBy: path("title", bridge.AttrString, false)}, false},
		{"users by active (boolean)", kindUsers, bridge.Query{SortBy: path("active", bridge.AttrBoolean, false)}, false},
		{"users in a group", kindUsers, bridge.Query{Filter: &bridge.Compare{Path: bridge.AttrPath{Name: "groups", Sub: "value", Type: bridge.AttrString, MultiValued: true}, Op: bridge.OpPresent}}, false},
		{"groups by displayName", kindGroups, bridge.Query{SortBy: path("displayName", bridge.AttrString, false)}, true},
		{"groups by id", kindGroups, bridge.Query{}, true},
	}
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t)
			ctx := context.Background()
			var users []bridge.User
			for i := range 83 {
				users = append(users, seekUser(i))
			}
			var groups []bridge.Group
			for i := range 23 {
				groups = append(groups, bridge.Group{ID: uuid.NewString(), DisplayName: fmt.Sprintf("Team %d", i%4), Status: bridge.StatusActive})
			}
			members := map[string][]bridge.Member{groups[0].ID: {{ID: users[1].ID, Type: "User"}, {ID: users[2].ID, Type: "User"}}}
			if err := s.Apply(ctx, bridge.DefaultAccount, bridge.Changes{Users: users, Groups: groups, SetMembers: members}); err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				for _, count := range []int{1, 10, 7} {
					t.Run(fmt.Sprintf("%s/count=%d", c.name, count), func(t *testing.T) {
						want, _ := walk(t, s, c.kind, c.q, count, false)
						got, nexts := walk(t, s, c.kind, c.q, count, true)
						if !slices.Equal(got, want) {
							t.Fatalf("with cursors:\n%v\nwith OFFSET:\n%v", got, want)
						}
						if len(want) < 2 {
							t.Fatalf("only %d rows: the case tests nothing", len(want))
						}
						if issued := nexts[0] != ""; issued != c.seekable {
							t.Fatalf("cursor issued %v, want %v", issued, c.seekable)
						}
					})
				}
			}
		})
	}
}

// TestSCIMSeekAfterWrites: a cursor is followed while nothing changed (a
// cursor made to point elsewhere proves the seek ran) and, after any write
// to a user or group of the account, the page is the one OFFSET reads now.
func TestSCIMSeekAfterWrites(t *testing.T) {
	byName := bridge.Query{SortBy: &bridge.AttrPath{Name: "userName", Type: bridge.AttrString}}
	byGroupName := bridge.Query{SortBy: &bridge.AttrPath{Name: "displayName", Type: bridge.AttrString}}
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			writes := []struct {
				name  string
				kind  resourceKind
				write func(t *testing.T, s *Store, users []bridge.User, groups []bridge.Group)
			}{
				{"sync adds a user", kindUsers, func(t *testing.T, s *Store, _ []bridge.User, _ []bridge.Group) {
					u := seekUser(500)
					u.UserName = "aaa-first"
					mustApply(t, s, bridge.Changes{Users: []bridge.User{u}})
				}},
				{"sync changes a user", kindUsers, func(t *testing.T, s *Store, users []bridge.User, _ []bridge.Group) {
					u := users[30]
					u.UserName = "aab-renamed"
					mustApply(t, s, bridge.Changes{Users: []bridge.User{u}})
				}},
				{"sync soft-deletes a user", kindUsers, func(t *testing.T, s *Store, users []bridge.User, _ []bridge.Group) {
					mustApply(t, s, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: firstByName(users), Reason: "gone", At: time.Now()}}})
				}},
				{"SCIM PUT renames a user", kindUsers, func(t *testing.T, s *Store, users []bridge.User, _ []bridge.Group) {
					u, err := s.LiveUser(ctx, bridge.DefaultAccount, users[35].ID)
					if err != nil {
						t.Fatal(err)
					}
					u.UserName = "aac-put"
					if _, err := s.UpdateUser(ctx, bridge.DefaultAccount, u, u.Version); err != nil {
						t.Fatal(err)
					}
				}},
				{"SCIM DELETE of a user", kindUsers, func(t *testing.T, s *Store, users []bridge.User, _ []bridge.Group) {
					if err := s.DeleteUser(ctx, bridge.DefaultAccount, firstByName(users), 0); err != nil {
						t.Fatal(err)
					}
				}},
				{"SCIM POST of a user", kindUsers, func(t *testing.T, s *Store, _ []bridge.User, _ []bridge.Group) {
					u := seekUser(600)
					u.UserName, u.Source = "aad-posted", bridge.SourceLocal
					if _, err := s.CreateUser(ctx, bridge.DefaultAccount, u); err != nil {
						t.Fatal(err)
					}
				}},
				{"SCIM PATCH renames a group", kindGroups, func(t *testing.T, s *Store, _ []bridge.User, groups []bridge.Group) {
					g, err := s.LiveGroup(ctx, bridge.DefaultAccount, groups[len(groups)-1].ID, false)
					if err != nil {
						t.Fatal(err)
					}
					g.DisplayName = "AAA"
					if _, err := s.UpdateGroup(ctx, bridge.DefaultAccount, g, bridge.MemberChange{}, g.Version, false); err != nil {
						t.Fatal(err)
					}
				}},
			}
			for _, w := range writes {
				t.Run(w.name, func(t *testing.T) {
					s, _ := open(t)
					var users []bridge.User
					for i := range 40 {
						users = append(users, seekUser(i))
					}
					var groups []bridge.Group
					for i := range 30 {
						groups = append(groups, bridge.Group{ID: uuid.NewString(), DisplayName: fmt.Sprintf("Group %02d", i), Status: bridge.StatusActive})
					}
					mustApply(t, s, bridge.Changes{Users: users, Groups: groups})
					q := byName
					if w.kind == kindGroups {
						q = byGroupName
					}
					q.StartIndex, q.Count = 1, 10
					_, next := readPage(t, s, w.kind, q, "")
					c, ok := parseCursor(next)
					if !ok {
						t.Fatalf("no cursor after page 1: %q", next)
					}
					// The cursor made to point past row 20: followed while
					// nothing changed, so the page differs from OFFSET's.
					q.StartIndex = 11
					want, _ := readPage(t, s, w.kind, q, "")
					q.StartIndex = 21
					beyond, _ := readPage(t, s, w.kind, q, "")
					_, at20 := readPage(t, s, w.kind, bridge.Query{SortBy: q.SortBy, StartIndex: 11, Count: 10}, next)
					c20, _ := parseCursor(at20)
					c.key, c.id = c20.key, c20.id
					q.StartIndex = 11
					if got, _ := readPage(t, s, w.kind, q, c.String()); !slices.Equal(got, beyond) {
						t.Fatalf("cursor not followed: got %v, want rows 21-30 %v", got, beyond)
					}
					if got, _ := readPage(t, s, w.kind, q, next); !slices.Equal(got, want) {
						t.Fatalf("seek: got %v, want %v", got, want)
					}
					w.write(t, s, users, groups)
					want, _ = readPage(t, s, w.kind, q, "")
					for _, cur := range []string{next, c.String()} {
						if got, _ := readPage(t, s, w.kind, q, cur); !slices.Equal(got, want) {
							t.Fatalf("after the write: got %v, want OFFSET's %v", got, want)
						}
					}
				})
			}
		})
	}
}

func mustApply(t *testing.T, s *Store, c bridge.Changes) {
	t.Helper()
	if err := s.Apply(context.Background(), bridge.DefaultAccount, c); err != nil {
		t.Fatal(err)
	}
}

// firstByName is the id of the user first by userName: removing it moves
// every page.
func firstByName(users []bridge.User) string {
	first := users[0]
	for _, u := range users {
		if u.UserName < first.UserName {
			first = u
		}
	}
	return first.ID
}

// TestSCIMCursorTokens: a token round-trips and anything else is refused.
func TestSCIMCursorTokens(t *testing.T) {
	c := cursor{fp: 0xdeadbeef, pos: 200, epoch: 7, id: "a.b", key: "x.y.z"}
	got, ok := parseCursor(c.String())
	if !ok || got != c {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	bad := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tok := range []string{"", "!!", "YQ", bad("1.2.3.4"), bad("x.1.1.0."), bad("1.0.1.0."), bad("1.1.1.9.ab")} {
		if _, ok := parseCursor(tok); ok {
			t.Errorf("%q accepted", tok)
		}
	}
}

// TestSCIMSortMissingLast: a sort by a column-backed attribute puts the
// resources without a value (”) last when ascending and first when
// descending (RFC 7644 3.4.2.3), on every read: one page, OFFSET pages,
// index-page cursors and RFC 9865 cursors.
func TestSCIMSortMissingLast(t *testing.T) {
	cases := []struct {
		name string
		path bridge.AttrPath
		key  func(bridge.User) string
	}{
		{"displayName", bridge.AttrPath{Name: "displayName", Type: bridge.AttrString}, func(u bridge.User) string { return strings.ToLower(u.DisplayName) }},
		{"externalId", bridge.AttrPath{Name: "externalId", Type: bridge.AttrString, CaseExact: true}, func(u bridge.User) string { return u.ExternalID }},
	}
	onBothStores(t, func(t *testing.T, s *Store) {
		var users []bridge.User
		for i := range 50 {
			users = append(users, seekUser(i))
		}
		mustApply(t, s, bridge.Changes{Users: users})
		byID := map[string]bridge.User{}
		for _, u := range users {
			byID[u.ID] = u
		}
		for _, c := range cases {
			for _, desc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/descending=%v", c.name, desc), func(t *testing.T) {
					var want []string
					for _, u := range users {
						want = append(want, c.key(u))
					}
					slices.SortFunc(want, func(a, b string) int {
						if (a == "") != (b == "") {
							if a == "" {
								return 1
							}
							return -1
						}
						return strings.Compare(a, b)
					})
					if desc {
						slices.Reverse(want)
					}
					keys := func(ids []string) []string {
						out := make([]string, len(ids))
						for i, id := range ids {
							out[i] = c.key(byID[id])
						}
						return out
					}
					p := c.path
					q := bridge.Query{SortBy: &p, SortDescending: desc}
					one, _ := walk(t, s, kindUsers, q, 1000, false)
					if got := keys(one); !slices.Equal(got, want) {
						t.Fatalf("one page:\n%q\nwant\n%q", got, want)
					}
					for _, count := range []int{1, 4, 9} {
						paged, _ := walk(t, s, kindUsers, q, count, true)
						after, _ := walkAfter(t, s, bridge.DefaultAccount, kindUsers, q, count, nil)
						if !slices.Equal(paged, one) || !slices.Equal(after, one) {
							t.Fatalf("count %d: pages differ from one read:\n%v\n%v\n%v", count, paged, after, one)
						}
					}
				})
			}
		}
	})
}
