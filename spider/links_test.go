package spider

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"crawl/downloader"
	"crawl/urls"
)

const linksPage = `<html><head>
<link rel="next" href="/page/2">
<link rel="stylesheet" href="/style.css">
<link rel="Next Prefetch" href="/page/2b">
</head><body>
<a href="/a">Alpha</a>
<a href="/b" rel="nofollow">Bravo</a>
<a href="/c" rel="external NoFollow">Charlie</a>
<a>no href</a>
<a href="/next-page">Next page »</a>
<map><area href="/area" alt="Next area"></map>
<a href="/img"><img src="/i.png" alt="picture"></a>
</body></html>`

func TestDefaultLinks(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []string
	}{
		{
			name: "a, area and link rel=next",
			spec: `follow: [{}]`,
			want: []string{
				"follow https://example.com/page/2 1",
				"follow https://example.com/page/2b 1",
				"follow https://example.com/a 1",
				"follow https://example.com/b 1",
				"follow https://example.com/c 1",
				"follow https://example.com/next-page 1",
				"follow https://example.com/area 1",
				"follow https://example.com/img 1",
			},
		},
		{
			name: "respect_nofollow",
			spec: "respect_nofollow: true\nfollow: [{css: \"body a\"}]",
			want: []string{
				"follow https://example.com/a 1",
				"skip nofollow https://example.com/b",
				"skip nofollow https://example.com/c",
				"follow https://example.com/next-page 1",
				"follow https://example.com/img 1",
			},
		},
		{
			name: "text",
			spec: `follow: [{text: '(?i)^next'}]`,
			want: []string{
				"follow https://example.com/next-page 1",
				"follow https://example.com/area 1",
			},
		},
		{
			name: "text of an image link is its alt",
			spec: `follow: [{css: "a", text: picture}]`,
			want: []string{},
		},
		{
			name: "xpath attribute and element links",
			spec: `follow: [{xpath: "//a[@rel]/@href"}, {xpath: "//area"}]`,
			want: []string{
				"follow https://example.com/b 1",
				"follow https://example.com/c 1",
				"follow https://example.com/area 1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseSpec(t, "start_urls: [\"https://example.com/\"]\n"+tt.spec+"\n")
			got := describeResults(t, "https://example.com/", collect(s, response(t, "https://example.com/", "", linksPage, 0)))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCanonicalKey(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://example.com/"]
canonical:
  sort_query: false
  drop_params: [utm_*, sessionid]
  trailing_slash: true
  www: true
`)
	f := false
	want := urls.Canon{SortQuery: &f, DropParams: []string{"utm_*", "sessionid"}, FoldTrailingSlash: true, FoldWWW: true}
	if !reflect.DeepEqual(s.Canon, want) {
		t.Errorf("Canon = %+v, want %+v", s.Canon, want)
	}
	if got, _ := s.Canon.Canonical("https://www.example.com/a/?b=1&utm_source=x&a=2"); got != "https://example.com/a?b=1&a=2" {
		t.Errorf("Canonical = %q", got)
	}
	if s := parseSpec(t, `start_urls: ["https://example.com/"]`); !reflect.DeepEqual(s.Canon, urls.DefaultCanon) {
		t.Errorf("Canon without the key = %+v, want the default", s.Canon)
	}
}

// TestRequests checks what follow rules ask of requests: method, headers,
// a form body and the callback, and that the downloader sends them as
// the server expects.
func TestRequests(t *testing.T) {
	type seen struct {
		method, ctype, token, body string
	}
	var (
		mu  sync.Mutex
		got = map[string]seen{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = seen{r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Token"), string(b)}
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			io.WriteString(w, `<form action="/search"></form><a class="book" href="/book/1">Dune</a><a class="api" href="/api/raw">api</a>`)
		default:
			io.WriteString(w, `<h1>detail</h1>`)
		}
	}))
	defer srv.Close()

	s := parseSpec(t, `
start_urls: ["`+srv.URL+`/"]
follow:
  - css: "form::attr(action)"
    headers: {X-Token: "s3cret", Accept-Language: en}
    body: {q: "dune & more", page: 2}
  - css: a.book
    callback: detail
  - css: a.api
    method: put
    headers: {Content-Type: application/json}
    body: '{"q": 1}'
items:
  - name: detail          # a callback without urls: only for its requests
    fields: {title: h1}
`)
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	ctx := context.Background()
	resp, err := dl.Fetch(ctx, &downloader.Request{URL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []*downloader.Request
	for r := range s.Parse(resp) {
		if r.Request == nil {
			t.Fatalf("unexpected result %+v", r)
		}
		reqs = append(reqs, r.Request)
	}
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	if r := reqs[0]; r.Method != "POST" || string(r.Body) != "q=dune+%26+more&page=2" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.Rule != "" {
		t.Errorf("form request = %+v", r)
	}
	if r := reqs[1]; r.Method != "" || r.Body != nil || r.Rule != "detail" {
		t.Errorf("callback request = %+v", r)
	}
	for _, req := range reqs {
		resp, err := dl.Fetch(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if req.Rule == "detail" {
			items := describeResults(t, resp.URL, collect(s, resp))
			if want := []string{`item detail {"title":"detail"}`}; !reflect.DeepEqual(items, want) {
				t.Errorf("callback page: got %q, want %q", items, want)
			}
		}
	}
	want := map[string]seen{
		"/":        {"GET", "", "", ""},
		"/search":  {"POST", "application/x-www-form-urlencoded", "s3cret", "q=dune+%26+more&page=2"},
		"/book/1":  {"GET", "", "", ""},
		"/api/raw": {"PUT", "application/json", "", `{"q": 1}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %+v\nwant %+v", got, want)
	}
}

// crawl fetches from the start requests breadth-first, as the engine
// would, and returns every item's JSON in order and every URL fetched.
func crawl(t *testing.T, s *Spider) (items, fetched []string) {
	t.Helper()
	dl := downloader.New(downloader.Config{CheckRedirect: s.CheckRedirect})
	defer dl.Close()
	ctx := context.Background()
	var queue []*downloader.Request
	for req, err := range s.StartRequests(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		queue = append(queue, req)
	}
	seen := map[string]bool{}
	for len(queue) > 0 {
		req := queue[0]
		queue = queue[1:]
		if seen[req.URL] {
			continue
		}
		seen[req.URL] = true
		fetched = append(fetched, req.URL)
		resp, err := dl.Fetch(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || !s.Accepts(resp) {
			continue
		}
		for r := range s.Parse(resp) {
			switch {
			case r.Item != nil:
				if s.Check(r.Item) != nil {
					continue
				}
				js, _ := r.Item.MarshalJSON()
				items = append(items, r.Item.Rule+" "+string(js))
			case r.Request != nil:
				queue = append(queue, r.Request)
			}
		}
	}
	return items, fetched
}

// TestJSONCrawl crawls a paginated JSON API: items from each page, the
// next page from its "next" field, and a detail request per item.
func TestJSONCrawl(t *testing.T) {
	pages := map[string]string{
		"/api/books?page=1": `{"results": [{"id": 1, "title": "Dune", "url": "/api/books/1"}, {"id": 2, "title": "Emma", "url": "/api/books/2"}], "next": "/api/books?page=2"}`,
		"/api/books?page=2": `{"results": [{"id": 3, "title": "Ulysses", "url": "/api/books/3"}], "next": null}`,
		"/api/books/1":      `{"id": 1, "author": {"name": "Frank Herbert"}, "pages": 412}`,
		"/api/books/2":      `{"id": 2, "author": {"name": "Jane Austen"}, "pages": "many"}`,
		"/api/books/3":      `{"id": 3, "author": {"name": "James Joyce"}, "pages": 730}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	s := parseSpec(t, `
start_urls: ["`+srv.URL+`/api/books?page=1"]
follow:
  - json: next
  - json: "results[*].url"
    callback: book
items:
  - name: listing
    urls: 'page='
    each: {json: results}
    fields: {id: id, title: title}
  - name: book
    fields:
      id: id
      author: author.name
      pages: {json: pages, type: int}
`)
	items, fetched := crawl(t, s)
	want := []string{
		`listing {"id":1,"title":"Dune"}`,
		`listing {"id":2,"title":"Emma"}`,
		`listing {"id":3,"title":"Ulysses"}`,
		`book {"id":1,"author":"Frank Herbert","pages":412}`,
		`book {"id":2,"author":"Jane Austen"}`,
		`book {"id":3,"author":"James Joyce","pages":730}`,
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(items, "\n"), strings.Join(want, "\n"))
	}
	if len(fetched) != 5 {
		t.Errorf("fetched %d pages, want 5: %q", len(fetched), fetched)
	}
}

func TestAcceptsJSON(t *testing.T) {
	html := parseSpec(t, `start_urls: ["https://x.example/"]`)
	api := parseSpec(t, "start_urls: [\"https://x.example/\"]\nfollow: [{json: next}]\n")
	forced := parseSpec(t, "start_urls: [\"https://x.example/\"]\nresponse: json\nitems: [{fields: {id: id}}]\n")
	tests := []struct {
		ctype, body       string
		html, api, forced bool
	}{
		{"application/json", `{}`, false, true, true},
		{"application/vnd.api+json", `{}`, false, true, true},
		{"text/html", `<p>`, true, true, true},
		{"", `  {"a": 1}`, false, true, true},
		{"", `<!DOCTYPE html><p>`, true, true, true},
		{"text/plain", `{"a": 1}`, false, false, true},
		{"image/png", "PNG", false, false, false},
	}
	for _, tt := range tests {
		resp := &downloader.Response{Header: http.Header{}, Body: []byte(tt.body)}
		if tt.ctype != "" {
			resp.Header.Set("Content-Type", tt.ctype)
		}
		for _, c := range []struct {
			name string
			s    *Spider
			want bool
		}{{"html", html, tt.html}, {"api", api, tt.api}, {"forced", forced, tt.forced}} {
			if got := c.s.Accepts(resp); got != c.want {
				t.Errorf("%s spider: Accepts(%q, %q) = %v, want %v", c.name, tt.ctype, tt.body, got, c.want)
			}
		}
	}
	// Forced JSON reads a text/plain body as JSON.
	resp := &downloader.Response{Request: &downloader.Request{URL: "https://x.example/"}, URL: "https://x.example/", Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(`{"id": 7}`)}
	if got := describeResults(t, resp.URL, collect(forced, resp)); !reflect.DeepEqual(got, []string{`item item {"id":7}`}) {
		t.Errorf("forced JSON: got %q", got)
	}
}

// TestFollowRuleOrder checks that links come rule by rule in file order,
// each rule's in document order, whether a rule selects by CSS, by XPath
// or takes the default links, so that a link two rules select is the
// earlier rule's even where the later rule's element comes first on the
// page; and that a <base href> after the links still applies to them.
func TestFollowRuleOrder(t *testing.T) {
	const page = `<html><body>
<a class="late" href="/shared">by the second rule's selector</a>
<a class="early" href="/x1">x1</a>
<a class="late" href="/late">late</a>
<a class="early" href="/shared">by the first rule's selector</a>
<p><a class="xp" href="/xp">xp</a></p>
<base href="/dir/">
<a class="early" href="rel">relative</a>
</body></html>`
	s := parseSpec(t, `start_urls: ["https://example.com/"]
follow:
  - css: a.early
    callback: early
  - xpath: "//p/a"
    callback: xp
  - css: a.late, a.xp
    callback: late
  - {}
items:
  - name: early
    fields: {t: title}
  - name: xp
    fields: {t: title}
  - name: late
    fields: {t: title}
`)
	var got []string
	for r := range s.Parse(response(t, "https://example.com/page", "", page, 0)) {
		switch {
		case r.Request != nil:
			got = append(got, r.Request.URL+" "+r.Request.Rule)
		case r.Item == nil:
			t.Errorf("unexpected result %+v", r)
		}
	}
	want := []string{
		"https://example.com/x1 early",
		"https://example.com/shared early",
		"https://example.com/dir/rel early",
		"https://example.com/xp xp",
		"https://example.com/late late",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
