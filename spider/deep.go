package spider

import (
	"bytes"
	"fmt"

	"golang.org/x/net/html"

	"crawl/stats"
)

// HTMLTooDeep is the Stats counter of HTML pages nested deeper than the
// HTML parser allows, which were parsed with their deepest elements made
// siblings (see parseHTML).
const HTMLTooDeep = "html/too_deep"

// SkipBadHTML is the reason, under stats.Skipped, for an HTML page that
// could not be parsed even so.
const SkipBadHTML = "bad_html"

// flattenDepth is how deep flattenHTML lets elements nest, counting the
// tags as written. The parser adds elements the markup implies (a tbody
// and a tr for a td written straight inside a table), at most a few per
// tag, so this keeps its stack well under its limit of 512.
const flattenDepth = 128

// parseHTML parses an HTML page. golang.org/x/net/html refuses a page whose
// elements nest deeper than 512, returning no tree at all; a browser shows
// such a page, nesting no deeper than its own limit (512 in Blink) and
// making the deeper elements siblings. parseHTML does the same: it parses
// such a page again with its elements flattened at flattenDepth, so that
// what a browser would show is scraped, and counts it under HTMLTooDeep.
// A page that still cannot be parsed is counted under SkipBadHTML.
func (s *Spider) parseHTML(body []byte) (*html.Node, error) {
	root, err := html.Parse(bytes.NewReader(body))
	if err == nil {
		return root, nil
	}
	root, err2 := html.Parse(bytes.NewReader(flattenHTML(body, flattenDepth)))
	if err2 != nil {
		s.count(stats.Skipped + SkipBadHTML)
		return nil, fmt.Errorf("parse HTML: %w", err)
	}
	s.count(HTMLTooDeep)
	return root, nil
}

// count adds one to the named counter of s.Stats, if it is set.
func (s *Spider) count(name string) {
	if s != nil && s.Stats != nil {
		s.Stats.Inc(name)
	}
}

// voidElements have no end tag and hold nothing.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "keygen": true, "link": true, "meta": true, "param": true, "source": true,
	"track": true, "wbr": true,
}

// flattenHTML returns body with its elements nested at most limit deep, as
// the tags are written. When an element would open deeper, flattenHTML
// first closes the innermost open element, with an end tag of its own, so
// that the new element becomes its sibling; the end tag the page writes
// for that element later is then left out. Everything else is copied byte
// for byte.
func flattenHTML(body []byte, limit int) []byte {
	out := make([]byte, 0, len(body)+len(body)/8)
	z := html.NewTokenizer(bytes.NewReader(body))
	var (
		open    []string       // names of the open elements, innermost last
		foreign int            // how many of them are svg or math
		closed  map[string]int // end tags still to leave out, by name
	)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out // the end: a bytes.Reader has no other error
		}
		raw := z.Raw()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			// <div/> opens a div in HTML; only in SVG and MathML does
			// the slash close the element.
			if voidElements[string(name)] || tt == html.SelfClosingTagToken && foreign > 0 {
				break
			}
			if len(open) >= limit {
				top := open[len(open)-1]
				open = open[:len(open)-1]
				if top == "svg" || top == "math" {
					foreign--
				}
				out = append(append(append(out, "</"...), top...), '>')
				if closed == nil {
					closed = make(map[string]int)
				}
				closed[top]++
			}
			open = append(open, string(name))
			if n := open[len(open)-1]; n == "svg" || n == "math" {
				foreign++
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if closed[string(name)] > 0 {
				closed[string(name)]--
				continue
			}
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] == string(name) {
					for _, n := range open[i:] {
						if n == "svg" || n == "math" {
							foreign--
						}
					}
					open = open[:i]
					break
				}
			}
		}
		out = append(out, raw...)
	}
}
