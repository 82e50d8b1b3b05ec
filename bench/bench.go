// Package bench measures crawl: the pieces `crawl bench` and the benchmark
// suite share. Crawl runs one crawl through the real engine, spider and item
// pipeline; MemFetcher serves the synthetic site of package site without a
// network; Timed records how long each fetch takes in a Histogram; Usage
// reads the CPU time and peak memory of the process.
//
// The Go benchmarks of the hot paths are in this package's tests
// (go test -bench . -benchmem ./bench/), the end-to-end comparison with a
// plain HTTP getter in bench/e2e (go run ./bench/e2e).
package bench

import (
	"context"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"crawl/bench/site"
	"crawl/downloader"
	"crawl/engine"
	"crawl/item"
	"crawl/pipeline"
	"crawl/spider"
	"crawl/stats"
	"crawl/urls"
)

// Crawl runs one crawl of sp with f through the real engine and item
// pipeline (the spider's checks, then the JSON Lines writer), writing the
// items to w, as `crawl run` does. It counts into cfg.Stats (nil: counts
// are lost), logs nothing, and returns why the crawl ended.
func Crawl(ctx context.Context, cfg engine.Config, sp *spider.Spider, f engine.Fetcher, w io.Writer) (engine.Reason, error) {
	log := slog.New(slog.DiscardHandler)
	cfg.Log = log
	if cfg.Stats == nil {
		cfg.Stats = new(stats.Stats)
	}
	eng := engine.New(cfg, sp, f)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan *item.Item, 2*max(cfg.Workers, 1))
	var reason engine.Reason
	var g errgroup.Group
	g.Go(func() error {
		defer close(items)
		var err error
		reason, err = eng.Run(ctx, items)
		return err
	})
	kept := pipeline.Filter(ctx, items, sp.Check, cfg.Stats, log)
	writeErr := pipeline.Write(kept, pipeline.NewJSONL(w), cfg.Stats)
	if writeErr != nil {
		cancel()
	}
	runErr := g.Wait()
	for range kept {
		// After a failed write: let Filter finish and close kept.
	}
	if writeErr != nil {
		return reason, writeErr
	}
	return reason, runErr
}

// Config returns the engine configuration of a benchmark crawl with the
// given number of workers: every worker may fetch from the one host of the
// synthetic site at once (Politeness.PerHost is workers, not 8), since the
// point is the crawler's capacity, not its manners.
func Config(workers int, st *stats.Stats) engine.Config {
	return engine.Config{
		Workers:    workers,
		Politeness: engine.Politeness{PerHost: workers},
		Canon:      urls.DefaultCanon,
		Stats:      st,
	}
}

// MemFetcher fetches pages from a Site in memory, with no HTTP: each
// response body is a fresh copy of the page, as the downloader's would be.
// It is safe for concurrent use.
type MemFetcher struct {
	Site *site.Site
}

var htmlHeader = http.Header{"Content-Type": {"text/html; charset=utf-8"}}

// Fetch returns the page at req.URL's path, or a 404 response. It never
// asks for robots.txt.
func (m MemFetcher) Fetch(_ context.Context, req *downloader.Request) (*downloader.Response, error) {
	path := req.URL
	if _, rest, ok := strings.Cut(path, "://"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			path = rest[i:]
		}
	}
	body, ok := m.Site.Page(path)
	status := http.StatusOK
	if !ok {
		status = http.StatusNotFound
	}
	return &downloader.Response{Request: req, URL: req.URL, Status: status, Header: htmlHeader, Body: body}, nil
}

// Timed is a fetcher that records how long each fetch of the fetcher it
// wraps takes, response body included. It is safe for concurrent use.
type Timed struct {
	Fetcher engine.Fetcher
	Latency Histogram
}

// Fetch fetches req with t.Fetcher and records the time it took, whatever
// the outcome.
func (t *Timed) Fetch(ctx context.Context, req *downloader.Request) (*downloader.Response, error) {
	began := time.Now()
	resp, err := t.Fetcher.Fetch(ctx, req)
	t.Latency.Record(time.Since(began))
	return resp, err
}

// CrawlDelay returns the robots.txt Crawl-delay the wrapped fetcher reports
// for host, if it reports any, so that the engine schedules a timed fetcher
// as it would the fetcher itself.
func (t *Timed) CrawlDelay(host string) time.Duration {
	if cd, ok := t.Fetcher.(interface{ CrawlDelay(string) time.Duration }); ok {
		return cd.CrawlDelay(host)
	}
	return 0
}

// Histogram counts durations in buckets whose width is at most 1/32 of
// their lower bound, so a quantile it reports is within about 3% of the
// true one, in fixed memory whatever the number of durations. The zero
// value is empty and ready to use; it is safe for concurrent use.
type Histogram struct {
	counts [histBuckets]atomic.Int64
}

const (
	subBits     = 5 // 32 buckets for each power of two
	histBuckets = (64 - subBits + 1) << subBits
)

// bucket returns the bucket of d nanoseconds: below 32 one per value, then
// 32 per power of two.
func bucket(d uint64) int {
	if d < 1<<subBits {
		return int(d)
	}
	shift := bits.Len64(d) - subBits - 1
	return (shift+1)<<subBits + int(d>>shift) - 1<<subBits
}

// bucketMid returns the middle of bucket b, in nanoseconds.
func bucketMid(b int) float64 {
	if b < 1<<subBits {
		return float64(b)
	}
	shift := b>>subBits - 1
	low := uint64(b&(1<<subBits-1)+1<<subBits) << shift
	return float64(low) + float64(uint64(1)<<shift)/2
}

// Record counts one duration; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucket(uint64(max(d, 0)))].Add(1)
}

// Count returns the number of durations recorded.
func (h *Histogram) Count() int64 {
	var n int64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// Quantile returns the duration below which the fraction q (0 to 1) of the
// recorded durations fall, or 0 when none were recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(bucketMid(i))
		}
	}
	return 0 // not reached: seen ends at n
}

// Usage is what the operating system says a process has used so far.
type Usage struct {
	User, Sys time.Duration // CPU time
	MaxRSS    int64         // peak resident memory, in bytes
}

// CPU returns the CPU time used, user and system together.
func (u Usage) CPU() time.Duration { return u.User + u.Sys }

// Sub returns the CPU time used since an earlier reading; MaxRSS is u's,
// as a peak cannot be subtracted.
func (u Usage) Sub(earlier Usage) Usage {
	return Usage{User: u.User - earlier.User, Sys: u.Sys - earlier.Sys, MaxRSS: u.MaxRSS}
}

// SelfUsage returns the usage of this process so far, or the zero Usage
// where the system does not say.
func SelfUsage() Usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Usage{}
	}
	return RusageOf(&ru)
}

// RusageOf converts a rusage, such as an exited child's
// (ProcessState.SysUsage), to a Usage.
func RusageOf(ru *syscall.Rusage) Usage {
	return Usage{
		User:   time.Duration(ru.Utime.Nano()),
		Sys:    time.Duration(ru.Stime.Nano()),
		MaxRSS: int64(ru.Maxrss) * 1024, // kilobytes on Linux
	}
}
