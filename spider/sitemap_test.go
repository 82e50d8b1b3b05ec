package spider

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"crawl/downloader"
)

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// sitemapSite serves a site with a robots.txt, a sitemap index, a gzipped
// sitemap, a gzipped sitemap without a .gz name, and pages. It records the
// paths requested.
func sitemapSite(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	type page struct{ ctype, body string }
	site := map[string]page{}
	var (
		mu   sync.Mutex
		hits []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.Path)
		mu.Unlock()
		p, ok := site[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", p.ctype)
		io.WriteString(w, p.body)
	}))
	t.Cleanup(srv.Close)
	u := srv.URL
	site["/robots.txt"] = page{"text/plain", "User-agent: *\nDisallow: /private\n\nSitemap: " + u + "/sitemap_index.xml\n"}
	site["/sitemap_index.xml"] = page{"application/xml", `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>` + u + `/sitemap-books.xml.gz</loc><lastmod>2024-05-01</lastmod></sitemap>
  <sitemap><loc>` + u + `/pages-sitemap</loc></sitemap>
  <sitemap><loc>` + u + `/sitemap-old.xml</loc><lastmod>2020-01-01T10:00:00+00:00</lastmod></sitemap>
  <sitemap><loc>` + u + `/sitemap-news.xml</loc></sitemap>
</sitemapindex>`}
	site["/sitemap-books.xml.gz"] = page{"application/x-gzip", gzipped(t, `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>`+u+`/books/1</loc><lastmod>2024-03-01</lastmod>
    <image:image><image:loc>`+u+`/img/1.jpg</image:loc></image:image>
  </url>
  <url><loc>`+u+`/books/2</loc><lastmod>2022-06-01T08:00:00Z</lastmod></url>
  <url><loc> `+u+`/books/3?a=1&amp;b=2 </loc></url>
  <url><loc>https://elsewhere.example/books/4</loc></url>
</urlset>`)}
	// Gzipped, though neither its name nor its Content-Type says so.
	site["/pages-sitemap"] = page{"text/xml", gzipped(t, `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>`+u+`/about</loc></url>
  <url><loc>`+u+`/category/sf</loc><lastmod>2024-02-02</lastmod></url>
  <url><loc>`+u+`/category/private</loc></url>
</urlset>`)}
	site["/sitemap-old.xml"] = page{"application/xml", `<urlset/>`}
	site["/sitemap-news.xml"] = page{"application/xml", `<urlset/>`}
	for _, p := range []string{"/books/1", "/books/2", "/books/3", "/about", "/category/sf", "/category/private"} {
		site[p] = page{"text/html", "<h1>" + strings.TrimPrefix(p, "/") + "</h1>"}
	}
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(hits)
	}
}

const sitemapSpec = `
sitemap_urls: ["{{URL}}/robots.txt"]
allowed_domains: [127.0.0.1]
sitemap_follow: ['books', 'pages', 'old']
sitemap_since: 2023-01-01
sitemap_rules:
  - allow: '/books/'
    callback: book
  - allow: '/category/'
    deny: '/private'
items:
  - name: book
    fields: {title: h1, lastmod: "@lastmod", url: "@url"}
  - name: category
    urls: '/category/'
    fields: {name: h1, lastmod: "@lastmod"}
`

func TestSitemapCrawl(t *testing.T) {
	srv, hits := sitemapSite(t)
	s := parseSpec(t, strings.ReplaceAll(sitemapSpec, "{{URL}}", srv.URL))
	items, _ := crawl(t, s)
	want := []string{
		`book {"title":"books/1","lastmod":"2024-03-01","url":"` + srv.URL + `/books/1"}`,
		`book {"title":"books/3","url":"` + srv.URL + `/books/3?a=1&b=2"}`,
		`category {"name":"category/sf","lastmod":"2024-02-02"}`,
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(items, "\n"), strings.Join(want, "\n"))
	}
	got := hits()
	slices.Sort(got)
	wantHits := []string{"/books/1", "/books/3", "/category/sf", "/pages-sitemap", "/robots.txt", "/sitemap-books.xml.gz", "/sitemap_index.xml"}
	if !reflect.DeepEqual(got, wantHits) {
		t.Errorf("server saw %q\nwant %q", got, wantHits)
	}
}

// TestSitemapExplain shows why each <loc> of a sitemap is or is not
// requested.
func TestSitemapExplain(t *testing.T) {
	srv, _ := sitemapSite(t)
	s := parseSpec(t, strings.ReplaceAll(sitemapSpec, "{{URL}}", srv.URL))
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	describe := func(path string) []string {
		req := &downloader.Request{URL: srv.URL + path, Rule: SitemapRule}
		resp, err := dl.Fetch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Accepts(resp) {
			t.Fatalf("Accepts(%s) = false", path)
		}
		ex := s.Explain(resp)
		out := []string{ex.As}
		for _, l := range ex.Links {
			line := strings.ReplaceAll(l.URL, srv.URL, "") + " " + l.From
			if l.Request != nil {
				line += " -> rule " + l.Rule
				if l.Lastmod != "" {
					line += " lastmod " + l.Lastmod
				}
			} else {
				line += " skip " + l.Skip
			}
			out = append(out, line)
		}
		return out
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/robots.txt", []string{"sitemap", "/sitemap_index.xml sitemap -> rule @sitemap"}},
		{"/sitemap_index.xml", []string{
			"sitemap",
			"/sitemap-books.xml.gz sitemap -> rule @sitemap",
			"/pages-sitemap sitemap -> rule @sitemap",
			"/sitemap-old.xml sitemap skip old",
			"/sitemap-news.xml sitemap skip sitemap_follow",
		}},
		{"/sitemap-books.xml.gz", []string{
			"sitemap",
			"/books/1 sitemap -> rule book lastmod 2024-03-01",
			"/books/2 sitemap skip old",
			"/books/3?a=1&b=2 sitemap -> rule book",
			"https://elsewhere.example/books/4 sitemap skip offsite",
		}},
		{"/pages-sitemap", []string{
			"sitemap",
			"/about sitemap skip no_rule",
			"/category/sf sitemap -> rule  lastmod 2024-02-02",
			"/category/private sitemap skip no_rule",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := describe(tt.path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestSitemapForms covers sitemaps Parse reads without a server: a text
// sitemap, a file sitemap leading to files, what is not a sitemap, and a
// gzip bomb cut at the limit.
func TestSitemapForms(t *testing.T) {
	s := parseSpec(t, "sitemap_urls: [\"https://example.com/sitemap.xml\"]\n")
	run := func(url, body string) []string {
		resp := &downloader.Response{Request: &downloader.Request{URL: url, Rule: SitemapRule}, URL: url, Status: 200, Header: http.Header{}, Body: []byte(body)}
		return describeResults(t, url, collect(s, resp))
	}
	tests := []struct {
		name, url, body string
		want            []string
	}{
		{"text sitemap", "https://example.com/sitemap.txt", "https://example.com/a\n\n# comment\n/b\nmailto:x@example.com\n", []string{
			"follow https://example.com/a 1", "follow https://example.com/b 1", "skip scheme mailto:x@example.com"}},
		{"file sitemap with relative locs", "file:///srv/site/sitemap.xml", `<urlset><url><loc>pages/a.html</loc></url><url><loc>https://example.com/x</loc></url></urlset>`, []string{
			"follow file:///srv/site/pages/a.html 1", "follow https://example.com/x 1"}},
		{"a web sitemap never leads to files", "https://example.com/sitemap.xml", `<urlset><url><loc>file:///etc/passwd</loc></url></urlset>`, []string{
			"skip scheme file:///etc/passwd"}},
		{"not a sitemap", "https://example.com/sitemap.xml", `<html><body><a href="/x">x</a></body></html>`, []string{}},
		{"broken XML keeps what came before", "https://example.com/sitemap.xml", `<urlset><url><loc>/a</loc></url><url><loc>/b</loc></ur`, []string{
			"follow https://example.com/a 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.url, tt.body); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("start requests", func(t *testing.T) {
		s := parseSpec(t, "start_urls: [\"https://example.com/\"]\nsitemap_urls: [\"https://example.com/sitemap.xml\", \"file:sm.xml\"]\n")
		var got []string
		for req, err := range s.StartRequests(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, req.URL+" "+req.Rule)
		}
		if len(got) != 3 || got[0] != "https://example.com/ " || got[1] != "https://example.com/sitemap.xml @sitemap" || !strings.HasSuffix(got[2], "/testdata/sm.xml @sitemap") {
			t.Errorf("start requests = %q", got)
		}
	})
	t.Run("gzip bomb", func(t *testing.T) {
		defer func(n int64) { maxSitemapSize = n }(maxSitemapSize)
		maxSitemapSize = 1 << 20
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, "<urlset><url><loc>/a</loc></url><x>")
		spaces := bytes.Repeat([]byte(" "), 1<<20)
		for range 3 {
			zw.Write(spaces)
		}
		io.WriteString(zw, "</x><url><loc>/b</loc></url></urlset>")
		zw.Close()
		if got := run("https://example.com/sitemap.xml.gz", b.String()); !reflect.DeepEqual(got, []string{"follow https://example.com/a 1"}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("accepts", func(t *testing.T) {
		for _, tt := range []struct {
			ctype, body string
			want        bool
		}{
			{"application/xml", "<urlset/>", true},
			{"text/plain", "Sitemap: x", true},
			{"image/png", "\x1f\x8bzz", true},
			{"image/png", "PNG", false},
			{"text/html", "<html>", true},
		} {
			resp := &downloader.Response{Request: &downloader.Request{Rule: SitemapRule}, Header: http.Header{"Content-Type": {tt.ctype}}, Body: []byte(tt.body)}
			if got := s.Accepts(resp); got != tt.want {
				t.Errorf("Accepts(%s, %q) = %v, want %v", tt.ctype, tt.body, got, tt.want)
			}
		}
	})
}

// TestSitemapFromRobots starts from a page, not a sitemap: with
// sitemap_from_robots the site's robots.txt is read for its Sitemap: lines,
// once per site.
func TestSitemapFromRobots(t *testing.T) {
	srv, hits := sitemapSite(t)
	spec := strings.Replace(sitemapSpec, `sitemap_urls: ["{{URL}}/robots.txt"]`,
		`start_urls: ["{{URL}}/about", "{{URL}}/category/sf"]
sitemap_from_robots: true`, 1)
	s := parseSpec(t, strings.ReplaceAll(spec, "{{URL}}", srv.URL))
	items, _ := crawl(t, s)
	slices.Sort(items)
	want := []string{
		`book {"title":"books/1","lastmod":"2024-03-01","url":"` + srv.URL + `/books/1"}`,
		`book {"title":"books/3","url":"` + srv.URL + `/books/3?a=1&b=2"}`,
		`category {"name":"category/sf"}`,
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(items, "\n"), strings.Join(want, "\n"))
	}
	robots := 0
	for _, h := range hits() {
		if h == "/robots.txt" {
			robots++
		}
	}
	if robots != 1 {
		t.Errorf("robots.txt fetched %d times, want once for the one site", robots)
	}

	var starts []string
	for req := range s.StartRequests(context.Background()) {
		starts = append(starts, strings.TrimPrefix(req.URL, srv.URL)+" "+req.Rule)
	}
	if want := []string{"/about ", "/robots.txt " + SitemapRule, "/category/sf "}; !reflect.DeepEqual(starts, want) {
		t.Errorf("start requests %q, want %q: the site's robots.txt once, after its first page", starts, want)
	}
}
