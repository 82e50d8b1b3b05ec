package spider

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/xpath"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"crawl/item"
	"crawl/urls"
)

// page is one page being parsed: the per-call state of Parse, owned by the
// goroutine that called it.
type page struct {
	sp      *Spider
	url     string
	root    *html.Node // nil for a JSON or sitemap response
	json    any        // the decoded JSON body
	lastmod string     // the sitemap's <lastmod> for the page, if it came from one
	text    textWriter // scratch space reused for every ::text value
	textBuf [256]byte  // text's first buffer, enough for most values

	base     *urls.Base // linkBase, once computed
	baseDone bool
	scanned  bool          // scanLinks has walked the page and set baseElem
	baseElem *html.Node    // the first <base href>, when scanned
	xp       []*xpath.Expr // the spider's XPath expressions, borrowed for this page
	found    *[]foundLink  // scanLinks' buffer, borrowed for this page
	w        workMeter     // the page's work, its budget and its context
	memo     *cssMemo      // made by the first selector that needs one

	explain *Explanation // set by Explain: report what is skipped, and why
}

// linkBase returns what links on the page resolve against: the page URL,
// or its <base href>. It is nil when the page URL cannot be parsed.
func (pg *page) linkBase() *urls.Base {
	if pg.baseDone {
		return pg.base
	}
	pg.baseDone = true
	base, err := urls.ParseBase(pg.url)
	if err != nil {
		return nil
	}
	if pg.root != nil {
		n := pg.baseElem
		if !pg.scanned {
			n = nextMatch(pg.root, nil, baseElement)
		}
		if n != nil {
			if href, _ := attr(n, "href"); strings.TrimSpace(href) != "" {
				if abs, err := base.Resolve(href); err == nil {
					if b, err := urls.ParseBase(abs); err == nil {
						base = b
					}
				}
			}
		}
	}
	pg.base = base
	return base
}

// xpath returns the page's copy of the spider's XPath expression id.
func (pg *page) xpath(id int) *xpath.Expr {
	if pg.xp == nil {
		pg.xp = pg.sp.xpaths.get()
	}
	return pg.xp[id]
}

// release returns what the page borrowed from the spider.
func (pg *page) release() {
	if pg.xp != nil {
		pg.sp.xpaths.put(pg.xp)
		pg.xp = nil
	}
	if pg.memo != nil {
		pg.memo.release()
		pg.memo = nil
	}
	if pg.found != nil && pg.sp.found != nil {
		clear(*pg.found) // keep no page alive
		*pg.found = (*pg.found)[:0]
		pg.sp.found.Put(pg.found)
		pg.found = nil
	}
}

// scope is what a field is extracted relative to: an HTML element (or the
// document), or a JSON value.
type scope struct {
	n *html.Node
	j any
}

// fieldExtractor adds one field of an item (or, for a regex of named
// groups, several) computed in a scope.
//
// Extractors are compiled once by Load and shared by every page, so they
// must not keep per-page state.
type fieldExtractor interface {
	fill(pg *page, sc scope, it *item.Item)
}

// A scoper selects the scopes an item rule's each (or a nested field's)
// makes one item of: elements by CSS or XPath, or JSON values.
type scoper interface {
	scopes(pg *page, sc scope, yield func(scope) bool)
}

// cssScoper selects elements among the scope's node and its descendants.
type cssScoper struct{ sel *cssMatcher }

func (c cssScoper) scopes(pg *page, sc scope, yield func(scope) bool) {
	for n := pg.nextMatch(sc.n, nil, c.sel); n != nil; n = pg.nextMatch(sc.n, n, c.sel) {
		if !yield(scope{n: n}) {
			return
		}
	}
}

// jsonScoper selects the values of a JSON path; an array selected as a
// whole stands for its elements, so "results" and "results[*]" are one.
type jsonScoper struct{ path *jsonPath }

func (j jsonScoper) scopes(_ *page, sc scope, yield func(scope) bool) {
	j.path.each(sc.j, func(v any) bool {
		if a, ok := v.([]any); ok {
			for _, e := range a {
				if e != nil && !yield(scope{j: e}) {
					return false
				}
			}
			return true
		}
		return yield(scope{j: v})
	})
}

// pageURL is the source of "@url": the URL of the page, after redirects.
type pageURL struct{}

func (pageURL) values(pg *page, _ scope, yield func(value) bool) { yield(value{s: pg.url}) }

// pageLastmod is the source of "@lastmod": the <lastmod> of the sitemap
// entry that led to the page, when one did.
type pageLastmod struct{}

func (pageLastmod) values(pg *page, _ scope, yield func(value) bool) {
	if pg.lastmod != "" {
		yield(value{s: pg.lastmod})
	}
}

// jsonSource yields the values a JSON path selects. Strings are text;
// numbers, booleans, objects and arrays are kept as they are. In a list
// field (all: true) an array stands for its elements.
type jsonSource struct {
	path *jsonPath
	flat bool // yield the elements of arrays
}

func (s *jsonSource) values(_ *page, sc scope, yield func(value) bool) {
	s.path.each(sc.j, func(v any) bool {
		if a, ok := v.([]any); ok && s.flat {
			for _, e := range a {
				if e != nil && !yield(jsonValue(e)) {
					return false
				}
			}
			return true
		}
		return yield(jsonValue(v))
	})
}

func jsonValue(v any) value {
	if s, ok := v.(string); ok {
		return value{s: s}
	}
	return value{raw: v}
}

// output is what a CSS selector takes from each element it matches.
type output int

const (
	outText output = iota // ::text, whitespace-normalised text content
	outAttr               // ::attr(name)
	outHTML               // ::html, outer HTML
)

// cssSource yields a value for each element a CSS selector matches among
// the context node and its descendants, in document order. Elements that
// lack the wanted attribute yield nothing.
type cssSource struct {
	sel  *cssMatcher // nil selects the context node itself
	out  output
	attr string
	raw  bool // ::text without whitespace normalisation
}

func (s *cssSource) values(pg *page, sc scope, yield func(value) bool) {
	if s.sel == nil {
		if v, ok := s.value(pg, sc.n); ok {
			yield(value{s: v})
		}
		return
	}
	for n := pg.nextMatch(sc.n, nil, s.sel); n != nil; n = pg.nextMatch(sc.n, n, s.sel) {
		if v, ok := s.value(pg, n); ok && !yield(value{s: v}) {
			return
		}
	}
}

func (s *cssSource) value(pg *page, n *html.Node) (string, bool) {
	switch s.out {
	case outAttr:
		return attr(n, s.attr)
	case outHTML:
		var b strings.Builder
		if err := html.Render(&b, n); err != nil {
			return "", false
		}
		return b.String(), true
	}
	if s.raw {
		return pg.text.rawOf(n), true
	}
	return pg.text.of(n), true
}

// nextMatch returns the element after n, in document order among root and
// its descendants, that m matches; n == nil starts with root itself. It
// walks the tree without recursion or allocation.
func nextMatch(root, n *html.Node, m cascadia.Matcher) *html.Node {
	for {
		if n = nextNode(root, n); n == nil {
			return nil
		}
		if n.Type == html.ElementNode && m.Match(n) {
			return n
		}
	}
}

// nextNode returns the node after n in document order among root and its
// descendants, or nil after the last; n == nil starts with root itself.
func nextNode(root, n *html.Node) *html.Node {
	switch {
	case n == nil:
		return root
	case n.FirstChild != nil:
		return n.FirstChild
	}
	for n != root && n.NextSibling == nil {
		n = n.Parent
	}
	if n == root {
		return nil
	}
	return n.NextSibling
}

// nextMatch is nextMatch for the page's selectors: each element it passes
// counts as a step of the page's work, it stops (returning nil) when the
// page must stop, and selectors with descendant or sibling combinators are
// matched with the page's memos.
func (pg *page) nextMatch(root, n *html.Node, m *cssMatcher) *html.Node {
	for {
		if n = nextNode(root, n); n == nil {
			return nil
		}
		if pg.w.step(); pg.w.err != nil {
			return nil
		}
		if n.Type == html.ElementNode && pg.matches(m, n) {
			return n
		}
	}
}

// matches reports whether m matches n, with the page's memos when m needs
// them.
func (pg *page) matches(m *cssMatcher, n *html.Node) bool {
	if m.names != nil && !hasName(m.names, n.Data) {
		return false
	}
	if m.seqs == nil {
		return m.sel.Match(n)
	}
	if pg.memo == nil {
		pg.memo = newCSSMemo(&pg.w)
	}
	return pg.memo.match(m, n)
}

// attr returns the value of the named attribute of n.
func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name && a.Namespace == "" {
			return a.Val, true
		}
	}
	return "", false
}

// textWriter collects the normalised text of a node: every text node of
// the node and its descendants, runs of whitespace collapsed to one space,
// trimmed. The content of script, style, template and noscript elements is
// left out unless the node itself is one, and the boundaries of block
// elements and <br> count as whitespace, so that <p>a</p><p>b</p> reads
// "a b" rather than "ab".
type textWriter struct {
	b     []byte
	space bool // whitespace is pending before the next character
	raw   bool // keep whitespace as it is
}

func (w *textWriter) of(n *html.Node) string {
	w.b, w.space, w.raw = w.b[:0], false, false
	w.node(n, true)
	return string(w.b)
}

// rawOf is of without whitespace normalisation: the text nodes as written.
func (w *textWriter) rawOf(n *html.Node) string {
	w.b, w.space, w.raw = w.b[:0], false, true
	w.node(n, true)
	return string(w.b)
}

func (w *textWriter) node(n *html.Node, top bool) {
	switch n.Type {
	case html.TextNode:
		if w.raw {
			w.b = append(w.b, n.Data...)
		} else {
			w.write(n.Data)
		}
		return
	case html.ElementNode:
		if !top && hiddenText(n.DataAtom) {
			return
		}
	case html.DocumentNode:
	default:
		return
	}
	block := !w.raw && n.Type == html.ElementNode && isBlock(n.DataAtom)
	if block {
		w.space = true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c, false)
	}
	if block {
		w.space = true
	}
}

func (w *textWriter) write(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v' {
				w.space = true
			} else {
				w.flush()
				w.b = append(w.b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			w.space = true
		} else {
			w.flush()
			w.b = append(w.b, s[i:i+size]...)
		}
		i += size
	}
}

// flush writes the pending whitespace, unless nothing has been written yet.
func (w *textWriter) flush() {
	if w.space && len(w.b) > 0 {
		w.b = append(w.b, ' ')
	}
	w.space = false
}

// hiddenText reports whether an element's content is not page text.
func hiddenText(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Template, atom.Noscript:
		return true
	}
	return false
}

// isBlock reports whether an element's boundaries separate words.
func isBlock(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br, atom.Caption,
		atom.Dd, atom.Details, atom.Dialog, atom.Div, atom.Dl, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Header, atom.Hr, atom.Legend, atom.Li, atom.Main,
		atom.Nav, atom.Ol, atom.Option, atom.P, atom.Pre, atom.Section, atom.Summary,
		atom.Table, atom.Tbody, atom.Td, atom.Tfoot, atom.Th, atom.Thead, atom.Title,
		atom.Tr, atom.Ul:
		return true
	}
	return false
}

// pseudoRE matches the pseudo-element that ends a field selector.
var pseudoRE = regexp.MustCompile(`::([A-Za-z][A-Za-z0-9-]*)\s*(\(([^()]*)\))?\s*$`)

// selSpec is a field selector split into its CSS part and what to take
// from each element the CSS matches.
type selSpec struct {
	css    string
	out    output
	attr   string // for outAttr
	pseudo bool   // the selector ended in a pseudo-element
}

// splitSelector splits a field selector such as "p.price::text" into its
// CSS part and its pseudo-element. A selector without one means ::text.
func splitSelector(s string) (selSpec, error) {
	m := pseudoRE.FindStringSubmatchIndex(s)
	if m == nil {
		return selSpec{css: strings.TrimSpace(s), out: outText}, nil
	}
	spec := selSpec{css: strings.TrimSpace(s[:m[0]]), pseudo: true}
	name := strings.ToLower(s[m[2]:m[3]])
	hasArg := m[4] >= 0
	var arg string
	if hasArg {
		arg = strings.Trim(strings.TrimSpace(s[m[6]:m[7]]), `"'`)
	}
	switch name {
	case "text", "html":
		if hasArg {
			return selSpec{}, fmt.Errorf("::%s takes no argument", name)
		}
		spec.out = outText
		if name == "html" {
			spec.out = outHTML
		}
		return spec, nil
	case "attr":
		if arg == "" {
			return selSpec{}, fmt.Errorf("::attr needs an attribute name, as in ::attr(href)")
		}
		// The HTML parser lower-cases attribute names.
		spec.out, spec.attr = outAttr, strings.ToLower(arg)
		return spec, nil
	}
	return selSpec{}, fmt.Errorf("unknown pseudo-element %s (want ::text, ::attr(name) or ::html)", quote("::"+s[m[2]:m[3]]))
}
