package scimapi

import (
	"context"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// healthTTL bounds how often /readyz reads the runs of every account: load
// balancers probe every few seconds, on every replica.
const healthTTL = 5 * time.Second

// healthCache keeps the last sync state of every account for healthTTL.
type healthCache struct {
	store bridge.Store

	mu    sync.Mutex
	at    time.Time
	value []bridge.SyncHealth
}

func (c *healthCache) get(ctx context.Context) ([]bridge.SyncHealth, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.value != nil && time.Since(c.at) < healthTTL {
		return c.value, nil
	}
	v, err := bridge.SyncHealthOf(ctx, c.store)
	if err != nil {
		return nil, err
	}
	c.value, c.at = v, time.Now()
	return v, nil
}
