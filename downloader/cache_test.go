package downloader_test

import (
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/stats"
)

// cacheSite serves a few kinds of page and counts every request, so a test
// can tell a cache hit (no request) from a miss. Its answers change with
// each request (X-Serial), so a replay is told from a refetch.
func cacheSite(t *testing.T) (*http.ServeMux, *hitCounter, *atomic.Int32) {
	t.Helper()
	hits := new(hitCounter)
	var serial atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", robotsBody("User-agent: *\nDisallow: /private/\n"))
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=Shift_JIS")
		w.Header().Set("X-Serial", strings.Repeat("I", int(serial.Add(1))))
		io.WriteString(w, "<title>"+shiftJIS+"</title>")
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/page", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, "got "+string(b))
	})
	return mux, hits, &serial
}

type cacheCase struct {
	name   string
	method string
	path   string
	body   string
}

var cacheCases = []cacheCase{
	{"page", "", "/page", ""},
	{"redirect", "", "/moved", ""},
	{"404", "", "/missing", ""},
	{"POST one", "POST", "/form", "a=1"},
	{"POST two", "POST", "/form", "a=2"},
	{"query order", "", "/page?b=2&a=1", ""},
}

func fetchCase(t *testing.T, d *downloader.Downloader, base string, c cacheCase) *downloader.Response {
	t.Helper()
	req := &downloader.Request{URL: base + c.path, Method: c.method}
	if c.body != "" {
		req.Body = []byte(c.body)
	}
	resp, err := d.Fetch(testCtx(t), req)
	if err != nil {
		t.Fatalf("Fetch %s: %v", c.name, err)
	}
	return resp
}

// A second Downloader on the same directory, as a second run of the crawl,
// answers every request from it and sends none.
func TestCacheReplay(t *testing.T) {
	mux, hits, _ := cacheSite(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.Method + " " + r.URL.RequestURI())
		mux.ServeHTTP(w, r)
	}))
	dir := t.TempDir()
	cfg := downloader.Config{CacheDir: dir, ObeyRobots: true}

	first, _, st1 := fakeDownloader(t, cfg)
	var want []*downloader.Response
	for _, c := range cacheCases {
		want = append(want, fetchCase(t, first, srv.URL, c))
	}
	if _, err := first.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/private/x"}); err == nil {
		t.Fatal("Fetch /private/x: want robots.txt to deny it")
	}
	requests := hits.all()
	wantStats(t, st1, map[string]int64{stats.CacheMiss: int64(len(cacheCases)) + 1, stats.CacheHit: 0})

	// The second run does not need the server at all, robots.txt included.
	srv.Close()
	second, _, st2 := fakeDownloader(t, cfg)
	for i, c := range cacheCases {
		got := fetchCase(t, second, srv.URL, c)
		w := want[i]
		if got.Status != w.Status || got.URL != w.URL || string(got.Body) != string(w.Body) ||
			got.Header.Get("X-Serial") != w.Header.Get("X-Serial") || got.Charset != w.Charset ||
			got.Header.Get("Content-Type") != w.Header.Get("Content-Type") {
			t.Errorf("%s: replayed %d %s %q %q %q; want %d %s %q %q %q", c.name,
				got.Status, got.URL, got.Body, got.Header.Get("X-Serial"), got.Charset,
				w.Status, w.URL, w.Body, w.Header.Get("X-Serial"), w.Charset)
		}
	}
	if _, err := second.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/private/x"}); err == nil {
		t.Error("Fetch /private/x on replay: want robots.txt (from the cache) to deny it")
	}
	if got := hits.all(); !maps.Equal(got, requests) {
		t.Errorf("the second run sent requests: before %v, after %v", requests, got)
	}
	wantStats(t, st2, map[string]int64{stats.CacheHit: int64(len(cacheCases)) + 1, stats.CacheMiss: 0})
	if string(want[0].Body) != "<title>日本語のページ</title>" {
		t.Errorf("page body: got %q, want it decoded from Shift_JIS", want[0].Body)
	}
	if want[3].Body == nil || string(want[3].Body) == string(want[4].Body) {
		t.Errorf("POST bodies: %q and %q, want each its own entry", want[3].Body, want[4].Body)
	}

	// Entries were renamed into place: no temporary file is left.
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}

// Answers that are retried are not stored: a passing outage is not
// replayed.
func TestCacheSkipsRetriedStatuses(t *testing.T) {
	mux, hits, _ := cacheSite(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		mux.ServeHTTP(w, r)
	}))
	cfg := downloader.Config{CacheDir: t.TempDir(), Retries: downloader.NoRetries}
	for range 2 {
		d, _, _ := fakeDownloader(t, cfg)
		if resp := fetchCase(t, d, srv.URL, cacheCase{path: "/busy"}); resp.Status != 503 {
			t.Fatalf("Status: got %d, want 503", resp.Status)
		}
	}
	if n := hits.get("/busy"); n != 2 {
		t.Errorf("requests for a 503: got %d, want 2 (never cached)", n)
	}
}

func TestCacheTTLAndRefresh(t *testing.T) {
	mux, hits, _ := cacheSite(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		mux.ServeHTTP(w, r)
	}))
	dir := t.TempDir()
	page := cacheCase{path: "/page"}
	serial := func(d *downloader.Downloader) string { return fetchCase(t, d, srv.URL, page).Header.Get("X-Serial") }

	d, clock, st := fakeDownloader(t, downloader.Config{CacheDir: dir, CacheTTL: time.Hour})
	if got := serial(d); got != "I" {
		t.Fatalf("first fetch: serial %q", got)
	}
	clock.Advance(time.Hour)
	if got := serial(d); got != "I" {
		t.Errorf("at the TTL: serial %q, want I (from the cache)", got)
	}
	clock.Advance(time.Second)
	if got := serial(d); got != "II" {
		t.Errorf("past the TTL: serial %q, want II (fetched again)", got)
	}
	if got := serial(d); got != "II" {
		t.Errorf("after the refetch: serial %q, want II (stored again)", got)
	}
	wantStats(t, st, map[string]int64{stats.CacheHit: 2, stats.CacheMiss: 2})

	refresh, _, _ := fakeDownloader(t, downloader.Config{CacheDir: dir, CacheRefresh: true})
	if got := serial(refresh); got != "III" {
		t.Errorf("with CacheRefresh: serial %q, want III", got)
	}
	forever, _, _ := fakeDownloader(t, downloader.Config{CacheDir: dir})
	if got := serial(forever); got != "III" {
		t.Errorf("after the refresh: serial %q, want III (overwritten)", got)
	}
	if n := hits.get("/page"); n != 3 {
		t.Errorf("requests: got %d, want 3", n)
	}
}

// An entry that cannot be read is a miss, and is replaced.
func TestCacheCorruptEntry(t *testing.T) {
	mux, hits, _ := cacheSite(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add(r.URL.Path)
		mux.ServeHTTP(w, r)
	}))
	dir := t.TempDir()
	d, _, _ := fakeDownloader(t, downloader.Config{CacheDir: dir})
	fetchCase(t, d, srv.URL, cacheCase{path: "/page"})
	var files []string
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if !e.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("cache files: got %v, want one", files)
	}
	if err := os.WriteFile(files[0], []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp := fetchCase(t, d, srv.URL, cacheCase{path: "/page"})
	if resp.Status != 200 || hits.get("/page") != 2 {
		t.Errorf("after corrupting the entry: status %d, %d requests; want 200 and 2", resp.Status, hits.get("/page"))
	}
	fetchCase(t, d, srv.URL, cacheCase{path: "/page"})
	if n := hits.get("/page"); n != 2 {
		t.Errorf("the entry was not replaced: %d requests, want 2", n)
	}
}

// A cache that cannot be written to is counted, never fatal.
func TestCacheUnwritable(t *testing.T) {
	mux, _, _ := cacheSite(t)
	srv := newServer(t, mux)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d, _, st := fakeDownloader(t, downloader.Config{CacheDir: filepath.Join(file, "cache")})
	if resp := fetchCase(t, d, srv.URL, cacheCase{path: "/page"}); resp.Status != 200 {
		t.Errorf("Status: got %d, want 200", resp.Status)
	}
	wantStats(t, st, map[string]int64{stats.CacheErrors: 1, stats.CacheMiss: 1})
}
