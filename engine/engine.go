// Package engine schedules a crawl: it pulls start requests from the spider
// as they are needed, keeps the frontier of requests to fetch and the set of
// requests already seen, and drains the frontier with a fixed pool of workers
// that fetch, parse, and hand items on.
package engine

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
// workers, no rate limit, no depth limit, no page or error limit.
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
	// MaxErrors stops the crawl gracefully once this many requests have
	// failed (got no response). Zero means no limit.
	MaxErrors int
	// Politeness limits the requests to each host.
	Politeness Politeness
	// QueueMemory is the most requests waiting to be fetched that are kept
	// in memory; the rest wait in a temporary file in SpillDir. Zero means
	// DefaultQueueMemory.
	QueueMemory int
	// SpillDir is where that file is made. Empty means os.TempDir().
	SpillDir string
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

// crawlDelayer is what a Fetcher that reads robots.txt may also offer: the
// Crawl-delay a host asks for, or 0. The engine waits at least that long
// between requests to the host.
type crawlDelayer interface {
	CrawlDelay(host string) time.Duration
}

// Spider produces the start requests and parses responses.
type Spider interface {
	// StartRequests yields the start requests lazily; the engine cancels
	// ctx when it wants no more.
	StartRequests(ctx context.Context) iter.Seq2[*downloader.Request, error]
	// Accepts reports whether Parse can read a successful response (by its
	// content type, say); the others are counted and not parsed.
	Accepts(resp *downloader.Response) bool
	Parse(resp *downloader.Response) iter.Seq[spider.Result]
}

// Reason says why a crawl ended.
type Reason string

// The reasons Run returns. Stop may give others.
const (
	Finished    Reason = "finished"    // nothing left to fetch
	MaxPages    Reason = "max_pages"   // Config.MaxPages requests were made
	MaxErrors   Reason = "max_errors"  // Config.MaxErrors requests failed
	Interrupted Reason = "interrupted" // stopped by a signal
	Cancelled   Reason = "cancelled"   // the context was cancelled
)

// Engine runs one crawl. Create it with New; call Run once. Its methods are
// safe for concurrent use.
type Engine struct {
	cfg     Config
	spider  Spider
	fetcher Fetcher
	limiter *rate.Limiter

	stopOnce   sync.Once
	stop       chan struct{}
	stopReason Reason // written once, before stop is closed

	errors   atomic.Int64
	queued   atomic.Int64 // frontier length, published by the scheduler
	inflight atomic.Int64 // requests handed out and not yet reported back
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

// Stop asks a running crawl to end gracefully, for the given reason: no new
// request is started, and requests already in flight finish and hand on
// their items. Run then returns the reason of the first call. Stop is safe
// to call from any goroutine, more than once.
func (e *Engine) Stop(reason Reason) {
	e.stopOnce.Do(func() {
		e.stopReason = reason
		close(e.stop)
	})
}

// Load returns how many requests wait in the frontier and how many are in
// flight, as last published by the scheduler: for progress reports.
func (e *Engine) Load() (queued, inflight int64) {
	return e.queued.Load(), e.inflight.Load()
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
// request: the links the page led to, and how the host answered.
type result struct {
	url        string
	links      []link
	latency    time.Duration
	status     int // 0 when the request got no response
	crawlDelay time.Duration
}

// claim asks the scheduler whether a page reached through a redirect is new:
// its answer is true only for the first request that leads to the page.
type claim struct {
	fp    uint64
	reply chan bool
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
	claims := make(chan claim)
	starts := make(chan start)

	feedCtx, stopFeed := context.WithCancel(gctx)
	defer stopFeed()
	g.Go(func() error {
		defer close(starts)
		e.feed(feedCtx, starts)
		return nil
	})
	w := &worker{e: e, results: results, claims: claims, out: out}
	for range e.cfg.Workers {
		g.Go(func() error { return w.run(gctx, reqs) })
	}
	var reason Reason
	g.Go(func() error {
		defer close(reqs)
		defer stopFeed()
		var err error
		reason, err = e.schedule(gctx, reqs, results, claims, starts)
		return err
	})
	if err := g.Wait(); err != nil {
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

// startBuffer is how many requests may wait in the frontier before the
// scheduler stops pulling start requests: enough to keep every worker busy
// when some hosts are at their limits, few enough that memory stays flat
// however many start requests there are.
func (e *Engine) startBuffer() int { return 4 * e.cfg.Workers }

// schedule is the one owner of the frontier, the seen set and the count of
// requests in flight. It hands requests to the workers, takes back the links
// they found, and ends the crawl when the frontier is empty, the start
// requests are exhausted and nothing is in flight. Because it always accepts
// results while it waits to hand out work, workers that both consume and
// produce requests can never deadlock on a full queue.
func (e *Engine) schedule(ctx context.Context, reqs chan<- *downloader.Request, results <-chan result, claims <-chan claim, starts <-chan start) (Reason, error) {
	var (
		frontier   = newFrontier(e.cfg.Politeness, e.cfg.QueueMemory, e.cfg.SpillDir)
		seen       = new(seenSet)
		inflight   int
		dispatched int
		next       *downloader.Request
		stopping   bool
		reason     = Finished
		stop       = e.stop
		st         = e.cfg.Stats
		timer      = time.NewTimer(time.Hour)
		wake       <-chan time.Time // fires when a host's delay has passed
	)
	timer.Stop()
	defer timer.Stop()
	defer frontier.Close()
	for {
		if next == nil && !stopping {
			var wait time.Duration
			var err error
			next, wait, err = frontier.Pop(time.Now())
			if err != nil {
				return Cancelled, err
			}
			wake = nil
			if wait > 0 {
				timer.Reset(wait)
				wake = timer.C
			}
		}
		e.queued.Store(int64(frontier.Len()))
		e.inflight.Store(int64(inflight))
		// Pull start requests only while the frontier is nearly empty.
		pull := starts
		if stopping || frontier.Len() >= e.startBuffer() {
			pull = nil
		}
		if next == nil && pull == nil && inflight == 0 && (stopping || frontier.Len() == 0) {
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
		case <-wake:
			wake = nil
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
			if err := frontier.Push(s.req, time.Now()); err != nil {
				return Cancelled, err
			}
		case c := <-claims:
			c.reply <- seen.add(c.fp)
		case r := <-results:
			inflight--
			now := time.Now()
			frontier.Done(r.url, now, r.latency, r.status, r.crawlDelay)
			if stopping {
				continue
			}
			for _, l := range r.links {
				if seen.add(l.fp) {
					if err := frontier.Push(l.req, now); err != nil {
						return Cancelled, err
					}
				} else {
					st.Inc(stats.Duplicates)
				}
			}
		case <-stop:
			stop = nil
			stopping, reason = true, e.stopReason
		case <-ctx.Done():
			return Cancelled, ctx.Err()
		}
	}
}

// worker holds what every worker goroutine shares; each goroutine runs
// run with the same worker.
type worker struct {
	e       *Engine
	results chan<- result
	claims  chan<- claim
	out     chan<- *item.Item
}

// run fetches and parses requests until reqs is closed or ctx is done.
func (w *worker) run(ctx context.Context, reqs <-chan *downloader.Request) error {
	for req := range reqs {
		r, err := w.handle(ctx, req)
		if err != nil {
			return err
		}
		select {
		case w.results <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// handle fetches one request, sends its items on out and returns its links.
// It returns an error only when ctx is done.
func (w *worker) handle(ctx context.Context, req *downloader.Request) (result, error) {
	e := w.e
	st, log := e.cfg.Stats, e.cfg.Log
	r := result{url: req.URL}
	if e.limiter != nil {
		if err := e.limiter.Wait(ctx); err != nil {
			return r, ctx.Err()
		}
	}
	select {
	case <-e.stop:
		return r, nil // stopped while this request waited its turn
	default:
	}
	st.Inc(stats.Requests)
	log.Debug("fetch", "url", req.URL, "depth", req.Depth)
	began := time.Now()
	resp, err := e.fetcher.Fetch(ctx, req)
	r.latency = time.Since(began)
	if cd, ok := e.fetcher.(crawlDelayer); ok {
		r.crawlDelay = cd.CrawlDelay(hostKey(req.URL))
	}
	if err != nil {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		if errors.Is(err, downloader.ErrRobotsDenied) {
			// Not sent, by choice: counted apart, and never an error.
			st.Inc(stats.RobotsDenied)
			log.Debug("request denied by robots.txt", "url", req.URL, "error", err)
			return r, nil
		}
		kind := downloader.ErrorKind(err)
		st.Inc(stats.Errors + kind)
		log.Warn("request failed", "url", req.URL, "kind", kind, "error", err)
		if n := e.errors.Add(1); e.cfg.MaxErrors > 0 && n >= int64(e.cfg.MaxErrors) {
			e.Stop(MaxErrors)
		}
		return r, nil
	}
	r.status = resp.Status
	st.Inc(stats.Pages)
	st.Add(stats.Bytes, int64(len(resp.Body)))
	st.Inc(stats.Status + strconv.Itoa(resp.Status))
	if resp.Truncated {
		st.Inc(stats.Truncated)
		log.Warn("body truncated", "url", req.URL, "bytes", len(resp.Body))
	}
	if resp.Status < 200 || resp.Status > 299 {
		log.Info("response not parsed", "url", req.URL, "status", resp.Status)
		return r, nil
	}
	if !e.spider.Accepts(resp) {
		st.Inc(stats.Skipped + "content_type")
		log.Debug("response not parsed", "url", req.URL, "content_type", resp.ContentType())
		return r, nil
	}
	if resp.URL != req.URL {
		// Reached through a redirect: parse the page only if no other
		// request has led, or will lead, to it.
		fresh, err := w.claim(ctx, resp.URL)
		if err != nil {
			return r, err
		}
		if !fresh {
			st.Inc(stats.Skipped + "duplicate_redirect")
			log.Debug("response not parsed: page already seen", "url", req.URL, "final", resp.URL)
			return r, nil
		}
	}
	for res := range e.spider.Parse(resp) {
		switch {
		case res.Item != nil:
			st.Inc(stats.ItemsScraped)
			select {
			case w.out <- res.Item:
			case <-ctx.Done():
				return r, ctx.Err()
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

// claim asks the scheduler whether the page at url is new to the crawl.
func (w *worker) claim(ctx context.Context, url string) (bool, error) {
	fp, err := w.e.cfg.Canon.Fingerprint(url)
	if err != nil {
		return true, nil // not canonicalisable: cannot be a duplicate
	}
	c := claim{fp: fp, reply: make(chan bool, 1)}
	select {
	case w.claims <- c:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case fresh := <-c.reply:
		return fresh, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}
