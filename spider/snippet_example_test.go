package spider_test

import (
	"fmt"
	"net/http"

	"crawl/downloader"
	"crawl/spider"
)

// ExampleCompileExpr evaluates a field, written as in a spider file, on
// a page: what crawl shell does with each line.
func ExampleCompileExpr() {
	resp := &downloader.Response{
		URL:    "https://shop.example/",
		Status: 200,
		Header: http.Header{"Content-Type": {"text/html"}},
		Body:   []byte(`<ul><li>Dune <b>£9.50</b></li><li>Emma <b>£7</b></li></ul>`),
	}
	e, err := spider.CompileExpr(`{css: li b, regex: '[\d.]+', type: float, all: true}`, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fields, err := e.Eval(resp)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fields[0].Value)

	_, err = spider.CompileExpr(`{css: li, alll: true}`, false)
	fmt.Println(err)
	// Output:
	// [9.5 7]
	// expression: unknown key "alll" (did you mean "all"?)
}

// ExampleFromSnippets makes a spider of a field and a follow rule given
// on their own, as crawl parse does with --field and --follow.
func ExampleFromSnippets() {
	s, err := spider.FromSnippets(spider.Snippets{
		Fields: []spider.Snippet{{Name: "title", Src: "h1::text"}},
		Follow: []spider.Snippet{{Name: "follow[0]", Src: "a.next"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp := &downloader.Response{
		URL:    "https://shop.example/list",
		Status: 200,
		Header: http.Header{"Content-Type": {"text/html"}},
		Body:   []byte(`<h1>Books</h1><a class="next" href="?page=2">next</a>`),
	}
	for r := range s.Parse(resp) {
		switch {
		case r.Item != nil:
			js, _ := r.Item.MarshalJSON()
			fmt.Printf("item %s\n", js)
		case r.Request != nil:
			fmt.Printf("follow %s\n", r.Request.URL)
		}
	}
	// Output:
	// item {"title":"Books"}
	// follow https://shop.example/list?page=2
}
