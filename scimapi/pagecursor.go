package scimapi

import (
	"container/list"
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/scimbridge/scimbridge/bridge"
)

// Sequential pages without OFFSET walks. Entra ID and Okta read a list
// with startIndex=1, 101, 201, ...; the store hands out, with each page, an
// opaque cursor for the row it ended at (db/scim_seek.go), and this cache
// keeps it under the query's shape and that end position. The request for
// startIndex = end+1 of the same shape passes it back, and the store seeks
// from it instead of skipping end rows, when nothing in the account has
// changed since (the store checks, in the statement that reads the page;
// otherwise it reads with OFFSET as without a cursor). A random jump finds
// no cursor: deep ones are read from checkpoints (pagecheckpoint.go), the
// others walk. The cache is per process: replicas sharing one
// PostgreSQL each keep their own, and a cursor is never wrong for a
// replica that did not make it, only unused.

// pageStore is the optional cursor-taking part of a jsonStore
// (implemented by db.Store).
type pageStore interface {
	QueryUsersPage(ctx context.Context, account string, q bridge.Query, after string, withGroups bool, fn func(bridge.User, []byte, []bridge.GroupRef) error) (int, string, error)
	QueryGroupsPage(ctx context.Context, account string, q bridge.Query, after string, fn func(g bridge.Group, doc, userIDs, groupIDs []byte) error) (int, string, error)
}

// cursorCache is a bounded LRU of cursors by query shape and end position.
type cursorCache struct {
	mu       sync.Mutex
	max      int // entries
	maxBytes int // keys and cursors together
	bytes    int
	ll       *list.List // front: most recently used
	m        map[string]*list.Element
	// points holds the checkpoint sets of deep pages (pagecheckpoint.go).
	points *checkpointCache
}

type cursorEntry struct{ key, cursor string }

// maxShapeKey: a shape longer than this (a long filter) is not cached, so
// that one client cannot fill the cache with a few requests.
const maxShapeKey = 2048

func newCursorCache(max, maxBytes int) *cursorCache {
	return &cursorCache{max: max, maxBytes: maxBytes, ll: list.New(), m: map[string]*list.Element{},
		points: newCheckpointCache(checkpointShapes, checkpointBytes)}
}

// shapeKey identifies the rows and order of a list request and one end
// position in it; attributes and count do not change which rows follow.
func shapeKey(acct string, rt *resourceType, p listParams, end int) string {
	return acct + "\x00" + rt.name + "\x00" + p.filter + "\x00" + p.sortBy + "\x00" + p.sortOrder + "\x00" + strconv.Itoa(end)
}

// get returns the cursor of key, or "". It stays: a client that retries a
// page, or two that walk the same list, use it again.
func (c *cursorCache) get(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return ""
	}
	c.ll.MoveToFront(e)
	return e.Value.(*cursorEntry).cursor
}

func (c *cursorCache) put(key, cursor string) {
	if cursor == "" || len(key) > maxShapeKey {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.remove(e)
	}
	ent := &cursorEntry{key: key, cursor: cursor}
	c.m[key] = c.ll.PushFront(ent)
	c.bytes += len(key) + len(cursor)
	for c.ll.Len() > c.max || c.bytes > c.maxBytes {
		c.remove(c.ll.Back())
	}
}

func (c *cursorCache) remove(e *list.Element) {
	ent := e.Value.(*cursorEntry)
	c.ll.Remove(e)
	delete(c.m, ent.key)
	c.bytes -= len(ent.key) + len(ent.cursor)
}

func (c *cursorCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// The cache's bounds: a cursor is about 100 bytes and a key its filter
// plus 60, so 4,096 walks in progress fit in well under the byte bound.
const (
	cursorEntries = 4096
	cursorBytes   = 4 << 20
)

// pagedList runs one page through read with the cursor of the page that
// ended just before it, if one is cached, or else of the checkpoint before
// it (a deep page, pagecheckpoint.go), and caches the cursor of its end;
// *n is the number of resources read wrote.
func (s *server) pagedList(r *http.Request, rt *resourceType, p listParams, q bridge.Query, n *int, read func(after string) (int, string, error)) (int, error) {
	acct := account(r)
	after := ""
	var done func(next string)
	if q.StartIndex > 1 && q.Count > 0 {
		after = s.cursors.get(shapeKey(acct, rt, p, q.StartIndex-1))
		if after == "" {
			after, done = s.fromCheckpoint(r, rt, p, q)
		}
	}
	total, next, err := read(after)
	if err == nil && done != nil {
		done(next)
	}
	if err != nil || next == "" || *n == 0 {
		return total, err
	}
	s.cursors.put(shapeKey(acct, rt, p, q.StartIndex-1+*n), next)
	return total, nil
}
