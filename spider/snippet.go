package spider

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"crawl/downloader"
	"crawl/item"
)

// Snippets are pieces of a spider file given on their own, each as the
// YAML text it would have in the file: fields of an item rule and entries
// of follow. FromSnippets makes a spider of them, for the tools that try
// selectors on one page (crawl shell, crawl parse without a spider file).
// They are compiled by the code that compiles a spider file, so they mean
// exactly what they would mean there.
type Snippets struct {
	// Fields are the fields of the spider's one item rule, named "item",
	// which scrapes every page: Src is what would follow "name:" under
	// fields, such as `h1::text` or `{css: p.price, regex: '[\d.]+'}`.
	Fields []Snippet
	// Follow are the entries of follow, each a mapping as in the file
	// ({css: a.next, allow: '/page/'}). A plain string is taken as the
	// selector of an entry: its css, or its json when JSON is set. Empty
	// text is an entry with nothing but defaults: every link.
	Follow []Snippet
	// JSON reads every page as JSON (as response: json does), where a
	// plain string is a JSON path; otherwise every page is read as HTML,
	// where a plain string is a CSS selector.
	JSON bool
}

// Snippet is one piece of a spider file. Name is the field's name, or for
// an entry of follow what messages call it; Src is its YAML text.
type Snippet struct {
	Name string
	Src  string
}

// FromSnippets compiles the pieces into a Spider with no start URLs that
// reads every page as HTML, or as JSON. Problems are returned together as
// SpecErrors, each named by its snippet's Name rather than by a line.
func FromSnippets(sn Snippets) (*Spider, error) {
	c := newCompiler("")
	s := &Spider{Name: "snippets", response: responseHTML, hasJSON: sn.JSON}
	if sn.JSON {
		s.response = responseJSON
	}
	c.xpaths, c.response = &s.xpaths, s.response
	rule := &itemRule{name: "item", json: sn.JSON}
	for _, f := range sn.Fields {
		n := c.snippet(f, sn.JSON, false)
		if n == nil {
			continue
		}
		ext, names, typed := c.field(n, f.Name, f.Name, fieldCtx{json: sn.JSON, rule: rule.name})
		rule.names = append(rule.names, names...)
		rule.typed = rule.typed || typed
		if ext != nil {
			rule.fields = append(rule.fields, ext)
		}
	}
	if len(sn.Fields) > 0 {
		s.items = []*itemRule{rule}
	}
	for _, f := range sn.Follow {
		n := c.snippet(f, sn.JSON, true)
		if n == nil {
			continue
		}
		r, cb := c.followRule(n, f.Name)
		if r == nil || cb != nil && !c.callback(s, cb, f.Name+".callback", r.callback) {
			continue
		}
		r.index = len(s.follow)
		s.follow = append(s.follow, r)
	}
	if len(c.errs) > 0 {
		for _, e := range c.errs {
			e.Line, e.Col = 0, 0 // of the snippet, not of a file
		}
		return nil, c.errs
	}
	s.chains = chainRules(s.follow)
	s.found = new(sync.Pool)
	s.xpaths.seal()
	return s, nil
}

// snippet parses one snippet's YAML, checks that its selectors fit the
// kind of page, and for an entry of follow turns a plain string into the
// entry it stands for. It returns nil after recording a problem.
func (c *compiler) snippet(sn Snippet, json, follow bool) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(sn.Src), &doc); err != nil {
		msg := err.Error()
		if m := yamlErrorRE.FindStringSubmatch(msg); m != nil {
			msg = m[2]
		}
		c.errorf(nil, sn.Name, "invalid YAML: %s", msg)
		return nil
	}
	var n *yaml.Node
	if len(doc.Content) > 0 {
		n = resolve(doc.Content[0])
	}
	if n == nil || isNull(n) {
		if t := strings.TrimSpace(sn.Src); strings.HasPrefix(t, "#") {
			c.errorf(nil, sn.Name, "# starts a YAML comment: quote the selector, as in a spider file: '%s'", t)
			return nil
		}
		n = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	}
	if key := foreignSelector(n, json); key != "" {
		if json {
			c.errorf(nil, sn.Name, "%s selects in HTML, and the page is read as JSON", key)
		} else {
			c.errorf(nil, sn.Name, "json selects in JSON, and the page is read as HTML")
		}
		return nil
	}
	if follow && n.Kind == yaml.ScalarNode && !isNull(n) {
		key := "css"
		if json {
			key = "json"
		}
		n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, n,
		}}
	}
	return n
}

// foreignSelector returns the first selector key in a field or follow
// entry that cannot select in the kind of page: css or xpath in JSON, json
// in HTML; or "".
func foreignSelector(n *yaml.Node, json bool) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.SequenceNode:
		for _, e := range n.Content {
			if k := foreignSelector(e, json); k != "" {
				return k
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
			switch {
			case k.Value == "json" && !json, (k.Value == "css" || k.Value == "xpath") && json:
				return k.Value
			case k.Value == "each":
				if key := foreignSelector(v, json); key != "" {
					return key
				}
			case k.Value == "fields" && v.Kind == yaml.MappingNode:
				for j := 1; j < len(v.Content); j += 2 {
					if key := foreignSelector(v.Content[j], json); key != "" {
						return key
					}
				}
			}
		}
	}
	return ""
}

// ReadsAsJSON reports whether a spider that reads responses by their
// content type (no response key) reads resp as JSON: a JSON media type, or
// no media type and a body that starts like a JSON object or array.
func ReadsAsJSON(resp *downloader.Response) bool {
	ct := resp.ContentType()
	return isJSONType(ct) || ct == "" && looksJSON(resp.Body)
}

// An Expr is the value of one field of a spider file, compiled on its own:
// what `crawl shell` evaluates. It is safe for concurrent use.
type Expr struct {
	s *Spider
}

// CompileExpr compiles src, the YAML text of a field's value (what would
// follow "name:" under fields), for pages read as JSON or as HTML (see
// Snippets.JSON). Problems are SpecErrors, as FromSnippets returns them.
func CompileExpr(src string, json bool) (*Expr, error) {
	s, err := FromSnippets(Snippets{Fields: []Snippet{{Name: "expression", Src: src}}, JSON: json})
	if err != nil {
		return nil, err
	}
	return &Expr{s: s}, nil
}

// Eval evaluates the expression on resp as a field of an item scraped from
// it: it returns the item fields the expression fills, one, or one per
// named group of a regex; none when nothing matched and there is no
// default. A body that cannot be read as the kind of page the expression
// was compiled for, and a value that does not convert to the field's type,
// are errors.
func (e *Expr) Eval(resp *downloader.Response) ([]item.Field, error) {
	ex := &Explanation{}
	pg, _, depth := e.s.newPage(resp)
	pg.explain = ex
	defer pg.release()
	var it *item.Item
	e.s.parse(pg, resp, "", depth, func(r Result) bool {
		it = r.Item
		return r.Item == nil // the one item is all there is
	})
	if ex.Problem != "" {
		return nil, errors.New(ex.Problem)
	}
	if it == nil {
		return nil, nil
	}
	for _, f := range it.Fields {
		if b, ok := f.Value.(*badValue); ok {
			return nil, fmt.Errorf("%s is %v", quote(b.text), b.err)
		}
	}
	return it.Fields, nil
}

// LoadForPages is Load for a spider tried on pages named elsewhere, as
// `crawl parse` does with the page on its command line: the file need not
// have start URLs. Everything else is checked as Load checks it.
func LoadForPages(path string) (*Spider, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spider: %w", err)
	}
	return ParseForPages(path, data)
}

// ParseForPages is LoadForPages for a file already read, or for a spider
// given as text: filename is used in errors and as the directory relative
// paths in the file are resolved against.
func ParseForPages(filename string, data []byte) (*Spider, error) {
	c := newCompiler(filename)
	c.noStartOK = true
	s := c.compile(data)
	if len(c.errs) > 0 {
		c.errs.sort()
		return nil, c.errs
	}
	return s, nil
}
