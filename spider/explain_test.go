package spider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"crawl/downloader"
)

func TestExplain(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://books.toscrape.com/"]
allowed_domains: [books.toscrape.com]
follow:
  - css: "li.next a"
  - css: "article.product_pod h3 a"
    allow: ['/catalogue/']
    deny: ['soumission']
  - css: "footer a"
    callback: book
items:
  - name: book
    urls: '/catalogue/[^/]+/index\.html$'
    fields: {title: h1}
  - name: listing
    each: article.product_pod
    fields:
      title: "h3 a::attr(title)"
      price: {css: p.price_color, regex: '([\d.]+)', type: float}
    required: [title]
    unique: [title]
`)
	resp := response(t, listURL, "list.html", "", 0)
	ex := s.Explain(resp)
	var got []string
	got = append(got, "as "+ex.As)
	for _, r := range ex.Rules {
		got = append(got, fmt.Sprintf("rule %s ran=%v items=%d %s", r.Name, r.Ran, r.Items, r.Why))
	}
	for _, it := range ex.Items {
		js, _ := it.Item.MarshalJSON()
		line := "item " + string(js)
		if it.Drop != nil {
			line += " dropped: " + it.Drop.Error()
		}
		got = append(got, line)
	}
	for _, l := range ex.Links {
		line := l.From + " " + l.URL
		if l.Request != nil {
			line += " follow " + l.Request.Rule
		} else {
			line += " skip " + l.Skip
		}
		got = append(got, strings.TrimSpace(line))
	}
	want := []string{
		"as html",
		"rule book ran=false items=0 urls do not match the page URL",
		"rule listing ran=true items=3 ",
		`item {"title":"A Light in the Attic","price":51.77}`,
		`item {"title":"Tipping the Velvet","price":53.74}`,
		`item {"title":""} dropped: item dropped: missing_required: listing: title`,
		"follow[0] https://books.toscrape.com/catalogue/page-2.html follow",
		"follow[1] https://books.toscrape.com/catalogue/a-light-in-the-attic_1000/index.html follow",
		"follow[1] https://books.toscrape.com/catalogue/tipping-the-velvet_999/index.html follow",
		"follow[1] https://books.toscrape.com/catalogue/soumission_998/index.html skip denied",
		"follow[2] mailto:info@books.toscrape.com skip scheme",
		"follow[2] javascript:void(0) skip scheme",
		"follow[2] https://twitter.com/bookstoscrape skip offsite",
		"follow[2] https://shop.books.toscrape.com/cart follow book",
		"follow[2] https://books.toscrape.com:8443/help follow book",
		"follow[2] http://[::1/broken skip invalid",
		"follow[2] file:///etc/passwd skip scheme",
		"follow[2] https://books.toscrape.com/catalogue/page-2.html skip duplicate",
		"follow[2] https://books.toscrape.com/catalogue/page-2.html skip duplicate",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Explain claims no unique key: the crawl still keeps the first item.
	for r := range s.Parse(resp) {
		if r.Item != nil {
			if err := s.Check(r.Item); err != nil {
				t.Errorf("Check after Explain = %v, want nil", err)
			}
			break
		}
	}
}

// fileFetcher fetches file: URLs with the real downloader.
func fileFetcher(t *testing.T) Fetcher {
	t.Helper()
	dl := downloader.New(downloader.Config{})
	t.Cleanup(dl.Close)
	return dl
}

func TestContracts(t *testing.T) {
	dir := t.TempDir()
	page, err := os.ReadFile("testdata/pages/list.html")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "list.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := `
start_urls: ["https://books.toscrape.com/"]
allowed_domains: [books.toscrape.com]
follow:
  - css: "li.next a"
  - css: "footer a"
items:
  - name: listing
    each: article.product_pod
    fields:
      title: "h3 a::attr(title)"
      price: {css: p.price_color, regex: '([\d.]+)', type: float}
      url: "@url"
    required: [title]
tests:
  - url: https://books.toscrape.com/catalogue/page-1.html
    page: list.html
    count: 2
    items:
      - {title: A Light in the Attic, price: 51.77}
      - {title: Tipping the Velvet, price: 53.74, url: "https://books.toscrape.com/catalogue/page-1.html"}
    fields: [title, price]
    links: [page-2.html]
  - page: list.html
    rule: listing
    count: {min: 3, max: 10}
    items:
      - {title: A Light in the Attic, price: "51.77"}
      - {title: Tipping the Velvet, url: null}
      - {title: Nope}
    fields: [url, price]
    links: [https://books.toscrape.com/catalogue/page-2.html, https://twitter.com/bookstoscrape, nowhere.html]
`
	path := filepath.Join(dir, "books.yaml")
	s, err := Parse(path, []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	ks := s.Contracts()
	if len(ks) != 2 || ks[0].Line != 16 || ks[1].Line != 24 {
		t.Fatalf("got %d contracts at lines %d, %d; want 2 at 16, 24", len(ks), ks[0].Line, ks[1].Line)
	}
	f := fileFetcher(t)
	if res := s.Verify(context.Background(), ks[0], f); len(res.Failures) != 0 || res.Items != 2 || res.Links != 3 {
		t.Errorf("tests[0]: %+v, want it to pass with 2 items and 3 links", res)
	}
	res := s.Verify(context.Background(), ks[1], f)
	pageURL := "file://" + filepath.ToSlash(filepath.Join(dir, "list.html"))
	want := []string{
		"count: got 2 items, want at least 3",
		`items[0].price: got 51.77, want "51.77"`,
		`items[1].url: got "` + pageURL + `", want no field`,
		"items[2]: missing: got 2 items",
		"links: https://books.toscrape.com/catalogue/page-2.html not found",
		"links: https://twitter.com/bookstoscrape not followed (offsite)",
		"links: " + strings.TrimSuffix(pageURL, "list.html") + "nowhere.html not found",
	}
	if !reflect.DeepEqual(res.Failures, want) {
		t.Errorf("tests[1] failures:\n%s\nwant:\n%s", strings.Join(res.Failures, "\n"), strings.Join(want, "\n"))
	}
}
