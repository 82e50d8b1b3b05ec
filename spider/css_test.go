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
			var got []string
			if seqs, ok := splitGroup(tc.sel); ok {
				got = subjectNames(seqs)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzCSSMatcher checks that the quick test of a cssMatcher never rules
// out an element the selector matches, and that a page's memos match
// exactly the elements cascadia's search does, on the pages of
// testdata/pages and a page of odd markup.
func FuzzCSSMatcher(f *testing.F) {
	for _, sel := range []string{
		"a", "li.next a", "h2, h3", "div > p + p ~ a", "a[href^='/n']", "p:not(a, b)", "p:has(> b)", "svg a", "clipPath",
		"foreignObject", "*", ".x", "li:nth-child(2n+1)", "td:contains(')')", "a[title=\"(]\"]", "A", "BR", "table td",
		"tr > td, th", "math mi", "image", "img", "template p", "noscript", "frameset", "a:is(.x)", "p::text",
		"div p ~ a", "ul li a", "h2 ~ div div h3", "body :not(p) a", "p ~ p ~ a", "div + p a", "tr td ~ td", ".x ~ *",
		"html body * *", "div:has(a) ~ p a", "li:nth-child(2n) ~ li a",
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
			pg := &page{}
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				want := m.sel.Match(n)
				if want && !m.Match(n) {
					t.Fatalf("%q matches <%s>, but its names %q rule it out", sel, n.Data, m.names)
				}
				if got := pg.matches(m, n); got != want {
					t.Fatalf("%q: the page's matcher says %v for <%s>, cascadia %v", sel, got, n.Data, want)
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

func TestSplitGroup(t *testing.T) {
	for _, tc := range []struct {
		sel   string
		want  string // the sequences, compounds joined by their combinators, "|" between sequences; "" when not split
		chain int    // compounds of the descendant chain; 0 for none
	}{
		{"a", "a", 0},
		{"li.next a", "li.next ' ' a", 2},
		{"article.product_pod  h3\ta", "article.product_pod ' ' h3 ' ' a", 3},
		{"ul > li a", "ul '>' li ' ' a", 0},
		{"div>p+p~a", "div '>' p '+' p '~' a", 0},
		{" h2 , h3 ", "h2|h3", 0},
		{"a, b c", "a|b ' ' c", 0},
		{"p:not(a, c) span", "p:not(a, c) ' ' span", 2},
		{"a[title='x > y'] b", "a[title='x > y'] ' ' b", 2},
		{":root .x [href]", ":root ' ' .x ' ' [href]", 3},
		{`a\ b`, `a\ b`, 0},
		{`.md\:flex  a`, `.md\:flex ' ' a`, 2},
		{`#\31 23 a`, `#\31 23 ' ' a`, 2},
		{`[title="a\"b c"] a`, `[title="a\"b c"] ' ' a`, 2},
		{"a /* c */ b", "", 2}, // compileCSS takes the comment out first
	} {
		t.Run(tc.sel, func(t *testing.T) {
			m, err := compileCSS(tc.sel)
			if err != nil {
				t.Fatalf("the case does not compile: %v", err)
			}
			seqs, ok := splitGroup(tc.sel)
			var got []string
			for _, s := range seqs {
				var b strings.Builder
				for i, c := range s.compounds {
					if i > 0 {
						b.WriteString(" '" + string(s.combinators[i-1]) + "' ")
					}
					b.WriteString(c)
				}
				got = append(got, b.String())
			}
			if g := strings.Join(got, "|"); g != tc.want || ok != (tc.want != "") {
				t.Errorf("got %q, %v; want %q", g, ok, tc.want)
			}
			if len(m.chain) != tc.chain {
				t.Errorf("chain of %d compounds, want %d", len(m.chain), tc.chain)
			}
		})
	}
}

// FuzzScanLinks checks that the one walk of scanLinks finds, for every
// follow rule, exactly the links a walk of the page with the rule's
// selector alone finds, in the same order, on the pages of testdata/pages
// and a page of odd markup.
func FuzzScanLinks(f *testing.F) {
	for _, tc := range [][2]string{
		{"li.next a", "article.product_pod h3 a"},
		{"div a", "body p a"},
		{"html a", "* a"},
		{"ul li a", "div :not(p) a"},
		{"svg a", "[href]"},
		{"table td, li a", "p > a"},
		{"a a", "div div div a"},
		{":root a", "body a img"},
		{".x *", "noscript a"},
	} {
		f.Add(tc[0], tc[1])
	}
	pages := [][]byte{[]byte(selectorPage + oddPage)}
	files, err := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no pages: %v", err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		pages = append(pages, data)
	}
	f.Fuzz(func(t *testing.T, sel1, sel2 string) {
		var rules []*followRule
		for _, sel := range []string{sel1, sel2} {
			m, err := compileCSS(sel)
			if err != nil {
				return
			}
			rules = append(rules, &followRule{sel: m, xp: -1})
		}
		rules = append(rules, &followRule{sel: defaultLinks{}, xp: -1})
		for i, r := range rules {
			r.index = i
		}
		s := &Spider{follow: rules, chains: chainRules(rules)}
		for _, data := range pages {
			pg := &page{sp: s, root: mustParseHTML(t, data)}
			var got []foundLink
			for i := range rules {
				for _, l := range pg.scanLinks() {
					if l.rule == i {
						got = append(got, l)
					}
				}
			}
			var want []foundLink
			for i, r := range rules {
				var sel cascadia.Matcher = r.sel
				if m, ok := r.sel.(*cssMatcher); ok {
					sel = m.sel // the selector alone, without names or chain
				}
				for n := nextMatch(pg.root, nil, sel); n != nil; n = nextMatch(pg.root, n, sel) {
					if href, ok := r.link(n); ok {
						want = append(want, foundLink{rule: i, n: n, href: href})
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q and %q: scanLinks found %d links, the selectors alone %d", sel1, sel2, len(got), len(want))
			}
		}
	})
}
