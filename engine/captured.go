package engine

import (
	"context"
	"iter"

	"crawl/downloader"
	"crawl/spider"
)

// results yields what the spider finds on resp, then on each response the
// rendering of resp captured (downloader.Response.Captured) that the
// spider can read: the API answers behind a page are scraped as pages of
// their own.
func (e *Engine) results(ctx context.Context, resp *downloader.Response) iter.Seq[spider.Result] {
	return func(yield func(spider.Result) bool) {
		for res := range e.spider.ParseContext(ctx, resp) {
			if !yield(res) {
				return
			}
		}
		for _, c := range resp.Captured {
			if c.Status < 200 || c.Status > 299 || !e.spider.Accepts(c) {
				continue
			}
			for res := range e.spider.ParseContext(ctx, c) {
				if !yield(res) {
					return
				}
			}
		}
	}
}
