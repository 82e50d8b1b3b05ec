package engine

import (
	"context"
	"time"

	"crawl/downloader"
)

// Frontier is the state that decides what a crawl fetches next: the
// requests waiting to be fetched, the set of requests already seen, and
// each host's politeness. The engine's scheduler goroutine calls its
// methods one at a time; only Commit (of a Committer) and ClaimKeys (of a
// KeyClaimer) may be called from other goroutines.
//
// Three implementations exist: NewMemoryFrontier keeps everything in this
// process (the default); package engine/state keeps it in a directory as
// well, so that a crawl can stop and resume (crawl run --state); package
// engine/shared keeps it in Redis, shared by many processes (crawl run
// --frontier redis://…).
type Frontier interface {
	// Add queues req, whose canonical fingerprint is fp, unless a request
	// with that fingerprint was seen, and reports whether it was new. A
	// start request (start true) is queued even when seen, as Scrapy
	// fetches repeated start URLs, though a shared frontier may refuse it.
	Add(ctx context.Context, req *downloader.Request, fp uint64, start bool, now time.Time) (bool, error)
	// Claim records that req, reached through a redirect, landed on the
	// page with fingerprint fp, and reports whether no other request has
	// claimed or queued that page.
	Claim(ctx context.Context, req *downloader.Request, fp uint64) (bool, error)
	// Next returns a request that may start at now and counts it in flight
	// to its host. When none may, it returns how long to wait before
	// asking again; 0 means until a request is added or finishes.
	Next(ctx context.Context, now time.Time) (*downloader.Request, time.Duration, error)
	// Done records that req finished at now after latency, with status (0
	// when it got no response) and its host's robots.txt Crawl-delay,
	// freeing its slot with the host.
	Done(ctx context.Context, req *downloader.Request, now time.Time, latency time.Duration, status int, crawlDelay time.Duration) error
	// Len returns the number of requests waiting.
	Len() int
}

// Committer is a Frontier that must know when the items of a request are
// safely written, because it forgets the request only then: a durable or
// shared frontier, which gives a request to fetch again if the process
// dies first. The engine then sends each page's items on together,
// followed by a mark (item.NewMark) whose done function calls Commit.
type Committer interface {
	Frontier
	// Commit records that req was fetched and every item it gave was
	// written. It is safe for concurrent use with the other methods.
	Commit(req *downloader.Request) error
}

// Starter is a Frontier that follows the start-request stream: how far a
// previous run read it, and when this one has read it all.
type Starter interface {
	Frontier
	// StartsTaken returns how many values of the start-request stream an
	// earlier run has already taken; the engine skips that many.
	StartsTaken() int64
	// StartTaken records that one more value of the stream was taken
	// (queued, or skipped as invalid).
	StartTaken(ctx context.Context) error
	// StartsDone records that the stream has ended.
	StartsDone(ctx context.Context) error
}

// Batcher is a Frontier that queues many requests in one call more
// cheaply than one by one: a frontier across a network, which then makes
// one round trip for all the links of a page.
type Batcher interface {
	Frontier
	// AddAll does what Add (with start false) does for each of reqs, whose
	// fingerprints are fps, and returns how many were new.
	AddAll(ctx context.Context, reqs []*downloader.Request, fps []uint64, now time.Time) (int, error)
}

// Sharer is a Frontier shared with other processes: the crawl is over
// only when none of them has work left either.
type Sharer interface {
	Frontier
	// Settled reports whether no request is waiting or in flight anywhere
	// and every process has finished its start requests.
	Settled(ctx context.Context) (bool, error)
}

// MemoryFrontier is the default Frontier: per-host queues that spill to a
// temporary file, and a set of fingerprints, all in this process. A
// durable frontier builds on it.
type MemoryFrontier struct {
	queue *frontier
	seen  seenSet
}

// NewMemoryFrontier returns the frontier the engine uses when
// Config.Frontier is nil: politeness p, at most memory requests in memory
// (0: DefaultQueueMemory), the rest in a temporary file in spillDir (""
// for the system's temporary directory), each host's requests in order.
// Close removes that file.
func NewMemoryFrontier(p Politeness, memory int, spillDir string, order Order) *MemoryFrontier {
	return &MemoryFrontier{queue: newFrontier(p, memory, spillDir, order)}
}

// Add implements Frontier.
func (f *MemoryFrontier) Add(_ context.Context, req *downloader.Request, fp uint64, start bool, now time.Time) (bool, error) {
	if !f.seen.add(fp) && !start {
		return false, nil
	}
	return true, f.queue.Push(req, now)
}

// See records fp as seen, queuing nothing, and reports whether it was new:
// for rebuilding a frontier from a durable copy.
func (f *MemoryFrontier) See(fp uint64) bool { return f.seen.add(fp) }

// Claim implements Frontier.
func (f *MemoryFrontier) Claim(_ context.Context, _ *downloader.Request, fp uint64) (bool, error) {
	return f.seen.add(fp), nil
}

// Next implements Frontier.
func (f *MemoryFrontier) Next(_ context.Context, now time.Time) (*downloader.Request, time.Duration, error) {
	return f.queue.Pop(now)
}

// Done implements Frontier.
func (f *MemoryFrontier) Done(_ context.Context, req *downloader.Request, now time.Time, latency time.Duration, status int, crawlDelay time.Duration) error {
	f.queue.Done(req.URL, now, latency, status, crawlDelay)
	return nil
}

// Len implements Frontier.
func (f *MemoryFrontier) Len() int { return f.queue.Len() }

// Close removes the temporary file of spilled requests.
func (f *MemoryFrontier) Close() error {
	f.queue.Close()
	return nil
}
