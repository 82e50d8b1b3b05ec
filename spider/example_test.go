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
