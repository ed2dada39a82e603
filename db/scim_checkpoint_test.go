package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

// pageTotal reads one page of q from after and returns its ids, the total
// and the cursor it hands out.
func pageTotal(t *testing.T, s *Store, kind resourceKind, q bridge.Query, after string) (ids []string, total int, next string) {
	t.Helper()
	return readPageWith(t, s, kind, q, after, false)
}

// readPageWith reads one page of q from after, users with or without
// their groups (two statement shapes).
func readPageWith(t *testing.T, s *Store, kind resourceKind, q bridge.Query, after string, withGroups bool) (ids []string, total int, next string) {
	t.Helper()
	ctx := context.Background()
	var err error
	if kind == kindUsers {
		total, next, err = s.QueryUsersPage(ctx, bridge.DefaultAccount, q, after, withGroups, func(u bridge.User, _ []byte, _ []bridge.GroupRef) error {
			ids = append(ids, u.ID)
			return nil
		})
	} else {
		total, next, err = s.QueryGroupsPage(ctx, bridge.DefaultAccount, q, after, func(g bridge.Group, _, _, _ []byte) error {
			ids = append(ids, g.ID)
			return nil
		})
	}
	if err != nil {
		t.Fatalf("page at %d: %v", q.StartIndex, err)
	}
	return ids, total, next
}

func checkpointsOf(t *testing.T, s *Store, kind resourceKind, q bridge.Query, every int) []string {
	t.Helper()
	read := s.UserCheckpoints
	if kind == kindGroups {
		read = s.GroupCheckpoints
	}
	cps, err := read(context.Background(), bridge.DefaultAccount, q, every)
	if err != nil {
		t.Fatal(err)
	}
	return cps
}

// checkpointFor is the checkpoint a page at start is read from: the last
// at or before its first row (as scimapi picks it).
func checkpointFor(cps []string, every, start int) string {
	i := min((start-1)/every, len(cps)) - 1
	if i < 0 {
		return ""
	}
	return cps[i]
}

// deepStarts are the first rows of pages around every checkpoint, the last
// page and beyond the end of n rows.
func deepStarts(n, every, count int) []int {
	var starts []int
	for b := every; b <= n; b += every {
		starts = append(starts, b-1, b, b+1, b+2, b+every/2)
	}
	return append(starts, n-count, n-count+1, n, n+1, n+every, n+3*every)
}

// TestSCIMCheckpointsEqualOffset: a page read from the checkpoint before it
// is OFFSET's page, with OFFSET's total, around every checkpoint, at the
// end and beyond, for the orders checkpoints serve (one index range); and
// it was sought. The other orders, and filters, have none.
func TestSCIMCheckpointsEqualOffset(t *testing.T) {
	const nUsers, nGroups, every, count = 437, 263, 50, 7
	userName := &bridge.AttrPath{Name: "userName", Type: bridge.AttrString}
	displayName := &bridge.AttrPath{Name: "displayName", Type: bridge.AttrString}
	externalID := &bridge.AttrPath{Name: "externalId", Type: bridge.AttrString, CaseExact: true}
	active := &bridge.Compare{Path: bridge.AttrPath{Name: "active", Type: bridge.AttrBoolean}, Op: bridge.OpEq, Value: true}
	cases := []struct {
		name string
		kind resourceKind
		q    bridge.Query
		n    int // rows; 0: no checkpoints
	}{
		{"users by id", kindUsers, bridge.Query{}, nUsers},
		{"users by id descending", kindUsers, bridge.Query{SortDescending: true}, nUsers},
		{"users by userName", kindUsers, bridge.Query{SortBy: userName}, nUsers},
		{"users by userName descending", kindUsers, bridge.Query{SortBy: userName, SortDescending: true}, nUsers},
		{"groups by id", kindGroups, bridge.Query{}, nGroups},
		{"groups by id descending", kindGroups, bridge.Query{SortDescending: true}, nGroups},
		{"users by displayName (two ranges)", kindUsers, bridge.Query{SortBy: displayName}, 0},
		{"users by externalId (two ranges)", kindUsers, bridge.Query{SortBy: externalID}, 0},
		{"groups by displayName (two ranges)", kindGroups, bridge.Query{SortBy: displayName}, 0},
		{"users by title (JSON)", kindUsers, bridge.Query{SortBy: &bridge.AttrPath{Name: "title", Type: bridge.AttrString}}, 0},
		{"active users (a filter)", kindUsers, bridge.Query{Filter: active}, 0},
	}
	onBothStores(t, func(t *testing.T, s *Store) {
		var users []bridge.User
		for i := range nUsers {
			users = append(users, seekUser(i))
		}
		var groups []bridge.Group
		for i := range nGroups {
			// Every fifth has no display name: last, in a range of its own.
			dn := fmt.Sprintf("Team %d", i%9)
			if i%5 == 4 {
				dn = ""
			}
			groups = append(groups, bridge.Group{ID: uuid.NewString(), DisplayName: dn, Status: bridge.StatusActive})
		}
		mustApply(t, s, bridge.Changes{Users: users, Groups: groups})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cps := checkpointsOf(t, s, c.kind, c.q, every)
				if len(cps) != c.n/every {
					t.Fatalf("%d checkpoints, want %d", len(cps), c.n/every)
				}
				if c.n == 0 {
					return
				}
				for _, start := range deepStarts(c.n, every, count) {
					q := c.q
					q.StartIndex, q.Count = start, count
					after := checkpointFor(cps, every, start)
					want, wantTotal, _ := pageTotal(t, s, c.kind, q, "")
					got, total, next := pageTotal(t, s, c.kind, q, after)
					if !slices.Equal(got, want) || total != wantTotal {
						t.Fatalf("page at %d: got %v (total %d), want OFFSET's %v (total %d)", start, got, total, want, wantTotal)
					}
					if sought := s.SoughtFrom(after, next); sought != (after != "" && len(want) > 0) {
						t.Fatalf("page at %d: sought from its checkpoint %v", start, sought)
					}
				}
				// A checkpoint made to point one interval further is
				// followed while nothing changed: the seek ran.
				c0, _ := parseCursor(cps[0])
				c1, _ := parseCursor(cps[1])
				c0.key, c0.id = c1.key, c1.id
				q := c.q
				q.StartIndex, q.Count = 2*every+1, count
				beyond, _, _ := pageTotal(t, s, c.kind, q, "")
				q.StartIndex = every + 1
				if got, _, _ := pageTotal(t, s, c.kind, q, c0.String()); !slices.Equal(got, beyond) {
					t.Fatalf("checkpoint not followed: got %v, want rows %d.. %v", got, 2*every+1, beyond)
				}
			})
		}
	})
}

// TestSCIMCheckpointsAfterWrites: after any write to a user of the
// account, a page read with a checkpoint made before it is OFFSET's page
// and is reported not sought; checkpoints read after the write are
// followed again.
func TestSCIMCheckpointsAfterWrites(t *testing.T) {
	const n, every, count = 260, 40, 9
	byName := bridge.Query{SortBy: &bridge.AttrPath{Name: "userName", Type: bridge.AttrString}}
	ctx := context.Background()
	// Each write runs once per order (k counts the writes) and changes a
	// row of its own.
	writes := []struct {
		name  string
		write func(t *testing.T, s *Store, byName []bridge.User, k int)
	}{
		{"sync adds a user first", func(t *testing.T, s *Store, _ []bridge.User, k int) {
			u := seekUser(900 + k)
			u.UserName = fmt.Sprintf("aaa-first%d", k)
			mustApply(t, s, bridge.Changes{Users: []bridge.User{u}})
		}},
		{"sync renames a user", func(t *testing.T, s *Store, byName []bridge.User, k int) {
			u := byName[n-1-k]
			u.UserName = fmt.Sprintf("aab-renamed%d", k)
			mustApply(t, s, bridge.Changes{Users: []bridge.User{u}})
		}},
		{"sync soft-deletes a first user", func(t *testing.T, s *Store, byName []bridge.User, k int) {
			mustApply(t, s, bridge.Changes{DeleteUsers: []bridge.Deletion{{ID: byName[k].ID, Reason: "gone", At: time.Now()}}})
		}},
		{"SCIM DELETE of a first user", func(t *testing.T, s *Store, byName []bridge.User, k int) {
			if err := s.DeleteUser(ctx, bridge.DefaultAccount, byName[k].ID, 0); err != nil {
				t.Fatal(err)
			}
		}},
	}
	onBothStores(t, func(t *testing.T, s *Store) {
		var users []bridge.User
		for i := range n {
			u := seekUser(i)
			u.UserName = fmt.Sprintf("u%04d", (i*37)%n)
			users = append(users, u)
		}
		mustApply(t, s, bridge.Changes{Users: users})
		sorted := slices.SortedFunc(slices.Values(users), func(a, b bridge.User) int { return strings.Compare(a.UserName, b.UserName) })
		k := 0
		for _, w := range writes {
			for _, q0 := range []bridge.Query{byName, {}} {
				cps := checkpointsOf(t, s, kindUsers, q0, every)
				w.write(t, s, sorted, k)
				k++
				for _, start := range deepStarts(n, every, count) {
					q := q0
					q.StartIndex, q.Count = start, count
					after := checkpointFor(cps, every, start)
					want, wantTotal, _ := pageTotal(t, s, kindUsers, q, "")
					got, total, next := pageTotal(t, s, kindUsers, q, after)
					if !slices.Equal(got, want) || total != wantTotal {
						t.Fatalf("%s: page at %d: got %v (total %d), want OFFSET's %v (total %d)", w.name, start, got, total, want, wantTotal)
					}
					if after != "" && s.SoughtFrom(after, next) {
						t.Fatalf("%s: page at %d sought from a checkpoint made before the write", w.name, start)
					}
				}
				fresh := checkpointsOf(t, s, kindUsers, q0, every)
				q := q0
				q.StartIndex, q.Count = 3*every+5, count
				after := checkpointFor(fresh, every, q.StartIndex)
				want, _, _ := pageTotal(t, s, kindUsers, q, "")
				got, _, next := pageTotal(t, s, kindUsers, q, after)
				if !slices.Equal(got, want) || !s.SoughtFrom(after, next) {
					t.Fatalf("%s: checkpoints read after the write: got %v, want %v, sought %v", w.name, got, want, s.SoughtFrom(after, next))
				}
			}
		}
	})
}
