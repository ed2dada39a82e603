package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

// walkAfter reads every cursor page of q, count rows at a time, and
// returns the ids in page order and the totals of the pages.
func walkAfter(t *testing.T, s *Store, account string, kind resourceKind, q bridge.Query, count int, between func(page int)) (ids []string, totals []int) {
	t.Helper()
	var after *Position
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatal("the walk does not end")
		}
		q.Count = count
		got, total, next := readAfter(t, s, account, kind, q, after, true)
		if len(got) > count {
			t.Fatalf("page %d: %d rows, count %d", page, len(got), count)
		}
		ids, totals = append(ids, got...), append(totals, total)
		if next == nil {
			return ids, totals
		}
		if len(got) != count {
			t.Fatalf("page %d: %d rows and a next position, count %d", page, len(got), count)
		}
		if next.ID != got[len(got)-1] {
			t.Fatalf("page %d: next position %v is not its last row %s", page, next, got[len(got)-1])
		}
		if between != nil {
			between(page)
		}
		after = next
	}
}

func readAfter(t *testing.T, s *Store, account string, kind resourceKind, q bridge.Query, after *Position, countTotal bool) ([]string, int, *Position) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	var total int
	var next *Position
	var err error
	if kind == kindUsers {
		total, next, err = s.QueryUsersAfter(ctx, account, q, after, countTotal, true, func(u bridge.User, _ []byte, _ []bridge.GroupRef) error {
			ids = append(ids, u.ID)
			return nil
		})
	} else {
		total, next, err = s.QueryGroupsAfter(ctx, account, q, after, countTotal, func(g bridge.Group, _, _, _ []byte) error {
			ids = append(ids, g.ID)
			return nil
		})
	}
	if err != nil {
		t.Fatalf("page after %v: %v", after, err)
	}
	return ids, total, next
}

// TestSCIMCursorEqualsOffset walks whole lists by cursor: the rows must be
// those of one OFFSET read of the whole list, in its order, each once, with
// the total on every page; orders a seek cannot serve are refused.
func TestSCIMCursorEqualsOffset(t *testing.T) {
	path := func(name string, typ bridge.AttrType, caseExact bool) *bridge.AttrPath {
		return &bridge.AttrPath{Name: name, Type: typ, CaseExact: caseExact}
	}
	active := &bridge.Compare{Path: bridge.AttrPath{Name: "active", Type: bridge.AttrBoolean}, Op: bridge.OpEq, Value: true}
	inGroup := &bridge.Compare{Path: bridge.AttrPath{Name: "groups", Sub: "value", Type: bridge.AttrString, MultiValued: true}, Op: bridge.OpPresent}
	status := &bridge.AttrPath{URN: bridge.SchemaBridgeUser, Name: "status", Type: bridge.AttrString}
	cases := []struct {
		name string
		kind resourceKind
		q    bridge.Query
	}{
		{"users by id", kindUsers, bridge.Query{}},
		{"users by id descending", kindUsers, bridge.Query{SortDescending: true}},
		{"users by userName", kindUsers, bridge.Query{SortBy: path("userName", bridge.AttrString, false)}},
		{"users by userName descending", kindUsers, bridge.Query{SortBy: path("userName", bridge.AttrString, false), SortDescending: true}},
		{"users by displayName (ties)", kindUsers, bridge.Query{SortBy: path("displayName", bridge.AttrString, false)}},
		{"users by displayName descending", kindUsers, bridge.Query{SortBy: path("displayName", bridge.AttrString, false), SortDescending: true}},
		{"users by externalId", kindUsers, bridge.Query{SortBy: path("externalId", bridge.AttrString, true)}},
		{"users by status (all equal)", kindUsers, bridge.Query{SortBy: status}},
		{"active users by displayName", kindUsers, bridge.Query{Filter: active, SortBy: path("displayName", bridge.AttrString, false)}},
		{"active users by userName descending", kindUsers, bridge.Query{Filter: active, SortBy: path("userName", bridge.AttrString, false), SortDescending: true}},
		// Memberships do not move the change counter, which cursors do
		// not need.
		{"users in a group", kindUsers, bridge.Query{Filter: inGroup}},
		{"groups by displayName", kindGroups, bridge.Query{SortBy: path("displayName", bridge.AttrString, false)}},
		{"groups by id with members", kindGroups, bridge.Query{WithMembers: true}},
	}
	onBothStores(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var users []bridge.User
		for i := range 83 {
			users = append(users, seekUser(i))
		}
		var groups []bridge.Group
		for i := range 23 {
			groups = append(groups, bridge.Group{ID: uuid.NewString(), DisplayName: fmt.Sprintf("Team %d", i%4), Status: bridge.StatusActive})
		}
		members := map[string][]bridge.Member{groups[0].ID: {{ID: users[1].ID, Type: "User"}, {ID: users[2].ID, Type: "User"}},
			groups[1].ID: {{ID: users[2].ID, Type: "User"}, {ID: users[9].ID, Type: "User"}, {ID: groups[0].ID, Type: "Group"}}}
		if err := s.Apply(ctx, bridge.DefaultAccount, bridge.Changes{Users: users, Groups: groups, SetMembers: members}); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			q := c.q
			q.StartIndex, q.Count = 1, 1000
			want, _ := readPage(t, s, c.kind, q, "")
			if len(want) < 3 {
				t.Fatalf("%s: only %d rows: the case tests nothing", c.name, len(want))
			}
			for _, count := range []int{1, 7, 10, len(want), 1000} {
				t.Run(fmt.Sprintf("%s/count=%d", c.name, count), func(t *testing.T) {
					got, totals := walkAfter(t, s, bridge.DefaultAccount, c.kind, c.q, count, nil)
					if !slices.Equal(got, want) {
						t.Fatalf("by cursor:\n%v\nin one read:\n%v", got, want)
					}
					for i, n := range totals {
						if n != len(want) {
							t.Fatalf("page %d: total %d, want %d", i, n, len(want))
						}
					}
				})
			}
		}
		t.Run("count 0 is the total alone", func(t *testing.T) {
			got, total, next := readAfter(t, s, bridge.DefaultAccount, kindUsers, bridge.Query{Filter: active}, nil, true)
			if len(got) != 0 || next != nil || total != 55 {
				t.Fatalf("rows %d, total %d, next %v", len(got), total, next)
			}
		})
		t.Run("no total unless asked", func(t *testing.T) {
			_, total, _ := readAfter(t, s, bridge.DefaultAccount, kindUsers, bridge.Query{Count: 5}, &Position{Key: users[3].ID, ID: users[3].ID}, false)
			if total != -1 {
				t.Fatalf("total %d", total)
			}
		})
		for _, sortBy := range []*bridge.AttrPath{path("title", bridge.AttrString, false), path("active", bridge.AttrBoolean, false),
			{Name: "meta", Sub: "created", Type: bridge.AttrDateTime}} {
			t.Run("refused: by "+sortBy.String(), func(t *testing.T) {
				_, _, err := s.QueryUsersAfter(ctx, bridge.DefaultAccount, bridge.Query{SortBy: sortBy, Count: 5}, nil, true, false,
					func(bridge.User, []byte, []bridge.GroupRef) error { return nil })
				if !errors.Is(err, bridge.ErrNotImplemented) {
					t.Fatalf("err %v, want ErrNotImplemented", err)
				}
			})
		}
	})
}

// TestSCIMCursorAccounts: a position names no account; whatever it holds
// (another account's row, a key of nothing), the page is of the asking
// account's rows only.
func TestSCIMCursorAccounts(t *testing.T) {
	onBothStores(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateAccount(ctx, bridge.Account{ID: "other"}); err != nil {
			t.Fatal(err)
		}
		mine, theirs := map[string]bool{}, map[string]bool{}
		for i := range 20 {
			u, v := seekUser(i), seekUser(i)
			v.ID = uuid.NewString()
			if v.ExternalID != "" {
				v.ExternalID = "other-" + v.ExternalID
			}
			mustApply(t, s, bridge.Changes{Users: []bridge.User{u}})
			if err := s.Apply(ctx, "other", bridge.Changes{Users: []bridge.User{v}}); err != nil {
				t.Fatal(err)
			}
			mine[u.ID], theirs[v.ID] = true, true
		}
		byName := bridge.Query{SortBy: &bridge.AttrPath{Name: "userName", Type: bridge.AttrString}, Count: 100}
		for _, after := range []*Position{
			{Key: "", ID: ""}, {Key: "user000", ID: "zzzz"}, {Key: "\x00'; DROP TABLE users; --", ID: "*()\\"},
		} {
			for id := range theirs {
				after := *after
				if after.ID == "" {
					after.ID = id
				}
				// PostgreSQL refuses NUL in text: an error, never rows.
				var got []string
				_, _, err := s.QueryUsersAfter(ctx, bridge.DefaultAccount, byName, &after, false, false, func(u bridge.User, _ []byte, _ []bridge.GroupRef) error {
					got = append(got, u.ID)
					return nil
				})
				if err != nil && !strings.Contains(after.Key, "\x00") {
					t.Fatalf("after %q: %v", after, err)
				}
				for _, g := range got {
					if !mine[g] {
						t.Fatalf("after %q: row %s of another account", after, g)
					}
				}
				break
			}
		}
	})
}

// TestSCIMCursorUnderWrites: rows added, renamed and deleted between the
// pages of a walk; every row that exists unchanged throughout is read
// exactly once (a renamed row may move past the walk's position and be read
// again: the walk is not a snapshot).
func TestSCIMCursorUnderWrites(t *testing.T) {
	byName := bridge.Query{SortBy: &bridge.AttrPath{Name: "userName", Type: bridge.AttrString}}
	byDisplay := bridge.Query{SortBy: &bridge.AttrPath{Name: "displayName", Type: bridge.AttrString}, SortDescending: true}
	for _, q := range []bridge.Query{byName, byDisplay, {}} {
		onBothStores(t, func(t *testing.T, s *Store) {
			var users []bridge.User
			for i := range 60 {
				users = append(users, seekUser(i))
			}
			mustApply(t, s, bridge.Changes{Users: users})
			touched := map[string]bool{}
			got, _ := walkAfter(t, s, bridge.DefaultAccount, kindUsers, q, 6, func(page int) {
				// Each page: one user added (before and after the walk's
				// position alike), one renamed, one deleted.
				u := seekUser(1000 + page)
				u.UserName, u.ExternalID = fmt.Sprintf("user%03d-new", (page*131)%1000), "new-"+u.ID
				r := users[(page*17+5)%len(users)]
				r.UserName += "-renamed"
				r.DisplayName = "Renamed " + r.DisplayName
				d := users[(page*29+11)%len(users)]
				touched[u.ID], touched[r.ID], touched[d.ID] = true, true, true
				mustApply(t, s, bridge.Changes{Users: []bridge.User{u, r}})
				mustApply(t, s, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: d.ID, Reason: "gone", At: time.Now()}}})
			})
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] && !touched[id] {
					t.Fatalf("row %s, untouched throughout, read twice", id)
				}
				seen[id] = true
			}
			for _, u := range users {
				if !touched[u.ID] && !seen[u.ID] {
					t.Fatalf("row %s (%s), untouched throughout, was skipped", u.ID, u.UserName)
				}
			}
		})
	}
}
