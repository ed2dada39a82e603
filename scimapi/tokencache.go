package scimapi

import (
	"context"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// tokenCache remembers tokens the store found, for a second, so a client
// sending thousands of requests a second costs one token lookup a second
// rather than one per request (the lookup is a third of a GET by id). Only
// found tokens are kept: an unknown token is looked up every time, and a
// revoked token stops working at most tokenCacheTTL after DeleteToken.
// FindToken still records use, once a minute, on the lookups it does.
type tokenCache struct {
	bridge.TokenStore
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	tok     bridge.Token
	expires time.Time
}

const (
	tokenCacheTTL = time.Second
	// tokenCacheMax bounds the map; past it the cache starts over.
	tokenCacheMax = 1024
)

func newTokenCache(s bridge.TokenStore) *tokenCache {
	return &tokenCache{TokenStore: s, now: time.Now, entries: map[string]cachedToken{}}
}

func (c *tokenCache) FindToken(ctx context.Context, hash []byte) (bridge.Token, error) {
	t := c.now()
	c.mu.Lock()
	e, ok := c.entries[string(hash)]
	c.mu.Unlock()
	if ok && t.Before(e.expires) {
		return e.tok, nil
	}
	tok, err := c.TokenStore.FindToken(ctx, hash)
	if err != nil {
		return tok, err
	}
	c.mu.Lock()
	if len(c.entries) >= tokenCacheMax {
		clear(c.entries)
	}
	c.entries[string(hash)] = cachedToken{tok: tok, expires: t.Add(tokenCacheTTL)}
	c.mu.Unlock()
	return tok, nil
}
