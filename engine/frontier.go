package engine

import (
	"container/heap"
	"time"

	"crawl/downloader"
	"crawl/urls"
)

// queue is an in-memory double-ended queue: push at the back, pop from
// either end.
type queue[T any] struct {
	q    []T
	head int
}

func (f *queue[T]) push(v T) { f.q = append(f.q, v) }

// front returns the oldest value; the queue must not be empty.
func (f *queue[T]) front() T { return f.q[f.head] }

// popBack removes and returns the newest value.
func (f *queue[T]) popBack() (T, bool) {
	var zero T
	if f.head == len(f.q) {
		return zero, false
	}
	r := f.q[len(f.q)-1]
	f.q[len(f.q)-1] = zero
	f.q = f.q[:len(f.q)-1]
	if f.head == len(f.q) {
		f.q, f.head = f.q[:0], 0
	}
	return r, true
}

func (f *queue[T]) pop() (T, bool) {
	var zero T
	if f.head == len(f.q) {
		return zero, false
	}
	r := f.q[f.head]
	f.q[f.head] = zero
	f.head++
	// Reclaim the consumed front once it is half the slice, so a long crawl
	// does not keep every request it ever queued.
	if f.head >= 1024 && f.head*2 >= len(f.q) {
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q = f.q[:n]
		f.head = 0
	}
	return r, true
}

func (f *queue[T]) len() int { return len(f.q) - f.head }

// Politeness limits what the crawl asks of one host, like Scrapy's
// CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY and AutoThrottle. The zero
// value means 8 requests at once per host and no delay.
type Politeness struct {
	// PerHost is the most requests in flight to one host. Zero means 8.
	PerHost int
	// Delay is the least time between the starts of two requests to one
	// host.
	Delay time.Duration
	// AutoThrottle makes each host's delay follow its latency: it aims at
	// one request in flight per host, never goes below Delay or above
	// MaxDelay, and doubles on 429 and 503 answers.
	AutoThrottle bool
	// MaxDelay caps the delays AutoThrottle and Crawl-delay set. Zero means
	// 60 seconds.
	MaxDelay time.Duration
}

// DefaultPerHost is Politeness.PerHost when it is zero.
const DefaultPerHost = 8

// DefaultQueueMemory is Config.QueueMemory when it is zero: about 20 MB of
// requests.
const DefaultQueueMemory = 100_000

// Order is the order in which each host's requests are fetched. Hosts
// always take turns; the order is within a host.
type Order string

const (
	// BFS fetches each host's requests in the order they were found,
	// first in, first out: every page at depth 1 before any at depth 2.
	// The zero Order means BFS.
	BFS Order = "bfs"
	// DFS fetches the request found last first, last in, first out, as
	// Scrapy with a negative DEPTH_PRIORITY and LIFO queues: the crawl
	// follows a path of links down before it takes the next one.
	DFS Order = "dfs"
)

const defaultMaxDelay = 60 * time.Second

// host is the state of one host: its queue, its requests in flight, and
// when it may next be asked. Its queue is in two parts, the requests in
// memory and the offsets of requests spilled to disk, and the part fetched
// first is in memory: with BFS the oldest requests are in memory and the
// newer ones on disk; with DFS the newest are in memory and the older ones
// on disk.
type host struct {
	name    string
	queue   queue[*downloader.Request]
	spilled offsets
	active  int
	next    time.Time     // earliest start of the next request
	delay   time.Duration // current delay between requests
	where   int           // in no list, in ready, or in waiting
	index   int           // position in the waiting heap
}

const (
	nowhere = iota
	inReady
	inWaiting
)

func (h *host) len() int { return h.queue.len() + h.spilled.len() }

// frontier holds the requests waiting to be fetched, one queue per host.
// It hands out a request only for a host with a free slot whose delay has
// passed, taking hosts in turn, so a slow host fills at most its own slots
// and never holds up the others. Within a host, requests leave in the order
// they came (BFS) or newest first (DFS). At most memory requests are kept
// in memory; the rest wait in a temporary file, each costing a byte or two
// of memory for its offset there, so a crawl that discovers millions of
// links keeps a flat memory. A frontier belongs to the scheduler goroutine
// alone and is not safe for concurrent use. Time is a parameter of every
// call.
type frontier struct {
	p        Politeness
	order    Order
	hosts    map[string]*host
	ready    []*host // hosts with requests, a free slot and no delay to wait
	waiting  waitHeap
	n        int // requests queued
	memory   int // most requests kept in memory
	inMemory int
	disk     spill
}

// refill is how many spilled requests of a host are read back at once.
const refill = 64

// newFrontier returns an empty frontier: Politeness's zero fields and a
// zero memory mean the defaults, an empty spillDir the system's temporary
// directory, and any order but DFS means BFS.
func newFrontier(p Politeness, memory int, spillDir string, order Order) *frontier {
	if p.PerHost <= 0 {
		p.PerHost = DefaultPerHost
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = defaultMaxDelay
	}
	if memory <= 0 {
		memory = DefaultQueueMemory
	}
	if order != DFS {
		order = BFS
	}
	return &frontier{p: p, order: order, hosts: make(map[string]*host), memory: memory, disk: spill{dir: spillDir}}
}

// Close removes the spill file.
func (f *frontier) Close() { f.disk.close() }

// hostKey is the name requests are grouped by: the URL's host without port,
// as Scrapy's download slots.
func hostKey(rawurl string) string { return urls.Hostname(rawurl) }

func (f *frontier) host(name string) *host {
	h := f.hosts[name]
	if h == nil {
		h = &host{name: name, delay: f.p.Delay}
		f.hosts[name] = h
	}
	return h
}

// Len returns the number of requests queued.
func (f *frontier) Len() int { return f.n }

// Push queues r. With BFS, r goes to memory while there is room and its
// host has nothing on disk (else it would overtake those), and to disk
// otherwise. With DFS, r goes to memory always, as the next to be fetched;
// when memory is full, the host's oldest request in memory moves to disk
// to make room, or if it has none there, r goes to disk.
func (f *frontier) Push(r *downloader.Request, now time.Time) error {
	h := f.host(hostKey(r.URL))
	switch {
	case f.inMemory < f.memory && (f.order == DFS || h.spilled.len() == 0):
		h.queue.push(r)
		f.inMemory++
	case f.order == DFS && h.queue.len() > 0:
		// The oldest in memory is newer than all on disk: on top of them,
		// the host's order holds.
		if err := f.spill(h, h.queue.front()); err != nil {
			return err
		}
		h.queue.pop()
		h.queue.push(r)
	default:
		if err := f.spill(h, r); err != nil {
			return err
		}
	}
	f.n++
	f.place(h, now)
	return nil
}

// spill writes r to disk as the newest of h's spilled requests.
func (f *frontier) spill(h *host, r *downloader.Request) error {
	off, err := f.disk.put(r)
	if err != nil {
		return err
	}
	h.spilled.push(off)
	return nil
}

// unspill reads back up to refill of h's spilled requests, within what the
// memory budget leaves (but at least the one to hand out), into its empty
// queue in memory: with BFS the oldest, with DFS the newest, keeping their
// order.
func (f *frontier) unspill(h *host) error {
	var offs [refill]int64
	batch := offs[:min(max(1, f.memory-f.inMemory), refill, h.spilled.len())]
	for i := range batch {
		if f.order == DFS {
			// Newest first: batch ends up in increasing order, as BFS's,
			// and the newest is pushed last, to be popped first.
			batch[len(batch)-1-i] = h.spilled.popBack()
		} else {
			batch[i] = h.spilled.popFront()
		}
	}
	for _, off := range batch {
		r, err := f.disk.get(off)
		if err != nil {
			return err
		}
		h.queue.push(r)
		f.inMemory++
	}
	return nil
}

// place puts h in the list it belongs in, if it is in none.
func (f *frontier) place(h *host, now time.Time) {
	if h.where != nowhere || h.len() == 0 || h.active >= f.p.PerHost {
		return
	}
	if h.next.After(now) {
		h.where = inWaiting
		heap.Push(&f.waiting, h)
		return
	}
	h.where = inReady
	f.ready = append(f.ready, h)
}

// Pop returns the next request that may start at now, and counts it in
// flight to its host. When none may, it returns how long until one may (0
// when only a request finishing can free one, or nothing is queued). An
// error is a failure to read spilled requests back.
func (f *frontier) Pop(now time.Time) (*downloader.Request, time.Duration, error) {
	for f.waiting.Len() > 0 && !f.waiting[0].next.After(now) {
		h := heap.Pop(&f.waiting).(*host)
		h.where = inReady
		f.ready = append(f.ready, h)
	}
	if len(f.ready) == 0 {
		if f.waiting.Len() > 0 {
			return nil, f.waiting[0].next.Sub(now), nil
		}
		return nil, 0, nil
	}
	h := f.ready[0]
	f.ready[0] = nil
	f.ready = f.ready[1:]
	h.where = nowhere
	if h.queue.len() == 0 {
		if err := f.unspill(h); err != nil {
			return nil, 0, err
		}
	}
	var r *downloader.Request
	if f.order == DFS {
		r, _ = h.queue.popBack()
	} else {
		r, _ = h.queue.pop()
	}
	f.inMemory--
	f.n--
	h.active++
	h.next = now.Add(h.delay)
	f.place(h, now) // to the back of the line: hosts take turns
	return r, 0, nil
}

// Done records that a request to rawurl has finished, after latency, with
// status (0 when it got no response), freeing its slot. crawlDelay is the
// host's robots.txt Crawl-delay, or 0.
func (f *frontier) Done(rawurl string, now time.Time, latency time.Duration, status int, crawlDelay time.Duration) {
	h := f.hosts[hostKey(rawurl)]
	if h == nil {
		return
	}
	h.active--
	if f.p.AutoThrottle {
		h.delay = f.throttle(h.delay, latency, status)
	}
	if d := min(crawlDelay, f.p.MaxDelay); d > h.delay {
		h.delay = d
	}
	if h.where == nowhere {
		f.place(h, now)
	}
	if h.len() == 0 && h.active == 0 && !h.next.After(now) {
		delete(f.hosts, h.name) // forget idle hosts: a broad crawl meets millions
	}
}

// throttle is AutoThrottle's rule, as Scrapy's: move the delay halfway
// towards the latency (the delay that keeps one request in flight), but
// never lower it after a failure or an error answer, double it on 429 and
// 503, and keep it within [Delay, MaxDelay].
func (f *frontier) throttle(delay, latency time.Duration, status int) time.Duration {
	switch {
	case status == 429 || status == 503:
		delay = max(2*delay, time.Second)
	case status == 0 || status >= 400:
		delay = max(delay, (delay+latency)/2)
	default:
		delay = (delay + latency) / 2
	}
	return min(max(delay, f.p.Delay), f.p.MaxDelay)
}

// waitHeap orders waiting hosts by when they may next be asked.
type waitHeap []*host

func (w waitHeap) Len() int           { return len(w) }
func (w waitHeap) Less(i, j int) bool { return w[i].next.Before(w[j].next) }
func (w waitHeap) Swap(i, j int) {
	w[i], w[j] = w[j], w[i]
	w[i].index, w[j].index = i, j
}
func (w *waitHeap) Push(x any) {
	h := x.(*host)
	h.index = len(*w)
	*w = append(*w, h)
}
func (w *waitHeap) Pop() any {
	old := *w
	h := old[len(old)-1]
	old[len(old)-1] = nil
	*w = old[:len(old)-1]
	return h
}
