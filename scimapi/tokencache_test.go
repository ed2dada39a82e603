package scimapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

type countingTokens struct {
	bridge.TokenStore
	calls int
	tok   map[string]bridge.Token
}

func (c *countingTokens) FindToken(_ context.Context, hash []byte) (bridge.Token, error) {
	c.calls++
	t, ok := c.tok[string(hash)]
	if !ok {
		return bridge.Token{}, bridge.ErrNotFound
	}
	return t, nil
}

// TestTokenCache: a found token is reused for tokenCacheTTL, an unknown one
// is never cached, and a revoked one stops working once the entry expires.
func TestTokenCache(t *testing.T) {
	store := &countingTokens{tok: map[string]bridge.Token{"h1": {ID: "t1", AccountID: "a"}}}
	now := time.Unix(1000, 0)
	c := newTokenCache(store)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for range 3 {
		if tok, err := c.FindToken(ctx, []byte("h1")); err != nil || tok.ID != "t1" {
			t.Fatalf("FindToken = %v, %v", tok, err)
		}
	}
	if store.calls != 1 {
		t.Errorf("%d lookups for 3 requests within the TTL", store.calls)
	}
	for range 2 {
		if _, err := c.FindToken(ctx, []byte("nope")); !errors.Is(err, bridge.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
	}
	if store.calls != 3 {
		t.Errorf("unknown token cached: %d lookups", store.calls)
	}
	delete(store.tok, "h1") // revoked
	now = now.Add(tokenCacheTTL)
	if _, err := c.FindToken(ctx, []byte("h1")); !errors.Is(err, bridge.ErrNotFound) {
		t.Errorf("revoked token still accepted after the TTL: %v", err)
	}
}
