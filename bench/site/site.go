// Package site serves a synthetic bookshop for benchmarks: deterministic
// pages of realistic size and shape, modelled on books.toscrape.com, from
// memory, on the loopback interface or without any network at all.
//
// The site has these parts, all under one handler:
//
//   - listing pages, /catalogue/page-N.html, of about 35 KB: a header, a
//     sidebar of 50 categories, PerPage product summaries and a footer,
//     each page linking to the next one ("li.next a");
//   - product pages, /catalogue/SLUG_N/index.html, of about 15 KB: the same
//     navigation around one product with its title, price, rating,
//     availability, description and information table;
//   - with Options.Chain, a chain of pages /chain/page-N.html, each linking
//     only to the next: a crawl of it is sequential, so it measures the
//     per-page latency of the crawler;
//   - a wide, endless tree /wide/N.html whose every page links to Fanout new
//     pages: a crawl of it grows its frontier by Fanout-1 URLs a page;
//   - /robots.txt, which disallows none of these.
//
// Every page is the same bytes every time. The spider for the site is
// Spider or RangeSpider.
package site

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero fields of Options.
const (
	DefaultProducts = 1000
	DefaultPerPage  = 20
)

// Fanout is how many new pages each page of the wide tree links to.
const Fanout = 200

// FirstListing is the path of the first listing page, where a crawl of the
// shop starts.
const FirstListing = "/catalogue/page-1.html"

// FirstChain is the path of the first page of the chain.
const FirstChain = "/chain/page-1.html"

// FirstWide is the path of the root of the wide tree.
const FirstWide = "/wide/0.html"

// Options configures a Site. The zero value means a shop of 1000 products,
// 20 to a listing page, no chain, and answers without delay.
type Options struct {
	// Products is the number of product pages. Zero means DefaultProducts.
	Products int
	// PerPage is the number of products on a listing page. Zero means
	// DefaultPerPage.
	PerPage int
	// Chain is the number of pages in the chain. Zero means no chain.
	Chain int
	// Latency is how long the site waits before it answers each request,
	// as a server far away would. A request cancelled meanwhile (its
	// client went away) is answered at once with nothing.
	Latency time.Duration
}

// ForPages returns the Options of a shop of at least n pages, listing pages
// and product pages together: exactly n unless n is one more than a
// multiple of 21, where the shop has n+1.
func ForPages(n int) Options {
	p := max(1, n-(n+DefaultPerPage)/(DefaultPerPage+1))
	for p+ceilDiv(p, DefaultPerPage) < n {
		p++
	}
	return Options{Products: p, PerPage: DefaultPerPage}
}

// Chain returns the Options of a site whose chain has n pages, each
// answered after latency.
func Chain(n int, latency time.Duration) Options {
	return Options{Chain: n, Latency: latency}
}

func (o Options) withDefaults() Options {
	if o.Products <= 0 {
		o.Products = DefaultProducts
	}
	if o.PerPage <= 0 {
		o.PerPage = DefaultPerPage
	}
	return o
}

// Listings returns the number of listing pages of the shop.
func (o Options) Listings() int {
	o = o.withDefaults()
	return ceilDiv(o.Products, o.PerPage)
}

// Pages returns the number of pages of the shop, listing and product pages;
// the chain and the wide tree are not counted.
func (o Options) Pages() int { return o.withDefaults().Products + o.Listings() }

// Paths returns the path of every page of the shop, listing pages first,
// in the order of their numbers: the pages a crawl from FirstListing
// fetches. It builds no page.
func (o Options) Paths() []string {
	o = o.withDefaults()
	paths := make([]string, 0, o.Pages())
	for i := 1; i <= o.Listings(); i++ {
		paths = append(paths, listingPath(i))
	}
	for i := 1; i <= o.Products; i++ {
		paths = append(paths, productPath(i, productTitle(productRand(i))))
	}
	return paths
}

// Site is the synthetic site: an http.Handler. Its pages are built once by
// New, sharing their navigation boilerplate, so that serving one costs a
// parse of the path and a few writes. A Site is safe for concurrent use.
type Site struct {
	opts     Options
	listings []*page
	products []*page
	chain    []*page
	size     int64
}

// page is one prebuilt page: segments written in order, some shared with
// every other page (the boilerplate), some its own.
type page struct {
	segs   [][]byte
	length []string // the Content-Length header value
	own    int      // bytes not shared with other pages
}

func newPage(segs ...[]byte) *page {
	p := &page{segs: segs}
	p.own = p.size()
	p.length = []string{strconv.Itoa(p.own)}
	return p
}

func (p *page) size() int {
	n := 0
	for _, s := range p.segs {
		n += len(s)
	}
	return n
}

// New builds every page of the site.
func New(o Options) *Site {
	o = o.withDefaults()
	s := &Site{opts: o}
	for i := 1; i <= o.Listings(); i++ {
		s.listings = append(s.listings, listingPage(o, i))
	}
	for i := 1; i <= o.Products; i++ {
		s.products = append(s.products, productPage(newProduct(i)))
	}
	for i := 1; i <= o.Chain; i++ {
		s.chain = append(s.chain, newPage(chainPage(i, i < o.Chain)))
	}
	s.size = int64(len(headTop) + len(headRest) + len(sidebar) + len(footer))
	for _, pages := range [][]*page{s.listings, s.products, s.chain} {
		for _, p := range pages {
			s.size += int64(p.own)
		}
	}
	return s
}

// Size returns the number of bytes the prebuilt pages hold: what the site
// adds to the memory of the process that serves it.
func (s *Site) Size() int64 { return s.size }

// Options returns the options the site was built with, defaults filled in.
func (s *Site) Options() Options { return s.opts }

// The headers shared by every response: net/http only reads them.
var (
	contentType = []string{"text/html; charset=utf-8"}
	textPlain   = []string{"text/plain; charset=utf-8"}
)

// robotsTxt is the site's robots.txt: it disallows nothing the shop's
// spider follows, so a crawler that obeys it fetches it once and goes on.
var robotsTxt = newPage([]byte("User-agent: *\nDisallow: /basket/\nDisallow: /checkout/\n"))

// ServeHTTP answers requests for the site's pages, after Options.Latency,
// and 404 for any other path.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	p, wide := s.lookup(r.URL.Path)
	if p == nil {
		http.NotFound(w, r)
		return
	}
	if wide != nil {
		defer widePool.Put(wide)
	}
	h := w.Header()
	h["Content-Type"] = contentType
	if p == robotsTxt {
		h["Content-Type"] = textPlain
	}
	h["Content-Length"] = p.length
	if r.Method == http.MethodHead {
		return
	}
	for _, seg := range p.segs {
		if _, err := w.Write(seg); err != nil {
			return // the client went away
		}
	}
}

// lookup returns the page at path, or nil. The slug of a product path is
// not checked: /catalogue/book_N/index.html is product N too, which lets
// start_urls_range name product pages. A page of the wide tree is built
// into a pooled buffer, returned as the second result for the caller to
// put back once the page is written.
func (s *Site) lookup(path string) (*page, *[]byte) {
	if path == "/robots.txt" {
		return robotsTxt, nil
	}
	if rest, ok := strings.CutPrefix(path, "/catalogue/"); ok {
		if num, ok := cut(rest, "page-", ".html"); ok {
			return nth(s.listings, num), nil
		}
		if dir, ok := strings.CutSuffix(rest, "/index.html"); ok && !strings.Contains(dir, "/") {
			if i := strings.LastIndexByte(dir, '_'); i >= 0 {
				return nth(s.products, dir[i+1:]), nil
			}
		}
		return nil, nil
	}
	if num, ok := cut(path, "/chain/page-", ".html"); ok {
		return nth(s.chain, num), nil
	}
	num, ok := cut(path, "/wide/", ".html")
	if !ok {
		return nil, nil
	}
	n, ok := number(num)
	if !ok || n > (math.MaxInt64-Fanout)/Fanout {
		return nil, nil
	}
	buf := widePool.Get().(*[]byte)
	*buf = widePage((*buf)[:0], n)
	return newPage(*buf), buf
}

var widePool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// cut returns what s holds between prefix and suffix.
func cut(s, prefix, suffix string) (string, bool) {
	s, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(s, suffix)
}

// number parses a decimal number written without sign or leading zeros.
func number(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return n, true
}

// nth returns page num of pages, counted from 1, or nil.
func nth(pages []*page, num string) *page {
	n, ok := number(num)
	if !ok || n < 1 || n > int64(len(pages)) {
		return nil
	}
	return pages[n-1]
}

// Page returns the body of the page at path, in a new slice, and whether
// there is one: the site without HTTP, for benchmarks of what comes after
// the network.
func (s *Site) Page(path string) ([]byte, bool) {
	p, wide := s.lookup(path)
	if p == nil {
		return nil, false
	}
	body := make([]byte, 0, p.size())
	for _, seg := range p.segs {
		body = append(body, seg...)
	}
	if wide != nil {
		widePool.Put(wide)
	}
	return body, true
}

// Start serves the site over HTTP on a free port of 127.0.0.1. It returns
// the base URL ("http://127.0.0.1:PORT") and a function that closes the
// server and its connections and returns when it has stopped serving.
func (s *Site) Start() (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Serve returns ErrServerClosed after Close; an accept error before
		// that shows as refused connections in whatever crawls the site.
		srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		srv.Close()
		<-done
	}, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
