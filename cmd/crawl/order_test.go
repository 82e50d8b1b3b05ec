package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// treeSite serves a tree of depth 2: / links to /c1 … /c10, each /cN to
// /cN/a and /cN/b. It returns the pages in the order they were requested.
func treeSite(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var order []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		order = append(order, r.URL.Path)
		mu.Unlock()
		fmt.Fprintf(w, "<h1>%s</h1>", r.URL.Path)
		switch p := r.URL.Path; {
		case p == "/":
			for i := 1; i <= 10; i++ {
				fmt.Fprintf(w, `<a href="/c%d">c%d</a>`, i, i)
			}
		case strings.Count(p, "/") == 1:
			fmt.Fprintf(w, `<a href="%s/a">a</a><a href="%s/b">b</a>`, p, p)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(order)
	}
}

// TestOrder crawls the tree with one worker, and few enough requests in
// memory that some wait on disk: breadth-first by default and with
// --order bfs, depth-first with --order dfs.
func TestOrder(t *testing.T) {
	bfs := []string{"/"}
	for i := 1; i <= 10; i++ {
		bfs = append(bfs, fmt.Sprintf("/c%d", i))
	}
	for i := 1; i <= 10; i++ {
		bfs = append(bfs, fmt.Sprintf("/c%d/a", i), fmt.Sprintf("/c%d/b", i))
	}
	const spec = `start_urls: ["{{URL}}/"]
follow: [{css: a}]
items: [{fields: {title: "h1::text"}}]
`
	crawl := func(t *testing.T, flags ...string) []string {
		t.Helper()
		srv, order := treeSite(t)
		path := writeSpec(t, t.TempDir(), spec, srv.URL)
		args := append([]string{"run", path, "-q", "--workers", "1", "--queue-memory", "3", "--spill-dir", t.TempDir()}, flags...)
		if r := runCrawl(t, nil, args...); r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		got := order()
		if want := slices.Sorted(slices.Values(bfs)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
			t.Fatalf("fetched %v, want each of %v once", got, want)
		}
		return got
	}
	for _, flags := range [][]string{nil, {"--order", "bfs"}} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			if got := crawl(t, flags...); !slices.Equal(got, bfs) {
				t.Errorf("fetched in the order\n%v\nwant breadth-first\n%v", got, bfs)
			}
		})
	}
	t.Run("--order dfs", func(t *testing.T) {
		// The scheduler takes up to two requests ahead of the one worker,
		// so the order is not exactly depth-first; but the last link of
		// the home page comes first, and its children before the first
		// link, which waits at the bottom of the stack.
		got := crawl(t, "--order", "dfs")
		at := func(p string) int { return slices.Index(got, p) }
		if got[1] != "/c10" || at("/c10/a") > at("/c1") || at("/c10/b") > at("/c1") || at("/c10/b") > at("/c10/a") {
			t.Errorf("fetched in the order\n%v\nwant /, /c10 first, then /c10/b and /c10/a before /c1", got)
		}
	})
	t.Run("--order random", func(t *testing.T) {
		path := writeSpec(t, t.TempDir(), spec, "http://127.0.0.1:1")
		r := runCrawl(t, nil, "run", path, "--order", "random")
		if msg := strings.TrimRight(r.stderr, "\n"); r.code != 2 || msg != `crawl: --order: "random" is not one of bfs, dfs` {
			t.Errorf("exit %d, stderr %q; want 2 and one line naming the bad order", r.code, msg)
		}
	})
}
