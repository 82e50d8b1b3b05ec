package spider

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"crawl/downloader"
	"crawl/item"
	"crawl/pipeline"
	"crawl/stats"
)

// parseSpec parses an inline spider file as if it were testdata/inline.yaml.
func parseSpec(t testing.TB, spec string) *Spider {
	t.Helper()
	s, err := Parse("testdata/inline.yaml", []byte(spec))
	if err != nil {
		t.Fatalf("Parse spider:\n%v", err)
	}
	return s
}

// response returns a response for url whose body is the page fixture
// testdata/pages/<page>, or body when page is empty.
func response(t testing.TB, url, page, body string, depth int) *downloader.Response {
	t.Helper()
	data := []byte(body)
	if page != "" {
		var err error
		if data, err = os.ReadFile(filepath.Join("testdata/pages", page)); err != nil {
			t.Fatal(err)
		}
	}
	return &downloader.Response{
		Request: &downloader.Request{URL: url, Depth: depth},
		URL:     url,
		Status:  200,
		Body:    data,
	}
}

// describe formats the results of Parse one per line, for comparison:
// "item <rule> <json>", "follow <url> <depth>" or "skip <reason> <url>".
func describeResults(t testing.TB, pageURL string, results []Result) []string {
	t.Helper()
	out := []string{}
	for _, r := range results {
		switch {
		case r.Item != nil:
			if r.Item.URL != pageURL {
				t.Errorf("item URL = %q, want the page URL %q", r.Item.URL, pageURL)
			}
			js, err := r.Item.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, "item "+r.Item.Rule+" "+string(js))
		case r.Request != nil:
			out = append(out, fmt.Sprintf("follow %s %d", r.Request.URL, r.Request.Depth))
		default:
			out = append(out, "skip "+r.Skip+" "+r.URL)
		}
	}
	return out
}

func collect(s *Spider, resp *downloader.Response) []Result {
	var out []Result
	for r := range s.Parse(resp) {
		out = append(out, r)
	}
	return out
}

const (
	listURL   = "https://books.toscrape.com/catalogue/page-1.html"
	detailURL = "https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html"
)

func TestParseItems(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		url   string
		page  string
		body  string
		rule  string // Request.Rule
		want  []string
		check []string // Check of each item: "" or the drop detail
	}{
		{
			name: "each on a listing",
			spec: `
start_urls: ["https://books.toscrape.com/"]
items:
  - name: listing
    each: article.product_pod
    fields:
      id: "::attr(id)"
      title: "h3 a::attr(title)"
      price: p.price_color
      rating: {css: "p.star-rating::attr(class)", regex: 'star-rating (\w+)'}
      stock: "p.availability::text"
      links: {css: "a::attr(href)", all: true}
      url: "@url"
    required: [title, price]
`,
			url:  listURL,
			page: "list.html",
			want: []string{
				`item listing {"id":"p1","title":"A Light in the Attic","price":"£51.77","rating":"Three","stock":"In stock","links":["a-light-in-the-attic_1000/index.html","a-light-in-the-attic_1000/index.html"],"url":"https://books.toscrape.com/catalogue/page-1.html"}`,
				`item listing {"id":"p2","title":"Tipping the Velvet","price":"£53.74","rating":"One","links":["tipping-the-velvet_999/index.html"],"url":"https://books.toscrape.com/catalogue/page-1.html"}`,
				`item listing {"id":"p3","title":"","stock":"Out of stock","links":["soumission_998/index.html"],"url":"https://books.toscrape.com/catalogue/page-1.html"}`,
			},
			check: []string{"", "", "listing: title, price"},
		},
		{
			name: "one item per page",
			spec: `
start_urls: ["https://books.toscrape.com/"]
items:
  - name: book
    fields:
      title: "h1::text"
      description: p.description
      upc: "table tr:first-child td"
      type: {css: "table th", regex: '^Product (\w+)$'}
      available: {css: "table td", regex: '\((\d+) available\)'}
      stock: {css: "table td", regex: 'In stock'}
      price_html: "p.price_color::html"
      crumbs: {css: "ul.breadcrumb li a", all: true}
      tags: {css: "ul.tags li", all: true}
      sizes: {css: "table td", regex: 'size (\d+)', all: true}
      missing: "p.nothing"
      nomatch: {css: "h1", regex: 'Tolkien'}
      script: "script::text"
      head: "title"
      url: "@url"
    required: [title, tags]
`,
			url:  detailURL,
			page: "detail.html",
			want: []string{
				`item book {"title":"A Light in the Attic","description":"It's hard to imagine a world without A Light in the Attic. This now-classic collection of poetry…","upc":"a897fe39b1053632","type":"Type","available":"22","stock":"In stock","price_html":"<p class=\"price_color\">£51.77</p>","crumbs":["Home","Books","Poetry"],"tags":[],"sizes":[],"head":"A Light in the Attic | Books to Scrape - Sandbox","url":"https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html"}`,
			},
			check: []string{"book: tags"},
		},
		{
			name: "every matching rule, in order",
			spec: `
start_urls: ["https://books.toscrape.com/"]
items:
  - name: book
    urls: '/catalogue/[^/]+/index\.html$'
    each: article.product_page
    fields: {title: h1}
  - name: listing
    urls: ['/page-\d+\.html$', '/index\.html$']
    fields: {count: {css: "article.product_pod h3", all: true}}
  - name: nothing
    urls: 'example\.com'
    fields: {title: h1}
  - name: page
    fields: {title: title}
`,
			url:  listURL,
			page: "list.html",
			want: []string{
				`item listing {"count":["A Light in the ...","Tipping the Velvet","Soumission"]}`,
				`item page {"title":"All products | Books to Scrape - Sandbox"}`,
			},
			check: []string{"", ""},
		},
		{
			name: "urls filter on a detail page",
			spec: `
start_urls: ["https://books.toscrape.com/"]
items:
  - name: book
    urls: '/catalogue/[^/]+/index\.html$'
    each: article.product_page
    fields: {title: h1, rating: {css: "p.star-rating::attr(class)", regex: 'star-rating (\w+)'}}
  - name: listing
    urls: '/page-\d+\.html$'
    fields: {title: title}
`,
			url:   detailURL,
			page:  "detail.html",
			want:  []string{`item book {"title":"A Light in the Attic","rating":"Three"}`},
			check: []string{""},
		},
		{
			name: "request names the rule",
			spec: `
start_urls: ["https://books.toscrape.com/"]
items:
  - name: book
    urls: 'never'
    fields: {title: h1}
  - name: page
    fields: {title: title}
`,
			url:   detailURL,
			page:  "detail.html",
			rule:  "book",
			want:  []string{`item book {"title":"A Light in the Attic"}`},
			check: []string{""},
		},
		{
			name: "YAML anchors and aliases",
			spec: `
start_urls: ["https://books.toscrape.com/"]
items:
  - name: first
    fields: &fields {title: h1, price: &price {css: p.price_color, regex: '[\d.]+'}}
  - name: second
    fields: *fields
  - name: third
    fields: {cost: *price}
`,
			url:  detailURL,
			page: "detail.html",
			want: []string{
				`item first {"title":"A Light in the Attic","price":"51.77"}`,
				`item second {"title":"A Light in the Attic","price":"51.77"}`,
				`item third {"cost":"51.77"}`,
			},
			check: []string{"", "", ""},
		},
		{
			name: "text normalisation",
			spec: `
start_urls: ["https://example.com/"]
items:
  - fields:
      cells: "table"
      list: "ul"
      inline: "p"
      nbsp: "span"
      pre: "pre::text"
      attr: "p::attr(TITLE)"
      raw: "p::attr(data-raw)"
`,
			url: "https://example.com/",
			body: "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table><ul><li>one</li><li>two<br>three</li></ul>" +
				"<p title=\"T\" data-raw=\"  spaced  \">in<b>line</b> <i>text</i><script>x()</script><style>p{}</style></p>" +
				"<span>\u00a0a\u00a0\u00a0b\u2003</span><pre>\n  x\n\n  y\n</pre>",
			want:  []string{`item item {"cells":"a b c","list":"one two three","inline":"inline text","nbsp":"a b","pre":"x y","attr":"T","raw":"  spaced  "}`},
			check: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseSpec(t, tt.spec)
			resp := response(t, tt.url, tt.page, tt.body, 0)
			resp.Request.Rule = tt.rule
			results := collect(s, resp)
			got := describeResults(t, tt.url, results)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var checks []string
			for _, r := range results {
				if r.Item == nil {
					continue
				}
				err := s.Check(r.Item)
				var drop *pipeline.Drop
				switch {
				case err == nil:
					checks = append(checks, "")
				case errors.As(err, &drop) && drop.Reason == "missing_required":
					checks = append(checks, drop.Detail)
				default:
					t.Errorf("Check = %v, want nil or a missing_required *pipeline.Drop", err)
				}
			}
			if !reflect.DeepEqual(checks, tt.check) {
				t.Errorf("Check: got %q, want %q", checks, tt.check)
			}
		})
	}
}

func TestParseLinks(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		url   string
		page  string
		body  string
		depth int
		want  []string
	}{
		{
			name: "every link",
			spec: `
start_urls: ["https://books.toscrape.com/"]
allowed_domains: [books.toscrape.com]
follow: [{}]
`,
			url:   listURL,
			page:  "list.html",
			depth: 2,
			want: []string{
				"follow https://books.toscrape.com/index.html 3",
				"follow https://books.toscrape.com/catalogue/category/books/travel_2/index.html 3",
				"follow https://books.toscrape.com/catalogue/category/books/mystery_3/index.html 3",
				"follow https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html 3",
				"follow https://books.toscrape.com/catalogue/tipping-the-velvet_999/index.html 3",
				"follow https://books.toscrape.com/catalogue/soumission_998/index.html 3",
				"follow https://books.toscrape.com/catalogue/page-2.html 3",
				"skip scheme mailto:info@books.toscrape.com",
				"skip scheme javascript:void(0)",
				"skip offsite https://twitter.com/bookstoscrape",
				"follow https://shop.books.toscrape.com/cart 3",
				"follow https://books.toscrape.com:8443/help 3",
				"skip invalid http://[::1/broken",
				"skip scheme file:///etc/passwd",
				"follow https://books.toscrape.com/about.html 3",
			},
		},
		{
			name: "css, allow and deny",
			spec: `
start_urls: ["https://books.toscrape.com/"]
allowed_domains: [books.toscrape.com]
follow:
  - css: "li.next a"
  - css: "article.product_pod h3 a"
    allow: ['/catalogue/']
    deny: ['/category/', 'soumission']
  - css: ".side_categories a"
    deny: '/category/'
  - css: "footer a"
    allow: ['twitter', '^mailto:', 'page-\d']
`,
			url:  listURL,
			page: "list.html",
			want: []string{
				"follow https://books.toscrape.com/catalogue/page-2.html 1",
				"follow https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html 1",
				"follow https://books.toscrape.com/catalogue/tipping-the-velvet_999/index.html 1",
				"skip scheme mailto:info@books.toscrape.com",
				"skip offsite https://twitter.com/bookstoscrape",
			},
		},
		{
			name: "a link denied by one rule is followed by another",
			spec: `
start_urls: ["https://books.toscrape.com/"]
follow:
  - css: "h3 a"
    allow: 'tipping'
  - css: "article a"
`,
			url:  listURL,
			page: "list.html",
			want: []string{
				"follow https://books.toscrape.com/catalogue/tipping-the-velvet_999/index.html 1",
				"follow https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html 1",
				"follow https://books.toscrape.com/catalogue/soumission_998/index.html 1",
			},
		},
		{
			name: "base href",
			spec: `
start_urls: ["https://books.toscrape.com/"]
follow:
  - css: "ul.breadcrumb a"
`,
			url:  detailURL,
			page: "detail.html",
			want: []string{
				"follow https://books.toscrape.com/index.html 1",
				"follow https://books.toscrape.com/catalogue/category/books_1/index.html 1",
				"follow https://books.toscrape.com/catalogue/category/books/poetry_23/index.html 1",
			},
		},
		{
			name: "attribute by element",
			spec: `
start_urls: ["https://books.toscrape.com/"]
follow:
  - css: "img, iframe, div, video, link[rel=canonical]"
  - css: "div::attr(data-next)"
`,
			url:  detailURL,
			page: "detail.html",
			want: []string{
				"follow https://books.toscrape.com/media/cache/fe/72/a-light.jpg 1",
				"follow https://books.toscrape.com/reviews/1000 1",
				"follow https://books.toscrape.com/catalogue/odd.html 1",
				"follow https://books.toscrape.com/catalogue/media/trailer.mp4 1",
				"follow https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html 1",
				"follow https://books.toscrape.com/catalogue/page-2.html 1",
			},
		},
		{
			name: "a web page never leads to a file",
			spec: `
start_urls: ["https://example.com/"]
follow: [{}]
`,
			url:  "https://example.com/dir/page.html",
			body: `<base href="file:///etc/"><a href="passwd">base</a><a href="FILE:///etc/shadow">upper</a><a href="data:text/html,hi">data</a><a href="ftp://example.com/x">ftp</a>`,
			want: []string{
				"skip scheme file:///etc/passwd",
				"skip scheme file:///etc/shadow",
				"skip scheme data:text/html,hi",
				"skip scheme ftp://example.com/x",
			},
		},
		{
			name: "a local page links to files and to the web",
			spec: `
start_urls: ["file:site/index.html"]
allowed_domains: [example.com]
follow: [{}]
`,
			url:  "file:///srv/site/index.html",
			body: `<a href="other.html">other</a><a href="../up.html#x">up</a><a href="https://example.com/">web</a><a href="https://example.org/">offsite</a><a href="mailto:x@example.com">mail</a>`,
			want: []string{
				"follow file:///srv/site/other.html 1",
				"follow file:///srv/up.html 1",
				"follow https://example.com/ 1",
				"skip offsite https://example.org/",
				"skip scheme mailto:x@example.com",
			},
		},
		{
			name: "no follow rules",
			spec: `start_urls: ["https://books.toscrape.com/"]`,
			url:  listURL,
			page: "list.html",
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseSpec(t, tt.spec)
			results := collect(s, response(t, tt.url, tt.page, tt.body, tt.depth))
			got := describeResults(t, tt.url, results)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseStopsEarly(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://books.toscrape.com/"]
follow: [{}]
items:
  - each: article.product_pod
    fields: {title: h3}
`)
	resp := response(t, listURL, "list.html", "", 0)
	for _, stop := range []int{1, 2, 3, 4, 5} {
		n := 0
		for range s.Parse(resp) {
			n++
			if n == stop {
				break
			}
		}
		if n != stop {
			t.Errorf("break after %d results: ranged over %d", stop, n)
		}
	}
}

func TestParseConcurrent(t *testing.T) {
	s, err := Load("testdata/good/books.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pages := []*downloader.Response{
		response(t, listURL, "list.html", "", 0),
		response(t, detailURL, "detail.html", "", 1),
		response(t, "https://books.toscrape.com/catalogue/page-2.html", "catalogue.html", "", 1),
	}
	want := make([][]string, len(pages))
	for i, p := range pages {
		want[i] = describeResults(t, p.URL, collect(s, p))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				p := pages[(g+i)%len(pages)]
				got := describeResults(t, p.URL, collect(s, p))
				if w := want[(g+i)%len(pages)]; !reflect.DeepEqual(got, w) {
					t.Errorf("concurrent Parse of %s: got %q, want %q", p.URL, got, w)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCheck(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://example.com/"]
items:
  - name: book
    fields: {title: h1, tags: {css: li, all: true}, price: p}
    required: [title, tags]
  - name: free
    fields: {title: h1}
`)
	tests := []struct {
		name   string
		item   *item.Item
		detail string // "" when the item passes
	}{
		{"complete", &item.Item{Rule: "book", Fields: []item.Field{{Name: "title", Value: "T"}, {Name: "tags", Value: []string{"a"}}}}, ""},
		{"absent", &item.Item{Rule: "book", Fields: []item.Field{{Name: "tags", Value: []string{"a"}}}}, "book: title"},
		{"empty string", &item.Item{Rule: "book", Fields: []item.Field{{Name: "title", Value: ""}, {Name: "tags", Value: []string{"a"}}}}, "book: title"},
		{"empty list", &item.Item{Rule: "book", Fields: []item.Field{{Name: "title", Value: "T"}, {Name: "tags", Value: []string{}}}}, "book: tags"},
		{"nil", &item.Item{Rule: "book", Fields: []item.Field{{Name: "title", Value: nil}, {Name: "tags", Value: []any{}}}}, "book: title, tags"},
		{"no required fields", &item.Item{Rule: "free"}, ""},
		{"unknown rule", &item.Item{Rule: "other"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Check(tt.item)
			if tt.detail == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			want := &pipeline.Drop{Reason: "missing_required", Detail: tt.detail}
			if !reflect.DeepEqual(err, want) {
				t.Errorf("got %#v, want %#v", err, want)
			}
		})
	}
}

func TestOnsite(t *testing.T) {
	s := &Spider{AllowedDomains: []string{"example.com", "b.org"}}
	tests := []struct {
		host string
		want bool
	}{
		{"example.com", true},
		{"www.example.com", true},
		{"a.b.example.com", true},
		{"notexample.com", false},
		{"example.com.evil.net", false},
		{"b.org", true},
		{"org", false},
		{"c.org", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := s.onsite(tt.host); got != tt.want {
				t.Errorf("onsite(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

// TestParseHostCase checks that allowed_domains match hosts whatever their
// case. The URL's own case depends on how urls resolves it, so only the
// kind of result is compared.
func TestParseHostCase(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://example.com/"]
allowed_domains: [Example.COM]
follow: [{}]
`)
	resp := response(t, "https://example.com/", "", `<a href="https://WWW.Example.COM/x">x</a><a href="HTTPS://OTHER.example.org/">y</a>`, 0)
	results := collect(s, resp)
	if len(results) != 2 || results[0].Request == nil || !strings.EqualFold(results[0].Request.URL, "https://www.example.com/x") || results[1].Skip != SkipOffsite {
		t.Errorf("got %q, want a request for https://WWW.Example.COM/x and an offsite skip", describeResults(t, resp.URL, results))
	}
}

// A response read as JSON that is not JSON (garbage, or a body cut at the
// size limit) yields nothing and is counted, not silently dropped.
func TestBadJSONCounted(t *testing.T) {
	s := parseSpec(t, "start_urls: [\"http://127.0.0.1/\"]\nresponse: json\nitems: [{fields: {id: id}}]\n")
	s.Stats = new(stats.Stats)
	for _, body := range []string{`{"id": 1}`, "\x00\xff garbage", `{"id": 2, "name": "cut he`} {
		for range s.Parse(response(t, "http://127.0.0.1/api", "", body, 0)) {
		}
	}
	if n := s.Stats.Get(stats.Skipped + SkipBadJSON); n != 2 {
		t.Errorf("skipped/%s = %d, want 2", SkipBadJSON, n)
	}
}
