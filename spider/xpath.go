package spider

import (
	"math"
	"strconv"

	"github.com/antchfx/htmlquery"
	"github.com/antchfx/xpath"
	"golang.org/x/net/html"
)

// xpathSet holds the XPath expressions of a spider. A compiled
// *xpath.Expr keeps evaluation state inside it, so one must not be used by
// two goroutines at once: each page borrows a whole set of copies for as
// long as it is parsed and gives it back. Copies are compiled when Load
// checks the expressions and, after that, only when more pages are parsed
// at once than ever before; the free list keeps them, so a crawl with N
// workers compiles at most N sets.
//
// An xpathSet is safe for concurrent use.
type xpathSet struct {
	srcs []string
	free chan []*xpath.Expr
}

// maxFreeSets bounds the copies kept for reuse: more than any sensible
// number of workers.
const maxFreeSets = 256

// add records an expression that compiled and returns its id.
func (x *xpathSet) add(src string) int {
	x.srcs = append(x.srcs, src)
	return len(x.srcs) - 1
}

// seal prepares the set for use once every expression has been added.
func (x *xpathSet) seal() {
	if len(x.srcs) == 0 {
		return
	}
	x.free = make(chan []*xpath.Expr, maxFreeSets)
	x.free <- x.compile()
}

func (x *xpathSet) compile() []*xpath.Expr {
	set := make([]*xpath.Expr, len(x.srcs))
	for i, src := range x.srcs {
		set[i] = xpath.MustCompile(src) // Load checked that it compiles
	}
	return set
}

func (x *xpathSet) get() []*xpath.Expr {
	select {
	case set := <-x.free:
		return set
	default:
		return x.compile()
	}
}

func (x *xpathSet) put(set []*xpath.Expr) {
	select {
	case x.free <- set:
	default:
	}
}

// evalXPath evaluates expression id of the page with n as the root: an
// expression such as "//h3" finds h3 elements inside n, as ".//h3" does.
// It calls node for each node of a node-set result and scalar for a
// string, number or boolean result, until one returns false.
func evalXPath(pg *page, id int, n *html.Node, node func(*htmlquery.NodeNavigator) bool, scalar func(string)) {
	nav := &meteredNav{NodeNavigator: htmlquery.CreateXPathNavigator(n), w: &pg.w}
	switch r := pg.xpath(id).Evaluate(nav).(type) {
	case *xpath.NodeIterator:
		// antchfx/xpath yields a node once per path that leads to it
		// ("//div//h3" yields an h3 once per div above it); a node-set
		// holds each node once.
		var seen map[xpathNode]struct{}
		for r.MoveNext() && !pg.w.stopped() {
			cur, ok := r.Current().(*meteredNav)
			if !ok {
				continue
			}
			if seen == nil {
				seen = make(map[xpathNode]struct{})
			}
			k := xpathNode{cur.Current(), cur.NodeType() == xpath.AttributeNode, cur.LocalName()}
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			if !node(cur.NodeNavigator) {
				return
			}
		}
	case string:
		scalar(r)
	case float64:
		if !math.IsNaN(r) {
			scalar(strconv.FormatFloat(r, 'f', -1, 64))
		}
	case bool:
		scalar(strconv.FormatBool(r))
	}
}

// xpathNode identifies a node of an XPath result: an element or text
// node, or one attribute of an element.
type xpathNode struct {
	n    *html.Node
	attr bool
	name string // of the attribute
}

// xpathSource yields a value for each node an XPath expression selects:
// the text of an element or text node (whitespace normalised unless raw),
// the value of an attribute, as written; or the result of an expression
// that computes a string (normalised unless raw), number or boolean.
type xpathSource struct {
	id  int
	raw bool
}

func (s *xpathSource) values(pg *page, sc scope, yield func(value) bool) {
	evalXPath(pg, s.id, sc.n, func(nav *htmlquery.NodeNavigator) bool {
		var v string
		switch nav.NodeType() {
		case xpath.AttributeNode, xpath.CommentNode:
			v = nav.Value()
		default:
			if s.raw {
				v = pg.text.rawOf(nav.Current())
			} else {
				v = pg.text.of(nav.Current())
			}
		}
		return yield(value{s: v})
	}, func(v string) {
		if !s.raw {
			v = normalizeSpace(v)
		}
		yield(value{s: v})
	})
}

// xpathScoper selects the elements of a node-set expression; other nodes
// and scalar results select nothing.
type xpathScoper struct{ id int }

func (x xpathScoper) scopes(pg *page, sc scope, yield func(scope) bool) {
	evalXPath(pg, x.id, sc.n, func(nav *htmlquery.NodeNavigator) bool {
		if nav.NodeType() != xpath.ElementNode {
			return true
		}
		return yield(scope{n: nav.Current()})
	}, func(string) {})
}
