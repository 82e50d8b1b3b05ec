package spider

import (
	"context"
	"testing"

	"github.com/antchfx/htmlquery"
	"github.com/antchfx/xpath"
)

// BenchmarkDeepSelectors matches each CSS selector form of
// hostileSelectors on a page 160 elements deep, and on a page of 6000
// siblings, in two ways, in one run: with cascadia's search, as every
// field and each did before ("cascadia"), and with the page's matcher
// ("linear"). Compare them with
//
//	go test ./spider -run '^$' -bench DeepSelectors -benchtime 3x
func BenchmarkDeepSelectors(b *testing.B) {
	for _, shape := range []struct {
		name         string
		depth, width int
	}{{"deep", 160, 1}, {"wide", 3, 3000}} {
		doc := mustParseHTML(b, []byte(hostilePage(shape.depth, shape.width)))
		for _, sel := range hostileSelectors {
			m, err := compileCSS(sel.css)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(shape.name+"/"+sel.name+"/cascadia", func(b *testing.B) {
				for b.Loop() {
					for n := nextMatch(doc, nil, m.sel); n != nil; n = nextMatch(doc, n, m.sel) {
					}
				}
			})
			b.Run(shape.name+"/"+sel.name+"/linear", func(b *testing.B) {
				for b.Loop() {
					pg := &page{}
					for n := pg.nextMatch(doc, nil, m); n != nil; n = pg.nextMatch(doc, n, m) {
					}
					pg.release()
				}
			})
		}
	}
}

// BenchmarkDeepXPath evaluates each XPath form of hostileSelectors on a
// page 100 elements deep as antchfx/xpath does alone ("antchfx") and as a
// page does, metered, with a budget and duplicates dropped ("metered").
func BenchmarkDeepXPath(b *testing.B) {
	body := hostilePage(100, 1)
	doc := mustParseHTML(b, []byte(body))
	for _, sel := range hostileSelectors {
		expr := xpath.MustCompile(sel.xpath)
		b.Run(sel.name+"/antchfx", func(b *testing.B) {
			for b.Loop() {
				if it, ok := expr.Evaluate(htmlquery.CreateXPathNavigator(doc)).(*xpath.NodeIterator); ok {
					for it.MoveNext() {
					}
				}
			}
		})
		s := parseSpec(b, "start_urls: [\"http://127.0.0.1/\"]\nitems:\n  - name: x\n    fields: {v: {xpath: \""+sel.xpath+"\", all: true}}\n")
		b.Run(sel.name+"/metered", func(b *testing.B) {
			for b.Loop() {
				for range s.ParseContext(context.Background(), response(b, "http://127.0.0.1/p", "", body, 0)) {
				}
			}
		})
	}
}
