package bridge

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
)

// The memberships follow the read (every member must exist first), when
// the reading side of the engine is idle. A store that runs parallel
// transactions in parallel (ParallelStore: PostgreSQL) gets them as
// several transactions at once: a full sync of 100,000 users writes about
// 300,000 rows there, 4.8 s in one transaction, 3.1 s in two at a time.
// SQLite, one writer, gets them one transaction per batch of groups, as
// before (cut finer, they cost it more).

// memberRowsPerApply bounds one membership transaction when several run at
// once, so that a few large groups and many small ones spread over the
// writers; a group larger than that is a transaction of its own.
const memberRowsPerApply = 50_000

// memberships sets the member lists of items, and their content hashes, in
// transactions of at most k.size groups (and, with parallel writers,
// memberRowsPerApply rows), the largest first. Each transaction is all or
// nothing, as every batch of a sync is; after a failure no new one starts,
// and the first failure is the run's message.
func (k *sink) memberships(ctx context.Context, items []PlanItem) string {
	writers, rows := 1, math.MaxInt
	if p, ok := k.s.e.Store.(ParallelStore); ok && p.Writers() > 1 {
		writers, rows = p.Writers(), memberRowsPerApply
	}
	batches := membershipBatches(items, k.size, rows)
	if len(batches) == 0 {
		return ""
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		msg  string
		next int
		wg   sync.WaitGroup
	)
	for range min(writers, len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if msg != "" || next == len(batches) {
					mu.Unlock()
					return
				}
				b := batches[next]
				next++
				mu.Unlock()
				if m := k.applyMembers(ctx, b); m != "" {
					mu.Lock()
					if msg == "" {
						msg = m
					}
					mu.Unlock()
					cancel() // the other writer's transaction rolls back
					return
				}
			}
		}()
	}
	wg.Wait()
	return msg
}

func (k *sink) applyMembers(ctx context.Context, batch []PlanItem) string {
	if err := ctx.Err(); err != nil {
		return fmt.Sprintf("cancelled after writing %d of %d objects, before all group memberships were set", k.written, k.total)
	}
	// Each group's content hash (written empty before: sink.put) goes in
	// the transaction that sets its members.
	c := Changes{SetMembers: make(map[string][]Member, len(batch)), GroupHashes: make(map[string]string, len(batch))}
	for _, it := range batch {
		c.SetMembers[it.ID] = nonNilMembers(it.Group.Members)
		c.GroupHashes[it.ID] = it.Group.Hash
	}
	if err := k.s.e.Store.Apply(ctx, k.s.opt.Account, c); err != nil {
		return fmt.Sprintf("setting group memberships failed after %d of %d objects were written: %v", k.written, k.total, err)
	}
	return ""
}

// membershipBatches cuts items, in order, into batches of at most maxGroups
// groups and maxRows members (a larger group alone), and returns them the
// largest first, so that the writers finish together.
func membershipBatches(items []PlanItem, maxGroups, maxRows int) [][]PlanItem {
	type batch struct {
		items []PlanItem
		rows  int
	}
	var batches []batch
	start, rows := 0, 0
	for i, it := range items {
		n := max(1, len(it.Group.Members))
		if i > start && (i-start == maxGroups || rows+n > maxRows) {
			batches = append(batches, batch{items[start:i], rows})
			start, rows = i, 0
		}
		rows += n
	}
	if start < len(items) {
		batches = append(batches, batch{items[start:], rows})
	}
	slices.SortStableFunc(batches, func(a, b batch) int { return b.rows - a.rows })
	out := make([][]PlanItem, len(batches))
	for i, b := range batches {
		out[i] = b.items
	}
	return out
}
