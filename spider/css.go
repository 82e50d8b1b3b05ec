package spider

import (
	"strings"

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
//
// A cssMatcher is read-only once compiled and safe for concurrent use.
type cssMatcher struct {
	sel   cascadia.Selector
	names []string      // an element matches only with one of these names; nil: any
	chain []*cssMatcher // the compounds of a descendant chain, the subject last; nil: not one
}

// compileCSS compiles a CSS selector and reads what it can from its text.
func compileCSS(sel string) (*cssMatcher, error) {
	compiled, err := cascadia.Compile(sel)
	if err != nil {
		return nil, err
	}
	m := &cssMatcher{sel: compiled}
	seqs, ok := splitGroup(sel)
	if !ok {
		return m, nil
	}
	m.names = subjectNames(seqs)
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
// cannot be sure of the split: escapes, comments, quotes outside brackets
// or parentheses, brackets that do not balance.
func splitGroup(sel string) ([]sequence, bool) {
	if strings.Contains(sel, `\`) || strings.Contains(sel, "/*") {
		return nil, false // escapes and comments
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
