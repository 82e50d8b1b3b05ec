package downloader_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/robots"
	"crawl/stats"
)

// checkDenied asserts that err is a robots.txt denial and that the page was
// never requested.
func checkDenied(t *testing.T, err error, hits *hitCounter, path string) {
	t.Helper()
	if !errors.Is(err, downloader.ErrRobotsDenied) {
		t.Fatalf("Fetch %s: got %v, want an error wrapping ErrRobotsDenied", path, err)
	}
	if got := downloader.ErrorKind(err); got != "robots_denied" {
		t.Errorf("ErrorKind(%v): got %q, want robots_denied", err, got)
	}
	if n := hits.get(path); n != 0 {
		t.Errorf("%s was requested %d times, want 0", path, n)
	}
}

// Precedence and wildcards as RFC 9309 has them: the longest match wins,
// allow wins a tie, "*" matches anything, "$" anchors the end; and the
// group is chosen by the User-Agent's product token.
func TestRobotsRules(t *testing.T) {
	const precedence = `User-agent: *
Disallow: /private/
Allow: /private/open
Disallow: /*.pdf$
Allow: /docs/*.pdf$
Disallow: /tie
Allow: /tie
Disallow: /search?
`
	const groups = `User-agent: *
Disallow: /

User-agent: crawl
Disallow: /no-crawl/
Crawl-delay: 2.5

User-agent: otherbot
Allow: /
`
	tests := []struct {
		name      string
		robots    string
		userAgent string // Config.UserAgent
		header    string // the request's own User-Agent
		path      string
		allowed   bool
	}{
		{"no rule matches", precedence, "", "", "/index.html", true},
		{"disallowed prefix", precedence, "", "", "/private/data", false},
		{"longer allow wins", precedence, "", "", "/private/open/data", true},
		{"wildcard and end anchor", precedence, "", "", "/files/report.pdf", false},
		{"anchor: more after the match", precedence, "", "", "/files/report.pdf?download=1", true},
		{"longer wildcard allow wins", precedence, "", "", "/docs/manual.pdf", true},
		{"allow wins a tie", precedence, "", "", "/tie/x", true},
		{"query matched", precedence, "", "", "/search?q=go", false},
		{"path without query allowed", precedence, "", "", "/search", true},
		{"robots.txt itself", groups, "mybot/1.0", "", "/robots.txt", true},
		{"crawl group for the default agent", groups, "", "", "/page", true},
		{"crawl group rule", groups, "", "", "/no-crawl/page", false},
		{"other agents get the * group", groups, "mybot/1.0 (+http://127.0.0.1/bot)", "", "/page", false},
		{"agent token matched case-insensitively", groups, "CRAWL/2.0", "", "/page", true},
		{"a request's own User-Agent picks its group", groups, "mybot/1.0", "otherbot/3", "/page", true},
		{"and can be refused", groups, "", "mybot/1.0", "/page", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, hits := site(t, robotsBody(tt.robots))
			d, _, st := fakeDownloader(t, downloader.Config{ObeyRobots: true, UserAgent: tt.userAgent})
			req := &downloader.Request{URL: srv.URL + tt.path}
			if tt.header != "" {
				req.Header = http.Header{"User-Agent": {tt.header}}
			}
			resp, err := d.Fetch(testCtx(t), req)
			if tt.allowed {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if resp.Status != 200 {
					t.Errorf("Status: got %d, want 200", resp.Status)
				}
				p, _, _ := strings.Cut(tt.path, "?")
				if n := hits.get(p); n != 1 && p != "/robots.txt" {
					t.Errorf("%s requested %d times, want 1", p, n)
				}
			} else {
				p, _, _ := strings.Cut(tt.path, "?")
				checkDenied(t, err, hits, p)
			}
			if tt.path != "/robots.txt" && hits.get("/robots.txt") != 1 {
				t.Errorf("robots.txt requested %d times, want 1", hits.get("/robots.txt"))
			}
			wantStats(t, st, map[string]int64{stats.Robots + "fetched": 1})
		})
	}
}

// One robots.txt per origin, however many requests want it at once: the
// others wait for the one that fetches it.
func TestRobotsFetchedOncePerOrigin(t *testing.T) {
	release := make(chan struct{})
	slow := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			robotsBody(body)(w, r)
		}
	}
	a, hitsA := site(t, slow("User-agent: *\nDisallow: /no/\nCrawl-delay: 3\n"))
	b, hitsB := site(t, slow("User-agent: crawl\nCrawl-delay: 1.5\n"))
	d, _, st := fakeDownloader(t, downloader.Config{ObeyRobots: true})
	ctx := testCtx(t)

	const n = 20
	var wg sync.WaitGroup
	var denied atomic.Int32
	for i := range n {
		for _, srv := range []string{a.URL, b.URL} {
			path := fmt.Sprintf("/p/%d", i)
			if i%4 == 0 {
				path = fmt.Sprintf("/no/%d", i)
			}
			wg.Go(func() {
				_, err := d.Fetch(ctx, &downloader.Request{URL: srv + path})
				switch {
				case errors.Is(err, downloader.ErrRobotsDenied):
					denied.Add(1)
				case err != nil:
					t.Errorf("Fetch %s%s: %v", srv, path, err)
				}
			})
		}
	}
	close(release)
	wg.Wait()
	if ra, rb := hitsA.get("/robots.txt"), hitsB.get("/robots.txt"); ra != 1 || rb != 1 {
		t.Errorf("robots.txt requests: got %d and %d, want 1 each", ra, rb)
	}
	if got := denied.Load(); got != n/4 {
		t.Errorf("denied: got %d, want %d (the /no/ pages of the first site)", got, n/4)
	}
	if got := hitsA.get("/p/1") + hitsB.get("/no/0"); got != 2 {
		t.Errorf("pages allowed by robots.txt not fetched once each (got %d)", got)
	}
	wantStats(t, st, map[string]int64{stats.Robots + "fetched": 2})
	// The engine groups requests by host name: both servers are 127.0.0.1,
	// and the longer delay applies.
	for range 20 { // the origins are kept in a map: ask more than once
		if got := d.CrawlDelay("127.0.0.1"); got != 3*time.Second {
			t.Fatalf("CrawlDelay(127.0.0.1): got %v, want 3s", got)
		}
	}
	if got := d.CrawlDelay("localhost"); got != 0 {
		t.Errorf("CrawlDelay of a host never seen: got %v, want 0", got)
	}
}

func TestCrawlDelay(t *testing.T) {
	tests := []struct {
		name      string
		cfg       downloader.Config
		robots    string
		wantDelay time.Duration
	}{
		{"for crawl", downloader.Config{ObeyRobots: true}, "User-agent: crawl\nCrawl-delay: 2.5\n\nUser-agent: *\nCrawl-delay: 9\n", 2500 * time.Millisecond},
		{"for everyone", downloader.Config{ObeyRobots: true}, "User-agent: *\nCrawl-delay: 4\n", 4 * time.Second},
		{"for someone else", downloader.Config{ObeyRobots: true}, "User-agent: otherbot\nCrawl-delay: 4\n", 0},
		{"none", downloader.Config{ObeyRobots: true}, "User-agent: *\nDisallow: /x\n", 0},
		{"robots.txt not obeyed", downloader.Config{}, "User-agent: *\nCrawl-delay: 4\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, hits := site(t, robotsBody(tt.robots))
			d, _, _ := fakeDownloader(t, tt.cfg)
			if _, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/"}); err != nil {
				t.Fatal(err)
			}
			if got := d.CrawlDelay("127.0.0.1"); got != tt.wantDelay {
				t.Errorf("CrawlDelay: got %v, want %v", got, tt.wantDelay)
			}
			if !tt.cfg.ObeyRobots && hits.get("/robots.txt") != 0 {
				t.Errorf("robots.txt fetched %d times without ObeyRobots", hits.get("/robots.txt"))
			}
		})
	}
}

// What a robots.txt answer means, RFC 9309 section 2.3.1: 2xx rules, 4xx
// no rules, 429 and 5xx no access for a while.
func TestRobotsStatuses(t *testing.T) {
	tests := []struct {
		status      int
		allowed     bool
		outcome     string
		robotsTries int // with the default two retries
	}{
		{404, true, "missing", 1},
		{410, true, "missing", 1},
		{401, true, "missing", 1},
		{403, true, "missing", 1},
		{429, false, "unavailable", 3},
		{500, false, "unavailable", 3},
		{503, false, "unavailable", 3},
		{501, false, "unavailable", 1}, // 5xx, though not worth retrying
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv, hits := site(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte("User-agent: *\nAllow: /\n")) // never read as rules
			})
			d, _, st := fakeDownloader(t, downloader.Config{ObeyRobots: true})
			for range 2 { // the second request uses what the first learnt
				_, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/page"})
				if tt.allowed && err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if !tt.allowed {
					checkDenied(t, err, hits, "/page")
					if !strings.Contains(err.Error(), fmt.Sprint(tt.status)) {
						t.Errorf("error %q does not give the robots.txt status", err)
					}
				}
			}
			if n := hits.get("/robots.txt"); n != tt.robotsTries {
				t.Errorf("robots.txt requests: got %d, want %d", n, tt.robotsTries)
			}
			wantStats(t, st, map[string]int64{stats.Robots + tt.outcome: 1})
		})
	}
}

// A site whose robots.txt failed is asked again after RobotsErrorTTL, and
// one whose robots.txt was read after RobotsTTL.
func TestRobotsExpiry(t *testing.T) {
	var status atomic.Int32
	status.Store(503)
	srv, hits := site(t, func(w http.ResponseWriter, r *http.Request) {
		if s := int(status.Load()); s != 200 {
			w.WriteHeader(s)
			return
		}
		robotsBody("User-agent: *\nDisallow: /private/\n")(w, r)
	})
	d, clock, st := fakeDownloader(t, downloader.Config{ObeyRobots: true, Retries: downloader.NoRetries,
		RobotsErrorTTL: 5 * time.Minute, RobotsTTL: time.Hour})
	fetch := func(path string) error {
		_, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + path})
		return err
	}

	checkDenied(t, fetch("/page"), hits, "/page")
	status.Store(200) // the site recovers
	clock.Advance(5*time.Minute - time.Second)
	checkDenied(t, fetch("/page"), hits, "/page")
	if n := hits.get("/robots.txt"); n != 1 {
		t.Fatalf("robots.txt asked again before RobotsErrorTTL (%d requests)", n)
	}
	clock.Advance(time.Second)
	if err := fetch("/page"); err != nil {
		t.Fatalf("after RobotsErrorTTL: %v", err)
	}
	checkDenied(t, fetch("/private/x"), hits, "/private/x")
	if n := hits.get("/robots.txt"); n != 2 {
		t.Errorf("robots.txt requests after RobotsErrorTTL: got %d, want 2", n)
	}

	clock.Advance(time.Hour - time.Second)
	fetch("/page")
	if n := hits.get("/robots.txt"); n != 2 {
		t.Errorf("robots.txt asked again before RobotsTTL (%d requests)", n)
	}
	clock.Advance(time.Second)
	fetch("/page")
	if n := hits.get("/robots.txt"); n != 3 {
		t.Errorf("robots.txt requests after RobotsTTL: got %d, want 3", n)
	}
	wantStats(t, st, map[string]int64{stats.Robots + "unavailable": 1, stats.Robots + "fetched": 2})
}

// A robots.txt that cannot be reached at all makes the requests to its
// origin fail, unsent, with the network's error: ErrorKind says why.
func TestRobotsUnreachable(t *testing.T) {
	// A server that accepts connections and drops them, and counts them.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			resetConn(conn)
		}
	})
	d, clock, st := fakeDownloader(t, downloader.Config{ObeyRobots: true})
	for range 3 {
		_, err := d.Fetch(testCtx(t), &downloader.Request{URL: "http://" + ln.Addr().String() + "/page"})
		if !errors.Is(err, downloader.ErrRobotsUnreachable) {
			t.Fatalf("Fetch: got %v, want ErrRobotsUnreachable", err)
		}
		if errors.Is(err, downloader.ErrRobotsDenied) {
			t.Errorf("error %v is also ErrRobotsDenied: an unreachable site should count as an error", err)
		}
		if got := downloader.ErrorKind(err); got != "connection_reset" {
			t.Errorf("ErrorKind(%v): got %q, want connection_reset", err, got)
		}
	}
	// One robots.txt fetch with its two retries; the page never.
	if n := accepted.Load(); n != 3 {
		t.Errorf("connections: got %d, want 3 (one robots.txt fetch, retried twice)", n)
	}
	clock.Advance(downloader.DefaultRobotsErrorTTL)
	d.Fetch(testCtx(t), &downloader.Request{URL: "http://" + ln.Addr().String() + "/page"})
	if n := accepted.Load(); n != 6 {
		t.Errorf("connections after RobotsErrorTTL: got %d, want 6", n)
	}
	wantStats(t, st, map[string]int64{stats.Robots + "unreachable": 2})
}

func TestRobotsTimeout(t *testing.T) {
	srv, hits := site(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	d, _, _ := fakeDownloader(t, downloader.Config{ObeyRobots: true, Timeout: 100 * time.Millisecond, Retries: downloader.NoRetries})
	_, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/page"})
	if !errors.Is(err, downloader.ErrRobotsUnreachable) || downloader.ErrorKind(err) != "timeout" {
		t.Errorf("Fetch: got %v (kind %s), want ErrRobotsUnreachable of kind timeout", err, downloader.ErrorKind(err))
	}
	if n := hits.get("/page"); n != 0 {
		t.Errorf("page requested %d times, want 0", n)
	}
}

// Redirects of robots.txt are followed up to five times, to any origin,
// and the rules found apply to the origin asked.
func TestRobotsRedirects(t *testing.T) {
	elsewhere, elsewhereHits := site(t, robotsBody("User-agent: *\nDisallow: /x\n"))
	tests := []struct {
		name    string
		hops    int    // redirects within the site before the rules
		to      string // where the last one goes
		allowed bool
		outcome string
	}{
		{"one hop", 1, "/rules.txt", false, "fetched"},
		{"five hops", 5, "/rules.txt", false, "fetched"},
		{"six hops: treated as no robots.txt", 6, "/rules.txt", true, "missing"},
		{"to another origin", 1, elsewhere.URL + "/robots.txt", false, "fetched"},
		{"to file:", 1, "file:///etc/hostname", true, "missing"},
		{"a loop", 1, "/robots.txt", true, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mux http.ServeMux
			hits := new(hitCounter)
			mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
				if tt.hops == 1 {
					http.Redirect(w, r, tt.to, http.StatusMovedPermanently)
					return
				}
				http.Redirect(w, r, "/hop/1", http.StatusFound)
			})
			mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
				var n int
				fmt.Sscan(r.PathValue("n"), &n)
				if n+1 >= tt.hops {
					http.Redirect(w, r, tt.to, http.StatusFound)
					return
				}
				http.Redirect(w, r, fmt.Sprintf("/hop/%d", n+1), http.StatusFound)
			})
			mux.HandleFunc("/rules.txt", robotsBody("User-agent: *\nDisallow: /x\n"))
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.add(r.URL.Path)
				mux.ServeHTTP(w, r)
			}))
			d, _, st := fakeDownloader(t, downloader.Config{ObeyRobots: true})
			_, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/x"})
			if tt.allowed {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
			} else {
				checkDenied(t, err, hits, "/x")
			}
			wantStats(t, st, map[string]int64{stats.Robots + tt.outcome: 1})
		})
	}
	if n := elsewhereHits.get("/x"); n != 0 {
		t.Errorf("the other origin's page was requested %d times", n)
	}
}

// Each hop of a redirect is held to its own origin's robots.txt.
func TestRobotsRedirectHops(t *testing.T) {
	closed, closedHits := site(t, robotsBody("User-agent: *\nDisallow: /\n"))
	srv, hits := site(t, robotsBody("User-agent: *\nDisallow: /private/\n"))
	var mux http.ServeMux
	mux.HandleFunc("/to-private", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/private/page", http.StatusFound)
	})
	mux.HandleFunc("/to-closed", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, closed.URL+"/page", http.StatusFound)
	})
	mux.HandleFunc("/to-open", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/open", http.StatusFound)
	})
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	redirector := newServer(t, &mux)
	tests := []struct {
		path      string
		hits      *hitCounter
		final     string
		wantAllow bool
	}{
		{"/to-private", hits, "/private/page", false},
		{"/to-closed", closedHits, "/page", false},
		{"/to-open", hits, "/open", true},
	}
	d, _, _ := fakeDownloader(t, downloader.Config{ObeyRobots: true})
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: redirector.URL + tt.path})
			if tt.wantAllow {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if !strings.HasSuffix(resp.URL, tt.final) {
					t.Errorf("final URL: got %s, want …%s", resp.URL, tt.final)
				}
				return
			}
			checkDenied(t, err, tt.hits, tt.final)
		})
	}
	if n := closedHits.get("/robots.txt"); n != 1 {
		t.Errorf("robots.txt of the redirect target: %d requests, want 1", n)
	}
}

// A request that gives up waiting for another's robots.txt fetch leaves it
// running; a fetch whose own request gives up is started again by the next
// request that needs it, not remembered as a failure.
func TestRobotsFetchCancelled(t *testing.T) {
	var calls atomic.Int32
	entered := make(chan struct{}, 2)
	srv, hits := site(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		if calls.Add(1) == 1 {
			<-r.Context().Done() // the first fetch hangs until its request gives up
			return
		}
		robotsBody("User-agent: *\nDisallow: /private/\n")(w, r)
	})
	d, _, st := fakeDownloader(t, downloader.Config{ObeyRobots: true})

	first, cancelFirst := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := d.Fetch(first, &downloader.Request{URL: srv.URL + "/a"})
		done <- err
	}()
	<-entered // the first request is fetching robots.txt

	// A request with a deadline already past waits for nothing.
	past, cancelPast := context.WithDeadline(testCtx(t), time.Unix(0, 0))
	defer cancelPast()
	if _, err := d.Fetch(past, &downloader.Request{URL: srv.URL + "/b"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Fetch with an expired context: got %v, want context.DeadlineExceeded", err)
	}

	cancelFirst()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("first Fetch: got %v, want context.Canceled", err)
	}
	// The abandoned fetch is not a verdict: the next request fetches again.
	if _, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/c"}); err != nil {
		t.Errorf("Fetch after the abandoned robots.txt fetch: %v", err)
	}
	_, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/private/d"})
	checkDenied(t, err, hits, "/private/d")
	if n := hits.get("/robots.txt"); n != 2 {
		t.Errorf("robots.txt requests: got %d, want 2", n)
	}
	if n := hits.get("/a") + hits.get("/b"); n != 0 {
		t.Errorf("pages of cancelled requests were requested %d times", n)
	}
	wantStats(t, st, map[string]int64{stats.Robots + "fetched": 1, stats.Robots + "unreachable": 0})
}

// file: URLs have no robots.txt.
func TestRobotsFileURL(t *testing.T) {
	p := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(p, []byte("<p>local</p>"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, _, st := fakeDownloader(t, downloader.Config{ObeyRobots: true})
	resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: fileURL(p)})
	if err != nil || string(resp.Body) != "<p>local</p>" {
		t.Fatalf("Fetch: got %v, want the file", err)
	}
	if n := st.Sum(stats.Robots); n != 0 {
		t.Errorf("robots.txt fetches: %d, want 0", n)
	}
}

// A robots.txt of 10 MB is read up to robots.MaxSize and counted as
// truncated: the rules after that point do not apply, and the crawl goes on.
func TestRobotsTooLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("User-agent: *\nDisallow: /early/\n")
	for b.Len() < robots.MaxSize {
		b.WriteString("# \x00\xff garbage garbage garbage garbage garbage garbage\n")
	}
	b.WriteString("Disallow: /late/\n") // past the limit
	for b.Len() < 10<<20 {
		b.WriteString("Disallow: /\n")
	}
	srv, hits := site(t, robotsBody(b.String()))
	d, _, st := fakeDownloader(t, downloader.Config{ObeyRobots: true})
	for _, path := range []string{"/page", "/late/page"} {
		if _, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + path}); err != nil {
			t.Errorf("Fetch %s: %v", path, err)
		}
	}
	_, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/early/page"})
	checkDenied(t, err, hits, "/early/page")
	wantStats(t, st, map[string]int64{stats.Robots + "fetched": 1, stats.Truncated: 1})
}
