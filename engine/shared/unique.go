package shared

import (
	"context"
	"fmt"
	"time"

	"crawl/engine"
)

// ClaimKeys implements engine.KeyClaimer: the unique keys of a page's
// items, in the hash crawl:NAME:unique shared by every process of the
// crawl, in one script call. A key belongs to the first page that claims
// it, and to that page again when it is fetched again (by another process,
// after the one that claimed it first died before committing it), so a
// page's items are never lost to its own earlier claim. A key claimed by a
// page whose process died after its items were written but before the
// commit is then kept twice: once in the output of each process, as every
// item of such a page is.
//
// The call goes through the frontier's script, so it checks that the
// crawl is still in Redis and waits for a Redis that does not answer, as
// every other call does; it is safe to make twice.
func (f *Frontier) ClaimKeys(ctx context.Context, page uint64, keys []uint64, fresh []bool) error {
	// A key twice on one page: the later items are duplicates of the
	// page's own first one. Told apart here, so that the script may take
	// every claim by the same page as that page's.
	args := make([]any, 0, 1+len(keys))
	args = append(args, fingerprint(page))
	sent := make([]int, 0, len(keys))
	first := make(map[uint64]bool, len(keys))
	for i, k := range keys {
		fresh[i] = false
		if first[k] {
			continue
		}
		first[k] = true
		sent = append(sent, i)
		args = append(args, fingerprint(k))
	}
	if len(sent) == 0 {
		return nil
	}
	res, err := f.callInts(ctx, time.Now(), "unique", args...)
	if err != nil {
		return fmt.Errorf("claim unique keys in Redis: %w", err)
	}
	if len(res) != len(sent) {
		return fmt.Errorf("claim unique keys in Redis: %d answers for %d keys", len(res), len(sent))
	}
	for j, i := range sent {
		fresh[i] = res[j] == 1
	}
	return nil
}

var _ engine.KeyClaimer = (*Frontier)(nil)
