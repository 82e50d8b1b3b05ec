package downloader_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/stats"
)

// fakeClock is a clock that moves only when told to, or when the
// Downloader sleeps: a sleep records the wait asked for, advances the clock
// by it, and returns at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// halfJitter makes the random part of the backoff its midpoint.
func halfJitter() float64 { return 0.5 }

// fakeDownloader returns a Downloader whose time is a fakeClock, whose
// jitter is fixed, and whose counters are in the returned Stats.
func fakeDownloader(t *testing.T, cfg downloader.Config) (*downloader.Downloader, *fakeClock, *stats.Stats) {
	t.Helper()
	st := new(stats.Stats)
	cfg.Stats = st
	clock := newFakeClock()
	d := newDownloader(t, cfg)
	downloader.SetClock(d, clock.Now, clock.Sleep, halfJitter)
	return d, clock, st
}

// hitCounter counts the requests a server sees, by path.
type hitCounter struct {
	mu sync.Mutex
	m  map[string]int
}

func (h *hitCounter) add(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]int{}
	}
	h.m[path]++
}

func (h *hitCounter) get(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[path]
}

// total returns the number of requests counted.
func (h *hitCounter) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.m {
		n += c
	}
	return n
}

func (h *hitCounter) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m = nil
}

// all returns a copy of the counts.
func (h *hitCounter) all() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.m)
}

// site serves robots.txt with robotsTxt (nil: 404) and every other path as
// a small HTML page naming it, and counts what it serves.
func site(t *testing.T, robotsTxt http.HandlerFunc) (*httptest.Server, *hitCounter) {
	t.Helper()
	hits := new(hitCounter)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		if r.URL.Path == "/robots.txt" {
			if robotsTxt == nil {
				http.NotFound(w, r)
				return
			}
			robotsTxt(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<p>" + r.URL.Path + "</p>"))
	}))
	return srv, hits
}

// robotsBody returns a handler that serves body as robots.txt.
func robotsBody(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(body))
	}
}

// wantStats compares counters; a counter not listed must be zero only if
// it is listed with 0.
func wantStats(t *testing.T, st *stats.Stats, want map[string]int64) {
	t.Helper()
	for name, n := range want {
		if got := st.Get(name); got != n {
			t.Errorf("stats %s: got %d, want %d (all: %v)", name, got, n, st.Snapshot())
		}
	}
}
