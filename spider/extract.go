package spider

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// page is one page being parsed: the per-call state of Parse, owned by the
// goroutine that called it.
type page struct {
	url  string
	root *html.Node
	text textWriter // scratch space reused for every ::text value
}

// An extractor computes one field of an item in the context of a node: the
// element an item rule's each matched, or the whole document. ok is false
// when the field is absent and must be left out of the item.
//
// Extractors are compiled once by Load and shared by every page, so they
// must not keep per-page state.
type extractor interface {
	extract(pg *page, ctx *html.Node) (v any, ok bool)
}

// A source produces the candidate values of a field in document order,
// calling yield for each until it returns false: the text or attribute of
// each element a CSS selector matches, or the page URL.
type source interface {
	values(pg *page, ctx *html.Node, yield func(string) bool)
}

// A processor turns one value into another, or drops it (ok false).
type processor interface {
	process(v string) (string, bool)
}

// valueExtractor is the field extractor of a spider file: a source whose
// values pass through processors in order. A single-valued field is the
// first value that survives them all; an all: true field is the list of
// every value that does, empty rather than absent when none does.
type valueExtractor struct {
	src   source
	procs []processor
	all   bool
}

func (e *valueExtractor) extract(pg *page, ctx *html.Node) (any, bool) {
	if e.all {
		vals := []string{}
		e.src.values(pg, ctx, func(v string) bool {
			if v, ok := e.apply(v); ok {
				vals = append(vals, v)
			}
			return true
		})
		return vals, true
	}
	var (
		out   string
		found bool
	)
	e.src.values(pg, ctx, func(v string) bool {
		out, found = e.apply(v)
		return !found
	})
	if !found {
		return nil, false
	}
	return out, true
}

func (e *valueExtractor) apply(v string) (string, bool) {
	for _, p := range e.procs {
		var ok bool
		if v, ok = p.process(v); !ok {
			return "", false
		}
	}
	return v, true
}

// pageURL is the source of "@url": the URL of the page, after redirects.
type pageURL struct{}

func (pageURL) values(pg *page, _ *html.Node, yield func(string) bool) { yield(pg.url) }

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
	sel  cascadia.Selector // nil selects the context node itself
	out  output
	attr string
}

func (s *cssSource) values(pg *page, ctx *html.Node, yield func(string) bool) {
	if s.sel == nil {
		if v, ok := s.value(pg, ctx); ok {
			yield(v)
		}
		return
	}
	for n := nextMatch(ctx, nil, s.sel); n != nil; n = nextMatch(ctx, n, s.sel) {
		if v, ok := s.value(pg, n); ok && !yield(v) {
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
	return pg.text.of(n), true
}

// regexProcessor keeps the first capture group of the first match, or the
// whole match when the regex has no group, and drops values it does not
// match.
type regexProcessor struct {
	re *regexp.Regexp
}

func (p regexProcessor) process(v string) (string, bool) {
	var loc []int
	if p.re.NumSubexp() == 0 {
		loc = p.re.FindStringIndex(v)
	} else if m := p.re.FindStringSubmatchIndex(v); m != nil {
		loc = m[2:4]
	}
	if loc == nil || loc[0] < 0 {
		return "", false
	}
	// Clone so that a short match does not keep a long value (::html) alive.
	return strings.Clone(v[loc[0]:loc[1]]), true
}

// nextMatch returns the element after n, in document order among root and
// its descendants, that m matches; n == nil starts with root itself. It
// walks the tree without recursion or allocation.
func nextMatch(root, n *html.Node, m cascadia.Matcher) *html.Node {
	for {
		switch {
		case n == nil:
			n = root
		case n.FirstChild != nil:
			n = n.FirstChild
		default:
			for n != root && n.NextSibling == nil {
				n = n.Parent
			}
			if n == root {
				return nil
			}
			n = n.NextSibling
		}
		if n.Type == html.ElementNode && m.Match(n) {
			return n
		}
	}
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
}

func (w *textWriter) of(n *html.Node) string {
	w.b, w.space = w.b[:0], false
	w.node(n, true)
	return string(w.b)
}

func (w *textWriter) node(n *html.Node, top bool) {
	switch n.Type {
	case html.TextNode:
		w.write(n.Data)
		return
	case html.ElementNode:
		if !top && hiddenText(n.DataAtom) {
			return
		}
	case html.DocumentNode:
	default:
		return
	}
	block := n.Type == html.ElementNode && isBlock(n.DataAtom)
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
