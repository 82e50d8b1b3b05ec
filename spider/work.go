package spider

import (
	"context"
	"errors"

	"github.com/antchfx/htmlquery"
	"github.com/antchfx/xpath"
	"golang.org/x/net/html"
)

// ErrTooComplex is the error of a page whose parsing took more work than
// its budget (see workMeter): the page is skipped from that point on, and
// counted under stats.Skipped+SkipTooComplex.
var ErrTooComplex = errors.New("page too complex for the spider's selectors")

// SkipTooComplex is the reason, under stats.Skipped, for an HTML page
// whose parsing was stopped for taking more work than its budget.
const SkipTooComplex = "too_complex"

// workPerNode is the work a page may cost per node and per selector of
// the spider (plus one). Every CSS selector is matched in a few steps per
// node and compound (cssMemo); an item rule's each and its fields walk the
// nodes below each element each selects, which on a page nested 480 deep
// (the HTML parser stops at 512) is about 240 steps per node. Only an
// XPath expression whose steps multiply (//div//div//div//h3 on a page
// hundreds of elements deep, following-sibling:: on thousands of
// siblings) reaches it: antchfx/xpath evaluates such expressions in time
// that grows as a power of the depth or width.
const workPerNode = 256

// checkEvery is how many steps a workMeter takes between looks at its
// context: often enough that a cancelled page stops within a millisecond
// or so, rarely enough to cost nothing.
const checkEvery = 1 << 10

// workMeter counts the steps of parsing one page (elements walked,
// compounds matched, XPath moves) and stops the page when its context is
// done or its budget is spent. The walks look at err and stop; results
// found after it was set are not yielded.
//
// A workMeter belongs to one page, and to the goroutine that parses it.
type workMeter struct {
	ctx   context.Context
	steps int64
	limit int64 // 0: no limit
	err   error // set once: ErrTooComplex or the context's error
}

// step counts one step, and every checkEvery steps looks at the context
// and the budget.
func (w *workMeter) step() {
	w.steps++
	if w.steps%checkEvery == 0 && w.err == nil {
		w.check()
	}
}

func (w *workMeter) check() {
	switch {
	case w.ctx != nil && w.ctx.Err() != nil:
		w.err = w.ctx.Err()
	case w.limit > 0 && w.steps > w.limit:
		w.err = ErrTooComplex
	}
}

// stopped reports whether the page must stop.
func (w *workMeter) stopped() bool { return w.err != nil }

// countNodes returns how many nodes the tree under root holds.
func countNodes(root *html.Node) int64 {
	var n int64
	for range root.Descendants() {
		n++
	}
	return n + 1
}

// meteredNav is an XPath navigator that counts each move as a step and
// refuses to move once its page must stop, so that an XPath expression,
// evaluated by antchfx/xpath out of reach of the walks, stops too.
type meteredNav struct {
	*htmlquery.NodeNavigator
	w *workMeter
}

func (m *meteredNav) halt() bool {
	m.w.step()
	return m.w.err != nil
}

func (m *meteredNav) Copy() xpath.NodeNavigator {
	return &meteredNav{NodeNavigator: m.NodeNavigator.Copy().(*htmlquery.NodeNavigator), w: m.w}
}

func (m *meteredNav) MoveTo(other xpath.NodeNavigator) bool {
	o, ok := other.(*meteredNav)
	return ok && !m.halt() && m.NodeNavigator.MoveTo(o.NodeNavigator)
}

func (m *meteredNav) MoveToRoot() { m.w.step(); m.NodeNavigator.MoveToRoot() }

func (m *meteredNav) MoveToParent() bool { return !m.halt() && m.NodeNavigator.MoveToParent() }

func (m *meteredNav) MoveToNextAttribute() bool {
	return !m.halt() && m.NodeNavigator.MoveToNextAttribute()
}

func (m *meteredNav) MoveToChild() bool { return !m.halt() && m.NodeNavigator.MoveToChild() }

func (m *meteredNav) MoveToFirst() bool { return !m.halt() && m.NodeNavigator.MoveToFirst() }

func (m *meteredNav) MoveToNext() bool { return !m.halt() && m.NodeNavigator.MoveToNext() }

func (m *meteredNav) MoveToPrevious() bool { return !m.halt() && m.NodeNavigator.MoveToPrevious() }
