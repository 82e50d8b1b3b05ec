// Package engine schedules a crawl: it pulls start requests from the spider
// as they are needed, keeps the frontier of requests to fetch and the set of
// requests already seen, and drains the frontier with a fixed pool of workers
// that fetch, parse, and hand items on.
package engine

import (
	"context"
	"iter"
	"log/slog"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"crawl/downloader"
	"crawl/item"
	"crawl/spider"
	"crawl/stats"
	"crawl/urls"
)

// DefaultWorkers is the size of the worker pool when Config.Workers is zero,
// as Scrapy's CONCURRENT_REQUESTS.
const DefaultWorkers = 16

// Config configures an Engine. The zero value means the defaults: 16
// workers, no rate limit, no depth limit, no page limit.
type Config struct {
	// Workers is the number of requests fetched and parsed at once: the
	// engine starts exactly this many worker goroutines.
	Workers int
	// Rate caps requests per second across the whole crawl, with a burst of
	// one. Zero means no cap.
	Rate float64
	// Depth is the most links followed from a start request: start requests
	// have depth 0, links found on them depth 1. Zero means no limit.
	Depth int
	// MaxPages stops scheduling after this many requests. Zero means no limit.
	MaxPages int
	// Canon is the canonical form that requests are de-duplicated by.
	Canon urls.Canon
	// Stats receives the crawl's counters. Nil means a private Stats.
	Stats *stats.Stats
	// Log receives one line per failed request and per skipped start URL.
	// Nil means slog.Default().
	Log *slog.Logger
}

// Fetcher fetches one request. A response of any status is not an error.
type Fetcher interface {
	Fetch(ctx context.Context, req *downloader.Request) (*downloader.Response, error)
}

// Spider produces the start requests and parses responses.
type Spider interface {
	// Accepts reports whether Parse can read a successful response (by its
	// content type, say); the others are counted and not parsed.
	Accepts(resp *downloader.Response) bool
	// StartRequests yields the start requests lazily; the engine cancels
	// ctx when it wants no more.
	StartRequests(ctx context.Context) iter.Seq2[*downloader.Request, error]
	Parse(resp *downloader.Response) iter.Seq[spider.Result]
}

// Reason says why a crawl ended.
type Reason string

// The reasons Run returns.
const (
	Finished  Reason = "finished"  // nothing left to fetch
	MaxPages  Reason = "max_pages" // Config.MaxPages requests were made
	Stopped   Reason = "stopped"   // Stop was called
	Cancelled Reason = "cancelled" // the context was cancelled
)

// Engine runs one crawl. Create it with New; call Run once.
type Engine struct {
	cfg     Config
	spider  Spider
	fetcher Fetcher
	limiter *rate.Limiter

	stopOnce sync.Once
	stop     chan struct{}
}

// New returns an Engine that crawls s with f.
func New(cfg Config, s Spider, f Fetcher) *Engine {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Stats == nil {
		cfg.Stats = new(stats.Stats)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	e := &Engine{cfg: cfg, spider: s, fetcher: f, stop: make(chan struct{})}
	if cfg.Rate > 0 {
		e.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	return e
}

// Stop asks a running crawl to end gracefully: no new request is started,
// and requests already in flight finish and hand on their items. Run then
// returns Stopped. Stop is safe to call from any goroutine, more than once.
func (e *Engine) Stop() {
	e.stopOnce.Do(func() { close(e.stop) })
}

// start is one value of the start-request stream.
type start struct {
	req *downloader.Request
	fp  uint64
	err error
}

// link is a request discovered on a page, with its fingerprint.
type link struct {
	req *downloader.Request
	fp  uint64
}

// result is what a worker reports to the scheduler when it is done with a
// request: the links the page led to.
type result struct {
	links []link
}

// Run crawls until nothing is left to fetch, a limit is reached, Stop is
// called, or ctx is cancelled, and sends every item it extracts on out. It
// does not close out. It returns only when every goroutine it started has
// returned. Cancelling ctx aborts requests in flight; for a graceful end,
// call Stop and cancel ctx only if the requests in flight take too long.
func (e *Engine) Run(ctx context.Context, out chan<- *item.Item) (Reason, error) {
	g, gctx := errgroup.WithContext(ctx)
	// Bounded queue: the scheduler hands requests to the workers over a
	// channel that holds one per worker. The frontier behind it is where the
	// backlog waits.
	reqs := make(chan *downloader.Request, e.cfg.Workers)
	results := make(chan result, e.cfg.Workers)
	starts := make(chan start)

	feedCtx, stopFeed := context.WithCancel(gctx)
	defer stopFeed()
	g.Go(func() error {
		defer close(starts)
		e.feed(feedCtx, starts)
		return nil
	})
	for range e.cfg.Workers {
		g.Go(func() error { return e.work(gctx, reqs, results, out) })
	}
	var reason Reason
	g.Go(func() error {
		defer close(reqs)
		defer stopFeed()
		var err error
		reason, err = e.schedule(gctx, reqs, results, starts)
		return err
	})
	err := g.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return Cancelled, ctx.Err()
		}
		return Cancelled, err
	}
	return reason, nil
}

// feed pulls start requests from the spider's generator one at a time, only
// as fast as the scheduler takes them: the generator is never run ahead.
func (e *Engine) feed(ctx context.Context, starts chan<- start) {
	for req, err := range e.spider.StartRequests(ctx) {
		s := start{req: req, err: err}
		if err == nil {
			s.fp, s.err = e.cfg.Canon.Fingerprint(req.URL)
		}
		select {
		case starts <- s:
		case <-ctx.Done():
			return
		}
	}
}

// schedule is the one owner of the frontier, the seen set and the count of
// requests in flight. It hands requests to the workers, takes back the links
// they found, and ends the crawl when the frontier is empty, the start
// requests are exhausted and nothing is in flight. Because it always accepts
// results while it waits to hand out work, workers that both consume and
// produce requests can never deadlock on a full queue.
func (e *Engine) schedule(ctx context.Context, reqs chan<- *downloader.Request, results <-chan result, starts <-chan start) (Reason, error) {
	var (
		frontier   Frontier = &fifo{}
		seen                = seenSet{}
		inflight   int
		dispatched int
		next       *downloader.Request
		stopping   bool
		reason     = Finished
		stop       = e.stop
		st         = e.cfg.Stats
	)
	for {
		if next == nil && !stopping {
			next, _ = frontier.Pop()
		}
		// Pull a start request only when the frontier has nothing to offer,
		// so memory stays flat however many start requests there are.
		pull := starts
		if next != nil || stopping {
			pull = nil
		}
		if next == nil && pull == nil && inflight == 0 {
			return reason, nil
		}
		var send chan<- *downloader.Request
		if next != nil {
			send = reqs
		}
		select {
		case send <- next:
			next = nil
			inflight++
			dispatched++
			if e.cfg.MaxPages > 0 && dispatched >= e.cfg.MaxPages {
				stopping, reason = true, MaxPages
			}
		case s, ok := <-pull:
			if !ok {
				starts = nil
				continue
			}
			if s.err != nil {
				st.Inc(stats.StartErrors)
				e.cfg.Log.Warn("start URL skipped", "error", s.err)
				continue
			}
			// Start requests are always fetched, even when repeated, as in
			// Scrapy; they still enter the seen set so links back to them
			// are not fetched again.
			seen.add(s.fp)
			next = s.req
		case r := <-results:
			inflight--
			if stopping {
				continue
			}
			for _, l := range r.links {
				if seen.add(l.fp) {
					frontier.Push(l.req)
				} else {
					st.Inc(stats.Duplicates)
				}
			}
		case <-stop:
			stop = nil
			stopping, reason = true, Stopped
		case <-ctx.Done():
			return Cancelled, ctx.Err()
		}
	}
}

// work is one worker: it fetches and parses requests until reqs is closed.
func (e *Engine) work(ctx context.Context, reqs <-chan *downloader.Request, results chan<- result, out chan<- *item.Item) error {
	for req := range reqs {
		r, err := e.handle(ctx, req, out)
		if err != nil {
			return err
		}
		select {
		case results <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// handle fetches one request, sends its items on out and returns its links.
// It returns an error only when ctx is done.
func (e *Engine) handle(ctx context.Context, req *downloader.Request, out chan<- *item.Item) (result, error) {
	st, log := e.cfg.Stats, e.cfg.Log
	if e.limiter != nil {
		if err := e.limiter.Wait(ctx); err != nil {
			return result{}, ctx.Err()
		}
	}
	select {
	case <-e.stop:
		return result{}, nil // stopped while waiting for the rate limiter
	default:
	}
	st.Inc(stats.Requests)
	log.Debug("fetch", "url", req.URL, "depth", req.Depth)
	resp, err := e.fetcher.Fetch(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		kind := downloader.ErrorKind(err)
		st.Inc(stats.Errors + kind)
		log.Warn("request failed", "url", req.URL, "kind", kind, "error", err)
		return result{}, nil
	}
	st.Inc(stats.Pages)
	st.Add(stats.Bytes, int64(len(resp.Body)))
	st.Inc(stats.Status + strconv.Itoa(resp.Status))
	if resp.Truncated {
		st.Inc(stats.Truncated)
		log.Warn("body truncated", "url", req.URL, "bytes", len(resp.Body))
	}
	if resp.Status < 200 || resp.Status > 299 {
		log.Info("response not parsed", "url", req.URL, "status", resp.Status)
		return result{}, nil
	}
	if !e.spider.Accepts(resp) {
		st.Inc(stats.Skipped + "content_type")
		log.Debug("response not parsed", "url", req.URL, "content_type", resp.ContentType())
		return result{}, nil
	}
	var r result
	for res := range e.spider.Parse(resp) {
		switch {
		case res.Item != nil:
			st.Inc(stats.ItemsScraped)
			select {
			case out <- res.Item:
			case <-ctx.Done():
				return result{}, ctx.Err()
			}
		case res.Request != nil:
			if e.cfg.Depth > 0 && res.Request.Depth > e.cfg.Depth {
				st.Inc(stats.DepthLimited)
				continue
			}
			fp, err := e.cfg.Canon.Fingerprint(res.Request.URL)
			if err != nil {
				st.Inc(stats.LinksSkipped + "invalid")
				continue
			}
			r.links = append(r.links, link{req: res.Request, fp: fp})
		case res.Skip != "":
			st.Inc(stats.LinksSkipped + res.Skip)
		}
	}
	return r, nil
}
