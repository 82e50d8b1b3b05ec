package engine

import (
	"container/heap"
	"time"

	"crawl/downloader"
	"crawl/urls"
)

// fifo is an in-memory first-in, first-out queue of requests.
type fifo struct {
	q    []*downloader.Request
	head int
}

func (f *fifo) push(r *downloader.Request) { f.q = append(f.q, r) }

func (f *fifo) pop() (*downloader.Request, bool) {
	if f.head == len(f.q) {
		return nil, false
	}
	r := f.q[f.head]
	f.q[f.head] = nil
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

func (f *fifo) len() int { return len(f.q) - f.head }

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

const defaultMaxDelay = 60 * time.Second

// host is the state of one host: its queue, its requests in flight, and
// when it may next be asked.
type host struct {
	name   string
	queue  fifo
	active int
	next   time.Time     // earliest start of the next request
	delay  time.Duration // current delay between requests
	where  int           // in no list, in ready, or in waiting
	index  int           // position in the waiting heap
}

const (
	nowhere = iota
	inReady
	inWaiting
)

// frontier holds the requests waiting to be fetched, one queue per host.
// It hands out a request only for a host with a free slot whose delay has
// passed, taking hosts in turn, so a slow host fills at most its own slots
// and never holds up the others. Within a host, requests leave in the order
// they came: breadth-first. It belongs to the scheduler goroutine alone and
// is not safe for concurrent use. Time is a parameter of every call.
type frontier struct {
	p       Politeness
	hosts   map[string]*host
	ready   []*host // hosts with requests, a free slot and no delay to wait
	waiting waitHeap
	n       int // requests queued
}

func newFrontier(p Politeness) *frontier {
	if p.PerHost <= 0 {
		p.PerHost = DefaultPerHost
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = defaultMaxDelay
	}
	return &frontier{p: p, hosts: make(map[string]*host)}
}

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

// Push queues r.
func (f *frontier) Push(r *downloader.Request, now time.Time) {
	h := f.host(hostKey(r.URL))
	h.queue.push(r)
	f.n++
	f.place(h, now)
}

// place puts h in the list it belongs in, if it is in none.
func (f *frontier) place(h *host, now time.Time) {
	if h.where != nowhere || h.queue.len() == 0 || h.active >= f.p.PerHost {
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
// when only a request finishing can free one, or nothing is queued).
func (f *frontier) Pop(now time.Time) (*downloader.Request, time.Duration) {
	for f.waiting.Len() > 0 && !f.waiting[0].next.After(now) {
		h := heap.Pop(&f.waiting).(*host)
		h.where = inReady
		f.ready = append(f.ready, h)
	}
	if len(f.ready) == 0 {
		if f.waiting.Len() > 0 {
			return nil, f.waiting[0].next.Sub(now)
		}
		return nil, 0
	}
	h := f.ready[0]
	f.ready[0] = nil
	f.ready = f.ready[1:]
	h.where = nowhere
	r, _ := h.queue.pop()
	f.n--
	h.active++
	h.next = now.Add(h.delay)
	f.place(h, now) // to the back of the line: hosts take turns
	return r, 0
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
	if h.queue.len() == 0 && h.active == 0 && !h.next.After(now) {
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

// seenSet remembers the fingerprints of requests already scheduled.
type seenSet map[uint64]struct{}

// add records fp and reports whether it was new: check and add in one step,
// like Scrapy's request_seen.
func (s seenSet) add(fp uint64) bool {
	if _, ok := s[fp]; ok {
		return false
	}
	s[fp] = struct{}{}
	return true
}
