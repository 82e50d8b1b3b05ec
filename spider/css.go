package spider

import (
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// cssMatcher is a compiled CSS selector with a quick test that rules out
// most elements before the selector itself runs: the names an element
// must have to match, read from the selector's text. Matching a selector
// such as "article.product_pod h3 a" costs a chain of calls per element of
// the page; comparing the element's name with "a" costs almost nothing, and
// on a real page most elements are not links.
//
// A cssMatcher is read-only once compiled and safe for concurrent use.
type cssMatcher struct {
	sel   cascadia.Selector
	names []string // an element matches only with one of these names; nil: any
}

// compileCSS compiles a CSS selector and works out its names.
func compileCSS(sel string) (*cssMatcher, error) {
	compiled, err := cascadia.Compile(sel)
	if err != nil {
		return nil, err
	}
	return &cssMatcher{sel: compiled, names: subjectNames(sel)}, nil
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

// subjectNames returns the element names that a selector which compiles
// can match, or nil when it cannot tell: for each selector of the group,
// the type selector that starts its last compound ("a" in "li.next > a[href]",
// "h2" and "h3" in "h2, h3"). cascadia matches a type selector by comparing
// the element's Data with the name lower-cased, so the names are lower-cased
// the same way. It gives up (nil) on anything it does not fully understand:
// escapes, comments, non-ASCII names, a compound without a type selector
// ("*", ".price", ":root").
func subjectNames(sel string) []string {
	if strings.Contains(sel, `\`) || strings.Contains(sel, "/*") {
		return nil // escapes and comments
	}
	var (
		names     []string
		start     int    // of the current compound
		afterComb = true // a combinator or whitespace came last: the next character starts a compound
		depth     int    // inside brackets and parentheses
		quote     byte   // inside a string, in brackets or parentheses
	)
	part := func(end int) bool {
		name, ok := typeName(strings.TrimRight(sel[start:end], cssSpace))
		names = append(names, name)
		return ok
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
		case ' ', '\t', '\r', '\n', '\f', '>', '+', '~':
			afterComb = true
			continue
		case ',':
			if !part(i) {
				return nil
			}
			afterComb = true
			continue
		case '"', '\'', ')', ']':
			return nil
		}
		if afterComb {
			start, afterComb = i, false
		}
		if c == '(' || c == '[' {
			depth++
		}
	}
	if quote != 0 || depth != 0 || !part(len(sel)) {
		return nil
	}
	return names
}

// cssSpace is what CSS counts as whitespace.
const cssSpace = " \t\r\n\f"

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
