package spider

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

func TestSubjectNames(t *testing.T) {
	for _, tc := range []struct {
		sel  string
		want []string // nil: no quick test
	}{
		{"a", []string{"a"}},
		{"A", []string{"a"}},
		{"li.next a", []string{"a"}},
		{"article.product_pod h3 a", []string{"a"}},
		{"div > p + p ~ a[href^='/n']", []string{"a"}},
		{"ul>li:nth-child(2n+1)", []string{"li"}},
		{"h2, h3", []string{"h2", "h3"}},
		{" h2 ,\th3\n", []string{"h2", "h3"}},
		{"p:not(a, b)", []string{"p"}},
		{"p:has(b)", []string{"p"}},
		{"a[href$='/x']", []string{"a"}},
		{"a[title='x, y > z']", []string{"a"}},
		{"a[title=\"(]\"]", []string{"a"}},
		{"base[href]", []string{"base"}},
		{"svg a", []string{"a"}},
		{"-x-tag", []string{"-x-tag"}},
		{"my-el.x#y", []string{"my-el"}},
		{"clipPath", []string{"clippath"}},
		{"*", nil},
		{"*.x", nil},
		{".price", nil},
		{"#main", nil},
		{"[data-href]", nil},
		{":root", nil},
		{"li:empty, .x", nil},
		{"a, *", nil},
		{"div :first-child", nil},
		{"a [href]", nil},
		{`a\62 c`, nil},
		{"a/**/b", nil},
		{"é", nil},
	} {
		t.Run(tc.sel, func(t *testing.T) {
			if _, err := cascadia.Compile(tc.sel); err != nil {
				t.Fatalf("the case does not compile: %v", err)
			}
			if got := subjectNames(tc.sel); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzCSSMatcher checks that the quick test of a cssMatcher never rules
// out an element the selector matches, on the pages of testdata/pages and
// a page of odd markup.
func FuzzCSSMatcher(f *testing.F) {
	for _, sel := range []string{
		"a", "li.next a", "h2, h3", "div > p + p ~ a", "a[href^='/n']", "p:not(a, b)", "p:has(> b)", "svg a", "clipPath",
		"foreignObject", "*", ".x", "li:nth-child(2n+1)", "td:contains(')')", "a[title=\"(]\"]", "A", "BR", "table td",
		"tr > td, th", "math mi", "image", "img", "template p", "noscript", "frameset", "a:is(.x)", "p::text",
	} {
		f.Add(sel)
	}
	docs := []*html.Node{mustParseHTML(f, []byte(selectorPage+oddPage))}
	pages, err := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	if err != nil || len(pages) == 0 {
		f.Fatalf("no pages: %v", err)
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, mustParseHTML(f, data))
	}
	f.Fuzz(func(t *testing.T, sel string) {
		m, err := compileCSS(sel)
		if err != nil {
			return
		}
		for _, doc := range docs {
			for n := range doc.Descendants() {
				if n.Type == html.ElementNode && m.sel.Match(n) && !m.Match(n) {
					t.Fatalf("%q matches <%s>, but its names %q rule it out", sel, n.Data, m.names)
				}
			}
		}
	})
}

// oddPage has elements whose names the parser changes or keeps in odd
// case: SVG and MathML, and custom elements.
const oddPage = `<svg><clipPath id="c"><foreignObject><p>x</p></foreignObject></clipPath><image href="/i"/></svg>
<math><mi>x</mi></math><my-el class="x">y</my-el><IMAGE src="/j"><frameset></frameset><noscript><a href="/n">n</a></noscript>
<table><tr><th>h</th><td>)</td></tr></table>`

func mustParseHTML(tb testing.TB, data []byte) *html.Node {
	tb.Helper()
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

// TestCSSMatcherSameMatches checks, on the test pages, that a cssMatcher
// matches exactly the elements its selector does.
func TestCSSMatcherSameMatches(t *testing.T) {
	doc := mustParseHTML(t, []byte(selectorPage+oddPage))
	for _, sel := range []string{"a", "p", "clipPath", "foreignObject", "svg a", "h1, p, td", "li:not(.odd)", "*", "image, img"} {
		m, err := compileCSS(sel)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			if m.Match(n) {
				got = append(got, n.Data)
			}
			if m.sel.Match(n) {
				want = append(want, n.Data)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q: matched %q, want %q", sel, got, want)
		}
	}
}
