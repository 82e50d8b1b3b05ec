package spider

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// cssCompound is one compound selector of a cssSeq: what cascadia matches
// on the element alone, and the :nth-* pseudo-classes, which cascadia
// matches by counting the element's siblings every time (so that a list
// of 20,000 items costs it 200 million steps) and a cssMemo matches with
// positions counted once per parent.
type cssCompound struct {
	sel cascadia.Selector
	nth []nthTest
}

// nthTest is one :nth-child(an+b), :nth-last-child, :nth-of-type or
// :nth-last-of-type.
type nthTest struct {
	a, b         int
	last, ofType bool
}

// nthNames are the pseudo-classes nthTest stands for.
var nthNames = map[string]nthTest{
	"nth-child":        {},
	"nth-last-child":   {last: true},
	"nth-of-type":      {ofType: true},
	"nth-last-of-type": {last: true, ofType: true},
}

// hasNth reports whether a compound selector has an :nth-* pseudo-class.
func hasNth(compound string) bool {
	for _, p := range pseudoCalls(compound) {
		if _, ok := nthNames[p.name]; ok {
			return true
		}
	}
	return false
}

// compileCompound splits the :nth-* pseudo-classes out of a compound and
// compiles the rest with cascadia ("*" when nothing is left).
func compileCompound(compound string) (cssCompound, error) {
	var c cssCompound
	rest := compound
	calls := pseudoCalls(compound)
	for i := len(calls) - 1; i >= 0; i-- {
		p := calls[i]
		t, ok := nthNames[p.name]
		if !ok {
			continue
		}
		a, b, err := parseNth(p.arg)
		if err != nil {
			return c, fmt.Errorf(":%s(%s): %w", p.name, p.arg, err)
		}
		t.a, t.b = a, b
		c.nth = append(c.nth, t)
		rest = rest[:p.start] + rest[p.end:]
	}
	if strings.TrimSpace(rest) == "" {
		rest = "*"
	}
	sel, err := cascadia.Compile(rest)
	if err != nil {
		return c, fmt.Errorf("compound %s: %w", quote(compound), err)
	}
	c.sel = sel
	return c, nil
}

// parseNth reads the an+b of an :nth-* pseudo-class, as cascadia does:
// "odd", "even", "b", "an", "an+b", "-n+b" and so on.
func parseNth(arg string) (a, b int, err error) {
	s := strings.ToLower(strings.Join(strings.Fields(arg), ""))
	switch s {
	case "odd":
		return 2, 1, nil
	case "even":
		return 2, 0, nil
	}
	i := strings.IndexByte(s, 'n')
	if i < 0 {
		b, err = strconv.Atoi(strings.TrimPrefix(s, "+"))
		return 0, b, err
	}
	switch as := s[:i]; as {
	case "", "+":
		a = 1
	case "-":
		a = -1
	default:
		if a, err = strconv.Atoi(strings.TrimPrefix(as, "+")); err != nil {
			return 0, 0, err
		}
	}
	if bs := s[i+1:]; bs != "" {
		if bs[0] != '+' && bs[0] != '-' {
			return 0, 0, fmt.Errorf("want an+b, not %s", quote(arg))
		}
		if b, err = strconv.Atoi(strings.TrimPrefix(bs, "+")); err != nil {
			return 0, 0, err
		}
	}
	return a, b, nil
}

// sibPos is where an element sits among its parent's element children
// (1-based), counting all of them or those of its name only.
type sibPos struct {
	idx, count         int32
	typeIdx, typeCount int32
}

// nthOK reports whether n passes every :nth-* test of c.
func (mm *cssMemo) nthOK(c *cssCompound, n *html.Node) bool {
	if len(c.nth) == 0 {
		return true
	}
	if n.Parent == nil {
		return false
	}
	p, ok := mm.pos[n]
	if !ok {
		mm.countChildren(n.Parent)
		p = mm.pos[n]
	}
	for _, t := range c.nth {
		i, count := p.idx, p.count
		if t.ofType {
			i, count = p.typeIdx, p.typeCount
		}
		if t.last {
			i = count - i + 1
		}
		if !t.matches(int(i)) {
			return false
		}
	}
	return true
}

func (t nthTest) matches(i int) bool {
	i -= t.b
	if t.a == 0 {
		return i == 0
	}
	return i%t.a == 0 && i/t.a >= 0
}

// countChildren records the positions of every element child of parent:
// two walks of its children, once per parent and page.
func (mm *cssMemo) countChildren(parent *html.Node) {
	if mm.pos == nil {
		mm.pos = make(map[*html.Node]sibPos)
	}
	names := make(map[string]int32)
	var idx int32
	for c := parent.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		mm.w.step()
		idx++
		names[c.Data]++
		mm.pos[c] = sibPos{idx: idx, typeIdx: names[c.Data]}
	}
	for c := parent.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		p := mm.pos[c]
		p.count, p.typeCount = idx, names[c.Data]
		mm.pos[c] = p
	}
}
