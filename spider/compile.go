package spider

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"crawl/urls"
)

// The keys each mapping of a spider file may have, in the order messages
// list them.
var (
	topKeys = []string{
		"name", "start_urls", "start_urls_file", "start_urls_range",
		"sitemap_urls", "sitemap_rules", "sitemap_follow", "sitemap_since", "sitemap_from_robots",
		"allowed_domains", "canonical", "respect_nofollow", "response",
		"follow", "items", "tests", "settings", "render",
	}
	rangeKeys = []string{"template", "from", "to", "step"}
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

	response responseKind // the response key, which decides how rules read
	xpaths   *xpathSet    // the spider's XPath expressions
	cssCount int          // the CSS selectors compiled

	noStartOK bool // start URLs are not required: see LoadForPages
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

func (c *compiler) compile(data []byte) *Spider {
	s := &Spider{file: c.file, Name: defaultName(c.file)}
	if len(data) > MaxFileSize {
		c.errs = append(c.errs, tooBig(c.file))
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		c.errs = append(c.errs, yamlError(c.file, data, err))
		return nil
	}
	if len(doc.Content) == 0 {
		c.errorf(nil, "", "spider file is empty")
		return nil
	}
	size := sizeCheck{file: c.file}
	size.walk(doc.Content[0], "", 0)
	if size.err != nil {
		c.errs = append(c.errs, size.err)
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		c.errorf(root, "", "want a mapping of spider keys, not %s", describe(root))
		return nil
	}

	// Keys are compiled in an order of their own, so that what one key
	// refers to (the item rules a callback names, how responses are read)
	// is known when it is compiled; problems are sorted by line anyway.
	vals := map[string]*yaml.Node{}
	keyNodes := map[string]*yaml.Node{}
	for _, p := range c.pairs(root, "", topKeys, true) {
		vals[p.key.Value], keyNodes[p.key.Value] = p.val, p.key
	}
	c.xpaths = &s.xpaths
	if val := vals["response"]; val != nil {
		s.response = c.responseKind(val)
		c.response = s.response
	}

	hasStart := false
	for _, key := range compileOrder {
		val := vals[key]
		if val == nil {
			continue
		}
		switch key {
		case "name":
			if v, ok := c.str(val, key); ok && v == "" {
				c.errorf(val, key, "empty name")
			} else if ok {
				s.Name = v
			}
		case "start_urls":
			hasStart = hasStart || val.Kind != yaml.SequenceNode || len(val.Content) > 0
			s.startURLs = c.startURLs(val, key, "start URL")
		case "start_urls_file":
			hasStart = true
			if v, ok := c.str(val, key); ok {
				s.startFile = c.startFile(val, v)
			}
		case "start_urls_range":
			hasStart = true
			s.startRange = c.urlRange(val)
		case "sitemap_urls":
			hasStart = hasStart || val.Kind != yaml.SequenceNode || len(val.Content) > 0
			s.sitemapURLs = c.startURLs(val, key, "sitemap URL")
		case "sitemap_rules":
			for i, n := range c.seq(val, key) {
				if r := c.sitemapRule(s, n, fmt.Sprintf("sitemap_rules[%d]", i)); r != nil {
					s.sitemapRules = append(s.sitemapRules, r)
				}
			}
		case "sitemap_follow":
			s.sitemapFollow = c.regexes(val, key)
		case "sitemap_since":
			s.sitemapSince = c.since(val, key)
		case "sitemap_from_robots":
			s.sitemapFromRobots, _ = c.boolean(val, key)
		case "allowed_domains":
			for _, e := range c.strList(val, key) {
				if d, ok := c.domain(e); ok && !contains(s.AllowedDomains, d) {
					s.AllowedDomains = append(s.AllowedDomains, d)
				}
			}
		case "canonical":
			s.Canon = c.canonical(val)
		case "respect_nofollow":
			s.respectNofollow, _ = c.boolean(val, key)
		case "follow":
			for i, n := range c.seq(val, key) {
				path := fmt.Sprintf("follow[%d]", i)
				r, cb := c.followRule(n, path)
				if r == nil {
					continue
				}
				if cb != nil && !c.callback(s, cb, path+".callback", r.callback) {
					continue
				}
				r.index = len(s.follow)
				s.follow = append(s.follow, r)
			}
		case "items":
			c.itemRules(s, val)
		case "tests":
			s.tests = c.contracts(s, val)
		case "settings":
			s.Settings = c.settings(val)
		case "render":
			s.render = c.render(val, key)
		}
	}
	if !hasStart && !c.noStartOK {
		c.errorf(root, "", "no start URLs: set start_urls, start_urls_file, start_urls_range or sitemap_urls")
	}
	if len(s.sitemapURLs) == 0 && !s.sitemapFromRobots {
		for _, key := range []string{"sitemap_rules", "sitemap_follow", "sitemap_since"} {
			if n := keyNodes[key]; n != nil {
				c.errorf(n, "", "%s has no effect without sitemap_urls or sitemap_from_robots", key)
			}
		}
	}
	// A rule without urls that a follow or sitemap rule names as its
	// callback scrapes only the pages requested for it, as a Scrapy
	// callback does, not every page.
	callbacks := map[string]bool{}
	for _, r := range s.follow {
		callbacks[r.callback] = true
	}
	for _, r := range s.sitemapRules {
		callbacks[r.callback] = true
	}
	for _, r := range s.items {
		s.hasJSON = s.hasJSON || r.json
		r.onlyCB = len(r.urls) == 0 && callbacks[r.name]
	}
	for _, r := range s.follow {
		s.hasJSON = s.hasJSON || r.json != nil
	}
	s.chains = chainRules(s.follow)
	s.found = new(sync.Pool)
	s.xpaths.seal()
	s.selectors = c.cssCount + len(s.xpaths.srcs)
	return s
}

// compileOrder is the order top-level keys are compiled in: the item rules
// before the follow rules, sitemap rules and tests that name them.
var compileOrder = []string{
	"name", "start_urls", "start_urls_file", "start_urls_range", "allowed_domains",
	"canonical", "respect_nofollow", "render", "items", "follow",
	"sitemap_urls", "sitemap_rules", "sitemap_follow", "sitemap_since", "sitemap_from_robots",
	"tests", "settings",
}

// startURLs compiles a list of start URLs (or sitemap URLs).
func (c *compiler) startURLs(n *yaml.Node, path, what string) []string {
	var out []string
	for _, e := range c.strList(n, path) {
		u, err := checkStartURL(e.value, c.dir)
		if err != nil {
			c.errorf(e.node, e.path, "invalid %s %s: %v", what, quote(e.value), err)
			continue
		}
		out = append(out, u)
	}
	return out
}

// responseKind compiles the response key.
func (c *compiler) responseKind(n *yaml.Node) responseKind {
	v, ok := c.str(n, "response")
	if !ok {
		return responseAuto
	}
	switch v {
	case "auto":
		return responseAuto
	case "html":
		return responseHTML
	case "json":
		return responseJSON
	}
	c.errorf(n, "response", "want auto, html or json, not %s", quote(v))
	return responseAuto
}

// callback checks that a callback names an item rule.
func (c *compiler) callback(s *Spider, n *yaml.Node, path, name string) bool {
	var names []string
	for _, r := range s.items {
		if r.name == name {
			return true
		}
		names = append(names, r.name)
	}
	switch hint := suggest(name, names); {
	case len(names) == 0:
		c.errorf(n, path, "no item rule %s: the spider has no items", quote(name))
	case hint != "":
		c.errorf(n, path, "no item rule %s (did you mean %s?)", quote(name), quote(hint))
	default:
		c.errorf(n, path, "no item rule %s (want one of %s)", quote(name), strings.Join(names, ", "))
	}
	return false
}

// canonical compiles the canonical mapping into a urls.Canon, by the yaml
// names of its fields, and validates it.
func (c *compiler) canonical(n *yaml.Node) urls.Canon {
	var canon urls.Canon
	rv := reflect.ValueOf(&canon).Elem()
	var keys []string
	index := map[string]int{}
	for i := range rv.NumField() {
		name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
			index[name] = i
		}
	}
	nodes := map[string]*yaml.Node{}
	for _, p := range c.pairs(n, "canonical", keys, true) {
		key, val := p.key.Value, p.val
		field, f := "canonical."+key, rv.Field(index[key])
		nodes[key] = val
		switch {
		case f.Kind() == reflect.Bool:
			if v, ok := c.boolean(val, field); ok {
				f.SetBool(v)
			}
		case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Bool:
			if v, ok := c.boolean(val, field); ok {
				f.Set(reflect.ValueOf(&v))
			}
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			list := c.strList(val, field)
			vals := make([]string, len(list))
			for i, e := range list {
				vals[i] = e.value
			}
			f.Set(reflect.ValueOf(vals))
		default:
			if err := val.Decode(f.Addr().Interface()); err != nil {
				c.errorf(val, field, "%v", err)
			}
		}
	}
	if err := canon.Validate(); err != nil {
		at := n
		if m := canonErrorRE.FindStringSubmatch(err.Error()); m != nil && nodes[m[1]] != nil {
			at = nodes[m[1]]
			if i, _ := strconv.Atoi(m[2]); at.Kind == yaml.SequenceNode && i < len(at.Content) {
				at = at.Content[i]
			}
		}
		c.errorf(at, "", "%v", err)
	}
	return canon
}

// canonErrorRE finds the key and list index that a urls.Canon.Validate
// error is about.
var canonErrorRE = regexp.MustCompile(`^canonical: (\w+)\[(\d+)\]`)

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
func (c *compiler) css(n *yaml.Node, path, sel string) (*cssMatcher, bool) {
	if strings.TrimSpace(sel) == "" {
		c.errorf(n, path, "empty CSS selector")
		return nil, false
	}
	compiled, err := compileCSS(sel)
	var uerr *unboundedError
	if errors.As(err, &uerr) {
		c.errorf(n, path, "CSS selector %s refused: %v", quote(sel), err)
		return nil, false
	}
	if err != nil {
		c.errorf(n, path, "invalid CSS selector %s: %v", quote(sel), err)
		return nil, false
	}
	c.cssCount++
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
			out = append(out, Setting{Key: key, Value: val.Value, Line: p.key.Line, Col: p.key.Column})
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
