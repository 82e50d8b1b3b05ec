package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"crawl/downloader"
	"crawl/engine"
	"crawl/item"
	"crawl/spider"
	"crawl/stats"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// checkLeaks makes the test fail if, once it and its cleanups are done,
// goroutines it started are still running. Call it first, so that its
// cleanup runs last, after servers and downloaders are closed.
func checkLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// hits counts requests by path; it is the test's view of what was fetched.
type hits struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *hits) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		if h.n == nil {
			h.n = map[string]int{}
		}
		h.n[r.URL.Path]++
		h.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (h *hits) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[path]
}

func (h *hits) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.n {
		n += c
	}
	return n
}

// serve starts a loopback server that counts its hits.
func serve(t *testing.T, h http.Handler) (*httptest.Server, *hits) {
	t.Helper()
	var hs hits
	srv := httptest.NewServer(hs.wrap(h))
	t.Cleanup(srv.Close)
	return srv, &hs
}

// siteHandler serves the files under dir as they are, without the redirect
// from /index.html to / that http.FileServer makes.
func siteHandler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})
}

// loadSpider writes spec, with {{URL}} replaced by url, into a temporary
// spider file and loads it.
func loadSpider(t *testing.T, spec, url string) *spider.Spider {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spider.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(spec, "{{URL}}", url)), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := spider.Load(path)
	if err != nil {
		t.Fatalf("load spider: %v", err)
	}
	return sp
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// crawl runs one crawl to the end and returns its items, stats and reason.
func crawl(t *testing.T, cfg engine.Config, sp engine.Spider) ([]*item.Item, *stats.Stats, engine.Reason) {
	t.Helper()
	if cfg.Stats == nil {
		cfg.Stats = new(stats.Stats)
	}
	dl := downloader.New(downloader.Config{Timeout: 10 * time.Second})
	defer dl.Close()
	e := engine.New(cfg, sp, dl)
	out := make(chan *item.Item)
	var items []*item.Item
	done := make(chan struct{})
	go func() {
		defer close(done)
		for it := range out {
			items = append(items, it)
		}
	}()
	reason, err := e.Run(context.Background(), out)
	close(out)
	<-done
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return items, cfg.Stats, reason
}

func field(it *item.Item, name string) string {
	v, _ := it.Get(name)
	s, _ := v.(string)
	return s
}

func TestCrawlBooks(t *testing.T) {
	checkLeaks(t)
	srv, hs := serve(t, siteHandler("../testdata/books"))
	sp := loadSpider(t, readFile(t, "testdata/books.yaml"), srv.URL)
	items, st, reason := crawl(t, engine.Config{Workers: 4}, sp)
	if reason != engine.Finished {
		t.Errorf("reason = %q, want %q", reason, engine.Finished)
	}
	var got []string
	for _, it := range items {
		if sp.Check(it) != nil {
			continue
		}
		got = append(got, fmt.Sprintf("%s|%s|%s", field(it, "title"), field(it, "price"), field(it, "rating")))
	}
	slices.Sort(got)
	want := []string{
		"A Light in the Attic|51.77|Three",
		"Café Olé & Friends|17.93|Two",
		"Sapiens|54.23|Five",
		"Sharp Objects|47.82|Four",
		"Soumission|50.10|One",
		"The Dirty Little Secrets|33.34|Four",
		"The Requiem Red|22.65|One",
		"Tipping the Velvet|53.74|One",
	}
	if !slices.Equal(got, want) {
		t.Errorf("items:\ngot  %q\nwant %q", got, want)
	}
	if len(items) != 9 {
		t.Errorf("scraped %d items, want 9 (one of them without a title)", len(items))
	}
	// 3 listing pages and 9 product pages; categories are denied, the
	// fragment on product links does not make a second fetch.
	if n := hs.total(); n != 12 {
		t.Errorf("server saw %d requests, want 12: %v", n, hs.n)
	}
	for _, path := range []string{"/catalogue/category/travel/index.html", "/catalogue/category/poetry/index.html"} {
		if hs.count(path) != 0 {
			t.Errorf("denied page %s was fetched", path)
		}
	}
	if p := st.Get(stats.Pages); p != 12 {
		t.Errorf("stats pages = %d, want 12", p)
	}
	if s := st.Get(stats.Status + "200"); s != 12 {
		t.Errorf("stats status/200 = %d, want 12", s)
	}
}

func TestDepthLimit(t *testing.T) {
	checkLeaks(t)
	srv, hs := serve(t, siteHandler("../testdata/books"))
	sp := loadSpider(t, readFile(t, "testdata/books.yaml"), srv.URL)
	items, st, _ := crawl(t, engine.Config{Workers: 2, Depth: 1}, sp)
	// Depth 0: index. Depth 1: page-2 and the four products on the index.
	if n := hs.total(); n != 6 {
		t.Errorf("server saw %d requests, want 6: %v", n, hs.n)
	}
	if len(items) != 4 {
		t.Errorf("got %d items, want 4", len(items))
	}
	if st.Get(stats.DepthLimited) == 0 {
		t.Error("depth-limited links were not counted")
	}
}

func TestMaxPages(t *testing.T) {
	checkLeaks(t)
	srv, hs := serve(t, siteHandler("../testdata/books"))
	sp := loadSpider(t, readFile(t, "testdata/books.yaml"), srv.URL)
	_, st, reason := crawl(t, engine.Config{Workers: 4, MaxPages: 5}, sp)
	if reason != engine.MaxPages {
		t.Errorf("reason = %q, want %q", reason, engine.MaxPages)
	}
	if n := hs.total(); n != 5 {
		t.Errorf("server saw %d requests, want 5", n)
	}
	if n := st.Get(stats.Requests); n != 5 {
		t.Errorf("stats requests = %d, want 5", n)
	}
}

// TestDeduplication links one page under many spellings: each variant
// must lead to one fetch.
func TestDeduplication(t *testing.T) {
	checkLeaks(t)
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		upper := strings.Replace(base, "http://", "HTTP://", 1)
		fmt.Fprintf(w, `<html><body>
			<a href="/a">a</a> <a href="/a#top">a again</a> <a href="%s/a">absolute</a>
			<a href="%s/a#x">upper-case scheme</a> <a href="/">home</a> <a href="/b?x=1">b</a>
			<a href="/b?x=1#frag">b again</a> <a href="/b?x=2">other query</a></body></html>`, base, upper)
	})
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><a href="/">home</a><a href="/a">self</a></body></html>`)
	})
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><a href="/a">a</a></body></html>`)
	})
	srv, hs := serve(t, mux)
	base = srv.URL
	sp := loadSpider(t, "start_urls: [\"{{URL}}/\"]\nfollow: [{css: a}]\n", srv.URL)
	_, st, _ := crawl(t, engine.Config{Workers: 3}, sp)
	for path, want := range map[string]int{"/": 1, "/a": 1, "/b": 2} {
		if got := hs.count(path); got != want {
			t.Errorf("%s fetched %d times, want %d", path, got, want)
		}
	}
	if st.Get(stats.Duplicates) == 0 {
		t.Error("duplicates were not counted")
	}
}

// TestAllowedDomains serves an off-site page on localhost while the spider
// allows only 127.0.0.1: the off-site server must see no request.
func TestAllowedDomains(t *testing.T) {
	checkLeaks(t)
	offsite, offHits := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body>off-site</body></html>")
	}))
	offURL := strings.Replace(offsite.URL, "127.0.0.1", "localhost", 1)
	srv, hs := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			fmt.Fprint(w, "<html><body>inside</body></html>")
			return
		}
		fmt.Fprintf(w, `<html><body><a href="%s/x">off-site</a><a href="/in">in</a>
			<a href="http://sub.127.0.0.1.invalid/">never resolved</a></body></html>`, offURL)
	}))
	spec := "start_urls: [\"{{URL}}/\"]\nallowed_domains: [127.0.0.1]\nfollow: [{css: a}]\n"
	sp := loadSpider(t, spec, srv.URL)
	_, st, _ := crawl(t, engine.Config{Workers: 2}, sp)
	if n := offHits.total(); n != 0 {
		t.Errorf("off-site server saw %d requests, want 0", n)
	}
	if hs.count("/in") != 1 {
		t.Errorf("/in fetched %d times, want 1", hs.count("/in"))
	}
	if n := st.Get(stats.LinksSkipped + "offsite"); n != 2 {
		t.Errorf("offsite links counted = %d, want 2", n)
	}
	if n := st.Sum(stats.Errors); n != 0 {
		t.Errorf("errors = %d, want 0 (no off-site host may be dialled or resolved)", n)
	}
}

// TestWebPageNeverLeadsOffsiteOrToFiles links and redirects a web page to
// a local file and to an off-site host: neither may be read or contacted.
func TestWebPageNeverLeadsOffsiteOrToFiles(t *testing.T) {
	checkLeaks(t)
	secret := filepath.Join(t.TempDir(), "secret.html")
	if err := os.WriteFile(secret, []byte("<html><body><h1>secret</h1></body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	offsite, offHits := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body><h1>off-site</h1></body></html>")
	}))
	offURL := strings.Replace(offsite.URL, "127.0.0.1", "localhost", 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><body><h1>home</h1><a href="file://%s">file</a>
			<a href="/to-file">redirect to file</a> <a href="/to-offsite">redirect off-site</a></body></html>`, secret)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file://"+secret, http.StatusFound)
	})
	mux.HandleFunc("/to-offsite", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, offURL+"/x", http.StatusFound)
	})
	srv, _ := serve(t, mux)
	spec := "start_urls: [\"{{URL}}/\"]\nallowed_domains: [127.0.0.1]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n"
	sp := loadSpider(t, spec, srv.URL)
	st := new(stats.Stats)
	dl := downloader.New(downloader.Config{CheckRedirect: sp.CheckRedirect})
	defer dl.Close()
	e := engine.New(engine.Config{Workers: 2, Stats: st}, sp, dl)
	out := make(chan *item.Item, 10)
	if _, err := e.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	close(out)
	for it := range out {
		if title := field(it, "title"); title != "home" {
			t.Errorf("scraped an item titled %q: only the home page may be scraped", title)
		}
	}
	if n := offHits.total(); n != 0 {
		t.Errorf("off-site server saw %d requests, want 0", n)
	}
	if n := st.Get(stats.LinksSkipped + "scheme"); n != 1 {
		t.Errorf("links skipped for their scheme = %d, want 1 (the file: link)", n)
	}
	if n := st.Get(stats.Errors + "redirect"); n != 2 {
		t.Errorf("refused redirects = %d, want 2 (to file: and off-site)", n)
	}
}

// TestRedirectsDeduplicate makes two URLs redirect to one page that is also
// linked directly: the page is fetched once more at most, and scraped once.
func TestRedirectsDeduplicate(t *testing.T) {
	checkLeaks(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><h1>home</h1><a href="/old">old</a><a href="/older">older</a></body></html>`)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/older", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><h1>new</h1><a href="/new">self</a><a href="/old">old</a></body></html>`)
	})
	srv, hs := serve(t, mux)
	spec := "start_urls: [\"{{URL}}/\"]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n"
	sp := loadSpider(t, spec, srv.URL)
	items, st, _ := crawl(t, engine.Config{Workers: 1}, sp)
	var titles []string
	for _, it := range items {
		titles = append(titles, field(it, "title"))
	}
	slices.Sort(titles)
	if want := []string{"home", "new"}; !slices.Equal(titles, want) {
		t.Errorf("items %q, want %q: a page reached twice was scraped twice", titles, want)
	}
	// /old and /older are each fetched once; both land on /new. /new is
	// then known, so the link to it on /new itself is not fetched again.
	if n := hs.count("/new"); n != 2 {
		t.Errorf("/new fetched %d times, want 2 (once through each redirect)", n)
	}
	if n := st.Get(stats.Skipped + "duplicate_redirect"); n != 1 {
		t.Errorf("duplicate redirects counted = %d, want 1", n)
	}
}

// TestMaxErrors stops a crawl whose requests all fail after the limit.
func TestMaxErrors(t *testing.T) {
	checkLeaks(t)
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	refused := srv.URL
	srv.Close() // every request is now refused
	sp := loadSpider(t, "start_urls_range: {template: \"{{URL}}/{n}\", from: 1, to: 1000}\n", refused)
	_, st, reason := crawl(t, engine.Config{Workers: 1, MaxErrors: 3}, sp)
	if reason != engine.MaxErrors {
		t.Errorf("reason = %q, want %q", reason, engine.MaxErrors)
	}
	if n := st.Get(stats.Errors + "connection_refused"); n != 3 {
		t.Errorf("refused requests = %d, want exactly 3 with one worker", n)
	}
}

// TestManyLinksNoDeadlock crawls a site whose every page links to 40 new
// pages, with fewer workers than links on a page and a queue that is always
// full: the crawl must finish and fetch every page once.
func TestManyLinksNoDeadlock(t *testing.T) {
	checkLeaks(t)
	const pages, fanout = 3000, 40
	srv, hs := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/p/%d", &n)
		var b strings.Builder
		b.WriteString("<html><body>")
		for i := n*fanout + 1; i <= n*fanout+fanout && i < pages; i++ {
			fmt.Fprintf(&b, `<a href="/p/%d">%d</a> <a href="/p/%d">back</a>`, i, i, n)
		}
		b.WriteString("</body></html>")
		io.WriteString(w, b.String())
	}))
	sp := loadSpider(t, "start_urls: [\"{{URL}}/p/0\"]\nfollow: [{css: a}]\n", srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	st := new(stats.Stats)
	// A small memory budget makes most of the frontier wait on disk.
	e := engine.New(engine.Config{Workers: 2, Stats: st, QueueMemory: 50, SpillDir: t.TempDir()}, sp, dl)
	reason, err := e.Run(ctx, make(chan *item.Item))
	if err != nil {
		t.Fatalf("Run: %v (a deadlock would end here, at the test's deadline)", err)
	}
	if reason != engine.Finished {
		t.Errorf("reason = %q, want finished", reason)
	}
	if n := hs.total(); n != pages {
		t.Errorf("fetched %d pages, want %d", n, pages)
	}
}

// TestItemsStream holds the last page until the test has received an item:
// items must flow while the crawl is still running, not at its end.
func TestItemsStream(t *testing.T) {
	checkLeaks(t)
	release := make(chan struct{})
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/last" {
			<-release
		}
		fmt.Fprintf(w, `<html><body><h1>%s</h1><a href="/last">last</a></body></html>`, r.URL.Path)
	}))
	spec := "start_urls: [\"{{URL}}/first\"]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n"
	sp := loadSpider(t, spec, srv.URL)
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	e := engine.New(engine.Config{Workers: 2}, sp, dl)
	out := make(chan *item.Item)
	errc := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), out)
		close(out)
		errc <- err
	}()
	first := <-out
	if got := field(first, "title"); got != "/first" {
		t.Errorf("first item title = %q, want /first", got)
	}
	close(release) // only now can the crawl finish
	var rest []*item.Item
	for it := range out {
		rest = append(rest, it)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || field(rest[0], "title") != "/last" {
		t.Errorf("after the first item got %v, want the /last item", rest)
	}
}

// countingReader is an endless start-URL stream that counts the bytes read.
type countingReader struct {
	mu   sync.Mutex
	url  string
	n    int
	read int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	line := fmt.Sprintf("%s/page/%d\n", c.url, c.n)
	if len(p) < len(line) {
		return 0, io.ErrShortBuffer
	}
	c.n++
	c.read += len(line)
	return copy(p, line), nil
}

// TestStartRequestsLazy feeds an endless stream of start URLs: with a page
// limit the crawl must end having read only a little of it.
func TestStartRequestsLazy(t *testing.T) {
	checkLeaks(t)
	srv, hs := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html><body>page</body></html>")
	}))
	sp := loadSpider(t, "start_urls_file: \"-\"\n", srv.URL)
	src := &countingReader{url: srv.URL}
	sp.Stdin = src
	_, _, reason := crawl(t, engine.Config{Workers: 4, MaxPages: 20}, sp)
	if reason != engine.MaxPages {
		t.Errorf("reason = %q, want max_pages", reason)
	}
	if n := hs.total(); n != 20 {
		t.Errorf("fetched %d pages, want 20", n)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.read > 1<<20 {
		t.Errorf("read %d bytes of start URLs for 20 pages: the stream was not consumed lazily", src.read)
	}
}

// TestStopFinishesInFlight stops the crawl while requests are in flight:
// they complete and hand on their items, and nothing new starts.
func TestStopFinishesInFlight(t *testing.T) {
	checkLeaks(t)
	inside := make(chan struct{}, 8)
	release := make(chan struct{})
	srv, hs := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			inside <- struct{}{}
			<-release
		}
		var b strings.Builder
		for i := range 10 {
			fmt.Fprintf(&b, `<a href="%s/%d">%d</a>`, strings.TrimSuffix(r.URL.Path, "/"), i, i)
		}
		fmt.Fprintf(w, "<html><body><h1>%s</h1>%s</body></html>", r.URL.Path, b.String())
	}))
	spec := "start_urls: [\"{{URL}}/\"]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n"
	sp := loadSpider(t, spec, srv.URL)
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	e := engine.New(engine.Config{Workers: 2}, sp, dl)
	out := make(chan *item.Item, 100)
	type ret struct {
		reason engine.Reason
		err    error
	}
	done := make(chan ret, 1)
	go func() {
		r, err := e.Run(context.Background(), out)
		close(out)
		done <- ret{r, err}
	}()
	<-inside
	<-inside // both workers are now inside a request
	e.Stop(engine.Interrupted)
	close(release)
	r := <-done
	if r.err != nil || r.reason != engine.Interrupted {
		t.Fatalf("Run = %q, %v; want interrupted, nil", r.reason, r.err)
	}
	var n int
	for range out {
		n++
	}
	if n != 3 {
		t.Errorf("got %d items, want 3: the start page and the two in flight", n)
	}
	if total := hs.total(); total != 3 {
		t.Errorf("server saw %d requests after Stop, want 3", total)
	}
}

// TestCancelReturns cancels the context while requests hang: Run must
// return promptly with the context's error and leave no goroutine behind.
func TestCancelReturns(t *testing.T) {
	checkLeaks(t)
	hang := make(chan struct{})
	defer close(hang)
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	sp := loadSpider(t, "start_urls_range: {template: \"{{URL}}/{n}\", from: 1, to: 1000000}\n", srv.URL)
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	e := engine.New(engine.Config{Workers: 4}, sp, dl)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, make(chan *item.Item))
		errc <- err
	}()
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := <-errc; err != context.Canceled {
		t.Errorf("Run error = %v, want context.Canceled", err)
	}
}

// TestSlowHostDoesNotStarveOthers crawls two hosts: one holds every
// request until the test lets go, the other answers at once. The fast host
// must be crawled to the end while the slow one holds its slots, and no
// host may see more requests at once than the per-host limit.
func TestSlowHostDoesNotStarveOthers(t *testing.T) {
	checkLeaks(t)
	const perHost, pages = 2, 60
	release := make(chan struct{})
	var mu sync.Mutex
	active, peak := map[string]int{}, map[string]int{}
	track := func(name string, next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			active[name]++
			peak[name] = max(peak[name], active[name])
			mu.Unlock()
			defer func() {
				mu.Lock()
				active[name]--
				mu.Unlock()
			}()
			next(w, r)
		}
	}
	var fastURL string
	slow, _ := serve(t, track("slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "<html><body>slow</body></html>")
	}))
	fast, fastHits := serve(t, track("fast", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/%d", &n)
		if n+1 < pages {
			fmt.Fprintf(w, `<html><body><a href="%s/%d">next</a></body></html>`, fastURL, n+1)
			return
		}
		io.WriteString(w, "<html><body>last</body></html>")
	}))
	fastURL = strings.Replace(fast.URL, "127.0.0.1", "localhost", 1)
	var starts strings.Builder
	for i := range 10 {
		fmt.Fprintf(&starts, "%q, ", fmt.Sprintf("%s/s%d", slow.URL, i))
	}
	spec := fmt.Sprintf("start_urls: [%s%q]\nfollow: [{css: a}]\n", starts.String(), fastURL+"/0")
	sp := loadSpider(t, spec, "")
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	e := engine.New(engine.Config{Workers: 4, Politeness: engine.Politeness{PerHost: perHost}}, sp, dl)
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), make(chan *item.Item))
		done <- err
	}()
	// The fast host's chain of pages is fetched one after another while
	// the slow host holds two workers; without per-host slots all four
	// workers would wait on the slow host and this would never finish.
	deadline := time.After(time.Minute)
	for fastHits.total() < pages {
		select {
		case err := <-done:
			t.Fatalf("crawl ended early: %v", err)
		case <-deadline:
			close(release)
			t.Fatalf("fast host fetched %d of %d pages while the slow one held its slots: starved", fastHits.total(), pages)
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak["slow"] > perHost || peak["fast"] > perHost {
		t.Errorf("peak requests at once: slow %d, fast %d; want at most %d each", peak["slow"], peak["fast"], perHost)
	}
	if peak["slow"] != perHost {
		t.Errorf("slow host peaked at %d requests at once, want %d: its slots were not used", peak["slow"], perHost)
	}
}

// TestOneURLManySpellings links one page under several spellings of its
// URL (scheme case, query order, an encoded tilde, a fragment, dot
// segments, a tab inside the href) and through a redirect: one fetch, one
// item.
func TestOneURLManySpellings(t *testing.T) {
	checkLeaks(t)
	var base string
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		upper := strings.Replace(base, "http://", "HTTP://", 1)
		fmt.Fprintf(w, `<html><body><h1>home</h1>
			<a href="/~user/page?a=1&b=2">plain</a>
			<a href="%s/~user/page?b=2&a=1">upper-case scheme, other query order</a>
			<a href="/%%7euser/page?a=1&b=2#section">encoded tilde and a fragment</a>
			<a href="/x/../~user/./page?a=1&b=2">dot segments</a>
			<a href="/~user/pa	ge?a=1&b=2">a tab inside the href</a>
			<a href="/moved">through a redirect</a></body></html>`, upper)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/~user/page?b=2&a=1", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/~user/page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><h1>the page</h1></body></html>`)
	})
	srv, hs := serve(t, mux)
	base = srv.URL
	spec := "start_urls: [\"{{URL}}/\"]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n"
	sp := loadSpider(t, spec, srv.URL)
	items, _, _ := crawl(t, engine.Config{Workers: 1}, sp)
	var pages int
	for _, it := range items {
		if field(it, "title") == "the page" {
			pages++
		}
	}
	if pages != 1 {
		t.Errorf("the page was scraped %d times, want once", pages)
	}
	// Five spellings are one URL: fetched once. The redirect is followed
	// once more, lands on the page, and is recognised as seen.
	if n := hs.count("/~user/page"); n != 2 {
		t.Errorf("/~user/page fetched %d times, want 2: once by link, once at the end of the redirect", n)
	}
}

// parseCounter is a Spider that records how many pages are being parsed
// at once. Each parse waits a little for company, so that pages that may
// be parsed together are.
type parseCounter struct {
	*spider.Spider
	mu             sync.Mutex
	active, most   int
	company        chan struct{}
	companyTimeout time.Duration
}

func (p *parseCounter) ParseContext(_ context.Context, resp *downloader.Response) iter.Seq[spider.Result] {
	return func(yield func(spider.Result) bool) {
		p.mu.Lock()
		p.active++
		p.most = max(p.most, p.active)
		p.mu.Unlock()
		select {
		case p.company <- struct{}{}:
		case <-p.company:
		case <-time.After(p.companyTimeout):
		}
		for r := range p.Spider.Parse(resp) {
			if !yield(r) {
				break
			}
		}
		p.mu.Lock()
		p.active--
		p.mu.Unlock()
	}
}

// TestParseMemory: with ParseMemory smaller than a page, pages are parsed
// one at a time however many workers there are; with the default, they
// are parsed together.
func TestParseMemory(t *testing.T) {
	checkLeaks(t)
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			fmt.Fprintf(w, "<html><body><h1>%s</h1>%s</body></html>", r.URL.Path, strings.Repeat("<p>filler</p>", 100))
			return
		}
		for i := range 8 {
			fmt.Fprintf(w, `<a href="/p%d">p</a>`, i)
		}
	}))
	for _, tc := range []struct {
		budget int64
		most   int
	}{{100, 1}, {0, 2}} {
		sp := &parseCounter{
			Spider:         loadSpider(t, "start_urls: [\"{{URL}}/\"]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n", srv.URL),
			company:        make(chan struct{}),
			companyTimeout: 100 * time.Millisecond,
		}
		items, _, _ := crawl(t, engine.Config{Workers: 8, ParseMemory: tc.budget}, sp)
		if len(items) != 9 { // the 8 pages and the start page
			t.Errorf("budget %d: %d items, want 9", tc.budget, len(items))
		}
		if (tc.most == 1 && sp.most != 1) || (tc.most > 1 && sp.most < tc.most) {
			t.Errorf("budget %d: at most %d pages parsed at once, want %d", tc.budget, sp.most, tc.most)
		}
	}
}

// failingCommits is a Committer frontier whose store refuses every commit,
// as a full disk would.
type failingCommits struct {
	*engine.MemoryFrontier
	commits atomic.Int64
}

func (f *failingCommits) Commit(*downloader.Request) error {
	f.commits.Add(1)
	return errors.New("disk full")
}

// TestCommitFailureStops: pages reach a Committer only through the marks
// the writer reaches, and a commit that fails stops the crawl with
// CommitFailed rather than crawling on with nothing recorded.
func TestCommitFailureStops(t *testing.T) {
	checkLeaks(t)
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/p/%d", &n)
		fmt.Fprintf(w, `<html><body><h1>%d</h1>`, n)
		if n < 50 {
			fmt.Fprintf(w, `<a href="/p/%d">next</a>`, n+1)
		}
	}))
	sp := loadSpider(t, "start_urls: [\"{{URL}}/p/0\"]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n", srv.URL)
	fr := &failingCommits{MemoryFrontier: engine.NewMemoryFrontier(engine.Politeness{}, 0, t.TempDir(), engine.BFS)}
	defer fr.Close()
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	e := engine.New(engine.Config{Workers: 2, Frontier: fr}, sp, dl)
	out := make(chan *item.Item)
	done := make(chan struct{})
	var items int
	go func() {
		defer close(done)
		for it := range out {
			if it.IsMark() {
				it.Reached() // as the writer does once the page's items are flushed
				continue
			}
			items++
		}
	}()
	reason, err := e.Run(context.Background(), out)
	close(out)
	<-done
	if err != nil || reason != engine.CommitFailed {
		t.Errorf("Run = %q, %v; want %q", reason, err, engine.CommitFailed)
	}
	if fr.commits.Load() == 0 || items == 0 {
		t.Errorf("%d commits, %d items: the pages never reached the frontier", fr.commits.Load(), items)
	}
}
