package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crawl/engine/shared/redistest"
)

// holdSite is a sharedSite that, once it has answered after requests,
// holds every further request until release is closed: the test then
// does what it wants to Redis while every process has requests in flight
// and more to do.
type holdSite struct {
	*sharedSite
	after    int64
	served   atomic.Int64
	release  chan struct{}
	held     chan struct{} // closed when the first request is held
	heldOnce sync.Once
}

func newHoldSite(t *testing.T, n int, after int64) (*holdSite, *httptest.Server) {
	s := &holdSite{
		sharedSite: &sharedSite{n: n, gate: make(chan struct{}), trapped: make(chan struct{}, 1)},
		after:      after,
		release:    make(chan struct{}),
		held:       make(chan struct{}),
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *holdSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.after > 0 && s.served.Add(1) > s.after {
		s.heldOnce.Do(func() { close(s.held) })
		select {
		case <-s.release:
		case <-r.Context().Done():
			return
		}
	}
	s.sharedSite.ServeHTTP(w, r)
}

// waitHeld waits until the site holds a request.
func (s *holdSite) waitHeld(t *testing.T, runs []*sharedRun) {
	t.Helper()
	select {
	case <-s.held:
	case <-time.After(time.Minute):
		for _, r := range runs {
			t.Logf("%s: stderr:\n%s", r.out, r.stderr.String())
		}
		t.Fatal("no request reached the site's hold after a minute")
	}
}

// finish waits for r to exit, and returns its exit status and the last
// line of its stderr.
func (r *sharedRun) finish(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: crawl run still running after 2 minutes; stderr:\n%s", r.out, r.stderr.String())
	}
	lines := strings.Split(strings.TrimRight(r.stderr.String(), "\n"), "\n")
	return r.cmd.ProcessState.ExitCode(), lines[len(lines)-1]
}

// statsReason reads the reason of a --stats file.
func statsReason(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sf struct{ Reason string }
	if err := json.Unmarshal(b, &sf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return sf.Reason
}

// TestSharedRedisRestart runs three processes of one crawl and, while
// each has requests in flight and more to do, does something to their
// Redis. A Redis restarted with its data (AOF, fsync always) or paused
// shorter than the lease only pauses the crawl: every process exits 0 and
// their outputs together hold every item exactly once. A Redis that comes
// back without the crawl (restarted without persistence, or flushed) must
// never look like a finished crawl: every process exits 1 with one line
// saying what happened and how to go on.
func TestSharedRedisRestart(t *testing.T) {
	const n = 300
	lost := `^crawl: shared crawl state lost: the crawl "[^"]+" is gone from Redis at redis://127\.0\.0\.1:\d+ \(restarted without persistence, or its keys flushed or evicted\): run the same command again to start the crawl over \(items already written are written again: use new outputs, or -O\)$`
	// restart kills Redis and starts it again a second and a half later,
	// longer than the client's own retries last.
	restart := func(t *testing.T, s *redistest.Server) {
		s.Kill()
		time.Sleep(1500 * time.Millisecond)
		s.Restart()
	}
	tests := []struct {
		name   string
		config []string // redis-server's
		url    string   // added to the frontier URL
		act    func(t *testing.T, s *redistest.Server)
		fail   string // the last line of every process, "" for success
	}{
		{"restarted empty", nil, "", restart, lost},
		{"flushall", nil, "", func(t *testing.T, s *redistest.Server) { s.Do("FLUSHALL") }, lost},
		{"aof restarted", []string{"--appendonly", "yes", "--appendfsync", "always"}, "", restart, ""},
		// Longer than a call may wait for an answer: calls time out and
		// are made again, and Redis runs each of them when it wakes. (The
		// read timeout is short, but not so short that a loaded machine
		// times out the processes' first calls, which are not retried.)
		{"paused", nil, "&read_timeout=500ms", func(t *testing.T, s *redistest.Server) {
			s.Pause()
			time.Sleep(2 * time.Second)
			s.Resume()
		}, ""},
		// Longer than the lease: the processes stop waiting, as they
		// would for a Redis gone for good.
		{"paused longer than the lease", nil, "&read_timeout=500ms", func(t *testing.T, s *redistest.Server) {
			s.Pause()
			time.Sleep(4 * time.Second)
			s.Resume()
		}, `^crawl: no answer from Redis at redis://127\.0\.0\.1:\d+ for 1s \(.*i/o timeout\): this process stopped; its crawl is kept in Redis: run the same command again once Redis is back$`},
	}
	want := make(map[string]bool, n)
	for i := range n {
		want[fmt.Sprintf("page %d", i)] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, tt.config...)
			site, web := newHoldSite(t, n, 60)
			dir := t.TempDir()
			spec := writeSpec(t, dir, treeSpec, web.URL)
			url := srv.URL(t) + tt.url
			var runs []*sharedRun
			for i := range 3 {
				name := fmt.Sprintf("out%d", i)
				args := []string{"--frontier", url, "--stats", filepath.Join(dir, name+".stats.json")}
				if tt.fail != "" && tt.fail != lost {
					args = append(args, "--lease", "1s")
				}
				runs = append(runs, startShared(t, dir, name, spec, args...))
			}
			openGate(t, site.sharedSite, url, len(runs))
			site.waitHeld(t, runs)
			tt.act(t, srv)
			close(site.release)
			got := make(map[string]int)
			for _, r := range runs {
				code, last := r.finish(t)
				if strings.Contains(r.stderr.String(), "crawl: crawl:") {
					t.Errorf("%s: doubled prefix in stderr:\n%s", r.out, r.stderr.String())
				}
				reason := statsReason(t, strings.TrimSuffix(r.out, ".jsonl")+".stats.json")
				if tt.fail != "" {
					if code != 1 || !regexp.MustCompile(tt.fail).MatchString(last) || reason != "frontier_failed" {
						t.Errorf("%s: exit %d, reason %s, last line %q; want 1, frontier_failed and a line matching %q; stderr:\n%s",
							r.out, code, reason, last, tt.fail, r.stderr.String())
					}
					continue
				}
				if code != 0 || reason != "finished" {
					t.Errorf("%s: exit %d, reason %s, want 0 and finished; stderr:\n%s", r.out, code, reason, r.stderr.String())
				}
				for _, title := range readTitles(t, r.out) {
					got[title]++
				}
			}
			if tt.fail != "" {
				return
			}
			for title := range want {
				if got[title] != 1 {
					t.Errorf("%q written %d times, want once", title, got[title])
				}
			}
			if len(got) != n {
				t.Errorf("%d items in all, want %d", len(got), n)
			}
		})
	}
}

// TestSharedRedisGone: a Redis that stops for good ends the crawl after
// the documented wait (--lease), with exit status 1 and one exact line.
func TestSharedRedisGone(t *testing.T) {
	srv := redistest.Start(t)
	site, web := newHoldSite(t, 300, 30)
	dir := t.TempDir()
	spec := writeSpec(t, dir, treeSpec, web.URL)
	url := srv.URL(t)
	r := startShared(t, dir, "out", spec, "--frontier", url, "--lease", "1s")
	openGate(t, site.sharedSite, url, 1)
	site.waitHeld(t, []*sharedRun{r})
	srv.Kill()
	close(site.release)
	code, last := r.finish(t)
	want := `^crawl: no answer from Redis at redis://` + regexp.QuoteMeta(srv.Addr) + ` for 1s \(dial tcp ` + regexp.QuoteMeta(srv.Addr) + `: connect: connection refused\): this process stopped; its crawl is kept in Redis: run the same command again once Redis is back$`
	if code != 1 || !regexp.MustCompile(want).MatchString(last) {
		t.Errorf("exit %d, last line %q; want 1 and a line matching %q; stderr:\n%s", code, last, want, r.stderr.String())
	}
	if strings.Contains(r.stderr.String(), "crawl: crawl:") {
		t.Errorf("doubled prefix in stderr:\n%s", r.stderr.String())
	}
}

// TestSharedFairShare: three processes of one crawl limited to four
// requests at a time to its one host each fetch a fair part of it, not
// one process all of it.
func TestSharedFairShare(t *testing.T) {
	const n = 600
	site, web := newSharedSite(t, n)
	dir := t.TempDir()
	spec := writeSpec(t, dir, treeSpec, web.URL)
	url := redistest.URL(t)
	var runs []*sharedRun
	for i := range 3 {
		runs = append(runs, startShared(t, dir, fmt.Sprintf("out%d", i), spec,
			"--frontier", url, "--per-host", "4", "--workers", "8"))
	}
	openGate(t, site, url, len(runs))
	total := 0
	var counts []int
	for _, r := range runs {
		r.wait(t)
		k := len(readTitles(t, r.out))
		counts = append(counts, k)
		total += k
	}
	t.Logf("items per process: %v", counts)
	if total != n {
		t.Errorf("%d items in all, want %d", total, n)
	}
	for i, k := range counts {
		if k < n/6 {
			t.Errorf("process %d wrote %d of %d items, want at least %d: the work was not shared", i, k, n, n/6)
		}
	}
}

// TestSharedRedisEvicts: a Redis that may evict any key is refused
// before the crawl starts.
func TestSharedRedisEvicts(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "allkeys-lru")
	spec := writeSpec(t, t.TempDir(), treeSpec, "http://127.0.0.1:1")
	r := runCrawl(t, nil, "run", spec, "--frontier", srv.URL(t))
	want := `crawl: --frontier: join the crawl at redis://` + srv.Addr + `: its maxmemory-policy allkeys-lru evicts keys when memory is full, which would lose the crawl's work: set maxmemory-policy noeviction (or a volatile-* policy)`
	if got := strings.TrimRight(r.stderr, "\n"); r.code != 2 || got != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, got, want)
	}
}
