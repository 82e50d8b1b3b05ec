package spider

import (
	"fmt"
	"strings"
	"sync"

	"golang.org/x/net/html"
)

// cssSeq is one selector of a group, split into compounds that cascadia
// matches one element at a time, joined by combinators that a cssMemo
// resolves.
type cssSeq struct {
	parts []cssCompound // left to right, the subject last
	combs []byte        // combs[i] joins parts[i] and parts[i+1]: ' ', '>', '+' or '~'
}

// needsMemo reports whether a selector has a combinator that makes
// cascadia search (a descendant or a general sibling combinator) or an
// :nth-* pseudo-class, which makes it count siblings. Without these,
// cascadia checks one fixed element per combinator.
func needsMemo(seqs []sequence) bool {
	for _, s := range seqs {
		if strings.ContainsAny(string(s.combinators), " ~") {
			return true
		}
		for _, c := range s.compounds {
			if hasNth(c) {
				return true
			}
		}
	}
	return false
}

// compileSeqs compiles the compounds of each selector of a group.
func compileSeqs(seqs []sequence) ([]*cssSeq, error) {
	out := make([]*cssSeq, 0, len(seqs))
	for _, s := range seqs {
		q := &cssSeq{combs: s.combinators}
		for _, c := range s.compounds {
			part, err := compileCompound(c)
			if err != nil {
				return nil, err
			}
			q.parts = append(q.parts, part)
		}
		out = append(out, q)
	}
	return out, nil
}

// unboundedError is the error of a selector that is valid CSS but whose
// matching time cannot be bounded, so the spider refuses it.
type unboundedError struct{ msg string }

func (e *unboundedError) Error() string { return e.msg }

func unbounded(format string, args ...any) error {
	return &unboundedError{fmt.Sprintf(format, args...)}
}

// checkBounded refuses the selectors whose compounds cascadia cannot match
// in bounded time: a combinator inside :not(), :has() or :haschild() is
// matched by cascadia alone, searching every way it could hold, as is an
// :nth-* there, counting siblings; a :has() inside :has() walks the page
// below each element below each element.
func checkBounded(seqs []sequence) error {
	for _, s := range seqs {
		for _, c := range s.compounds {
			if err := checkCompound(c, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkCompound(compound string, inHas bool) error {
	for _, p := range pseudoArgs(compound) {
		has := p.name == "has" || p.name == "haschild"
		if has && inHas {
			return unbounded(":%s() inside :has() cannot be matched in time linear in the page", p.name)
		}
		seqs, ok := splitGroup(p.arg)
		if !ok {
			return unbounded("the argument of :%s() cannot be split into its compounds, so its matching time cannot be bounded", p.name)
		}
		for _, s := range seqs {
			if len(s.compounds) > 1 {
				return unbounded("a combinator inside :%s(%s) cannot be matched in time linear in the page: %s", p.name, p.arg, combinatorHint(p.name))
			}
			if hasNth(s.compounds[0]) {
				return unbounded("an :nth-* inside :%s(%s) cannot be matched in time linear in the page: write it outside, as in \"li:nth-child(2n+1)\" rather than \"li:not(:nth-child(2n))\"", p.name, p.arg)
			}
			if err := checkCompound(s.compounds[0], inHas || has); err != nil {
				return err
			}
		}
	}
	return nil
}

// combinatorHint says how to do without a combinator inside a
// pseudo-class.
func combinatorHint(name string) string {
	if name == "not" {
		return "give :not() one compound, as in \"p:not(.b)\""
	}
	return fmt.Sprintf("put the combinator outside, as in \"div:%s(span) h3\" rather than \"div:%s(span h3)\"", name, name)
}

// pseudoArg is a functional pseudo-class of a compound selector: its
// name, lower-cased, its argument, and where it starts (at its colon) and
// ends (after its closing parenthesis) in the compound.
type pseudoArg struct {
	name, arg  string
	start, end int
}

// pseudoArgs returns the pseudo-classes of a compound selector that take
// selectors as their argument: :not, :has, :haschild.
func pseudoArgs(compound string) []pseudoArg {
	var out []pseudoArg
	for _, p := range pseudoCalls(compound) {
		if p.name == "not" || p.name == "has" || p.name == "haschild" {
			out = append(out, p)
		}
	}
	return out
}

// pseudoCalls returns the functional pseudo-classes of a compound
// selector, skipping strings and attribute selectors.
func pseudoCalls(compound string) []pseudoArg {
	var out []pseudoArg
	for i := 0; i < len(compound); i++ {
		switch c := compound[i]; c {
		case '\\':
			i += escapeLen(compound[i:]) - 1
		case '"', '\'':
			if j := strings.IndexByte(compound[i+1:], c); j >= 0 {
				i += j + 1
			}
		case '[':
			if j := strings.IndexByte(compound[i:], ']'); j >= 0 {
				i += j
			}
		case ':':
			j := i + 1
			for j < len(compound) && isNameChar(compound[j]) {
				j++
			}
			if j >= len(compound) || compound[j] != '(' {
				continue
			}
			name := strings.ToLower(compound[i+1 : j])
			end := closeParen(compound, j)
			out = append(out, pseudoArg{
				name: name, arg: strings.TrimSpace(compound[j+1 : end]),
				start: i, end: min(end+1, len(compound)),
			})
			i = end
		}
	}
	return out
}

// closeParen returns the index of the parenthesis that closes the one at
// open, or len(s).
func closeParen(s string, open int) int {
	depth := 0
	var quote byte
	for i := open; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i += escapeLen(s[i:]) - 1
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(s)
}

// cssMemo matches selectors with descendant and sibling combinators on one
// page in time linear in the page: it remembers, for each element it has
// looked at, whether the element matches a selector's first i+1 compounds
// (with it as the subject of compound i), whether one of its ancestors
// does, and whether one of its earlier siblings does. Each of these is
// worked out once per element, compound and page, so that matching a
// selector of k compounds against every element of a page of n elements
// costs at most about 3·n·k compound matches, where cascadia's search
// costs up to n^k.
//
// A cssMemo belongs to one page, and to the goroutine that parses it.
type cssMemo struct {
	known map[memoKey]bool
	pos   map[*html.Node]sibPos // for :nth-*, filled a parent at a time
	stack []*html.Node          // the chain walk's pending nodes, shared by nested walks
	w     *workMeter
}

// memoKey names one fact about one element: kind of element n, for
// compound i of selector seq.
type memoKey struct {
	n    *html.Node
	seq  *cssSeq
	i    int32
	kind uint8
}

// The facts a cssMemo remembers.
const (
	memoMatch    uint8 = iota // n matches compounds 0..i, as compound i
	memoAncestor              // an ancestor of n does
	memoSibling               // an earlier sibling of n does
)

// memos keeps cssMemos between pages, so that a page does not grow a map
// from nothing.
var memos = sync.Pool{New: func() any { return &cssMemo{known: make(map[memoKey]bool)} }}

// maxKeptMemo is the most facts a cssMemo may hold and still be kept for
// another page: a hostile page's memo is dropped rather than kept alive.
const maxKeptMemo = 1 << 14

func newCSSMemo(w *workMeter) *cssMemo {
	mm := memos.Get().(*cssMemo)
	mm.w = w
	return mm
}

// release gives the memo back for another page.
func (mm *cssMemo) release() {
	if len(mm.known) > maxKeptMemo || len(mm.pos) > maxKeptMemo {
		return
	}
	clear(mm.known)
	clear(mm.pos)
	mm.w = nil
	memos.Put(mm)
}

// quickSteps is how many steps match lets a plain search take before it
// turns to the memos. On most pages the search, cascadia's way, decides in
// a few steps and costs no memo; on a page deep or wide enough for it to
// blow up, each element wastes at most these steps first.
const quickSteps = 128

// match reports whether m matches n.
func (mm *cssMemo) match(m *cssMatcher, n *html.Node) bool {
	for _, q := range m.seqs {
		left := quickSteps
		v, ok := mm.search(q, len(q.parts)-1, n, &left)
		if !ok {
			v = mm.matches(q, len(q.parts)-1, n, false)
		}
		if v {
			return true
		}
	}
	return false
}

// search is matches without memos: it tries every way compounds 0..i of
// q can sit among the ancestors and earlier siblings of n, as cascadia
// does, for at most *left steps. ok is false when it ran out of steps
// before it could tell.
func (mm *cssMemo) search(q *cssSeq, i int, n *html.Node, left *int) (v, ok bool) {
	if n == nil || n.Type != html.ElementNode {
		return false, true
	}
	if *left <= 0 {
		return false, false
	}
	*left--
	mm.w.step()
	part := &q.parts[i]
	if !part.sel.Match(n) || !mm.nthOK(part, n) {
		return false, true
	}
	if i == 0 {
		return true, true
	}
	switch c := q.combs[i-1]; c {
	case '>':
		return mm.search(q, i-1, n.Parent, left)
	case '+':
		return mm.search(q, i-1, prevElement(n), left)
	default: // ' ' or '~'
		for x := next(n, c); x != nil; x = next(x, c) {
			if v, ok := mm.search(q, i-1, x, left); !ok || v {
				return v, ok
			}
		}
		return false, true
	}
}

// next is the next element a combinator c searches after n: its parent
// for ' ', its previous element sibling for '~'.
func next(n *html.Node, c byte) *html.Node {
	if c == '~' {
		return prevElement(n)
	}
	return n.Parent
}

// matches reports whether n matches compounds 0..i of q, as compound i.
// The subject (remember false) is not remembered: each element is a
// candidate subject only once per walk, and most are never an ancestor
// worth remembering.
func (mm *cssMemo) matches(q *cssSeq, i int, n *html.Node, remember bool) bool {
	if n == nil || n.Type != html.ElementNode {
		return false
	}
	key := memoKey{n: n, seq: q, i: int32(i), kind: memoMatch}
	if remember {
		if v, ok := mm.known[key]; ok {
			return v
		}
	}
	mm.w.step()
	part := &q.parts[i]
	v := part.sel.Match(n) && mm.nthOK(part, n)
	if v && i > 0 {
		switch q.combs[i-1] {
		case '>':
			v = mm.matches(q, i-1, n.Parent, true)
		case '+':
			v = mm.matches(q, i-1, prevElement(n), true)
		case ' ':
			v = mm.reaches(q, i-1, n, memoAncestor)
		default: // '~'
			v = mm.reaches(q, i-1, n, memoSibling)
		}
	}
	if remember {
		mm.known[key] = v
	}
	return v
}

// reaches reports whether an ancestor (kind memoAncestor) or an earlier
// sibling (memoSibling) of n matches compounds 0..i of q, as compound i.
// It walks up (or back) only until it meets an element whose answer is
// known, and remembers the answer for every element it passed, so that no
// element is walked past twice for the same compound.
func (mm *cssMemo) reaches(q *cssSeq, i int, n *html.Node, kind uint8) bool {
	base := len(mm.stack)
	v := false
	for x := n; ; {
		if r, ok := mm.known[memoKey{n: x, seq: q, i: int32(i), kind: kind}]; ok {
			v = r
			break
		}
		mm.stack = append(mm.stack, x)
		mm.w.step()
		y := x.Parent
		if kind == memoSibling {
			y = prevElement(x)
		}
		if y == nil {
			break
		}
		if mm.matches(q, i, y, true) {
			v = true
			break
		}
		x = y
	}
	for _, x := range mm.stack[base:] {
		mm.known[memoKey{n: x, seq: q, i: int32(i), kind: kind}] = v
	}
	clear(mm.stack[base:])
	mm.stack = mm.stack[:base]
	return v
}

// prevElement returns the element before n among its siblings, or nil.
func prevElement(n *html.Node) *html.Node {
	for p := n.PrevSibling; p != nil; p = p.PrevSibling {
		if p.Type == html.ElementNode {
			return p
		}
	}
	return nil
}
