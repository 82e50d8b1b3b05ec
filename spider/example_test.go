package spider_test

import (
	"context"
	"fmt"

	"crawl/downloader"
	"crawl/spider"
)

// ExampleSpider_Parse shows a small spider and what it extracts from a page:
// one item per matched element, then the links to follow.
func ExampleSpider_Parse() {
	spec := `
name: books
start_urls: ["https://books.example/"]
allowed_domains: [books.example]
follow:
  - css: "li.next a"
items:
  - name: book
    each: article
    fields:
      title: "h3 a::attr(title)"
      price: "p.price"
      rating: {css: "p.stars::attr(class)", regex: 'stars (\w+)'}
      tags: {css: "li.tag", all: true}
      url: "@url"
    required: [price]
`
	s, err := spider.Parse("books.yaml", []byte(spec))
	if err != nil {
		fmt.Println(err)
		return
	}
	page := `<html><body>
<article><h3><a title="Dune" href="dune.html">Dune</a></h3><p class="price">£12.50</p>
  <p class="stars Four"></p><ul><li class="tag">sf</li><li class="tag"> classic </li></ul></article>
<article><h3><a title="Emma" href="emma.html">Emma</a></h3></article>
<ul class="pager"><li class="next"><a href="page-2.html">next</a></li></ul>
</body></html>`
	resp := &downloader.Response{
		Request: &downloader.Request{URL: "https://books.example/page-1.html"},
		URL:     "https://books.example/page-1.html",
		Body:    []byte(page),
	}
	for r := range s.Parse(resp) {
		switch {
		case r.Item != nil:
			js, _ := r.Item.MarshalJSON()
			fmt.Printf("%s %s\n", r.Item.Rule, js)
			if err := s.Check(r.Item); err != nil {
				fmt.Println(" ", err)
			}
		case r.Request != nil:
			fmt.Printf("follow %s (depth %d)\n", r.Request.URL, r.Request.Depth)
		}
	}
	// Output:
	// book {"title":"Dune","price":"£12.50","rating":"Four","tags":["sf","classic"],"url":"https://books.example/page-1.html"}
	// book {"title":"Emma","tags":[],"url":"https://books.example/page-1.html"}
	//   item dropped: missing_required: book: price
	// follow https://books.example/page-2.html (depth 1)
}

// ExampleParse shows how problems in a spider file are reported: all of
// them, one per line, with file, line, column and the path of the value.
func ExampleParse() {
	spec := `name: books
start_urls: ["https://books.example/"]
allowed_domain: [books.example]
items:
  - fields:
      title: "h1::txt"
      rating: {css: "p.stars::attr(class)", regex: 'stars (\w+'}
`
	_, err := spider.Parse("books.yaml", []byte(spec))
	fmt.Println(err)
	// Output:
	// books.yaml:3:1: unknown key "allowed_domain" (did you mean "allowed_domains"?)
	// books.yaml:6:14: items[0].fields.title: unknown pseudo-element "::txt" (want ::text, ::attr(name) or ::html)
	// books.yaml:7:52: items[0].fields.rating.regex: invalid regex "stars (\w+": missing closing )
}

// ExampleSpider_StartRequests shows the start requests of a spider with a
// list of URLs and a range.
func ExampleSpider_StartRequests() {
	spec := `
start_urls: ["https://books.example/"]
start_urls_range: {template: "https://books.example/page-{n}.html", from: 2, to: 6, step: 2}
`
	s, err := spider.Parse("books.yaml", []byte(spec))
	if err != nil {
		fmt.Println(err)
		return
	}
	for req, err := range s.StartRequests(context.Background()) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(req.URL)
	}
	// Output:
	// https://books.example/
	// https://books.example/page-2.html
	// https://books.example/page-4.html
	// https://books.example/page-6.html
}

// ExampleSpider_Parse_processors shows field processors and types, a
// fallback list, XPath and sub-items.
func ExampleSpider_Parse_processors() {
	spec := `
start_urls: ["https://books.example/"]
items:
  - name: book
    fields:
      title: ["h1.title", "h1"]                       # the first that matches
      price: {css: p.price, regex: '([\d,.]+)', replace: {',': ''}, type: float}
      size: {css: p.size, regex: '(?P<width>\d+)x(?P<height>\d+)', type: int}
      stock: {xpath: "//p[@class='stock']", regex: '(\d+) left', type: int, default: "0"}
      tags: {css: li.tag, join: ", "}
      cover: {css: "img::attr(src)", absolute: true}
      reviews:
        each: div.review
        fields: {by: b, stars: {css: "i::attr(data-n)", type: int}}
`
	s, err := spider.Parse("books.yaml", []byte(spec))
	if err != nil {
		fmt.Println(err)
		return
	}
	page := `<h1> Dune </h1><p class="price">£1,012.50</p><p class="size">210x148</p>
<p class="stock">sold out</p><ul><li class="tag">sf</li><li class="tag">classic</li></ul>
<img src="/covers/dune.jpg"><div class="review"><b>Ann</b><i data-n="5"></i></div>`
	resp := &downloader.Response{
		Request: &downloader.Request{URL: "https://books.example/dune.html"},
		URL:     "https://books.example/dune.html",
		Body:    []byte(page),
	}
	for r := range s.Parse(resp) {
		js, _ := r.Item.MarshalJSON()
		fmt.Println(string(js))
	}
	// Output:
	// {"title":"Dune","price":1012.5,"width":210,"height":148,"stock":0,"tags":"sf, classic","cover":"https://books.example/covers/dune.jpg","reviews":[{"by":"Ann","stars":5}]}
}

// ExampleSpider_Explain shows what `crawl parse` prints: the links a page
// leads to, and why the others are not followed.
func ExampleSpider_Explain() {
	spec := `
start_urls: ["https://books.example/"]
allowed_domains: [books.example]
respect_nofollow: true
follow:
  - css: "li.next a"
  - css: "h3 a"
    deny: '/old/'
    callback: book
items:
  - name: book
    fields: {title: h1}
`
	s, err := spider.Parse("books.yaml", []byte(spec))
	if err != nil {
		fmt.Println(err)
		return
	}
	page := `<h3><a href="dune.html">Dune</a></h3><h3><a href="/old/emma.html">Emma</a></h3>
<h3><a href="https://elsewhere.example/">Elsewhere</a></h3>
<ul><li class="next"><a href="page-2.html" rel="nofollow">next</a></li></ul>`
	resp := &downloader.Response{
		Request: &downloader.Request{URL: "https://books.example/"},
		URL:     "https://books.example/",
		Body:    []byte(page),
	}
	ex := s.Explain(resp)
	for _, r := range ex.Rules {
		fmt.Printf("rule %s: ran %v (%s)\n", r.Name, r.Ran, r.Why)
	}
	for _, l := range ex.Links {
		if l.Request != nil {
			fmt.Printf("%s: follow %s, for rule %s\n", l.From, l.URL, l.Rule)
		} else {
			fmt.Printf("%s: skip %s: %s\n", l.From, l.URL, l.Skip)
		}
	}
	// Output:
	// rule book: ran false (scrapes only the pages its callbacks request)
	// follow[0]: skip https://books.example/page-2.html: nofollow
	// follow[1]: follow https://books.example/dune.html, for rule book
	// follow[1]: skip https://books.example/old/emma.html: denied
	// follow[1]: skip https://elsewhere.example/: offsite
}
