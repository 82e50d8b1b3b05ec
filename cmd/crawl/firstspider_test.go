package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFirstSpiderLoop runs the five-minute loop of the documentation on
// the offline bookshop in testdata: try selectors with crawl shell, try
// them as a spider with crawl parse, then write the spider, check it and
// run it.
func TestFirstSpiderLoop(t *testing.T) {
	index := "../../testdata/books/index.html"
	steps := []struct {
		args []string
		want string // in stdout
	}{
		{[]string{"shell", index, "-c", "article.product_pod h3 a::attr(title)"}, "A Light in the Attic\n"},
		{[]string{"shell", index, "-c", "{css: p.price_color, regex: '[0-9.]+', all: true}"}, "51.77\n53.74\n50.10\n47.82\n"},
		{[]string{"shell", index, "-c", "follow li.next a"}, "/testdata/books/catalogue/page-2.html\n"},
		{[]string{"parse", index, "--field", "title=h1::text", "--follow", "li.next a"}, "items (1)\n{\"title\":\"All products\"}\n"},
	}
	for _, s := range steps {
		r := runCrawl(t, nil, s.args...)
		if r.code != 0 || !strings.Contains(r.stdout, s.want) {
			t.Errorf("crawl %q: exit %d, stdout %q; want 0 and %q\nstderr: %s", s.args, r.code, r.stdout, s.want, r.stderr)
		}
	}

	abs, err := filepath.Abs(index)
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(t.TempDir(), "books.yaml")
	err = os.WriteFile(spec, []byte(`start_urls: ["file://`+filepath.ToSlash(abs)+`"]
follow: [{css: li.next a}]
items:
  - each: article.product_pod
    fields:
      title: h3 a::attr(title)
      price: {css: p.price_color, regex: '[0-9.]+', type: float}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if r := runCrawl(t, nil, "check", spec); r.code != 0 {
		t.Errorf("crawl check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runCrawl(t, nil, "run", spec, "-q")
	if r.code != 0 || !strings.HasPrefix(r.stdout, `{"title":"A Light in the Attic","price":51.77}`+"\n") {
		t.Errorf("crawl run: exit %d, stdout %q\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
