package scimapi

import (
	"container/list"
	"context"
	"net/http"
	"sync"

	"github.com/scimbridge/scimbridge/bridge"
)

// Random deep index pages. A page at startIndex s that no sequential walk
// reached (no cursor for row s-1 in the cursor cache) would be cut with
// OFFSET, walking s-1 index entries: its cost grows with the table (8-9 ms
// at row 90,000 of 100,000). For an unfiltered list in an order the store
// seeks with in one index range (id, userName), the store reads the cursors of rows K, 2K, 3K, ... of the
// list in one statement (db/scim_checkpoint.go); the page is then sought
// from the checkpoint at or before s-1 and skips fewer than K rows. The set
// is a snapshot: the store follows a checkpoint only while nothing in the
// account has changed since it was read (else the page is read with OFFSET,
// as without one), and reports which it did; a set that was not followed
// is dropped, and the next deep page reads a new one. So a set is read at
// most once per change of the account, per shape (concurrent requests wait
// for the one being read).

// checkpointStore is the optional checkpoint-reading part of a pageStore
// (implemented by db.Store).
type checkpointStore interface {
	UserCheckpoints(ctx context.Context, account string, q bridge.Query, every int) ([]string, error)
	GroupCheckpoints(ctx context.Context, account string, q bridge.Query, every int) ([]string, error)
	// SoughtFrom reports whether the page given after was sought from it
	// (next is the cursor the page returned): after is still current.
	SoughtFrom(after, next string) bool
}

// checkpointEvery is K: a page skips fewer than K rows after its
// checkpoint (about 0.1 ms of index at K = 1,000), and a set is 100 bytes
// per K rows (10 KB for 100,000 users). A page starting before row 2K is
// read as before: its OFFSET costs less than reading a set.
const checkpointEvery = 1000

// The cache's bounds: a few dozen shapes (account, type, order), and bytes
// for sets of a few million rows in all.
const (
	checkpointShapes = 32
	checkpointBytes  = 8 << 20
)

// checkpointSet is the checkpoints of one shape: tokens[i] is the cursor
// of row (i+1)*checkpointEvery. ready is closed when tokens is set;
// counted: bytes is in the cache's total.
type checkpointSet struct {
	key     string
	ready   chan struct{}
	tokens  []string
	bytes   int
	counted bool
}

// checkpointCache is a bounded LRU of checkpoint sets by shape.
type checkpointCache struct {
	mu            sync.Mutex
	max, maxBytes int
	bytes         int
	ll            *list.List // of *checkpointSet, front most recently used
	m             map[string]*list.Element
}

func newCheckpointCache(max, maxBytes int) *checkpointCache {
	return &checkpointCache{max: max, maxBytes: maxBytes, ll: list.New(), m: map[string]*list.Element{}}
}

// checkpointKey is shapeKey without a position.
func checkpointKey(acct string, rt *resourceType, p listParams) string {
	return acct + "\x00" + rt.name + "\x00" + p.filter + "\x00" + p.sortBy + "\x00" + p.sortOrder
}

// get returns the set of key, reading it with read when there is none; a
// request that finds the set being read waits for it. A set that read
// returned empty (or failed) is not kept.
func (c *checkpointCache) get(ctx context.Context, key string, read func() ([]string, error)) (*checkpointSet, error) {
	c.mu.Lock()
	if e, ok := c.m[key]; ok {
		c.ll.MoveToFront(e)
		set := e.Value.(*checkpointSet)
		c.mu.Unlock()
		select {
		case <-set.ready:
			return set, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	set := &checkpointSet{key: key, ready: make(chan struct{})}
	c.m[key] = c.ll.PushFront(set)
	c.mu.Unlock()

	tokens, err := read()
	c.mu.Lock()
	defer c.mu.Unlock()
	set.tokens = tokens
	close(set.ready)
	if err != nil || len(tokens) == 0 {
		c.removeSet(set)
		return set, err
	}
	// Evicted while it was read: returned, not kept.
	if e, ok := c.m[key]; ok && e.Value.(*checkpointSet) == set {
		set.bytes = len(key)
		for _, t := range tokens {
			set.bytes += len(t)
		}
		set.counted = true
		c.bytes += set.bytes
	}
	for c.ll.Len() > 0 && (c.ll.Len() > c.max || c.bytes > c.maxBytes) {
		c.removeSet(c.ll.Back().Value.(*checkpointSet))
	}
	return set, nil
}

// drop removes set, if it is still the one of its key: it was not
// followed.
func (c *checkpointCache) drop(set *checkpointSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeSet(set)
}

func (c *checkpointCache) removeSet(set *checkpointSet) {
	e, ok := c.m[set.key]
	if !ok || e.Value.(*checkpointSet) != set {
		return
	}
	c.ll.Remove(e)
	delete(c.m, set.key)
	if set.counted {
		c.bytes -= set.bytes
		set.counted = false
	}
}

func (c *checkpointCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// fromCheckpoint returns the checkpoint to read q's page from (the cursor
// of the last checkpoint at or before row q.StartIndex-1), or "" when the
// page is not read from one; done is then to be called with the cursor
// the page returned, and drops the set when the page was not sought from
// it.
func (s *server) fromCheckpoint(r *http.Request, rt *resourceType, p listParams, q bridge.Query) (after string, done func(next string)) {
	cs, ok := s.pages.(checkpointStore)
	offset := q.StartIndex - 1
	if !ok || s.cursors.points == nil || p.filter != "" || q.Filter != nil || q.Count <= 0 || offset < 2*checkpointEvery {
		return "", nil
	}
	key := checkpointKey(account(r), rt, p)
	if len(key) > maxShapeKey {
		return "", nil
	}
	set, err := s.cursors.points.get(r.Context(), key, func() ([]string, error) {
		if rt == userType {
			return cs.UserCheckpoints(r.Context(), account(r), q, checkpointEvery)
		}
		return cs.GroupCheckpoints(r.Context(), account(r), q, checkpointEvery)
	})
	// A failed read leaves the page to OFFSET: the page's own statement
	// reports what is wrong with the store, if anything is.
	if err != nil || len(set.tokens) == 0 {
		return "", nil
	}
	i := min(offset/checkpointEvery, len(set.tokens)) - 1
	after = set.tokens[i]
	return after, func(next string) {
		// No cursor (no rows, or an order without cursors): nothing is
		// known of the set.
		if next != "" && !cs.SoughtFrom(after, next) {
			s.cursors.points.drop(set)
		}
	}
}
