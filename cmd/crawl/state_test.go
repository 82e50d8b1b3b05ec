package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// shopSite serves lists pages /list/0…/list/{lists-1}, each linking to the
// next and to ten items, one of them through a redirect (/go/N) as well as
// directly, so that redirect claims are crawled too. Item pages have an
// <h1>. It counts the fetches of every path, and calls onFetch with the
// running total of fetches before answering each.
type shopSite struct {
	lists   int
	mu      sync.Mutex
	fetches map[string]int
	total   atomic.Int64
	onFetch atomic.Pointer[func(n int64)]
}

func (s *shopSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/robots.txt" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.fetches[r.URL.Path]++
	s.mu.Unlock()
	n := s.total.Add(1)
	if f := s.onFetch.Load(); f != nil {
		(*f)(n)
	}
	var i int
	switch {
	case strings.HasPrefix(r.URL.Path, "/go/"):
		fmt.Sscanf(r.URL.Path, "/go/%d", &i)
		http.Redirect(w, r, fmt.Sprintf("/item/%d-0", i), http.StatusFound)
	case strings.HasPrefix(r.URL.Path, "/list/"):
		fmt.Sscanf(r.URL.Path, "/list/%d", &i)
		var b strings.Builder
		fmt.Fprintf(&b, `<html><body><a href="/go/%d">via redirect</a>`, i)
		for k := range 10 {
			fmt.Fprintf(&b, `<a href="/item/%d-%d">item</a>`, i, k)
		}
		if i+1 < s.lists {
			fmt.Fprintf(&b, `<a href="/list/%d">next</a>`, i+1)
		}
		fmt.Fprint(w, b.String()+"</body></html>")
	default:
		fmt.Fprintf(w, `<html><body><h1>%s</h1></body></html>`, strings.TrimPrefix(r.URL.Path, "/item/"))
	}
}

func (s *shopSite) titles() []string {
	var want []string
	for i := range s.lists {
		for k := range 10 {
			want = append(want, fmt.Sprintf("%d-%d", i, k))
		}
	}
	return want
}

// stopRepeatedly runs the crawl of args up to runs times, each run stopped
// with the signal sig picks once the site (whose fetch count is total, and
// which calls onFetch before each answer) has answered from first to
// first+window-1 more requests; then, if no run finished, it runs the
// crawl to its end. It returns how many runs were stopped.
func stopRepeatedly(t *testing.T, args []string, total *atomic.Int64, onFetch *atomic.Pointer[func(n int64)],
	runs int, first, window int64, sig func(run int, rng *rand.Rand) syscall.Signal) int {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	kills, finished := 0, false
	for run := 0; run < runs && !finished; run++ {
		cmd := command(args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		s := sig(run, rng)
		killAt := total.Load() + first + rng.Int64N(window)
		var once sync.Once
		kill := func(n int64) {
			if n >= killAt {
				once.Do(func() { cmd.Process.Signal(s) })
			}
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		onFetch.Store(&kill)
		err := cmd.Wait()
		onFetch.Store(nil)
		switch {
		case err == nil:
			finished = true
		case cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled() || cmd.ProcessState.ExitCode() == 130:
			kills++
		default:
			t.Fatalf("run %d: %v\n%s", run, err, stderr.String())
		}
	}
	if !finished {
		if r := runCrawl(t, nil, args...); r.code != 0 {
			t.Fatalf("last run: exit %d\n%s", r.code, r.stderr)
		}
	}
	return kills
}

const shopSpec = `start_urls: ["{{URL}}/list/0"]
follow: [{css: a}]
items: [{urls: "/item/", fields: {title: "h1::text"}}]
`

// TestStateSurvivesKills stops a crawl with --state again and again at
// random moments, mostly with SIGKILL, and runs the same command again
// each time: in the end the output holds every item exactly once, and the
// only pages fetched more than once are the few each kill caught in
// flight.
func TestStateSurvivesKills(t *testing.T) {
	site := &shopSite{lists: 40, fetches: make(map[string]int)}
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	spec := writeSpec(t, dir, shopSpec, srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	stateDir := filepath.Join(dir, "state")
	const workers = 4
	args := []string{"run", spec, "-o", out, "--state", stateDir, "--workers", fmt.Sprint(workers), "--log-level", "warn"}

	kills := stopRepeatedly(t, args, &site.total, &site.onFetch, 12, 1, 40, func(_ int, rng *rand.Rand) syscall.Signal {
		if rng.IntN(4) == 0 {
			return syscall.SIGTERM // a graceful stop now and then
		}
		return syscall.SIGKILL
	})
	if kills == 0 {
		t.Fatal("no run was stopped: the test proves nothing")
	}

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	count := make(map[string]int)
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var it struct{ Title string }
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("line %q of the output: %v", line, err)
		}
		count[it.Title]++
	}
	for _, title := range site.titles() {
		if count[title] != 1 {
			t.Errorf("item %s is in the output %d times, want once", title, count[title])
		}
		delete(count, title)
	}
	for title, n := range count {
		t.Errorf("unexpected item %q (%d times)", title, n)
	}

	// A kill catches in flight at most the pages the workers hold and
	// those whose items wait in the output's queues: a few dozen.
	extra := 0
	site.mu.Lock()
	for _, n := range site.fetches {
		extra += n - 1
	}
	site.mu.Unlock()
	if bound := kills * (workers + 30); extra > bound {
		t.Errorf("%d pages fetched again after %d stops, more than the %d in flight at most", extra, kills, bound)
	}
	t.Logf("%d stops, %d pages fetched again", kills, extra)
}

func TestStateBadUse(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/p/7\"]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	state := filepath.Join(dir, "state")
	out := filepath.Join(dir, "items.jsonl")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"stdout", []string{"--state", state}, "--state needs exactly one output file"},
		{"two outputs", []string{"--state", state, "-o", out, "-o", out + ".csv"}, "--state needs exactly one output file"},
		{"json array", []string{"--state", state, "-o", filepath.Join(dir, "items.json")}, "JSON Lines or CSV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"run", spec}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line with %q", r.code, r.stderr, tc.want)
			}
		})
	}

	// A finished crawl run again does nothing and keeps its output; an
	// output cut shorter behind the state's back is refused.
	for range 2 {
		if r := runCrawl(t, nil, "run", spec, "--state", state, "-o", out); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	if b, _ := os.ReadFile(out); string(b) != "{\"title\":\"page 7\"}\n" {
		t.Errorf("output after a crawl and its rerun: %q", b)
	}
	other := filepath.Join(dir, "other.jsonl")
	if r := runCrawl(t, nil, "run", spec, "--state", state, "-o", other); r.code != 2 || !strings.Contains(r.stderr, "belongs to a crawl with output") {
		t.Errorf("state reused for another output: exit %d, %s", r.code, r.stderr)
	}
	os.WriteFile(out, nil, 0o644)
	if r := runCrawl(t, nil, "run", spec, "--state", state, "-o", out); r.code != 2 || !strings.Contains(r.stderr, "fewer than the") {
		t.Errorf("output emptied behind the state's back: exit %d, %s", r.code, r.stderr)
	}
}
