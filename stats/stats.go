// Package stats counts what a crawl did, like Scrapy's stats collector: named
// counters that every part of the crawler adds to and the summary reads.
package stats

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Counter names shared by the packages that count them. A name ending in "/"
// is a prefix; the full name appends a kind, a status code or a reason, e.g.
// Status+"404" or Errors+"timeout".
const (
	Requests     = "requests"             // requests handed to the downloader
	Pages        = "pages"                // responses received, any status
	Bytes        = "bytes"                // body bytes received
	Status       = "status/"              // responses by status code
	Errors       = "errors/"              // failed requests by kind of error
	Skipped      = "skipped/"             // responses not parsed, by reason
	Truncated    = "truncated"            // bodies cut at the size limit (still parsed)
	ItemsScraped = "items/scraped"        // items the spider extracted
	ItemsWritten = "items/written"        // items the writer wrote
	ItemsDropped = "items/dropped/"       // items dropped, by reason
	Duplicates   = "requests/duplicate"   // links not followed: already seen
	DepthLimited = "requests/depth_limit" // links not followed: beyond --depth
	LinksSkipped = "links/skipped/"       // links not followed, by reason
	StartErrors  = "start/invalid"        // start URLs that could not be used
	Resumes      = "state/resumes"        // runs that continued a crawl kept with --state

	RobotsDenied     = "requests/robots_denied"     // requests not sent: robots.txt disallows them
	RetriesExhausted = "requests/retries_exhausted" // requests that still failed after their last retry
	Retries          = "retries/"                   // retries, by reason: a status code or an error kind
	Robots           = "robots/"                    // robots.txt fetches by outcome: fetched, missing, unavailable, unreachable
	CacheHit         = "cache/hit"                  // responses read from the --cache directory
	CacheMiss        = "cache/miss"                 // responses fetched while a cache was in use
	CacheErrors      = "cache/error"                // responses that could not be written to the cache
	Charset          = "charset/"                   // HTML responses decoded to UTF-8, by original charset
)

// Stats is a set of named counters. The zero value is ready to use, and a
// Stats is safe for concurrent use.
type Stats struct {
	m sync.Map // name -> *atomic.Int64
}

func (s *Stats) counter(name string) *atomic.Int64 {
	if c, ok := s.m.Load(name); ok {
		return c.(*atomic.Int64)
	}
	c, _ := s.m.LoadOrStore(name, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// Inc adds one to the named counter.
func (s *Stats) Inc(name string) { s.counter(name).Add(1) }

// Add adds n to the named counter.
func (s *Stats) Add(name string, n int64) { s.counter(name).Add(n) }

// Get returns the value of the named counter, zero if it was never counted.
func (s *Stats) Get(name string) int64 {
	if c, ok := s.m.Load(name); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// Max raises the named counter to v if v is larger, for peak values.
func (s *Stats) Max(name string, v int64) {
	c := s.counter(name)
	for {
		old := c.Load()
		if v <= old || c.CompareAndSwap(old, v) {
			return
		}
	}
}

// Snapshot returns a copy of every counter.
func (s *Stats) Snapshot() map[string]int64 {
	out := make(map[string]int64)
	s.m.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Count is one counter of a group: the part of its name after the prefix.
type Count struct {
	Key string
	N   int64
}

// Group returns the non-zero counters whose names start with prefix, keyed by
// the rest of the name and sorted by key.
func (s *Stats) Group(prefix string) []Count {
	var out []Count
	s.m.Range(func(k, v any) bool {
		name := k.(string)
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if n := v.(*atomic.Int64).Load(); n != 0 {
				out = append(out, Count{Key: rest, N: n})
			}
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Sum returns the total of the counters whose names start with prefix.
func (s *Stats) Sum(prefix string) int64 {
	var n int64
	for _, c := range s.Group(prefix) {
		n += c.N
	}
	return n
}
