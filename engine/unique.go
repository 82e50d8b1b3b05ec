package engine

import (
	"context"
	"fmt"

	"crawl/downloader"
	"crawl/item"
	"crawl/stats"
)

// KeyClaimer is a Committer that keeps the unique keys of the crawl's items
// (an item rule's unique fields) with the rest of the crawl's state, so
// that uniqueness holds across runs of one crawl (a --state directory) and
// across the processes sharing it (a shared frontier). Without one, the
// spider remembers the keys in memory, for one run of one process.
//
// A key belongs to the page whose items first kept it: the page fetched by
// the request with a given fingerprint. Since a page whose items were
// never committed is fetched again after a crash, the claims of a page
// must be forgotten, or given to that page again, until it is committed;
// a claim by any other page is a duplicate. Then every unique item is
// written exactly once whenever the process dies.
type KeyClaimer interface {
	Committer
	// ClaimKeys claims keys for the page fetched by the request whose
	// fingerprint is page, and sets fresh[i] to whether the page may keep
	// an item with keys[i]: no other page has claimed it, and no earlier
	// key of this call is the same. len(fresh) == len(keys). An error
	// stops the crawl. It is called by the workers, and must be safe for
	// concurrent use with every other method.
	ClaimKeys(ctx context.Context, page uint64, keys []uint64, fresh []bool) error
}

// ItemChecker is a Spider that checks its items and gives their unique
// keys, which the engine claims from a KeyClaimer frontier before it sends
// a page's items on: spider.Spider is one. Its methods are called by the
// workers, and must be safe for concurrent use.
type ItemChecker interface {
	// Validate returns nil if the item may be kept but for its unique key;
	// the engine claims keys only for such items, so that an item dropped
	// for another reason never hides a later good one. It may remove
	// fields from the item, and must keep an item it kept when called
	// again.
	Validate(it *item.Item) error
	// UniqueKey returns the item's unique key; false when it has none.
	UniqueKey(it *item.Item) (uint64, bool)
}

// dropDuplicate is the reason counted, under stats.ItemsDropped, for an
// item whose unique key another page claimed; the spider's own name for
// it.
const dropDuplicate = "duplicate"

// unique removes from items, the items of the page req fetched, those
// whose unique key another page has claimed, and returns the rest. It
// claims the keys of the items Validate keeps, all in one call.
func (e *Engine) unique(ctx context.Context, req *downloader.Request, items []*item.Item) ([]*item.Item, error) {
	if e.keys == nil || e.checker == nil || len(items) == 0 {
		return items, nil
	}
	var (
		keys  []uint64
		which []int // the index in items of each key
	)
	for i, it := range items {
		if _, ok := e.checker.UniqueKey(it); !ok {
			continue // no key, nor will it have one: Validate only removes fields
		}
		if e.checker.Validate(it) != nil {
			continue // dropped by the pipeline's check, without a claim
		}
		if k, ok := e.checker.UniqueKey(it); ok {
			keys, which = append(keys, k), append(which, i)
		}
	}
	if len(keys) == 0 {
		return items, nil
	}
	page, err := Fingerprint(e.cfg.Canon, req)
	if err != nil {
		return nil, fmt.Errorf("claim the unique keys of %s: %w", req.URL, err)
	}
	fresh := make([]bool, len(keys))
	if err := e.keys.ClaimKeys(ctx, page, keys, fresh); err != nil {
		return nil, fmt.Errorf("claim the unique keys of %s: %w", req.URL, err)
	}
	dup := make(map[int]bool)
	for j, ok := range fresh {
		if !ok {
			dup[which[j]] = true
		}
	}
	if len(dup) == 0 {
		return items, nil
	}
	kept := items[:0]
	for i, it := range items {
		if dup[i] {
			e.cfg.Stats.Inc(stats.ItemsDropped + dropDuplicate)
			e.cfg.Log.Debug("item dropped", "url", it.URL, "reason", dropDuplicate)
			continue
		}
		kept = append(kept, it)
	}
	return kept, nil
}
