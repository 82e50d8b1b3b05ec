package engine

import "crawl/downloader"

// Frontier holds the requests waiting to be fetched, in the order they will
// be fetched. It belongs to the scheduler goroutine alone and need not be
// safe for concurrent use.
type Frontier interface {
	Push(*downloader.Request)
	Pop() (*downloader.Request, bool)
	Len() int
}

// fifo is an in-memory first-in, first-out Frontier: breadth-first order.
type fifo struct {
	q    []*downloader.Request
	head int
}

func (f *fifo) Push(r *downloader.Request) { f.q = append(f.q, r) }

func (f *fifo) Pop() (*downloader.Request, bool) {
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

func (f *fifo) Len() int { return len(f.q) - f.head }

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
