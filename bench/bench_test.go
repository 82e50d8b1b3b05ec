package bench_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"crawl/bench"
	"crawl/bench/site"
	"crawl/downloader"
	"crawl/engine"
	"crawl/item"
	"crawl/pipeline"
	"crawl/spider"
	"crawl/stats"
	"crawl/urls"
)

// The benchmarks run on the pages of the synthetic shop, in memory: no host
// is ever dialled or resolved. base is a named host on the default port, as
// most real sites are; loopback is how the shop is addressed when it is
// served on 127.0.0.1, a host and port that urls' fast paths do not take.
const (
	base     = "http://shop.example"
	loopback = "http://127.0.0.1:8080"
)

// enginePages is the size of the shop each BenchmarkEngine op crawls.
const enginePages = 500

var shop = sync.OnceValue(func() *site.Site { return site.New(site.ForPages(enginePages)) })

// page returns a response for the page of the shop at path, on base.
func page(tb testing.TB, path string) *downloader.Response { return pageOn(tb, base, path) }

func pageOn(tb testing.TB, host, path string) *downloader.Response {
	tb.Helper()
	body, ok := shop().Page(path)
	if !ok {
		tb.Fatalf("no page at %s", path)
	}
	req := &downloader.Request{URL: host + path}
	return &downloader.Response{Request: req, URL: req.URL, Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/html"}}, Body: body}
}

func listing(tb testing.TB) *downloader.Response { return page(tb, site.FirstListing) }

func product(tb testing.TB) *downloader.Response { return page(tb, productPath()) }

// productPath is the path of product 1.
func productPath() string { return shop().Options().Paths()[shop().Options().Listings()] }

// shopSpider is the spider `crawl bench` runs.
func shopSpider(tb testing.TB) *spider.Spider {
	return parseSpider(tb, string(site.Spider(base, site.FirstListing)))
}

func parseSpider(tb testing.TB, spec string) *spider.Spider {
	tb.Helper()
	sp, err := spider.Parse("bench.yaml", []byte(spec))
	if err != nil {
		tb.Fatal(err)
	}
	return sp
}

// Specs that only follow links or only extract items, for the shop.
const (
	followSpec = `start_urls: ["http://shop.example/"]
allowed_domains: [shop.example]
follow:
  - css: "li.next a"
  - css: "article.product_pod h3 a"
`
	followAllSpec = `start_urls: ["http://shop.example/"]
allowed_domains: [shop.example]
follow:
  - allow: ['.']
`
	extractSpec = `start_urls: ["http://shop.example/"]
items:
  - name: product
    each: "article.product_page"
    fields:
      title: "h1::text"
      price: {css: "p.price_color::text", regex: '([0-9]+\.[0-9]+)'}
      rating: {css: "p.star-rating::attr(class)", regex: 'star-rating (\w+)'}
      availability: {css: "p.availability::text", regex: '\((\d+) available\)'}
      upc: "table td::text"
      url: "@url"
    required: [title, price]
`
)

// count returns the items, requests and skipped links Parse finds.
func count(sp *spider.Spider, resp *downloader.Response) (items, reqs, skips int) {
	for r := range sp.Parse(resp) {
		switch {
		case r.Item != nil:
			items++
		case r.Request != nil:
			reqs++
		default:
			skips++
		}
	}
	return items, reqs, skips
}

// BenchmarkParse parses one page per op with spiders that only follow
// links, only extract, or both (the shop spider), and, for the floor, with
// goquery alone. allocs/op is allocations per page.
func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name   string
		spec   string // "" parses with goquery only
		resp   func(testing.TB) *downloader.Response
		items  int
		follow int // links followed
	}{
		{"html-only/listing", "", listing, 0, 0},
		{"html-only/product", "", product, 0, 0},
		{"follow/listing", followSpec, listing, 0, 21},
		{"follow-all/listing", followAllSpec, listing, 0, 79},
		{"extract/product", extractSpec, product, 1, 0},
		{"shop/listing", string(site.Spider(base, site.FirstListing)), listing, 0, 21},
		{"shop/product", string(site.Spider(base, site.FirstListing)), product, 1, 0},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			resp := tc.resp(b)
			b.SetBytes(int64(len(resp.Body)))
			b.ReportAllocs()
			if tc.spec == "" {
				for b.Loop() {
					if _, err := goquery.NewDocumentFromReader(bytes.NewReader(resp.Body)); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			sp := parseSpider(b, tc.spec)
			if items, reqs, _ := count(sp, resp); items != tc.items || reqs != tc.follow {
				b.Fatalf("got %d items and %d links followed, want %d and %d", items, reqs, tc.items, tc.follow)
			}
			for b.Loop() {
				for range sp.Parse(resp) {
				}
			}
		})
	}
}

// links returns the absolute URLs of every link on the shop's listing and
// product pages served at host, as the spider resolves them.
func links(tb testing.TB, host string) []string {
	sp := parseSpider(tb, "start_urls: [\"http://shop.example/\"]\nfollow: [{allow: ['.']}]\n")
	var out []string
	for _, path := range []string{site.FirstListing, productPath()} {
		for r := range sp.Parse(pageOn(tb, host, path)) {
			if r.Request != nil {
				out = append(out, r.Request.URL)
			}
		}
	}
	if len(out) < 100 {
		tb.Fatalf("only %d links", len(out))
	}
	return out
}

// BenchmarkCanon canonicalises and fingerprints the links of a listing and
// a product page, one URL per op, on a named host and on 127.0.0.1:8080.
func BenchmarkCanon(b *testing.B) {
	for _, host := range []struct{ name, base string }{{"named", base}, {"loopback", loopback}} {
		us := links(b, host.base)
		b.Run(host.name+"/Canonical", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := urls.DefaultCanon.Canonical(us[i%len(us)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(host.name+"/Fingerprint", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := urls.DefaultCanon.Fingerprint(us[i%len(us)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEngine crawls the whole shop of 500 pages per op through the
// real engine, spider and pipeline with an in-memory fetcher: everything
// but the network. It reports time, allocations and bytes per page, with
// the shop on a named host and on 127.0.0.1:8080.
func BenchmarkEngine(b *testing.B) {
	for _, host := range []struct{ name, base string }{{"named", base}, {"loopback", loopback}} {
		for _, workers := range []int{1, 16} {
			b.Run(host.name+"/workers="+strconv.Itoa(workers), func(b *testing.B) {
				sp := parseSpider(b, string(site.Spider(host.base, site.FirstListing)))
				f := bench.MemFetcher{Site: shop()}
				want := shop().Options().Pages()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for b.Loop() {
					st := new(stats.Stats)
					reason, err := bench.Crawl(context.Background(), bench.Config(workers, st), sp, f, io.Discard)
					if err != nil || reason != engine.Finished {
						b.Fatalf("crawl: %s, %v", reason, err)
					}
					if got := st.Get(stats.Pages); got != int64(want) {
						b.Fatalf("crawled %d pages, want %d", got, want)
					}
				}
				runtime.ReadMemStats(&after)
				pages := float64(b.N * want)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pages, "ns/page")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/pages, "allocs/page")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/pages, "B/page")
			})
		}
	}
}

// BenchmarkFrontier crawls 1000 pages of the wide tree per op, in memory:
// each page links to 200 new pages, so the frontier grows by 199 requests a
// page, to 200k. It reports the cost per link discovered (resolved,
// fingerprinted, checked against the seen set and queued), on a named host
// and on 127.0.0.1:8080.
func BenchmarkFrontier(b *testing.B) {
	const pages = 1000
	for _, host := range []struct{ name, base string }{{"named", base}, {"loopback", loopback}} {
		b.Run(host.name, func(b *testing.B) {
			sp := parseSpider(b, string(site.Spider(host.base, site.FirstWide)))
			f := bench.MemFetcher{Site: shop()}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				st := new(stats.Stats)
				cfg := bench.Config(16, st)
				cfg.MaxPages = pages
				reason, err := bench.Crawl(context.Background(), cfg, sp, f, io.Discard)
				if err != nil || reason != engine.MaxPages {
					b.Fatalf("crawl: %s, %v", reason, err)
				}
			}
			runtime.ReadMemStats(&after)
			links := float64(b.N * pages * site.Fanout)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/links, "ns/link")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/links, "allocs/link")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/links, "B/link")
		})
	}
}

// BenchmarkJSONL writes the item of a product page, one per op.
func BenchmarkJSONL(b *testing.B) {
	it := productItem(b)
	var line bytes.Buffer
	if err := it.AppendJSON(&line); err != nil {
		b.Fatal(err)
	}
	w := pipeline.NewJSONL(io.Discard)
	b.SetBytes(int64(line.Len() + 1))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(it); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// productItem returns the item the shop spider extracts from a product page.
func productItem(tb testing.TB) *item.Item {
	for r := range shopSpider(tb).Parse(product(tb)) {
		if r.Item != nil {
			return r.Item
		}
	}
	tb.Fatal("no item on the product page")
	return nil
}

// BenchmarkSite serves a page per op to a writer that discards it: the cost
// of the synthetic site itself, which must stay far below the crawler's.
func BenchmarkSite(b *testing.B) {
	for _, path := range []string{site.FirstListing, productPath(), site.FirstWide} {
		b.Run(path, func(b *testing.B) {
			req, err := http.NewRequest(http.MethodGet, base+path, nil)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := shop().Page(path)
			w := &discardWriter{h: http.Header{}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				shop().ServeHTTP(w, req)
			}
			if w.n != int64(b.N*len(body)) {
				b.Fatalf("served %d bytes, want %d", w.n, b.N*len(body))
			}
		})
	}
}

type discardWriter struct {
	h http.Header
	n int64
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(int)     {}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
