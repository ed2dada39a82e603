package scimapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// checkpointCounting counts the checkpoint sets the store read (not the
// requests for an order that has none).
type checkpointCounting struct {
	*seekCounting
	sets atomic.Int64
}

func (s *checkpointCounting) UserCheckpoints(ctx context.Context, account string, q bridge.Query, every int) ([]string, error) {
	cps, err := s.Store.UserCheckpoints(ctx, account, q, every)
	if len(cps) > 0 {
		s.sets.Add(1)
	}
	return cps, err
}

func (s *checkpointCounting) GroupCheckpoints(ctx context.Context, account string, q bridge.Query, every int) ([]string, error) {
	cps, err := s.Store.GroupCheckpoints(ctx, account, q, every)
	if len(cps) > 0 {
		s.sets.Add(1)
	}
	return cps, err
}

// offsetTotal is offsetPage's total.
func offsetTotal(t *testing.T, e *env, rt *resourceType, query string) int {
	t.Helper()
	v, _ := url.ParseQuery(query)
	p := listParams{filter: v.Get("filter"), sortBy: v.Get("sortBy"), sortOrder: v.Get("sortOrder"), startIndex: 1, count: 1}
	q, _, err := p.query(rt)
	if err != nil {
		t.Fatal(err)
	}
	var total int
	if rt == userType {
		_, total, err = e.store.QueryUsers(context.Background(), e.acct, q)
	} else {
		_, total, err = e.store.QueryGroups(context.Background(), e.acct, q)
	}
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// TestDeepPagesFromCheckpoints jumps to deep pages (around checkpoints, the
// last page, beyond the end) of lists long enough for checkpoints, with
// writes between requests, and checks every page and total against
// LIMIT/OFFSET through the map path; and that each shape read its set once
// per change of the account, the set made before a write being dropped at
// its first use after it, not followed.
func TestDeepPagesFromCheckpoints(t *testing.T) {
	const nUsers, nGroups, k = 2*checkpointEvery + 650, 2*checkpointEvery + 120, checkpointEvery
	shapes := []struct {
		name, rt, query string
		sets            bool // served from checkpoints
	}{
		{"users", "Users", "", true},
		{"users by userName", "Users", "sortBy=userName", true},
		{"users by userName descending", "Users", "sortBy=userName&sortOrder=descending", true},
		{"groups", "Groups", "excludedAttributes=members", true},
		{"groups by id descending", "Groups", "sortOrder=descending&excludedAttributes=members", true},
		{"users by displayName", "Users", "sortBy=displayName", false},
		{"users by title", "Users", "sortBy=title", false},
		{"active users", "Users", "filter=" + url.QueryEscape("active eq true"), false},
	}
	starts := []int{2*k + 1, 2*k + 2, 2*k + 37, 2 * k, 2*k - 1, nUsers - 99, nUsers - 6, nUsers, nUsers + 1, 3*k + 1, 3*k + 500, 2*k + 501}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t, backend)
			counting := &checkpointCounting{seekCounting: &seekCounting{Store: e.store}}
			e.h = NewRouter(Options{Store: e.store, Resources: counting, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				SCIMBaseURL: "https://scim.example.com/scim/v2"})
			for i := 0; i < max(nUsers, nGroups); i += 1000 {
				var c bridge.Changes
				for j := i; j < min(i+1000, nUsers); j++ {
					c.Users = append(c.Users, adUser(fmt.Sprintf("p%05d", (j*7)%nUsers), "Given", fmt.Sprintf("Family%d", j%13), "Dept", j%3 != 0))
				}
				for j := i; j < min(i+1000, nGroups); j++ {
					c.Groups = append(c.Groups, adGroup(fmt.Sprintf("Group %d", j%50), bridge.KindSecurity))
				}
				if err := e.store.Apply(context.Background(), e.acct, c); err != nil {
					t.Fatal(err)
				}
			}
			writes := 0
			for _, sh := range shapes {
				rt := userType
				if sh.rt == "Groups" {
					rt = groupType
				}
				before := counting.sets.Load()
				check := func(start, count int) {
					t.Helper()
					query := fmt.Sprintf("startIndex=%d&count=%d", start, count)
					if sh.query != "" {
						query = sh.query + "&" + query
					}
					r := e.do("GET", "/scim/v2/"+sh.rt+"?"+query, nil).want(t, 200, "")
					if got, want := pageIDs(r), offsetPage(t, e, rt, query); !slices.Equal(got, want) {
						t.Fatalf("%s: page at %d (count %d):\n got %v\nwant %v", sh.name, start, count, got, want)
					}
					if got, want := r.num("totalResults"), offsetTotal(t, e, rt, query); got != want {
						t.Fatalf("%s: page at %d: totalResults %d, want %d", sh.name, start, got, want)
					}
				}
				for _, count := range []int{100, 7} {
					for _, start := range starts {
						check(start, count)
					}
				}
				wantSets := func(n int64, when string) {
					t.Helper()
					if !sh.sets {
						n = 0
					}
					if got := counting.sets.Load() - before; got != n {
						t.Fatalf("%s: %d checkpoint sets read %s, want %d", sh.name, got, when, n)
					}
				}
				wantSets(1, "before any write")
				// A write moves every page: the set is stale. Its first use
				// falls back to OFFSET and drops it; the next page reads a
				// new one, which the pages after it use.
				writes++
				u := adUser(fmt.Sprintf("a-first%d", writes), "Aaron", "First", "Ops", true)
				g := adGroup(fmt.Sprintf("AAA first %d", writes), bridge.KindSecurity)
				if err := e.store.Apply(context.Background(), e.acct, bridge.Changes{Users: []bridge.User{u}, Groups: []bridge.Group{g}}); err != nil {
					t.Fatal(err)
				}
				check(2*k+301, 100)
				wantSets(1, "at the first page after a write")
				for _, start := range starts {
					check(start, 7)
				}
				wantSets(2, "after a write")
			}
		})
	}
}

// TestCheckpointCacheBounds: the cache keeps the most recent sets within
// both bounds, keeps no empty set, and drops a set only when it is still
// the one of its key.
func TestCheckpointCacheBounds(t *testing.T) {
	ctx := context.Background()
	set := func(n int) func() ([]string, error) {
		return func() ([]string, error) { return slices.Repeat([]string{"0123456789"}, n), nil }
	}
	cases := []struct {
		name          string
		max, maxBytes int
		sets, tokens  int
		wantLen       int
	}{
		{"by shapes", 3, 1 << 20, 10, 2, 3},
		{"by bytes", 100, 5 * 24, 10, 2, 5}, // 4-byte key and 2 tokens of 10
		{"under both", 100, 1 << 20, 10, 2, 10},
		{"empty sets", 100, 1 << 20, 10, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := newCheckpointCache(c.max, c.maxBytes)
			for i := range c.sets {
				got, err := cc.get(ctx, fmt.Sprintf("k%03d", i), set(c.tokens))
				if err != nil || len(got.tokens) != c.tokens {
					t.Fatalf("set %d: %v, %d tokens", i, err, len(got.tokens))
				}
			}
			if got := cc.len(); got != c.wantLen {
				t.Fatalf("len %d, want %d", got, c.wantLen)
			}
			if cc.bytes > c.maxBytes {
				t.Fatalf("%d bytes over the bound %d", cc.bytes, c.maxBytes)
			}
		})
	}
	cc := newCheckpointCache(10, 1<<20)
	old, _ := cc.get(ctx, "k", set(2))
	cc.drop(old)
	reads := 0
	cur, _ := cc.get(ctx, "k", func() ([]string, error) { reads++; return []string{"x"}, nil })
	cc.drop(old) // an old set's late drop leaves the new one
	if again, _ := cc.get(ctx, "k", set(5)); again != cur || reads != 1 || cc.bytes != len("k")+1 {
		t.Fatalf("dropped set read again: reads %d, same %v, bytes %d", reads, again == cur, cc.bytes)
	}
}
