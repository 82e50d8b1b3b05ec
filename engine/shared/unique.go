package shared

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/redis/go-redis/v9"

	"crawl/engine"
)

//go:embed unique.lua
var uniqueLua string

var uniqueScript = redis.NewScript(uniqueLua)

// ClaimKeys implements engine.KeyClaimer: the unique keys of a page's
// items, in the hash crawl:NAME:unique shared by every process of the
// crawl, in one script call. A key belongs to the first page that claims
// it; the same page claims it again only in another process, which
// fetches it again because the process that claimed it first died before
// committing it. A key claimed by a page whose process died after its
// items were written but before the commit is then kept twice: once in
// the output of each process, as every item of such a page is.
func (f *Frontier) ClaimKeys(ctx context.Context, page uint64, keys []uint64, fresh []bool) error {
	args := make([]any, 0, 2+len(keys))
	args = append(args, fingerprint(page), f.proc)
	for _, k := range keys {
		args = append(args, fingerprint(k))
	}
	res, err := uniqueScript.Run(ctx, f.rdb, []string{f.Key("unique")}, args...).Int64Slice()
	if err != nil {
		return fmt.Errorf("claim unique keys in Redis: %w", err)
	}
	if len(res) != len(keys) {
		return fmt.Errorf("claim unique keys in Redis: %d answers for %d keys", len(res), len(keys))
	}
	for i, n := range res {
		fresh[i] = n == 1
	}
	return nil
}

var _ engine.KeyClaimer = (*Frontier)(nil)
