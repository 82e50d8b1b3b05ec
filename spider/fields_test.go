package spider

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"crawl/pipeline"
	"crawl/stats"
)

// fieldPage is the page most field tests scrape.
const fieldPage = `<html><head><title> Shop </title><base href="https://shop.example/catalogue/"></head><body>
<article class="book" id="b1">
  <h1>  Dune
     Messiah </h1>
  <p class="price" data-raw="  £ 1,234.50  ">£1,234.50</p>
  <p class="size">210x148 mm</p>
  <p class="stock">In stock (7 available)</p>
  <p class="date">Published 3 March 2021</p>
  <p class="when">03/04/2021</p>
  <span class="flag">yes</span>
  <a class="cover" href="../media/dune.jpg">cover</a>
  <ul class="tags"><li> sf </li><li>classic</li><li></li></ul>
  <ul class="pages"><li>12</li><li>x</li></ul>
  <div class="review"><b>Ann</b><i data-n="5"></i><span>Great</span></div>
  <div class="review"><b>Bob</b><i data-n="3"></i></div>
</article>
</body></html>`

const fieldURL = "https://shop.example/catalogue/dune/index.html"

// scrapeOne parses fieldPage (or body) with a spider whose one item rule
// has the given fields, and returns the item's JSON and what Check says.
func scrapeOne(t *testing.T, fields, body string) (string, error) {
	t.Helper()
	if body == "" {
		body = fieldPage
	}
	spec := "start_urls: [\"https://shop.example/\"]\nitems:\n  - name: book\n    fields:\n" + indent(fields, "      ")
	s := parseSpec(t, spec)
	results := collect(s, response(t, fieldURL, "", body, 0))
	if len(results) != 1 || results[0].Item == nil {
		t.Fatalf("got %d results, want one item: %v", len(results), describeResults(t, fieldURL, results))
	}
	it := results[0].Item
	err := s.Check(it)
	js, jerr := it.MarshalJSON()
	if jerr != nil {
		t.Fatal(jerr)
	}
	return string(js), err
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestProcessors(t *testing.T) {
	tests := []struct {
		name   string
		fields string
		want   string
	}{
		{"whitespace normalised for text by default", `title: h1`, `{"title":"Dune Messiah"}`},
		{"normalize false keeps text as written", `title: {css: h1, normalize: false}`, `{"title":"  Dune\n     Messiah "}`},
		{"attributes as written unless normalize", `raw: "p.price::attr(data-raw)"
norm: {css: "p.price::attr(data-raw)", normalize: true}`, `{"raw":"  £ 1,234.50  ","norm":"£ 1,234.50"}`},
		{"regex keeps the first group", `available: {css: p.stock, regex: '\((\d+) available\)'}`, `{"available":"7"}`},
		{"regex without a group keeps the match", `word: {css: p.stock, regex: 'In \w+'}`, `{"word":"In stock"}`},
		{"regex that does not match leaves the field out", `none: {css: p.stock, regex: 'Sold out'}`, `{}`},
		{"named groups fill several fields", `size: {css: p.size, regex: '(?P<width>\d+)x(?P<height>\d+)'}
title: h1`, `{"width":"210","height":"148","title":"Dune Messiah"}`},
		{"named groups with types and a default", `size: {css: p.size, regex: '(?P<width>\d+)x(?P<height>\d+)(?P<depth>x\d+)?', type: int, default: "0"}`, `{"width":210,"height":148,"depth":0}`},
		{"replace, in order, with groups", `price: {css: p.price, replace: {'[£,]': '', '^(\d+)\.(\d+)$': '${1} pounds ${2}'}}`, `{"price":"1234 pounds 50"}`},
		{"regex before replace", `price: {css: p.price, replace: {',': ''}, regex: '([\d,.]+)'}`, `{"price":"1234.50"}`},
		{"process list in its own order", `price: {css: p.price, process: [{replace: {',': '.'}}, {regex: '(\d+\.\d+)'}]}`, `{"price":"1.234"}`},
		{"process normalize", `raw: {css: "p.price::attr(data-raw)", process: [normalize, {replace: {' ': '_'}}]}`, `{"raw":"£_1,234.50"}`},
		{"all keeps every value, drops empty ones only by regex", `tags: {css: ".tags li", all: true}`, `{"tags":["sf","classic",""]}`},
		{"join", `tags: {css: ".tags li", join: ", ", regex: '.+'}`, `{"tags":"sf, classic"}`},
		{"join of nothing is the default", `none: {css: ".nothing li", join: "/", default: "-"}`, `{"none":"-"}`},
		{"default when nothing matched", `isbn: {css: .isbn, default: unknown}`, `{"isbn":"unknown"}`},
		{"default for a list", `isbn: {css: .isbn, all: true, default: [a, b]}`, `{"isbn":["a","b"]}`},
		{"default alone is a constant", `shop: {default: Books}`, `{"shop":"Books"}`},
		{"type int", `stock: {css: p.stock, regex: '(\d+)', type: int}`, `{"stock":7}`},
		{"type int after replace", `price: {css: p.price, regex: '([\d,]+)', replace: {',': ''}, type: int}`, `{"price":1234}`},
		{"type float", `price: {css: p.price, replace: {'[£,]': ''}, type: float}`, `{"price":1234.5}`},
		{"type bool", `flag: {css: span.flag, type: bool}`, `{"flag":true}`},
		{"type date", `date: {css: p.date, regex: 'Published (.+)', type: date}`, `{"date":"2021-03-03"}`},
		{"type date with date_format", `when: {css: p.when, type: date, date_format: "%d/%m/%Y"}`, `{"when":"2021-04-03"}`},
		{"type on a list", `pages: {css: ".pages li", all: true, regex: '^\d+$', type: int}`, `{"pages":[12]}`},
		{"default goes through type", `stock: {css: .none, type: int, default: "0"}`, `{"stock":0}`},
		{"absolute resolves against base href", `cover: {css: "a.cover::attr(href)", absolute: true}`, `{"cover":"https://shop.example/media/dune.jpg"}`},
		{"absolute on a list and a default", `covers: {css: "a.cover::attr(href)", all: true, absolute: true}
missing: {css: "a.none::attr(href)", absolute: true, default: "/none.png"}`, `{"covers":["https://shop.example/media/dune.jpg"],"missing":"https://shop.example/none.png"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scrapeOne(t, tt.fields, "")
			if err != nil {
				t.Errorf("Check = %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestBadType(t *testing.T) {
	tests := []struct {
		name    string
		fields  string
		want    string // the item after Check
		drop    string // Drop.Reason, or ""
		detail  string
		counted int64
	}{
		{"optional field is removed and counted", `title: h1
price: {css: p.price, type: int}`, `{"title":"Dune Messiah"}`, "", "", 1},
		{"required field drops the item", `title: h1
price: {css: p.price, type: float}`, "", "bad_type", `book: price "£1,234.50": not a float`, 0},
		{"one bad element spoils a list", `pages: {css: ".pages li", all: true, type: int}
title: h1`, `{"title":"Dune Messiah"}`, "", "", 1},
		{"bad date", `date: {css: p.when, type: date}
title: h1`, `{"title":"Dune Messiah"}`, "", "", 1},
		{"bad field in a sub-item", `reviews: {each: div.review, fields: {stars: {css: "span", type: int}}}`, `{"reviews":[{},{}]}`, "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := "start_urls: [\"https://shop.example/\"]\nitems:\n  - name: book\n    fields:\n" + indent(tt.fields, "      ")
			if tt.drop != "" {
				spec += "    required: [price]\n"
			}
			s := parseSpec(t, spec)
			s.Stats = new(stats.Stats)
			results := collect(s, response(t, fieldURL, "", fieldPage, 0))
			it := results[0].Item
			err := s.Check(it)
			var d *pipeline.Drop
			switch {
			case tt.drop == "" && err != nil:
				t.Fatalf("Check = %v, want nil", err)
			case tt.drop != "" && (!errors.As(err, &d) || d.Reason != tt.drop || d.Detail != tt.detail):
				t.Fatalf("Check = %#v, want Drop{%q, %q}", err, tt.drop, tt.detail)
			}
			if tt.drop == "" {
				js, _ := it.MarshalJSON()
				if string(js) != tt.want {
					t.Errorf("item after Check: got %s, want %s", js, tt.want)
				}
			}
			if n := s.Stats.Get(FieldsDropped + "bad_type"); n != tt.counted {
				t.Errorf("counted %d fields dropped, want %d", n, tt.counted)
			}
		})
	}
}

func TestSelectors(t *testing.T) {
	tests := []struct {
		name   string
		fields string
		want   string
	}{
		{"css", `title: "article h1::text"`, `{"title":"Dune Messiah"}`},
		{"xpath element text", `title: {xpath: "//h1"}`, `{"title":"Dune Messiah"}`},
		{"xpath text node", `title: {xpath: "//h1/text()"}`, `{"title":"Dune Messiah"}`},
		{"xpath attribute, as written", `raw: {xpath: "//p[@class='price']/@data-raw"}`, `{"raw":"  £ 1,234.50  "}`},
		{"xpath string function", `title: {xpath: "normalize-space(//title)"}`, `{"title":"Shop"}`},
		{"xpath number", `reviews: {xpath: "count(//div[@class='review'])", type: int}`, `{"reviews":2}`},
		{"xpath with a predicate, all", `stars: {xpath: "//div[contains(@class, 'review')]/i/@data-n", all: true, type: int}`, `{"stars":[5,3]}`},
		{"xpath with processors", `stock: {xpath: "//p[@class='stock']", regex: '(\d+)'}`, `{"stock":"7"}`},
		{"fallback list: first that matches", `isbn: [".isbn", {xpath: "//h1"}, "title"]`, `{"isbn":"Dune Messiah"}`},
		{"fallback list with own processors", `n: [{css: p.stock, regex: 'Sold (\d+)'}, {css: p.stock, regex: '(\d+) avail'}]`, `{"n":"7"}`},
		{"fallback: no match is absent", `n: [.a, .b]`, `{}`},
		{"fallback: last alternative's default", `n: [.a, {css: .b, default: none}]`, `{"n":"none"}`},
		{"fallback of lists: first non-empty", `tags: [{css: ".x li", all: true}, {css: ".tags li", all: true}]`, `{"tags":["sf","classic",""]}`},
		{"several selector keys, tried in the order written", `title: {xpath: "//h2", css: "h1"}`, `{"title":"Dune Messiah"}`},
		{"a list in a selector key", `title: {css: [h2, h3, h1]}`, `{"title":"Dune Messiah"}`},
		{"the value must survive the processors to match", `n: {css: [p.size, p.stock], regex: '(\d+) available'}`, `{"n":"7"}`},
		{"nested items", `reviews:
  each: div.review
  fields:
    author: b
    stars: {css: "i::attr(data-n)", type: int}
    text: span`, `{"reviews":[{"author":"Ann","stars":5,"text":"Great"},{"author":"Bob","stars":3}]}`},
		{"nested items by xpath, none matched", `reviews: {each: {xpath: "//section"}, fields: {a: b}}`, `{"reviews":[]}`},
		{"nested inside nested", `reviews:
  each: div.review
  fields:
    who: {each: b, fields: {name: "::text"}}`, `{"reviews":[{"who":[{"name":"Ann"}]},{"who":[{"name":"Bob"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scrapeOne(t, tt.fields, "")
			if err != nil {
				t.Errorf("Check = %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestXPathEach checks each by XPath, relative XPath in fields, and that
// an XPath in an each scope searches only the matched element.
func TestXPathEach(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://books.toscrape.com/"]
items:
  - name: listing
    each: {xpath: "//article[@class='product_pod']"}
    fields:
      title: {xpath: ".//h3/a/@title"}
      first_h3: {xpath: "//h3"}
      price: {xpath: ".//p[@class='price_color']"}
      child_p: {xpath: "p"}
`)
	got := describeResults(t, listURL, collect(s, response(t, listURL, "list.html", "", 0)))
	want := []string{
		`item listing {"title":"A Light in the Attic","first_h3":"A Light in the ...","price":"£51.77","child_p":""}`,
		`item listing {"title":"Tipping the Velvet","first_h3":"Tipping the Velvet","price":"£53.74","child_p":""}`,
		`item listing {"title":"","first_h3":"Soumission","child_p":""}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestJSONFields covers JSON paths in fields and each.
func TestJSONFields(t *testing.T) {
	body := `{"data": {"items": [
	  {"id": 1, "name": " Dune ", "price": 9.5, "tags": ["sf", "classic"], "stock": {"n": 3}, "ok": true, "url": "/b/1", "meta": {"a b": "x"}},
	  {"id": 2, "name": "Emma", "price": "12", "tags": [], "ok": false, "url": null}
	]}, "next": "/api?page=2"}`
	s := parseSpec(t, `
start_urls: ["https://api.example/"]
items:
  - name: book
    each: {json: "data.items[*]"}
    fields:
      id: id
      name: {json: name, normalize: true}
      price: {json: price, type: float}
      tags: {json: tags, all: true}
      first_tag: "tags[0]"
      last_tag: "tags[-1]"
      stock: stock.n
      stock_obj: stock
      ok: ok
      url: {json: url, absolute: true}
      spaced: 'meta["a b"]'
      page: "@url"
  - name: summary
    each: {json: data}
    fields:
      count: {json: "items[*].id", all: true}
      names: {json: "items[*].name", join: "|", normalize: true}
`)
	const u = "https://api.example/api?page=1"
	resp := response(t, u, "", body, 0)
	resp.Header = http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	got := describeResults(t, u, collect(s, resp))
	want := []string{
		`item book {"id":1,"name":"Dune","price":9.5,"tags":["sf","classic"],"first_tag":"sf","last_tag":"classic","stock":3,"stock_obj":{"n":3},"ok":true,"url":"https://api.example/b/1","spaced":"x","page":"https://api.example/api?page=1"}`,
		`item book {"id":2,"name":"Emma","price":12,"tags":[],"ok":false,"page":"https://api.example/api?page=1"}`,
		`item summary {"count":[1,2],"names":"Dune|Emma"}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestJSONPath(t *testing.T) {
	doc := map[string]any{
		"a":   map[string]any{"b": []any{"x", "y", map[string]any{"c": "z"}}},
		"k":   map[string]any{"q": "1", "p": "2"},
		"d.e": "dotted",
	}
	tests := []struct {
		path string
		want []any
		err  bool
	}{
		{"a.b[0]", []any{"x"}, false},
		{"$.a.b[1]", []any{"y"}, false},
		{"a.b[-1].c", []any{"z"}, false},
		{"a.b[*]", []any{"x", "y", map[string]any{"c": "z"}}, false},
		{"a.b[9]", nil, false},
		{"k.*", []any{"2", "1"}, false},
		{`["d.e"]`, []any{"dotted"}, false},
		{`$['d.e']`, []any{"dotted"}, false},
		{"missing.key", nil, false},
		{"a..b", nil, true},
		{"a[x]", nil, true},
		{"a[0", nil, true},
		{"a b", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := parseJSONPath(tt.path)
			if (err != nil) != tt.err {
				t.Fatalf("parseJSONPath(%q) error = %v, want error %v", tt.path, err, tt.err)
			}
			if err != nil {
				return
			}
			var got []any
			p.each(doc, func(v any) bool { got = append(got, v); return true })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestXPathConcurrent parses with an XPath spider from many goroutines:
// each must use its own copy of the compiled expressions (run with -race).
func TestXPathConcurrent(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://books.toscrape.com/"]
follow: [{xpath: "//h3/a[contains(@href, 'the')]/@href"}]
items:
  - each: {xpath: "//article[contains(@class, 'product_pod')]"}
    fields: {title: {xpath: "string(.//h3/a/@title)"}, price: {xpath: "p[@class='price_color']"}}
`)
	resp := response(t, listURL, "list.html", "", 0)
	want := describeResults(t, listURL, collect(s, resp))
	if len(want) != 5 {
		t.Fatalf("got %d results, want 5: %q", len(want), want)
	}
	done := make(chan []string)
	for range 8 {
		go func() {
			var got []string
			for range 20 {
				got = describeResults(t, listURL, collect(s, resp))
				if !reflect.DeepEqual(got, want) {
					break
				}
			}
			done <- got
		}()
	}
	for range 8 {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Errorf("concurrent parse: got %q, want %q", got, want)
		}
	}
}
