package spider

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"crawl/stats"
)

// A page nested deeper than the HTML parser allows is still scraped, as a
// browser still shows it: the items and links around the deep part, and
// the links inside it.
func TestDeeplyNestedHTML(t *testing.T) {
	const spec = `start_urls: ["http://127.0.0.1/"]
follow: [{css: a}]
items:
  - name: product
    each: div.product
    fields: {sku: .sku}
    required: [sku]
`
	product := func(sku string) string {
		return `<div class="product"><span class="sku">` + sku + `</span></div>`
	}
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + `<a href="/inside">in</a>` + strings.Repeat(close, n)
	}
	tests := []struct {
		name   string
		middle string
	}{
		{"divs", deep("<div>", "</div>", 100_000)},
		{"tables", deep("<table><tr><td>", "</td></tr></table>", 30_000)},
		{"cells without rows", deep("<table><td>", "</td></table>", 30_000)},
		{"lists", deep("<ul><li>", "</li></ul>", 10_000)},
		{"formatting", deep("<b><i>", "</i></b>", 10_000)},
		{"svg", "<svg>" + deep(`<g><path d="M0"/>`, "</g>", 10_000) + "</svg>"},
		{"self-closed divs", deep("<div/>", "</div>", 10_000)},
		{"mixed names", deep("<div><span><section>", "</section></span></div>", 10_000)},
		{"never closed", deep("<div>", "", 10_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseSpec(t, spec)
			s.Stats = new(stats.Stats)
			body := "<html><body>" + product("before") + tt.middle + product("after") + `<a href="/after">after</a></body></html>`
			var skus, links []string
			for r := range s.Parse(response(t, "http://127.0.0.1/page", "", body, 0)) {
				switch {
				case r.Item != nil:
					if v, ok := r.Item.Get("sku"); ok {
						skus = append(skus, v.(string))
					}
				case r.Request != nil:
					links = append(links, r.Request.URL)
				}
			}
			wantSKUs := []string{"before", "after"}
			if tt.name == "never closed" {
				wantSKUs = []string{"before"} // "after" is inside the flattened part
			}
			if !slices.Equal(skus, wantSKUs) {
				t.Errorf("items %q, want %q", skus, wantSKUs)
			}
			for _, want := range []string{"http://127.0.0.1/inside", "http://127.0.0.1/after"} {
				if !slices.Contains(links, want) {
					t.Errorf("links %q lack %s", links, want)
				}
			}
			if n := s.Stats.Get(HTMLTooDeep); n != 1 {
				t.Errorf("%s = %d, want 1", HTMLTooDeep, n)
			}
			if n := s.Stats.Get(stats.Skipped + SkipBadHTML); n != 0 {
				t.Errorf("skipped/%s = %d, want 0", SkipBadHTML, n)
			}
		})
	}
}

// Pages the parser reads as they are are not flattened, and flattening
// leaves a page that nests no deeper than its limit as it was.
func TestFlattenLeavesShallowPages(t *testing.T) {
	s := parseSpec(t, "start_urls: [\"http://127.0.0.1/\"]\nitems: [{fields: {title: h1}}]\n")
	s.Stats = new(stats.Stats)
	pages, err := filepath.Glob("testdata/pages/*.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no fixture pages: %v", err)
	}
	for _, p := range pages {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for range s.Parse(response(t, "http://127.0.0.1/", "", string(body), 0)) {
		}
		if got := flattenHTML(body, flattenDepth); string(got) != string(body) {
			t.Errorf("%s: flattening changed a page that is not too deep", p)
		}
	}
	if n := s.Stats.Get(HTMLTooDeep); n != 0 {
		t.Errorf("%s = %d for pages the parser reads, want 0", HTMLTooDeep, n)
	}
}
