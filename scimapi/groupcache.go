package scimapi

import (
	"container/list"
	"context"
	"sync"
)

// A group with thousands of members costs milliseconds to aggregate and
// render on every GET, while it changes rarely. groupCache keeps the
// rendered responses of large groups, keyed by everything the bytes depend
// on: the account, the id, the base URL the links are built from, and the
// raw query (the projection), and valid for one version of the group. A
// group's version moves with every change of what it shows, its members
// included (db: Apply and the SCIM writes bump it), so a GET first reads
// the version, one primary-key probe, and serves the cached bytes only for
// that version. Each replica keeps its own cache; versions are shared
// through the database, so a replica never serves what another changed.
type groupCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front: most recently used
	items map[groupCacheKey]*list.Element
}

type groupCacheKey struct{ account, id, base, query string }

type groupCacheEntry struct {
	key     groupCacheKey
	version int64
	body    []byte
}

const (
	// groupCacheMin is the smallest response worth caching: below it,
	// rendering costs about what the version probe does.
	groupCacheMin = 64 << 10
	// groupCacheBytes bounds the cache: a 5,000-member group renders to
	// about 400 KB, so this keeps the largest groups of a big directory.
	groupCacheBytes = 64 << 20
)

// groupVersioner is the version probe (implemented by db.Store).
type groupVersioner interface {
	LiveGroupVersion(ctx context.Context, account, id string) (int64, error)
}

func newGroupCache(maxBytes int) *groupCache {
	return &groupCache{max: maxBytes, order: list.New(), items: map[groupCacheKey]*list.Element{}}
}

// has reports whether anything is cached for key, so groups never cached
// (the small ones) cost no version probe.
func (c *groupCache) has(key groupCacheKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.items[key]
	return ok
}

// get returns the body cached for key at version.
func (c *groupCache) get(key groupCacheKey, version int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*groupCacheEntry)
	if e.version != version {
		c.remove(el)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.body, true
}

// put keeps a copy of body as key's response at version, evicting the
// least recently used entries beyond the bound.
func (c *groupCache) put(key groupCacheKey, version int64, body []byte) {
	if len(body) < groupCacheMin || len(body) > c.max/4 {
		return
	}
	e := &groupCacheEntry{key: key, version: version, body: append([]byte(nil), body...)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	c.items[key] = c.order.PushFront(e)
	c.size += len(e.body)
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

func (c *groupCache) remove(el *list.Element) {
	e := el.Value.(*groupCacheEntry)
	c.order.Remove(el)
	delete(c.items, e.key)
	c.size -= len(e.body)
}

// cachedGroup returns the cached response for key when the group's current
// version is the one it was rendered at. A group that is gone is an error
// (404) here already, whatever is cached. Keys never cached cost nothing.
func (s *server) cachedGroup(ctx context.Context, key groupCacheKey) ([]byte, int64, bool, error) {
	if s.groups == nil || !s.groups.has(key) {
		return nil, 0, false, nil
	}
	v, err := s.versions.LiveGroupVersion(ctx, key.account, key.id)
	if err != nil {
		return nil, 0, false, err
	}
	body, ok := s.groups.get(key, v)
	return body, v, ok, nil
}
