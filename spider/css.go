package spider

import (
	"strings"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// cssMatcher is a compiled CSS selector with what its text tells about the
// elements it can match, so that a walk of the page rules most elements out
// without running the selector:
//
//   - names: an element matches only if its name is one of these. Matching
//     a selector such as "article.product_pod h3 a" costs a chain of calls
//     per element, and a walk up its ancestors; comparing the element's
//     name with "a" costs almost nothing, and most elements are not links.
//   - chain: a selector of compounds joined by descendant combinators only
//     ("article.product_pod h3 a") split into its compounds, so that a walk
//     from the root (scanLinks) can keep, for each open element, how much
//     of the chain its ancestors match, instead of walking up the
//     ancestors of every candidate.
//   - seqs: a selector with a descendant or a general sibling combinator
//     split into its compounds, so that a page matches it with memos
//     (see cssMemo) in time linear in the page, where cascadia tries every
//     way its compounds could sit among the ancestors and siblings: on a
//     page 500 elements deep, "span div div div h3" costs cascadia minutes.
//
// A cssMatcher is read-only once compiled and safe for concurrent use.
type cssMatcher struct {
	src   string
	sel   cascadia.Selector
	names []string      // an element matches only with one of these names; nil: any
	chain []*cssMatcher // the compounds of a descendant chain, the subject last; nil: not one
	seqs  []*cssSeq     // matched with a page's memos; nil: by sel alone
}

// compileCSS compiles a CSS selector and reads what it can from its text.
// It refuses the selectors it cannot match in time linear in the page.
func compileCSS(sel string) (*cssMatcher, error) {
	compiled, err := cascadia.Compile(sel)
	if err != nil {
		return nil, err
	}
	m := &cssMatcher{src: sel, sel: compiled}
	seqs, ok := splitGroup(stripComments(sel))
	if !ok {
		return nil, unbounded("it cannot be split into its compounds, so its matching time cannot be bounded")
	}
	if err := checkBounded(seqs); err != nil {
		return nil, err
	}
	m.names = subjectNames(seqs)
	if needsMemo(seqs) {
		if m.seqs, err = compileSeqs(seqs); err != nil {
			return nil, err
		}
	}
	// The walk counts the compounds of a chain in a byte.
	if n := len(seqs[0].compounds); len(seqs) == 1 && n > 1 && n < 256 && strings.Trim(string(seqs[0].combinators), " ") == "" {
		for _, c := range seqs[0].compounds {
			part, err := compileCSS(c)
			if err != nil {
				return m, nil // not reached: a compound of a valid selector is one
			}
			m.chain = append(m.chain, part)
		}
	}
	return m, nil
}

// Match reports whether the selector matches n.
func (m *cssMatcher) Match(n *html.Node) bool {
	if m.names != nil && !hasName(m.names, n.Data) {
		return false
	}
	if m.seqs != nil {
		// Outside a page, with memos of its own: linear in the depth and
		// the siblings of n, where cascadia's search is not.
		mm := newCSSMemo(&workMeter{})
		defer mm.release()
		return mm.match(m, n)
	}
	return m.sel.Match(n)
}

func hasName(names []string, name string) bool {
	for _, s := range names {
		if s == name {
			return true
		}
	}
	return false
}

// sequence is one selector of a group, split at its top-level combinators:
// compounds[i] and compounds[i+1] are joined by combinators[i] (' ', '>',
// '+' or '~').
type sequence struct {
	compounds   []string
	combinators []byte
}

// splitGroup splits a selector group that compiles into its selectors
// and their compounds, as cascadia parses them. It reports false when it
// cannot be sure of the split: comments, quotes outside brackets
// or parentheses, brackets that do not balance.
func splitGroup(sel string) ([]sequence, bool) {
	if strings.Contains(sel, "/*") {
		return nil, false // comments: compileCSS takes them out first
	}
	var (
		seqs  []sequence
		cur   sequence
		start = -1 // of the current compound; -1 between compounds
		comb  byte // the combinator before the next compound
		depth int  // inside brackets and parentheses
		quote byte // inside a string, in brackets or parentheses
	)
	end := func(i int) {
		if start >= 0 {
			cur.compounds = append(cur.compounds, sel[start:i])
			start = -1
		}
	}
	for i := 0; i < len(sel); i++ {
		c := sel[i]
		if c == '\\' {
			// An escape is part of the compound or string it is in: "\:"
			// or "\31 " (hex, ended by one optional whitespace).
			if start < 0 && depth == 0 && quote == 0 {
				if len(cur.compounds) > 0 {
					if comb == 0 {
						return nil, false
					}
					cur.combinators = append(cur.combinators, comb)
				}
				start, comb = i, 0
			}
			i += escapeLen(sel[i:]) - 1
			continue
		}
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			continue
		case depth > 0:
			switch c {
			case '"', '\'':
				quote = c
			case '(', '[':
				depth++
			case ')', ']':
				depth--
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n', '\f':
			end(i)
			if comb == 0 {
				comb = ' '
			}
			continue
		case '>', '+', '~':
			end(i)
			comb = c
			continue
		case ',':
			end(i)
			if len(cur.compounds) == 0 || comb != 0 && comb != ' ' {
				return nil, false
			}
			seqs, cur, comb = append(seqs, cur), sequence{}, 0
			continue
		case '"', '\'', ')', ']':
			return nil, false
		}
		if start < 0 {
			if len(cur.compounds) > 0 {
				if comb == 0 {
					return nil, false
				}
				cur.combinators = append(cur.combinators, comb)
			}
			start, comb = i, 0
		}
		if c == '(' || c == '[' {
			depth++
		}
	}
	end(len(sel))
	if quote != 0 || depth != 0 || len(cur.compounds) == 0 || comb != 0 && comb != ' ' {
		return nil, false
	}
	return append(seqs, cur), true
}

// subjectNames returns the element names the selectors can match, or nil
// when it cannot tell: for each selector, the type selector that starts its
// last compound ("a" in "li.next > a[href]", "h2" and "h3" in "h2, h3").
// cascadia matches a type selector by comparing the element's Data with the
// name lower-cased, so the names are lower-cased the same way. A compound
// without a type selector ("*", ".price", ":root") can match any name.
func subjectNames(seqs []sequence) []string {
	var names []string
	for _, s := range seqs {
		name, ok := typeName(s.compounds[len(s.compounds)-1])
		if !ok {
			return nil
		}
		names = append(names, name)
	}
	return names
}

// typeName returns the lower-cased type selector that starts a compound
// selector, and false when it has none or is not a plain ASCII name.
func typeName(compound string) (string, bool) {
	i := 0
	for i < len(compound) && compound[i] == '-' {
		i++
	}
	if i == len(compound) || !isNameStart(compound[i]) {
		return "", false
	}
	for i < len(compound) && isNameChar(compound[i]) {
		i++
	}
	if i < len(compound) && !strings.ContainsRune("#.[:", rune(compound[i])) {
		return "", false
	}
	return strings.ToLower(compound[:i]), true
}

func isNameStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

func isNameChar(c byte) bool { return isNameStart(c) || c == '-' || '0' <= c && c <= '9' }

// escapeLen returns the length of the CSS escape that s starts with: a
// backslash and the character it escapes, or up to six hex digits and one
// whitespace that ends them.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	i := 1
	for i < len(s) && i < 7 && isHex(s[i]) {
		i++
	}
	if i == 1 {
		_, size := utf8.DecodeRuneInString(s[1:])
		return 1 + size
	}
	if i < len(s) && strings.IndexByte(" \t\n\r\f", s[i]) >= 0 {
		i++
	}
	return i
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// stripComments returns sel without its CSS comments, each replaced by a
// space as the CSS syntax reads them.
func stripComments(sel string) string {
	for {
		i := strings.Index(sel, "/*")
		if i < 0 {
			return sel
		}
		j := strings.Index(sel[i+2:], "*/")
		if j < 0 {
			return sel[:i]
		}
		sel = sel[:i] + " " + sel[i+2+j+2:]
	}
}
