package spider

import (
	"encoding/json"
	"errors"
	"html"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"crawl/downloader"
	"crawl/item"
	"crawl/urls"
)

// Fuzzed specs are only compiled and applied to responses built in memory:
// nothing here makes a request or reads a start URL file.

// fuzzFile is the name fuzzed spider files are parsed under.
const fuzzFile = "fuzz.yaml"

// maxFuzzInput bounds the inputs the targets look at, so that one
// execution stays small.
const maxFuzzInput = 64 << 10

// checkSpecErr fails unless err is a non-empty SpecErrors that formats as
// documented: one line per problem, each starting with the file name.
func checkSpecErr(t *testing.T, err error) {
	t.Helper()
	var es SpecErrors
	if !errors.As(err, &es) {
		t.Fatalf("got error %T %q, want SpecErrors", err, err)
	}
	if len(es) == 0 {
		t.Fatalf("got an empty SpecErrors")
	}
	lines := strings.Split(es.Error(), "\n")
	if len(lines) != len(es) {
		t.Fatalf("SpecErrors of %d problems formats as %d lines, want one per problem:\n%s", len(es), len(lines), es.Error())
	}
	for i, e := range es {
		if e.File != fuzzFile {
			t.Fatalf("problem %d: File = %q, want %q", i, e.File, fuzzFile)
		}
		if !strings.HasPrefix(lines[i], fuzzFile+":") {
			t.Fatalf("line %d = %q, want it to start with %q", i, lines[i], fuzzFile+":")
		}
		if e.Line < 0 || e.Col < 0 || e.Line == 0 && e.Col != 0 {
			t.Fatalf("problem %d (%q) has line %d, col %d", i, lines[i], e.Line, e.Col)
		}
		if i > 0 && (es[i-1].Line > e.Line || es[i-1].Line == e.Line && es[i-1].Col > e.Col) {
			t.Fatalf("problems are not sorted by line and column:\n%s", es.Error())
		}
	}
}

// FuzzLoad checks that Parse never panics on a spider file, and that the
// problems it reports are SpecErrors in the documented format.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			f.Fatalf("no seeds in testdata/%s: %v", dir, err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		s, err := Parse(fuzzFile, data)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a spider and the error %v", err)
			}
			checkSpecErr(t, err)
			return
		}
		if s == nil {
			t.Fatal("Parse returned neither a spider nor an error")
		}
		if s.File() != fuzzFile {
			t.Fatalf("File() = %q, want %q", s.File(), fuzzFile)
		}
		s.ItemRules()
	})
}

// selectorPage is the page FuzzSelector applies its selectors to.
const selectorPage = `<!DOCTYPE html><html><head><title>T</title><base href="/b/"></head><body>
<div id="main" class="a b" data-x="1"><p class="p" lang="en">one <b>two</b></p><p>three</p>
<a href="/next?p=2" rel="nofollow">next</a><img src="i.png" alt="pic"><svg><a xlink:href="#s">s</a></svg>
<ul><li>1</li><li class="odd">2</li><li></li></ul><table><tr><td>c</td></tr></table>
<template><p>hidden</p></template><script>var x = "<p>";</script></div></body></html>`

// fieldSpec returns a spider file whose one item rule has field f, and
// which follows the links of follow (nil for none).
func fieldSpec(t *testing.T, f, follow any) []byte {
	t.Helper()
	spec := map[string]any{
		"start_urls": []string{"http://a.test/"},
		"items":      []any{map[string]any{"fields": map[string]any{"f": f}}},
	}
	if follow != nil {
		spec["follow"] = []any{follow}
	}
	data, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatalf("marshal spec: %v", err)
	}
	return data
}

// FuzzSelector checks that a field selector (CSS with a pseudo-element,
// or XPath) either fails to load with SpecErrors or loads and parses a
// page without panicking.
func FuzzSelector(f *testing.F) {
	for _, sel := range []string{
		"p", "p::text", "p.p::text", "a::attr(href)", "a::attr( 'href' )", `a::ATTR("HREF")`, "::attr(data-x)",
		"div#main::html", "li:nth-child(2n+1)::text", "li:not(.odd)", "p:contains(two)", "svg a::attr(xlink:href)",
		"::text", "::html", "::attr()", "::text(x)", "::bogus", "p::attr(a)(b)", "p::text ::attr(x)", "@url", "@lastmod", "@other",
		"", "  ", "[", "a[href^='/n']::attr(href)", "div > p + p ~ a", "*", ":root", "li:empty", "p:has(> b)",
		"//p", "//a/@href", "string(//title)", "count(//li)", "//li[position() > 1]/text()", "//*[", "concat(//p, 'x')",
		"normalize-space(//p[1])", "//svg/*", "/html/body//text()", "sum(//li)", "//a/@rel | //img/@alt",
	} {
		for kind := range uint8(5) {
			f.Add(sel, kind)
		}
	}
	f.Fuzz(func(t *testing.T, sel string, kind uint8) {
		if len(sel) > 1<<10 || !utf8.ValidString(sel) {
			return // the YAML encoder writes invalid UTF-8 as !!binary
		}
		if spec, err := splitSelector(sel); err == nil && spec.out == outAttr && (spec.attr == "" || spec.attr != strings.ToLower(spec.attr)) {
			t.Fatalf("splitSelector(%q) = %+v, want a lower-case attribute name", sel, spec)
		}
		var field, follow any
		switch kind % 5 {
		case 0:
			field = sel
		case 1:
			field = map[string]any{"css": sel, "all": true}
		case 2:
			field = map[string]any{"xpath": sel, "normalize": false}
		case 3:
			field = "@url"
			follow = map[string]any{"css": sel, "text": "."}
		case 4:
			field = map[string]any{"each": "div", "fields": map[string]any{"g": map[string]any{"xpath": sel, "all": true}}}
			follow = map[string]any{"xpath": sel}
		}
		s, err := Parse(fuzzFile, fieldSpec(t, field, follow))
		if err != nil {
			checkSpecErr(t, err)
			return
		}
		const pageURL = "https://a.test/dir/page.html"
		for r := range s.Parse(htmlResponse(pageURL, []byte(selectorPage))) {
			checkResult(t, pageURL, r)
		}
	})
}

// htmlResponse returns a response to a request for pageURL.
func htmlResponse(pageURL string, body []byte) *downloader.Response {
	return &downloader.Response{
		Request: &downloader.Request{URL: pageURL},
		URL:     pageURL,
		Status:  200,
		Header:  http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:    body,
	}
}

// checkResult checks what Parse found on the page at pageURL: exactly one
// of item, request and skip; items that encode as JSON; requests for
// absolute URLs the page may lead to, one level deeper.
func checkResult(t *testing.T, pageURL string, r Result) {
	t.Helper()
	n := 0
	for _, set := range []bool{r.Item != nil, r.Request != nil, r.Skip != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("result %+v: want exactly one of Item, Request and Skip", r)
	}
	switch {
	case r.Item != nil:
		checkItem(t, r.Item)
	case r.Request != nil:
		u := r.Request.URL
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatalf("request for %q, which net/url rejects: %v", u, err)
		}
		switch pu.Scheme {
		case "http", "https":
			if pu.Host == "" {
				t.Fatalf("request for %q, which has no host", u)
			}
		case "file":
			if urls.Scheme(pageURL) != "file" {
				t.Fatalf("request for %q from the page %q, which is not a local file", u, pageURL)
			}
		default:
			t.Fatalf("request for %q, want an absolute http, https or file URL", u)
		}
		if strings.Contains(u, "#") {
			t.Fatalf("request for %q, which has a fragment", u)
		}
		if r.Request.Depth != 1 {
			t.Fatalf("request for %q at depth %d, want 1", u, r.Request.Depth)
		}
	default:
		switch r.Skip {
		case SkipOffsite, SkipScheme, SkipInvalid, SkipNofollow:
		default:
			t.Fatalf("link %q skipped for the unknown reason %q", r.URL, r.Skip)
		}
	}
}

// checkItem checks that an item, and its sub-items, encode as valid JSON.
func checkItem(t *testing.T, it *item.Item) {
	t.Helper()
	js, err := it.MarshalJSON()
	if err != nil {
		t.Fatalf("item %+v: MarshalJSON: %v", it, err)
	}
	if !json.Valid(js) {
		t.Fatalf("item %+v encodes as invalid JSON %q", it, js)
	}
}

// richSpec uses every kind of item field and follow rule on HTML pages.
const richSpec = `name: rich
start_urls: ["https://shop.example/"]
canonical: {drop_params: [utm_*, sid], www: true, sort_query: false, trailing_slash: true}
respect_nofollow: true
follow:
  - {}
  - css: "li.next a::attr(href)"
    text: '(?i)next|more'
  - xpath: "//a[@class='p']/@href"
    allow: ['/p/', '\.html$']
    deny: ['/p/old', 'logout']
    callback: product
  - xpath: "//link[@rel='next']"
  - xpath: "string(//meta[@name='next']/@content)"
  - css: "img, iframe, [data-href]::attr(data-href)"
    deny: '\.(png|jpg)$'
  - css: form::attr(action)
    method: post
    headers: {X-Requested-With: XMLHttpRequest}
    body: {q: shoes}
items:
  - name: page
    fields:
      title: [h1, {xpath: "//title"}, {default: untitled}]
      url: "@url"
      links: {css: "a::attr(href)", all: true, absolute: true}
      images: {xpath: "//img/@src", all: true, absolute: true, default: [none]}
      words: {css: "p", join: " / "}
      raw: {css: "pre", normalize: false, all: true}
      html: {css: "body > div::html", regex: '^<div[^>]*>'}
      base: {xpath: "string(//base/@href)", absolute: true}
      count: {xpath: "count(//a)", type: int}
  - name: product
    urls: ['/p/', '\.html$', '^file:']
    each: {xpath: "//*[@class='product'] | //article"}
    fields:
      name: {css: "h2, h3", process: [normalize, {regex: '\w.*'}, {replace: {'\s+': ' '}}]}
      price: {css: .price, process: [normalize, {regex: '([\d,.]+)'}, {replace: {',': ''}}], type: float}
      size: {css: .size, regex: '(?P<w>\d+)x(?P<h>\d+)(?P<d>x\d+)?', type: int, default: "0"}
      when: {css: time, type: date, date_format: "%d/%m/%Y"}
      iso: {css: "time::attr(datetime)", type: date}
      stock: {css: .stock, regex: '(\d+)', type: int}
      flag: {css: .flag, type: bool}
      tags: {css: .tag, all: true, default: [none]}
      sizes: {css: .tag, all: true, type: int}
      swap: {css: .tag, join: ",", replace: {'(\w)(\w)': '$2$1', 'x': '${0}y'}}
      image: {css: "img::attr(src)", absolute: true, normalize: true}
      shop: {default: Example}
      variants: {each: li.variant, fields: {sku: "::attr(data-sku)", n: {css: "::text", type: int}}}
      xvariants: {each: {xpath: ".//li"}, fields: {t: {xpath: "text()"}}}
    required: [name]
`

// allowedSpec reads every response as HTML and keeps links on one site.
const allowedSpec = `start_urls: ["https://shop.example/"]
allowed_domains: [shop.example, "[::1]", 127.0.0.1]
response: html
follow:
  - {}
  - {css: "a, area, link", allow: '^https://'}
items:
  - fields: {t: title, a: {css: "a::attr(href)", all: true, absolute: true}}
`

// fuzzPageURLs are the page URLs FuzzParseHTML parses its bodies as.
var fuzzPageURLs = []string{
	"https://shop.example/p/1.html",
	"http://www.shop.example:8080/list?page=2&utm_x=1#top",
	"file:///srv/site/p/index.html",
	"https://xn--bcher-kva.example/dir/",
	"http://[::1]/",
	"",
}

// FuzzParseHTML checks that Parse never panics on an HTML page, that every
// request it makes is for an absolute http(s) URL (or a local file, from a
// local page), and that every item encodes as JSON.
func FuzzParseHTML(f *testing.F) {
	spiders := make([]*Spider, 2)
	for i, spec := range []string{richSpec, allowedSpec} {
		s, err := Parse(fuzzFile, []byte(spec))
		if err != nil {
			f.Fatalf("spec %d:\n%v", i, err)
		}
		spiders[i] = s
	}
	pages, err := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	if err != nil || len(pages) == 0 {
		f.Fatalf("no seed pages: %v", err)
	}
	for i, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(i))
	}
	for i, body := range []string{
		"",
		`<a href="/a">a</a><a href="b#x">b</a><a href="//other.example/c">c</a><a href="javascript:x()">j</a><a href="mailto:a@b">m</a>`,
		`<base href="file:///etc/"><a href="passwd">p</a><a href="http://[::1">bad</a><a href="http://%zz/">bad</a>`,
		`<html><head><title>T</title><link rel="next" href="?page=3"><meta name="next" content="/n"></head><body>
<h1> Dune <b>Messiah</b> </h1><p>one</p><p>two</p><pre> a  b
c </pre><li class="next"><a href="/2" rel="nofollow">Next</a></li><a class="p" href="/p/old">old</a>
<article><h2>Book</h2><p class="price">£1,234.50</p><p class="size">210x148</p><time datetime="2021-03-04T05:06:07Z">03/04/2021</time>
<span class="stock">In stock (7)</span><span class="flag">yes</span><span class="tag">12</span><span class="tag">ab</span>
<img src="c.png"><ul><li class="variant" data-sku="s1">3</li><li class="variant">x</li></ul></article>
<form action="/search"></form><iframe src="/frame"></iframe><div data-href="/d">d</div><area href="/area"></body></html>`,
		"<a href=\"\x00\">\x00</a><a href=\" \t\n/x\n\">ws</a><a href=\"http://a\x7f.b/\">del</a><a href=\"https://shop.example/\xff\">ff</a>",
		`<svg><a href="/svg">s</a><foreignObject><a href="/fo">f</a></foreignObject></svg><math><mi><a href="/m">m</a></mi></math>`,
		`<table><a href="/t">t</a><tr><td><article><span class="size">1x</span><span class="size">99999999999999999999x1</span></article></td></tr></table>`,
		`<article><time>31/02/2021</time><span class="price">1e400</span><span class="price">NaN</span><span class="flag">maybe</span></article>`,
	} {
		for u := range uint8(len(fuzzPageURLs)) {
			f.Add([]byte(body), u+uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		if len(body) > maxFuzzInput {
			return
		}
		pageURL := fuzzPageURLs[int(which)%len(fuzzPageURLs)]
		s := spiders[int(which/uint8(len(fuzzPageURLs)))%len(spiders)]
		for r := range s.Parse(htmlResponse(pageURL, body)) {
			checkResult(t, pageURL, r)
			// allowed_domains holds the hosts of the web; a local page may
			// lead to other local files.
			if r.Request != nil && s == spiders[1] && urls.Scheme(r.Request.URL) != "file" {
				if h := urls.Hostname(r.Request.URL); !s.onsite(strings.TrimSuffix(h, ".")) {
					t.Fatalf("request for %q, which is outside allowed_domains", r.Request.URL)
				}
			}
			if r.Item != nil {
				if err := s.Check(r.Item); err != nil && r.Item.Rule != "product" {
					t.Fatalf("Check(%+v) = %v, want nil for a rule with nothing required", r.Item, err)
				}
				checkItem(t, r.Item)
			}
		}
	})
}

// processorSpec applies every processor and type to the data-v attribute
// of the two p elements of processorPage, and keeps the text as written
// in raw to check the others against.
const processorSpec = `start_urls: ["https://a.test/"]
items:
  - name: p
    fields:
      raw: "p::attr(data-v)"
      norm: {css: "p::attr(data-v)", normalize: true}
      digits: {css: "p::attr(data-v)", regex: '(\d+)'}
      word: {css: "p::attr(data-v)", regex: '[a-z]+'}
      size: {css: "p::attr(data-v)", regex: '(?P<w>\d+)x(?P<h>\d+)?'}
      swap: {css: "p::attr(data-v)", replace: {'\s+': '-', '(a)(b)': '$2$1'}}
      joined: {css: "p::attr(data-v)", join: "|"}
      list: {css: "p::attr(data-v)", all: true}
      def: {css: "p::attr(data-v)", regex: '^x', default: none}
      int: {css: "p::attr(data-v)", type: int}
      float: {css: "p::attr(data-v)", type: float}
      bool: {css: "p::attr(data-v)", type: bool}
      date: {css: "p::attr(data-v)", type: date}
      dmy: {css: "p::attr(data-v)", type: date, date_format: "%d/%m/%Y"}
      ints: {css: "p::attr(data-v)", type: int, all: true}
      abs: {css: "p::attr(data-v)", absolute: true}
      steps: {css: "p::attr(data-v)", process: [normalize, {regex: '\S.*'}, {replace: {'[aeiou]': '_'}}]}
`

const processorURL = "https://a.test/dir/page.html?q=1"

// processorPage puts v in the data-v attribute of two elements.
func processorPage(v string) []byte {
	a := `<p data-v="` + html.EscapeString(v) + `"></p>`
	return []byte("<!DOCTYPE html><body>" + a + a + "</body>")
}

// FuzzProcessors checks each processor and type on a fuzzed value against
// what it is documented to do with the value as written.
func FuzzProcessors(f *testing.F) {
	s, err := Parse(fuzzFile, []byte(processorSpec))
	if err != nil {
		f.Fatalf("spec:\n%v", err)
	}
	for _, v := range []string{
		"", " ", "42", " -7 ", "+3", "3.0", "1e3", "9223372036854775808", "0x10", "1_000", "  1.5e-3 ", "Inf", "NaN", "1e400",
		"true", "YES", "off", "0", "t", "maybe", "2021-03-04", "2021-03-04T05:06:07Z", "2021-03-04T05:06:07.123+01:00",
		"03/04/2021", "31/02/2021", "Mon, 02 Jan 2006 15:04:05 -0700", "March 3, 2021", "2006", "10000-01-01",
		"210x148 mm", "12x", "ab ab\tcd\n", "  a  b  ", "\u00a0a\u2003b\u3000", "x", "xyz", "/a/../b?c#d", "//other.example/x",
		"http://[::1", "javascript:alert(1)", "\x00", "\xff\xfe", "a\r\nb", "<b>&amp;</b>", "é", "$1 ${x}",
	} {
		f.Add(v)
	}
	rawRE := map[string]*regexp.Regexp{
		"digits": regexp.MustCompile(`(\d+)`),
		"word":   regexp.MustCompile(`[a-z]+`),
		"size":   regexp.MustCompile(`(?P<w>\d+)x(?P<h>\d+)?`),
	}
	f.Fuzz(func(t *testing.T, v string) {
		if len(v) > 4<<10 {
			return
		}
		var it *item.Item
		for r := range s.Parse(htmlResponse(processorURL, processorPage(v))) {
			if r.Item == nil || it != nil {
				t.Fatalf("got %+v, want one item", r)
			}
			it = r.Item
		}
		if it == nil {
			t.Fatal("got no item")
		}
		checkItem(t, it)
		if err := s.Check(it); err != nil {
			t.Fatalf("Check: %v", err)
		}
		checkItem(t, it)
		rawV, ok := it.Get("raw")
		if !ok {
			t.Fatal("no raw field")
		}
		raw := rawV.(string) // as the HTML parser read it: NUL and CR are not kept as written
		get := func(name string) (any, bool) { return it.Get(name) }
		want := func(name string, wantV any, wantOK bool) {
			t.Helper()
			got, ok := get(name)
			if ok != wantOK || ok && !equalValue(got, wantV) {
				t.Fatalf("raw %q: field %s = %#v (present %v), want %#v (present %v)", raw, name, got, ok, wantV, wantOK)
			}
		}

		norm := strings.Join(strings.Fields(raw), " ")
		want("norm", norm, true)
		if m := rawRE["digits"].FindStringSubmatch(raw); m != nil {
			want("digits", m[1], true)
		} else {
			want("digits", nil, false)
		}
		if m := rawRE["word"].FindString(raw); rawRE["word"].MatchString(raw) {
			want("word", m, true)
		} else {
			want("word", nil, false)
		}
		switch m := rawRE["size"].FindStringSubmatchIndex(raw); {
		case m == nil:
			want("w", nil, false)
			want("h", nil, false)
		default:
			want("w", raw[m[2]:m[3]], true)
			if m[4] >= 0 {
				want("h", raw[m[4]:m[5]], true)
			} else {
				want("h", nil, false)
			}
		}
		swapped := regexp.MustCompile(`(a)(b)`).ReplaceAllString(regexp.MustCompile(`\s+`).ReplaceAllString(raw, "-"), "$2$1")
		want("swap", swapped, true)
		want("joined", raw+"|"+raw, true)
		want("list", []string{raw, raw}, true)
		if strings.HasPrefix(raw, "x") {
			want("def", "x", true)
		} else {
			want("def", "none", true)
		}

		// Values that do not convert are removed by Check.
		if n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64); err == nil {
			want("int", n, true)
			want("ints", []any{n, n}, true)
		} else {
			want("int", nil, false)
			want("ints", nil, false)
		}
		if x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			want("float", x, true)
		} else {
			want("float", nil, false)
		}
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "true", "yes", "on", "1", "y", "t":
			want("bool", true, true)
		case "false", "no", "off", "0", "n", "f":
			want("bool", false, true)
		default:
			want("bool", nil, false)
		}
		if d, ok := get("date"); ok {
			ds, isStr := d.(string)
			if !isStr {
				t.Fatalf("raw %q: date = %#v, want a string", raw, d)
			}
			if _, err := time.Parse("2006-01-02", ds); err != nil {
				if _, err := time.Parse(time.RFC3339, ds); err != nil {
					t.Fatalf("raw %q: date = %q, neither a date nor an RFC 3339 time", raw, ds)
				}
			}
		}
		if tm, err := time.Parse("02/01/2006", strings.TrimSpace(raw)); err == nil {
			want("dmy", tm.Format("2006-01-02"), true)
		} else {
			want("dmy", nil, false)
		}
		abs := raw
		if b, err := urls.ParseBase(processorURL); err != nil {
			t.Fatal(err)
		} else if u, err := b.Resolve(raw); err == nil {
			abs = u
		}
		want("abs", abs, true)
		if m := regexp.MustCompile(`\S.*`).FindString(norm); m != "" {
			want("steps", regexp.MustCompile(`[aeiou]`).ReplaceAllString(m, "_"), true)
		} else {
			want("steps", nil, false)
		}
	})
}

// equalValue compares field values of the types items hold.
func equalValue(a, b any) bool {
	switch a := a.(type) {
	case []string:
		b, ok := b.([]string)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalValue(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// jsonSpec reads JSON responses with every kind of JSON field and follow
// rule; its last field and follow rule take the fuzzed path.
const jsonSpec = `start_urls: ["https://api.example/"]
follow:
  - json: next
  - {json: "data[*].links", allow: '/item/', callback: detail}
items:
  - name: list
    each: {json: "data[*]"}
    fields:
      id: {json: id, type: int}
      name: [{json: name}, {json: "title"}, {default: unnamed}]
      price: {json: "price", type: float}
      ok: {json: "$.flags.ok", type: bool}
      tags: {json: "tags", all: true}
      tagged: {json: "tags[*]", join: ", "}
      first: {json: "tags[0]"}
      last: {json: "tags[-1]", regex: '\w+'}
      quoted: {json: 'meta["a key"]'}
      all: {json: "*", all: true}
      raw: {json: "$"}
      link: {json: "links[0]", absolute: true}
      subs: {each: {json: "children"}, fields: {n: {json: n, type: int}}}
  - name: page
    fields:
      total: {json: "meta.total", type: int}
      url: "@url"
  - name: detail
    fields: {d: {json: "$", regex: '\d+', type: int}}
`

// FuzzJSONPath checks that Parse never panics on a JSON response, with a
// fixed spider and with a field and follow rule at a fuzzed JSON path, and
// that items encode as JSON and requests are for absolute URLs.
func FuzzJSONPath(f *testing.F) {
	fixed, err := Parse(fuzzFile, []byte(jsonSpec))
	if err != nil {
		f.Fatalf("spec:\n%v", err)
	}
	for _, tc := range []struct{ body, path string }{
		{`{"data": [{"id": 1, "name": "a", "tags": ["x", "y"], "links": ["/item/1", "//cdn.example/i"]}], "next": "/page/2", "meta": {"total": 3}}`, "data[*].name"},
		{`{"data": [{"id": 3.0, "price": "1e400", "flags": {"ok": "yes"}, "children": [{"n": 1}, null, {"n": "x"}]}]}`, "$.data[0].children[*].n"},
		{`{"data": {"k": {"id": "7"}}, "next": ["/a", 1, null, "javascript:x"]}`, "data.*.id"},
		{`{"meta": {"a key": {"b]": [1, 2]}}, "data": [null, 1, "s", [], {}]}`, `meta["a key"]['b]'][-1]`},
		{`[{"id": 9007199254740993}, {"id": -0}, {"id": 1e2}]`, "[*].id"},
		{"\uFEFF {\"next\": \"file:///etc/passwd\", \"data\": [{\"links\": \"http://[::1\"}]}", "next"},
		{`{"a": {"a": {"a": {"a": [[[[1]]]]}}}}`, "a.a.a.a[0][0][0][0]"},
		{`not json`, ""},
		{`{"x": 1} trailing`, "$"},
		{`{"data": "\ud800\u0000<>&"}`, "data"},
	} {
		f.Add([]byte(tc.body), tc.path)
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		if len(body) > maxFuzzInput || len(path) > 1<<10 || !utf8.ValidString(path) {
			return
		}
		const pageURL = "https://api.example/v1/list?page=1"
		resp := &downloader.Response{
			Request: &downloader.Request{URL: pageURL},
			URL:     pageURL,
			Status:  200,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    body,
		}
		run := func(s *Spider) {
			for r := range s.Parse(resp) {
				checkResult(t, pageURL, r)
				if r.Item != nil {
					s.Check(r.Item)
					checkItem(t, r.Item)
				}
			}
		}
		run(fixed)
		spec := map[string]any{
			"start_urls": []string{"https://api.example/"},
			"follow":     []any{map[string]any{"json": path}},
			"items": []any{map[string]any{
				"each":   map[string]any{"json": path},
				"fields": map[string]any{"v": map[string]any{"json": path, "all": true}, "w": map[string]any{"json": path, "type": "int"}},
			}},
		}
		data, err := yaml.Marshal(spec)
		if err != nil {
			t.Fatalf("marshal spec: %v", err)
		}
		s, err := Parse(fuzzFile, data)
		if err != nil {
			checkSpecErr(t, err)
			return
		}
		run(s)
	})
}
