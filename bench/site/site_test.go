package site_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"crawl/bench/site"
	"crawl/downloader"
	"crawl/spider"
)

var href = regexp.MustCompile(`<a href="([^"]*)"`)

func TestForPages(t *testing.T) {
	for n := 1; n <= 1000; n++ {
		got := site.ForPages(n).Pages()
		if got != n && !(got == n+1 && n%21 == 1) {
			t.Errorf("ForPages(%d).Pages() = %d, want %d", n, got, n)
		}
	}
}

// TestShopPages checks the shape of every page of a small shop: its size,
// its links, and that it is the same bytes every time.
func TestShopPages(t *testing.T) {
	o := site.ForPages(200)
	s, again := site.New(o), site.New(o)
	paths := o.Paths()
	if len(paths) != 200 {
		t.Fatalf("got %d paths, want 200", len(paths))
	}
	for i, path := range paths {
		body, ok := s.Page(path)
		if !ok {
			t.Fatalf("no page at %s", path)
		}
		if b2, _ := again.Page(path); !bytes.Equal(body, b2) {
			t.Errorf("%s differs between two sites", path)
		}
		lo, hi := 13<<10, 19<<10 // a product page
		if i < o.Listings() {
			lo, hi = 30<<10, 40<<10
			if i == o.Listings()-1 {
				lo = 10 << 10 // the last listing page lists the rest
			}
		}
		if len(body) < lo || len(body) > hi {
			t.Errorf("%s: %d bytes, want %d to %d", path, len(body), lo, hi)
		}
		if n := len(href.FindAll(body, -1)); n < 20 {
			t.Errorf("%s: %d links, want at least 20", path, n)
		}
	}
	if _, ok := s.Page("/catalogue/page-11.html"); ok {
		t.Error("listing page 11 of 10 exists")
	}
}

func TestChain(t *testing.T) {
	s := site.New(site.Chain(5, 0))
	for i := 1; i <= 5; i++ {
		body, ok := s.Page(fmt.Sprintf("/chain/page-%d.html", i))
		if !ok {
			t.Fatalf("no chain page %d", i)
		}
		var want []string
		if i < 5 {
			want = []string{fmt.Sprintf("page-%d.html", i+1)}
		}
		if got := links(body); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("page %d links to %q, want %q", i, got, want)
		}
	}
	if _, ok := s.Page("/chain/page-6.html"); ok {
		t.Error("chain page 6 of 5 exists")
	}
}

func TestWide(t *testing.T) {
	s := site.New(site.Options{Products: 1})
	body, ok := s.Page("/wide/3.html")
	if !ok {
		t.Fatal("no wide page 3")
	}
	got := links(body)
	if len(got) != site.Fanout || got[0] != "601.html" || got[site.Fanout-1] != "800.html" {
		t.Errorf("wide page 3 links to %d pages, %q … %q; want 200, 601.html … 800.html", len(got), got[0], got[len(got)-1])
	}
	for _, path := range []string{"/wide/-1.html", "/wide/01.html", "/wide/x.html", "/wide/" + strconv.Itoa(1<<62) + ".html"} {
		if _, ok := s.Page(path); ok {
			t.Errorf("%s exists", path)
		}
	}
}

func links(body []byte) []string {
	var out []string
	for _, m := range href.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// TestServe fetches pages over the loopback interface.
func TestServe(t *testing.T) {
	s := site.New(site.ForPages(30))
	base, stop, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, tc := range []struct {
		path   string
		status int
	}{
		{site.FirstListing, 200},
		{s.Options().Paths()[2], 200},
		{"/catalogue/book_7/index.html", 200}, // any slug
		{site.FirstWide, 200},
		{"/robots.txt", 200},
		{"/catalogue/category/books/travel_2/index.html", 404},
		{"/", 404},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if want, _ := s.Page(tc.path); tc.status == 200 && !bytes.Equal(body, want) {
			t.Errorf("%s: body differs from Page", tc.path)
		}
		want := "text/html; charset=utf-8"
		if tc.path == "/robots.txt" {
			want = "text/plain; charset=utf-8"
		}
		if ct := resp.Header.Get("Content-Type"); tc.status == 200 && ct != want {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
	}
}

// TestLatencyCancelled checks that a request cancelled while the site
// waits is answered at once, with nothing: the test would hang otherwise.
func TestLatencyCancelled(t *testing.T) {
	s := site.New(site.Options{Products: 1, Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, site.FirstListing, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Errorf("a cancelled request got %d bytes and headers %v", rec.Body.Len(), rec.Header())
	}
}

// TestSpiders checks that the spider files load and that the shop spider
// finds what the shop holds: the next page and 20 products on a listing
// page, and one complete item on a product page.
func TestSpiders(t *testing.T) {
	const base = "http://127.0.0.1:8080"
	for name, spec := range map[string][]byte{
		"shop":  site.Spider(base, site.FirstListing),
		"range": site.RangeSpider(base, 5_000_000),
	} {
		if _, err := spider.Parse(name+".yaml", spec); err != nil {
			t.Errorf("%s: %v\n%s", name, err, spec)
		}
	}
	sp, err := spider.Parse("shop.yaml", site.Spider(base, site.FirstListing))
	if err != nil {
		t.Fatal(err)
	}
	s := site.New(site.ForPages(100))
	get := func(path string) *downloader.Response {
		body, ok := s.Page(path)
		if !ok {
			t.Fatalf("no page at %s", path)
		}
		req := &downloader.Request{URL: base + path}
		return &downloader.Response{Request: req, URL: req.URL, Status: 200, Body: body,
			Header: http.Header{"Content-Type": {"text/html"}}}
	}
	var reqs []string
	for r := range sp.Parse(get(site.FirstListing)) {
		if r.Item != nil {
			t.Errorf("item on a listing page: %v", r.Item)
		}
		if r.Request != nil {
			reqs = append(reqs, r.Request.URL)
		}
	}
	if len(reqs) != 21 || reqs[0] != base+"/catalogue/page-2.html" {
		t.Errorf("listing page 1 leads to %d pages, first %q; want 21, the first page 2", len(reqs), reqs[0])
	}
	var items int
	for r := range sp.Parse(get(s.Options().Paths()[s.Options().Listings()])) {
		if r.Request != nil {
			t.Errorf("a product page leads to %s", r.Request.URL)
		}
		if r.Item != nil {
			items++
			for _, f := range []string{"title", "price", "rating", "availability", "upc", "url"} {
				if v, ok := r.Item.Get(f); !ok || v == "" {
					t.Errorf("item lacks %s: %v", f, r.Item)
				}
			}
		}
	}
	if items != 1 {
		t.Errorf("got %d items on a product page, want 1", items)
	}
}
