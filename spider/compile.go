package spider

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"go.yaml.in/yaml/v3"

	"crawl/urls"
)

// The keys each mapping of a spider file may have, in the order messages
// list them.
var (
	topKeys    = []string{"name", "start_urls", "start_urls_file", "start_urls_range", "allowed_domains", "follow", "items", "settings"}
	rangeKeys  = []string{"template", "from", "to", "step"}
	followKeys = []string{"css", "allow", "deny"}
	itemKeys   = []string{"name", "urls", "each", "fields", "required"}
	fieldKeys  = []string{"css", "regex", "all"}
)

// compiler turns a spider file into a Spider, collecting every problem it
// finds rather than stopping at the first.
type compiler struct {
	file string
	dir  string // relative paths in the file resolve against it
	errs SpecErrors
	// misspelt holds, for each mapping, the keys its unknown keys were
	// taken for, so that "missing fields" is not reported on top of
	// "unknown key "feilds" (did you mean "fields"?)".
	misspelt map[*yaml.Node][]string
}

func newCompiler(filename string) *compiler {
	return &compiler{file: filename, dir: filepath.Dir(filename)}
}

// errorf records a problem with node n (nil when it has no place in the file).
func (c *compiler) errorf(n *yaml.Node, field, format string, args ...any) {
	e := &SpecError{File: c.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	c.errs = append(c.errs, e)
}

var yamlErrorRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

func (c *compiler) compile(data []byte) *Spider {
	s := &Spider{file: c.file, Name: defaultName(c.file)}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := &SpecError{File: c.file, Msg: "invalid YAML: " + err.Error()}
		if m := yamlErrorRE.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = "invalid YAML: " + m[2]
		}
		c.errs = append(c.errs, e)
		return nil
	}
	if len(doc.Content) == 0 {
		c.errorf(nil, "", "spider file is empty")
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		c.errorf(root, "", "want a mapping of spider keys, not %s", describe(root))
		return nil
	}

	hasStart := false
	for _, p := range c.pairs(root, "", topKeys, true) {
		key, val := p.key.Value, p.val
		switch key {
		case "name":
			if v, ok := c.str(val, key); ok && v == "" {
				c.errorf(val, key, "empty name")
			} else if ok {
				s.Name = v
			}
		case "start_urls":
			hasStart = hasStart || val.Kind != yaml.SequenceNode || len(val.Content) > 0
			for _, e := range c.strList(val, key) {
				u, err := checkStartURL(e.value, c.dir)
				if err != nil {
					c.errorf(e.node, e.path, "invalid start URL %s: %v", quote(e.value), err)
					continue
				}
				s.startURLs = append(s.startURLs, u)
			}
		case "start_urls_file":
			hasStart = true
			if v, ok := c.str(val, key); ok {
				s.startFile = c.startFile(val, v)
			}
		case "start_urls_range":
			hasStart = true
			s.startRange = c.urlRange(val)
		case "allowed_domains":
			for _, e := range c.strList(val, key) {
				if d, ok := c.domain(e); ok && !contains(s.AllowedDomains, d) {
					s.AllowedDomains = append(s.AllowedDomains, d)
				}
			}
		case "follow":
			for i, n := range c.seq(val, key) {
				if r := c.followRule(n, fmt.Sprintf("follow[%d]", i)); r != nil {
					s.follow = append(s.follow, r)
				}
			}
		case "items":
			c.itemRules(s, val)
		case "settings":
			s.Settings = c.settings(val)
		}
	}
	if !hasStart {
		c.errorf(root, "", "no start URLs: set start_urls, start_urls_file or start_urls_range")
	}
	return s
}

// defaultName is the spider name when the file has none: the file name
// without its extension.
func defaultName(file string) string {
	if file == "" {
		return "spider"
	}
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// pair is one key and value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns the entries of the mapping n, reporting a node that is not
// a mapping, duplicate keys and, unless known is nil, keys not in known.
// Only good entries are returned; with dropNull, entries whose value is
// null (key: with nothing after it) are left out as if absent.
func (c *compiler) pairs(n *yaml.Node, path string, known []string, dropNull bool) []pair {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		c.errorf(n, path, "want a mapping, not %s", describe(n))
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	first := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			c.errorf(k, path, "want a key, not %s", describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			c.errorf(k, path, "duplicate key %s (first at line %d)", quote(k.Value), line)
			continue
		}
		first[k.Value] = k.Line
		if known != nil && !contains(known, k.Value) {
			if s := suggest(k.Value, known); s != "" {
				c.errorf(k, path, "unknown key %s (did you mean %s?)", quote(k.Value), quote(s))
				if c.misspelt == nil {
					c.misspelt = make(map[*yaml.Node][]string)
				}
				c.misspelt[n] = append(c.misspelt[n], s)
			} else {
				c.errorf(k, path, "unknown key %s (want one of %s)", quote(k.Value), strings.Join(known, ", "))
			}
			continue
		}
		if dropNull && isNull(v) {
			continue
		}
		out = append(out, pair{k, v})
	}
	return out
}

// checkURL returns why u is not a usable start URL, or nil.
func checkURL(u, dir string) error {
	_, err := checkStartURL(u, dir)
	return err
}

// missing reports that the mapping n lacks key, unless an unknown key of n
// was already reported as a misspelling of it.
func (c *compiler) missing(n *yaml.Node, path, key string) {
	if !contains(c.misspelt[resolve(n)], key) {
		c.errorf(n, path, "missing %s", key)
	}
}

// seq returns the entries of the sequence n, reporting a node that is not one.
func (c *compiler) seq(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, path, "want a list, not %s", describe(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, e := range n.Content {
		out[i] = resolve(e)
	}
	return out
}

// str returns the scalar n as a string, reporting any other node.
func (c *compiler) str(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		c.errorf(n, path, "want a string, not %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// strNode is a string of a list, with where it is.
type strNode struct {
	value string
	node  *yaml.Node
	path  string
}

// strList returns the strings of a list of strings; a single string is a
// list of one.
func (c *compiler) strList(n *yaml.Node, path string) []strNode {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		if v, ok := c.str(n, path); ok {
			return []strNode{{v, n, path}}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		c.errorf(n, path, "want a list of strings, not %s", describe(n))
		return nil
	}
	out := make([]strNode, 0, len(n.Content))
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if v, ok := c.str(e, p); ok {
			out = append(out, strNode{v, resolve(e), p})
		}
	}
	return out
}

// integer returns the integer scalar n.
func (c *compiler) integer(n *yaml.Node, path string) (int64, bool) {
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		c.errorf(n, path, "want an integer, not %s", describe(n))
		return 0, false
	}
	return v, true
}

// boolean returns the boolean scalar n.
func (c *compiler) boolean(n *yaml.Node, path string) (bool, bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		c.errorf(n, path, "want true or false, not %s", describe(n))
		return false, false
	}
	return v, true
}

// regex compiles the regex of a list entry.
func (c *compiler) regex(e strNode) (*regexp.Regexp, bool) {
	re, err := regexp.Compile(e.value)
	if err != nil {
		var serr *syntax.Error
		msg := err.Error()
		if errors.As(err, &serr) {
			msg = serr.Code.String()
		}
		c.errorf(e.node, e.path, "invalid regex %s: %s", quote(e.value), msg)
		return nil, false
	}
	return re, true
}

// regexes compiles a regex or a list of regexes.
func (c *compiler) regexes(n *yaml.Node, path string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, e := range c.strList(n, path) {
		if re, ok := c.regex(e); ok {
			out = append(out, re)
		}
	}
	return out
}

// css compiles a CSS selector with no pseudo-element.
func (c *compiler) css(n *yaml.Node, path, sel string) (cascadia.Selector, bool) {
	if strings.TrimSpace(sel) == "" {
		c.errorf(n, path, "empty CSS selector")
		return nil, false
	}
	compiled, err := cascadia.Compile(sel)
	if err != nil {
		c.errorf(n, path, "invalid CSS selector %s: %v", quote(sel), err)
		return nil, false
	}
	return compiled, true
}

// startFile checks start_urls_file and returns its path resolved against
// the spider file, or "-" for standard input.
func (c *compiler) startFile(n *yaml.Node, name string) string {
	if name == "-" {
		return name
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.dir, path)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.errorf(n, "start_urls_file", "no such file %s", quote(path))
	case err != nil:
		c.errorf(n, "start_urls_file", "%v", err)
	case fi.IsDir():
		c.errorf(n, "start_urls_file", "%s is a directory", quote(path))
	}
	return path
}

// urlRange compiles start_urls_range.
func (c *compiler) urlRange(n *yaml.Node) *urlRange {
	const path = "start_urls_range"
	r := &urlRange{step: 1}
	var fromNode, templateNode *yaml.Node
	have, goodKeys := map[string]bool{}, map[string]bool{}
	ok := true
	for _, p := range c.pairs(n, path, rangeKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		var good bool
		switch key {
		case "template":
			templateNode = val
			if r.template, good = c.str(val, field); good && !strings.Contains(r.template, "{n}") {
				c.errorf(val, field, "must contain {n}")
				good = false
			}
		case "from":
			r.from, good = c.integer(val, field)
			fromNode = val
		case "to":
			r.to, good = c.integer(val, field)
		case "step":
			if r.step, good = c.integer(val, field); good && r.step <= 0 {
				c.errorf(val, field, "must be greater than 0")
				good = false
			}
		}
		have[key], goodKeys[key] = true, good
		ok = ok && good
	}
	if resolve(n).Kind != yaml.MappingNode {
		return nil
	}
	for _, key := range []string{"template", "from", "to"} {
		if !have[key] {
			c.missing(n, path, key)
			ok = false
		}
	}
	if goodKeys["from"] && goodKeys["to"] && r.from > r.to {
		c.errorf(fromNode, path, "from (%d) is greater than to (%d)", r.from, r.to)
		ok = false
	}
	if goodKeys["template"] {
		// Numbers only change digits, so one URL stands for them all.
		if u := r.url(r.from); checkURL(u, c.dir) != nil {
			c.errorf(templateNode, path+".template", "invalid start URL %s: %v", quote(u), checkURL(u, c.dir))
			ok = false
		}
	}
	if !ok {
		return nil
	}
	if urls.Scheme(r.template) == "file" {
		r.dir = c.dir // relative file: URLs resolve per number
	}
	return r
}

// domain normalises an entry of allowed_domains: lower case, without port
// or surrounding dots.
func (c *compiler) domain(e strNode) (string, bool) {
	d := strings.ToLower(strings.TrimSpace(e.value))
	if strings.Contains(d, "/") {
		c.errorf(e.node, e.path, "want a domain name such as \"example.com\", not a URL: %s", quote(e.value))
		return "", false
	}
	if host, _, err := net.SplitHostPort(d); err == nil {
		d = host
	}
	d = strings.Trim(d, ".")
	if d == "" {
		c.errorf(e.node, e.path, "empty domain")
		return "", false
	}
	return d, true
}

// followRule compiles one entry of follow.
func (c *compiler) followRule(n *yaml.Node, path string) *followRule {
	r := &followRule{}
	if isNull(n) {
		return r // a bare "-": follow every link
	}
	for _, p := range c.pairs(n, path, followKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		switch key {
		case "css":
			v, ok := c.str(val, field)
			if !ok {
				break
			}
			sel, err := splitSelector(v)
			switch {
			case err != nil:
				c.errorf(val, field, "%v", err)
			case sel.pseudo && sel.out != outAttr:
				c.errorf(val, field, "want links: a CSS selector, optionally ending in ::attr(name)")
			default:
				r.sel, _ = c.css(val, field, sel.css)
				r.attr = sel.attr
			}
		case "allow":
			r.allow = c.regexes(val, field)
		case "deny":
			r.deny = c.regexes(val, field)
		}
	}
	return r
}

// itemRules compiles items.
func (c *compiler) itemRules(s *Spider, n *yaml.Node) {
	names := map[string]string{} // rule name -> path of the first rule with it
	for i, e := range c.seq(n, "items") {
		path := fmt.Sprintf("items[%d]", i)
		r, nameNode := c.itemRule(e, path)
		if r == nil {
			continue
		}
		if first, dup := names[r.name]; dup {
			if nameNode == nil {
				nameNode = e
			}
			c.errorf(nameNode, path, "%s is also the name of %s; give each rule its own name", quote(r.name), first)
			continue
		}
		names[r.name] = path
		s.items = append(s.items, r)
	}
}

// itemRule compiles one entry of items. It returns the rule, nil if the
// entry is not a mapping, and the node of its name, nil if it has none.
func (c *compiler) itemRule(n *yaml.Node, path string) (*itemRule, *yaml.Node) {
	r := &itemRule{name: "item"}
	var (
		nameNode *yaml.Node
		declared []string // field names, whether or not they compiled
		required []strNode
		hasField bool
	)
	for _, p := range c.pairs(n, path, itemKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		switch key {
		case "name":
			if v, ok := c.str(val, field); ok && v == "" {
				c.errorf(val, field, "empty name")
			} else if ok {
				r.name, nameNode = v, val
			}
		case "urls":
			r.urls = c.regexes(val, field)
		case "each":
			v, ok := c.str(val, field)
			if ok && pseudoRE.MatchString(v) {
				c.errorf(val, field, "want a CSS selector of elements, without ::text, ::attr or ::html")
			} else if ok {
				r.each, _ = c.css(val, field, v)
			}
		case "fields":
			hasField = true
			r.fields, declared = c.fields(val, field)
		case "required":
			required = c.strList(val, field)
		}
	}
	if resolve(n).Kind != yaml.MappingNode {
		return nil, nil
	}
	if !hasField {
		c.missing(n, path, "fields")
	}
	for _, e := range required {
		if contains(declared, e.value) {
			r.required = append(r.required, e.value)
		} else if s := suggest(e.value, declared); s != "" {
			c.errorf(e.node, e.path, "no field %s (did you mean %s?)", quote(e.value), quote(s))
		} else {
			c.errorf(e.node, e.path, "no field %s in fields", quote(e.value))
		}
	}
	return r, nameNode
}

// fields compiles the fields mapping of an item rule. It returns the
// fields that compiled and the names of all fields.
func (c *compiler) fields(n *yaml.Node, path string) ([]field, []string) {
	var (
		out   []field
		names []string
	)
	pairs := c.pairs(n, path, nil, false)
	for _, p := range pairs {
		name, val := p.key.Value, p.val
		names = append(names, name)
		if name == "" {
			c.errorf(p.key, path, "empty field name")
			continue
		}
		if ext := c.extractor(val, path+"."+name); ext != nil {
			out = append(out, field{name: name, ext: ext})
		}
	}
	if n = resolve(n); n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		c.errorf(n, path, "no fields")
	}
	return out, names
}

// extractor compiles one field: a selector string, or a mapping of css,
// regex and all.
func (c *compiler) extractor(n *yaml.Node, path string) extractor {
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			c.errorf(n, path, "missing selector")
			return nil
		}
		src := c.source(n, path, n.Value)
		if src == nil {
			return nil
		}
		return &valueExtractor{src: src}
	case yaml.MappingNode:
		e := &valueExtractor{}
		ok, hasCSS := true, false
		for _, p := range c.pairs(n, path, fieldKeys, true) {
			key, val := p.key.Value, p.val
			field := path + "." + key
			switch key {
			case "css":
				hasCSS = true
				v, good := c.str(val, field)
				if good {
					e.src = c.source(val, field, v)
				}
				ok = ok && e.src != nil
			case "regex":
				v, good := c.str(val, field)
				if good {
					var re *regexp.Regexp
					if re, good = c.regex(strNode{v, val, field}); good {
						e.procs = append(e.procs, regexProcessor{re})
					}
				}
				ok = ok && good
			case "all":
				var good bool
				e.all, good = c.boolean(val, field)
				ok = ok && good
			}
		}
		if !hasCSS {
			c.missing(n, path, "css")
			return nil
		}
		if !ok {
			return nil
		}
		return e
	}
	c.errorf(n, path, "want a selector or a mapping of css, regex and all, not %s", describe(n))
	return nil
}

// source compiles the selector of a field: "@url", or CSS with an optional
// ::text, ::attr(name) or ::html.
func (c *compiler) source(n *yaml.Node, path, sel string) source {
	if t := strings.TrimSpace(sel); strings.HasPrefix(t, "@") {
		if t == "@url" {
			return pageURL{}
		}
		c.errorf(n, path, "unknown value %s (want \"@url\")", quote(t))
		return nil
	}
	spec, err := splitSelector(sel)
	if err != nil {
		c.errorf(n, path, "%v", err)
		return nil
	}
	src := &cssSource{out: spec.out, attr: spec.attr}
	if spec.css == "" {
		if !spec.pseudo {
			c.errorf(n, path, "empty selector")
			return nil
		}
		return src // "::attr(href)" alone: the context element itself
	}
	var ok bool
	if src.sel, ok = c.css(n, path, spec.css); !ok {
		return nil
	}
	return src
}

// settings returns the settings mapping.
func (c *compiler) settings(n *yaml.Node) []Setting {
	var out []Setting
	for _, p := range c.pairs(n, "settings", nil, false) {
		key, val := p.key.Value, p.val
		field := "settings." + key
		switch {
		case val.Kind != yaml.ScalarNode:
			c.errorf(val, field, "want a single value, not %s", describe(val))
		case isNull(val):
			c.errorf(val, field, "missing value")
		default:
			out = append(out, Setting{Key: key, Value: val.Value, Line: p.key.Line})
		}
	}
	return out
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is the null scalar: "~", "null" or nothing.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names the kind of n for messages: "a list", "a mapping", or a
// scalar as written.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return quote(n.Value)
	}
	return "this"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
