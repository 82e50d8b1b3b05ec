package spider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"crawl/stats"
)

// hostilePage returns a page of width branches, each a chain of depth
// divs below a div.b that follows an h2, with at the bottom of each a
// div.leaf holding an h3, a link and a span.price:
//
//	<h2>i</h2><div class="b"><div>…<div class="leaf"><h3 src="/t/i">title i</h3>
//	<a href="/item/i">i</a><span class="price">i</span></div>…</div></div>
func hostilePage(depth, width int) string {
	var b strings.Builder
	b.WriteString("<html><body>")
	for i := range width {
		n := strconv.Itoa(i)
		b.WriteString(`<h2>` + n + `</h2><div class="b">`)
		b.WriteString(strings.Repeat("<div>", depth))
		b.WriteString(`<div class="leaf"><h3 src="/t/` + n + `">title ` + n + `</h3><a href="/item/` + n + `">` + n + `</a><span class="price">` + n + `</span></div>`)
		b.WriteString(strings.Repeat("</div>", depth))
		b.WriteString(`</div>`)
	}
	b.WriteString("</body></html>")
	return b.String()
}

// hostileSelectors are the selector forms the spider language accepts,
// each with how many elements it selects on a hostilePage (per branch):
// descendant, child, sibling, :has, :not and :nth-* in CSS, and XPath
// axes and predicates. The never-matching descendant chain is the shape
// that took cascadia minutes on a page 500 deep.
var hostileSelectors = []struct {
	name, css, xpath string
	per              int // matches per branch
}{
	{"descendant never", "span div div div h3", "//span//div//div//div//h3", 0},
	{"descendant", "div.b div div div h3", "//div[@class='b']//div//div//div//h3", 1},
	{"descendant any", "body div div div div *", "//div//div//div//div//h3", 1},
	{"child", "div > div > div > h3", "//div/div/div/h3", 1},
	{"sibling", "h2 ~ div div div h3", "//h2/following-sibling::div//div//div//h3", 1},
	{"sibling never", "h1 ~ div div div div h3", "//h1/following-sibling::div//div//h3", 0},
	{"adjacent", "h2 + div div div h3", "//h2/following-sibling::div[1]//div//h3", 1},
	{"has", "div.b:has(span.price) div div h3", "//div[.//span[@class='price']]//div//div//h3", 1},
	{"not", "div:not(.x) div:not(.y) div h3", "//div[not(@class='x')]//div[not(@class='y')]//h3", 1},
	{"nth", "div:nth-child(2n) div div:first-child div h3", "//div[count(preceding-sibling::*) mod 2 = 1]//div//div//h3", 1},
	{"nth last of type", "body > div:nth-last-of-type(n+1) h3", "//body/div[count(following-sibling::div) >= 0]//h3", 1},
	{"ancestor", "div h3", "//h3[ancestor::div[@class='b']][ancestor::body]", 1},
	{"following", "h3 ~ a", "//h3[following::span]/following-sibling::a", 1},
}

// hostileWant is how many elements a case selects on a page. The CSS
// subject of the descendant-any case is every element below four divs; a
// follow rule takes only those with a link, the h3 (src) and the a.
func hostileWant(name, lang, place string, per, depth, width int) int {
	if name == "descendant any" && lang == "css" && place == "follow" {
		return 2 * width
	}
	if name == "descendant any" && lang == "css" {
		// Of the divs of a branch, all but div.b and the first two
		// below it; div.leaf and its three children.
		return width * (depth + 1)
	}
	return per * width
}

// TestHostileSelectors parses deep pages (and wide-and-deep ones) with
// every selector form in a field, in each and in a follow rule, and checks
// both that the right values come out and that the work stays within a
// linear function of the page: at most 3 steps per node and per compound
// of every selector, plus the walks below each element each selects. On
// the old code the first case alone ran for minutes.
func TestHostileSelectors(t *testing.T) {
	// Deep, deep and wide, and wide: 3000 siblings in body, where cascadia
	// counts the siblings of each for :nth-*.
	shapes := []struct{ depth, width int }{{480, 1}, {200, 8}, {40, 60}, {3, 1500}}
	for _, sh := range shapes {
		body := hostilePage(sh.depth, sh.width)
		for _, sel := range hostileSelectors {
			for _, lang := range []string{"css", "xpath"} {
				expr := sel.css
				if lang == "xpath" {
					expr = sel.xpath
				}
				name := fmt.Sprintf("%dx%d/%s/%s", sh.depth, sh.width, lang, sel.name)
				t.Run(name, func(t *testing.T) {
					for _, place := range []string{"field", "each", "follow"} {
						want := hostileWant(sel.name, lang, place, sel.per, sh.depth, sh.width)
						got, steps, nodes, err := parseHostile(t, body, lang, expr, place)
						if err != nil {
							if lang == "xpath" && errors.Is(err, ErrTooComplex) {
								// antchfx/xpath multiplies the steps of
								// "//a//b//c": the page is skipped, counted.
								t.Logf("%s: skipped after %d steps for %d nodes", place, steps, nodes)
								continue
							}
							t.Fatalf("%s: %v", place, err)
						}
						if got != want {
							t.Errorf("%s: %d selected, want %d", place, got, want)
						}
						if lang == "css" {
							compounds := int64(len(strings.Fields(expr)))
							// Each walk below an each scope costs its subtree:
							// at most depth+6 per node.
							bound := 3*nodes*compounds + 2*nodes*int64(sh.depth+6)
							if steps > bound {
								t.Errorf("%s: %d steps for %d nodes, want at most %d", place, steps, nodes, bound)
							}
						}
					}
				})
			}
		}
	}
}

// parseHostile parses body with a spider that uses expr (CSS or XPath) in
// the given place and returns how many elements it selected, the steps
// the page took, its nodes, and the error the page ended with.
func parseHostile(t *testing.T, body, lang, expr, place string) (got int, steps, nodes int64, err error) {
	t.Helper()
	q := strconv.Quote(expr)
	var spec string
	switch place {
	case "field":
		spec = "items:\n  - name: x\n    fields:\n      v: {" + lang + ": " + q + ", all: true}\n"
	case "each":
		each := q
		if lang == "xpath" {
			each = "{xpath: " + q + "}"
		}
		spec = "items:\n  - name: x\n    each: " + each + "\n    fields: {v: '::text'}\n"
	case "follow":
		spec = "follow:\n  - {" + lang + ": " + q + "}\n"
	}
	s := parseSpec(t, "start_urls: [\"http://127.0.0.1/\"]\n"+spec)
	s.Stats = new(stats.Stats)
	pg, _, _ := s.newPage(response(t, "http://127.0.0.1/p", "", body, 0))
	defer pg.release()
	pg.w.ctx = context.Background()
	resp := response(t, "http://127.0.0.1/p", "", body, 0)
	s.parse(pg, resp, "", 1, func(r Result) bool {
		switch {
		case r.Item != nil:
			if place == "each" {
				got++
			} else if v, ok := r.Item.Get("v"); ok {
				got += len(v.([]string))
			}
		case r.Request != nil, r.Skip != "":
			got++
		}
		return true
	})
	if pg.root != nil {
		nodes = countNodes(pg.root)
	}
	return got, pg.w.steps, nodes, pg.w.err
}
