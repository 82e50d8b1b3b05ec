// Package engine schedules a crawl: it pulls start requests from the spider
// as they are needed, keeps the frontier of requests to fetch and the set of
// requests already seen, and drains the frontier with a fixed pool of workers
// that fetch, parse, and hand items on.
package engine

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"crawl/downloader"
	"crawl/item"
	"crawl/spider"
	"crawl/stats"
	"crawl/urls"
)

// DefaultParseMemory is Config.ParseMemory when it is zero. Pages are
// mostly tens of kilobytes, so it holds back only crawls of huge pages.
const DefaultParseMemory = 32 << 20

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
	// Order is the order in which each host's requests are fetched: BFS
	// or DFS. Empty means BFS.
	Order Order
	// Frontier holds the requests waiting, the requests seen and the
	// politeness state. Nil means a MemoryFrontier made from Politeness,
	// QueueMemory, SpillDir and Order, which Run closes; a Frontier given
	// here is the caller's to close, and carries its own politeness and
	// order.
	Frontier Frontier
	// ParseMemory caps the body bytes being parsed at once across the
	// workers: a parsed page holds up to about 20 times its body in memory,
	// so without a cap, many large pages at once could take gigabytes. A
	// page larger than the cap is parsed alone. Zero means
	// DefaultParseMemory.
	ParseMemory int64
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
	// ParseContext yields what a page holds. It must stop soon after ctx
	// is done, however slow the page, ending with a Result whose Err is
	// set, so that Stop's grace period and Ctrl-C hold even while a page
	// is being parsed.
	ParseContext(ctx context.Context, resp *downloader.Response) iter.Seq[spider.Result]
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
	// CommitFailed: the frontier could not record a page as done.
	CommitFailed Reason = "commit_failed"
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
	endOnce    sync.Once
	ending     chan struct{} // closed by Stop or on reaching MaxPages
	endReason  Reason        // written once, before ending is closed
	stopReason Reason        // written once, before stop is closed

	errors   atomic.Int64
	queued   atomic.Int64 // frontier length, published by the scheduler
	inflight atomic.Int64 // requests handed out and not yet reported back

	// committer is cfg.Frontier when it must hear of each page's items
	// being written; emit then keeps each page's items together.
	committer Committer
	emit      sync.Mutex
	// keys is cfg.Frontier when it keeps the items' unique keys, and
	// checker the spider that gives them (see KeyClaimer).
	keys    KeyClaimer
	checker ItemChecker
	// commitFailed is set by the first failed commit, the one logged.
	commitFailed atomic.Bool

	parsing *semaphore.Weighted // body bytes being parsed: Config.ParseMemory
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
	if cfg.ParseMemory <= 0 {
		cfg.ParseMemory = DefaultParseMemory
	}
	e := &Engine{cfg: cfg, spider: s, fetcher: f, stop: make(chan struct{}), ending: make(chan struct{}), parsing: semaphore.NewWeighted(cfg.ParseMemory)}
	e.committer, _ = cfg.Frontier.(Committer)
	e.keys, _ = cfg.Frontier.(KeyClaimer)
	e.checker, _ = s.(ItemChecker)
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
	e.end(reason)
	e.stopOnce.Do(func() {
		e.stopReason = reason
		close(e.stop)
	})
}

// Stopping returns a channel that is closed once the crawl has begun to
// end gracefully: by Stop, or on reaching MaxPages. From then on only
// requests already in flight run; a caller that bounds how long they may
// take (a grace period) starts counting there.
func (e *Engine) Stopping() <-chan struct{} { return e.ending }

// StopReason returns why the crawl began to end, once Stopping is closed,
// and "" before.
func (e *Engine) StopReason() Reason {
	select {
	case <-e.ending:
		return e.endReason
	default:
		return ""
	}
}

// end closes ending, the first time, for reason.
func (e *Engine) end(reason Reason) {
	e.endOnce.Do(func() {
		e.endReason = reason
		close(e.ending)
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
	req        *downloader.Request
	links      []link
	items      []*item.Item  // for a Committer frontier, sent on after the result
	attempted  bool          // fetched or tried; false when stopped first
	queued     chan struct{} // for a Committer: closed once links are queued
	latency    time.Duration
	status     int // 0 when the request got no response
	crawlDelay time.Duration
}

// claim asks the scheduler whether a page reached through a redirect is new:
// its answer is true only for the first request that leads to the page.
type claim struct {
	req   *downloader.Request
	fp    uint64
	reply chan claimReply
}

type claimReply struct {
	fresh bool
	err   error
}

// Run crawls until nothing is left to fetch, a limit is reached, Stop is
// called, or ctx is cancelled, and sends every item it extracts on out. It
// does not close out. It returns only when every goroutine it started has
// returned. Cancelling ctx aborts requests in flight; for a graceful end,
// call Stop and cancel ctx only if the requests in flight take too long.
func (e *Engine) Run(ctx context.Context, out chan<- *item.Item) (Reason, error) {
	fr := e.cfg.Frontier
	if fr == nil {
		m := NewMemoryFrontier(e.cfg.Politeness, e.cfg.QueueMemory, e.cfg.SpillDir, e.cfg.Order)
		defer m.Close()
		fr = m
	}
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
	skip := int64(0)
	if s, ok := fr.(Starter); ok {
		skip = s.StartsTaken()
	}
	g.Go(func() error {
		defer close(starts)
		e.feed(feedCtx, starts, skip)
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
		reason, err = e.schedule(gctx, fr, reqs, results, claims, starts)
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
// The first skip values were taken by an earlier run of the crawl.
func (e *Engine) feed(ctx context.Context, starts chan<- start, skip int64) {
	for req, err := range e.spider.StartRequests(ctx) {
		if skip > 0 {
			skip--
			continue
		}
		s := start{req: req, err: err}
		if err == nil {
			s.fp, s.err = Fingerprint(e.cfg.Canon, req)
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

// schedule is the one user of the frontier, and the owner of the count of
// requests in flight. It hands requests to the workers, takes back the
// links they found, and ends the crawl when the frontier is empty, the
// start requests are exhausted and nothing is in flight (anywhere, for a
// shared frontier). Because it always accepts results while it waits to
// hand out work, workers that both consume and produce requests can never
// deadlock on a full queue.
func (e *Engine) schedule(ctx context.Context, fr Frontier, reqs chan<- *downloader.Request, results <-chan result, claims <-chan claim, starts <-chan start) (Reason, error) {
	var (
		inflight   int
		dispatched int
		next       *downloader.Request
		stopping   bool
		reason     = Finished
		stop       = e.stop
		st         = e.cfg.Stats
		timer      = time.NewTimer(time.Hour)
		wake       <-chan time.Time // fires when a host's delay has passed
		starter, _ = fr.(Starter)
		sharer, _  = fr.(Sharer)
		batcher, _ = fr.(Batcher)
		batch      struct {
			reqs []*downloader.Request
			fps  []uint64
		}
	)
	timer.Stop()
	defer timer.Stop()
	for {
		if next == nil && !stopping {
			var wait time.Duration
			var err error
			next, wait, err = fr.Next(ctx, time.Now())
			if err != nil {
				return Cancelled, fmt.Errorf("take the next request: %w", err)
			}
			wake = nil
			if wait > 0 {
				timer.Reset(wait)
				wake = timer.C
			}
		}
		e.queued.Store(int64(fr.Len()))
		e.inflight.Store(int64(inflight))
		// Pull start requests only while the frontier is nearly empty.
		pull := starts
		if stopping || fr.Len() >= e.startBuffer() {
			pull = nil
		}
		if next == nil && pull == nil && inflight == 0 && (stopping || fr.Len() == 0) {
			if starts == nil && starter != nil {
				if err := starter.StartsDone(ctx); err != nil {
					return Cancelled, fmt.Errorf("record the end of the start requests: %w", err)
				}
				starter = nil
			}
			if stopping || sharer == nil {
				return reason, nil
			}
			// Other processes may still hand links in: over only when
			// they have nothing in flight either, else ask again when
			// the frontier says.
			settled, err := sharer.Settled(ctx)
			if err != nil {
				return Cancelled, fmt.Errorf("ask whether the shared crawl is over: %w", err)
			}
			if settled {
				return reason, nil
			}
			if wake == nil {
				timer.Reset(settlePoll)
				wake = timer.C
			}
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
				e.end(MaxPages)
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
			} else if _, err := fr.Add(ctx, s.req, s.fp, true, time.Now()); err != nil {
				// Start requests are always fetched, even when repeated,
				// as in Scrapy; they still enter the seen set so links
				// back to them are not fetched again.
				return Cancelled, fmt.Errorf("queue a start request: %w", err)
			}
			// Counted once queued, so that a durable frontier never counts
			// a start request it does not hold.
			if starter != nil {
				if err := starter.StartTaken(ctx); err != nil {
					return Cancelled, fmt.Errorf("record a start request taken: %w", err)
				}
			}
		case c := <-claims:
			fresh, err := fr.Claim(ctx, c.req, c.fp)
			c.reply <- claimReply{fresh, err}
		case r := <-results:
			inflight--
			now := time.Now()
			if err := fr.Done(ctx, r.req, now, r.latency, r.status, r.crawlDelay); err != nil {
				return Cancelled, fmt.Errorf("record a request done: %w", err)
			}
			// Links are queued even when stopping: a durable frontier
			// keeps them for the next run.
			if batcher != nil && len(r.links) > 0 {
				batch.reqs, batch.fps = batch.reqs[:0], batch.fps[:0]
				for _, l := range r.links {
					batch.reqs, batch.fps = append(batch.reqs, l.req), append(batch.fps, l.fp)
				}
				added, err := batcher.AddAll(ctx, batch.reqs, batch.fps, now)
				if err != nil {
					return Cancelled, fmt.Errorf("queue the links of a page: %w", err)
				}
				st.Add(stats.Duplicates, int64(len(r.links)-added))
				clear(batch.reqs)
			} else {
				for _, l := range r.links {
					added, err := fr.Add(ctx, l.req, l.fp, false, now)
					if err != nil {
						return Cancelled, fmt.Errorf("queue a link: %w", err)
					}
					if !added {
						st.Inc(stats.Duplicates)
					}
				}
			}
			if r.queued != nil {
				close(r.queued)
			}
		case <-stop:
			stop = nil
			stopping, reason = true, e.stopReason
		case <-ctx.Done():
			return Cancelled, ctx.Err()
		}
	}
}

// settlePoll is how often a process whose share of a shared crawl is done
// asks whether the others are done too.
const settlePoll = 100 * time.Millisecond

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
		commit := r.attempted && w.e.committer != nil
		if commit {
			r.queued = make(chan struct{})
		}
		select {
		case w.results <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
		if commit {
			// Only once the frontier holds the links the page led to may
			// the page be committed: it is never forgotten before them.
			select {
			case <-r.queued:
			case <-ctx.Done():
				return ctx.Err()
			}
			items, err := w.e.unique(ctx, req, r.items)
			if err != nil {
				return err
			}
			if err := w.emit(ctx, req, items); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit sends the items of one page on together, so that no other page's
// items come between them, and then a mark that commits the page to the
// frontier once they are written.
func (w *worker) emit(ctx context.Context, req *downloader.Request, items []*item.Item) error {
	e := w.e
	e.emit.Lock()
	defer e.emit.Unlock()
	for _, it := range append(items, item.NewMark(func() { e.commit(req) })) {
		select {
		case w.out <- it:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// commit tells the frontier that req's items are written. A frontier that
// cannot record it stops the crawl: what it has not recorded will be
// fetched again by the next run, never lost.
func (e *Engine) commit(req *downloader.Request) {
	if err := e.committer.Commit(req); err != nil {
		// The pages in flight fail alike: one line says it.
		if e.commitFailed.CompareAndSwap(false, true) {
			e.cfg.Log.Error("record a page as done: stopping the crawl", "url", req.URL, "error", err)
		}
		e.Stop(CommitFailed)
	}
}

// handle fetches one request, sends its items on out and returns its links.
// It returns an error only when ctx is done.
func (w *worker) handle(ctx context.Context, req *downloader.Request) (result, error) {
	e := w.e
	st, log := e.cfg.Stats, e.cfg.Log
	r := result{req: req}
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
	r.attempted = true
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
		fresh, err := w.claim(ctx, req, resp.URL)
		if err != nil {
			return r, err
		}
		if !fresh {
			st.Inc(stats.Skipped + "duplicate_redirect")
			log.Debug("response not parsed: page already seen", "url", req.URL, "final", resp.URL)
			return r, nil
		}
	}
	// The page's document lives while its results are taken.
	weight := min(max(int64(len(resp.Body)), 1), e.cfg.ParseMemory)
	if err := e.parsing.Acquire(ctx, weight); err != nil {
		return r, err
	}
	defer e.parsing.Release(weight)
	for res := range e.results(ctx, resp) {
		switch {
		case res.Err != nil:
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			// Counted by the spider; what was found before it is kept.
			log.Warn("page not parsed to the end", "url", req.URL, "error", res.Err)
		case res.Item != nil:
			st.Inc(stats.ItemsScraped)
			if e.committer != nil {
				r.items = append(r.items, res.Item) // sent on by run
				continue
			}
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
			fp, err := Fingerprint(e.cfg.Canon, res.Request)
			if err != nil {
				st.Inc(stats.LinksSkipped + "invalid")
				continue
			}
			// A page on the web may lead only to the web (downloader.Config.DenyPrivate).
			res.Request.PublicOnly = req.PublicOnly || resp.Public
			r.links = append(r.links, link{req: res.Request, fp: fp})
		case res.Skip != "":
			st.Inc(stats.LinksSkipped + res.Skip)
		}
	}
	return r, nil
}

// claim asks the scheduler whether the page at url, which req led to, is
// new to the crawl.
func (w *worker) claim(ctx context.Context, req *downloader.Request, url string) (bool, error) {
	fp, err := w.e.cfg.Canon.Fingerprint(url)
	if err != nil {
		return true, nil // not canonicalisable: cannot be a duplicate
	}
	c := claim{req: req, fp: fp, reply: make(chan claimReply, 1)}
	select {
	case w.claims <- c:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case rep := <-c.reply:
		return rep.fresh, rep.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}
