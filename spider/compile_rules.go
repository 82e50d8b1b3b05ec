package spider

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/antchfx/xpath"
	"go.yaml.in/yaml/v3"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/http/httpguts"
)

// The keys of the mappings inside rules, in the order messages list them.
var (
	followKeys   = []string{"css", "xpath", "json", "allow", "deny", "text", "method", "headers", "body", "callback", "render"}
	itemKeys     = []string{"name", "urls", "each", "fields", "required", "unique"}
	fieldKeys    = []string{"css", "xpath", "json", "regex", "replace", "process", "normalize", "all", "join", "default", "type", "date_format", "absolute"}
	nestedKeys   = []string{"each", "fields"}
	selectorKeys = []string{"css", "xpath", "json"}
	processKeys  = []string{"normalize", "regex", "replace"}
	methods      = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	types        = []string{"int", "float", "bool", "date"}
)

// fieldCtx is what compiling a field needs to know about its rule.
type fieldCtx struct {
	json bool   // a JSON rule: plain strings are JSON paths
	rule string // the Rule of the items (or sub-items) the field belongs to
}

// lookup returns the value of key in the mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// selectorKind returns the first of the keys css, xpath and json of the
// mapping n, or "".
func selectorKind(n *yaml.Node) string {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && contains(selectorKeys, k.Value) {
			return k.Value
		}
	}
	return ""
}

// usesJSON reports whether a field definition selects with a JSON path.
func usesJSON(n *yaml.Node) bool {
	n = resolve(n)
	switch n.Kind {
	case yaml.SequenceNode:
		for _, e := range n.Content {
			if usesJSON(e) {
				return true
			}
		}
	case yaml.MappingNode:
		if lookup(n, "json") != nil {
			return true
		}
		if each := lookup(n, "each"); each != nil && lookup(each, "json") != nil {
			return true
		}
	}
	return false
}

// ruleIsJSON decides whether an item rule reads JSON responses: when the
// spider reads every response as JSON, when its each is a JSON path, or,
// without each, when one of its fields is.
func (c *compiler) ruleIsJSON(n *yaml.Node) bool {
	switch c.response {
	case responseJSON:
		return true
	case responseHTML:
		return false
	}
	if each := lookup(n, "each"); each != nil {
		return selectorKind(each) == "json"
	}
	if fields := lookup(n, "fields"); fields != nil && fields.Kind == yaml.MappingNode {
		for i := 1; i < len(fields.Content); i += 2 {
			if usesJSON(fields.Content[i]) {
				return true
			}
		}
	}
	return false
}

// defaultLinks is what a follow rule without a selector follows: every
// <a> and <area> with an href, and <link rel=next>.
type defaultLinks struct{}

func (defaultLinks) Match(n *html.Node) bool {
	switch n.DataAtom {
	case atom.A, atom.Area:
		_, ok := attr(n, "href")
		return ok
	case atom.Link:
		if _, ok := attr(n, "href"); !ok {
			return false
		}
		rel, _ := attr(n, "rel")
		return hasToken(rel, "next")
	}
	return false
}

// hasToken reports whether the space-separated list s holds tok, ignoring
// ASCII case, as rel values are compared.
func hasToken(s, tok string) bool {
	for _, f := range strings.Fields(s) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// followRule compiles one entry of follow. Callbacks are checked against
// the item rules by the caller.
func (c *compiler) followRule(n *yaml.Node, path string) (*followRule, *yaml.Node) {
	r := &followRule{xp: -1}
	if isNull(n) {
		if c.response == responseJSON {
			c.errorf(n, path, "want json: the JSON path of the links (the spider reads responses as JSON)")
		}
		r.sel = defaultLinks{}
		return r, nil
	}
	var (
		callbackNode *yaml.Node
		selNode      *yaml.Node
		selKey       string
		hasText      *yaml.Node
		hasBody      *yaml.Node
		form         bool
	)
	for _, p := range c.pairs(n, path, followKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		if contains(selectorKeys, key) {
			if selKey != "" {
				c.errorf(p.key, path, "%s and %s: give one selector per follow rule", selKey, key)
				continue
			}
			selKey, selNode = key, val
		}
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
				if m, ok := c.css(val, field, sel.css); ok {
					r.sel = m
				}
				r.attr = sel.attr
			}
		case "xpath":
			if v, ok := c.str(val, field); ok {
				r.xp, _ = c.xpath(val, field, v)
			}
		case "json":
			if v, ok := c.str(val, field); ok {
				r.json = c.jsonPath(val, field, v)
			}
		case "allow":
			r.allow = c.regexes(val, field)
		case "deny":
			r.deny = c.regexes(val, field)
		case "text":
			hasText = val
			r.text = c.regexes(val, field)
		case "method":
			if v, ok := c.str(val, field); ok {
				if m := strings.ToUpper(v); contains(methods, m) {
					r.method = m
				} else {
					c.errorf(val, field, "unknown method %s (want one of %s)", quote(v), strings.Join(methods, ", "))
				}
			}
		case "headers":
			r.header = c.headers(val, field)
		case "body":
			hasBody = val
			r.body, form = c.body(val, field)
		case "callback":
			if v, ok := c.str(val, field); ok {
				r.callback, callbackNode = v, val
			}
		case "render":
			r.render, r.renderSet = c.render(val, field), true
		}
	}
	if resolve(n).Kind != yaml.MappingNode {
		return nil, nil
	}
	switch {
	case selKey == "" && c.response == responseJSON:
		c.errorf(n, path, "missing json: the JSON path of the links (the spider reads responses as JSON)")
	case selKey == "":
		r.sel = defaultLinks{}
	case selKey == "json" && hasText != nil:
		c.errorf(hasText, path+".text", "text matches the text of HTML links, and json picks links from JSON")
	case selKey != "json" && c.response == responseJSON:
		c.errorf(selNode, path+"."+selKey, "%s selects links in HTML, but the spider reads responses as JSON", selKey)
	}
	if form && r.header.Get("Content-Type") == "" {
		if r.header == nil {
			r.header = http.Header{}
		}
		r.header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if hasBody != nil {
		switch r.method {
		case "":
			r.method = http.MethodPost
		case http.MethodGet, http.MethodHead:
			c.errorf(hasBody, path+".body", "a %s request has no body (set method: POST)", r.method)
		}
	}
	return r, callbackNode
}

// headers compiles a mapping of request headers.
func (c *compiler) headers(n *yaml.Node, path string) http.Header {
	h := http.Header{}
	for _, p := range c.pairs(n, path, nil, false) {
		name := p.key.Value
		field := path + "." + name
		if !httpguts.ValidHeaderFieldName(name) {
			c.errorf(p.key, path, "invalid header name %s", quote(name))
			continue
		}
		if p.val.Kind != yaml.ScalarNode || isNull(p.val) {
			c.errorf(p.val, field, "want a header value, not %s", describe(p.val))
			continue
		}
		if !httpguts.ValidHeaderFieldValue(p.val.Value) {
			c.errorf(p.val, field, "invalid header value %s", quote(p.val.Value))
			continue
		}
		h.Add(name, p.val.Value)
	}
	return h
}

// body compiles a request body: a mapping of form fields, URL-encoded in
// file order (form reports it), or a string sent as it is.
func (c *compiler) body(n *yaml.Node, path string) (body []byte, form bool) {
	if n.Kind == yaml.ScalarNode {
		v, ok := c.str(n, path)
		if !ok {
			return nil, false
		}
		return []byte(v), false
	}
	if n.Kind != yaml.MappingNode {
		c.errorf(n, path, "want a mapping of form fields or a string, not %s", describe(n))
		return nil, false
	}
	var b strings.Builder
	for _, p := range c.pairs(n, path, nil, false) {
		if p.val.Kind != yaml.ScalarNode || isNull(p.val) {
			c.errorf(p.val, path+"."+p.key.Value, "want a form value, not %s", describe(p.val))
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.key.Value))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.val.Value))
	}
	return []byte(b.String()), true
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
	r := &itemRule{name: "item", json: c.ruleIsJSON(n)}
	var (
		nameNode *yaml.Node
		declared []string // field names, whether or not they compiled
		required []strNode
		unique   []strNode
		hasField bool
	)
	for _, p := range c.pairs(n, path, itemKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		switch key {
		case "name":
			if v, ok := c.str(val, field); ok {
				if c.ruleName(val, field, v) {
					r.name, nameNode = v, val
				}
			}
		case "urls":
			r.urls = c.regexes(val, field)
		case "each":
			r.each = c.scoper(val, field, r.json)
		case "fields":
			hasField = true
		case "required":
			required = c.strList(val, field)
		case "unique":
			unique = c.strList(val, field)
		}
	}
	if resolve(n).Kind != yaml.MappingNode {
		return nil, nil
	}
	if fields := lookup(n, "fields"); fields != nil && !isNull(fields) {
		r.fields, declared, r.typed = c.fields(fields, path+".fields", fieldCtx{json: r.json, rule: r.name})
	}
	if !hasField {
		c.missing(n, path, "fields")
	}
	r.names = declared
	r.required = c.fieldNames(required, declared)
	r.unique = c.fieldNames(unique, declared)
	if len(r.unique) > 0 {
		r.seen = newFPSet()
	}
	return r, nameNode
}

// ruleName checks the name of an item rule.
func (c *compiler) ruleName(n *yaml.Node, path, name string) bool {
	switch {
	case name == "":
		c.errorf(n, path, "empty name")
	case strings.HasPrefix(name, "@"):
		c.errorf(n, path, "names starting with @ are reserved")
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		c.errorf(n, path, "control character in name %s", quote(name))
	default:
		return true
	}
	return false
}

// fieldNames checks that every name of a required or unique list is a
// declared field.
func (c *compiler) fieldNames(list []strNode, declared []string) []string {
	var out []string
	for _, e := range list {
		if contains(declared, e.value) {
			out = append(out, e.value)
		} else if s := suggest(e.value, declared); s != "" {
			c.errorf(e.node, e.path, "no field %s (did you mean %s?)", quote(e.value), quote(s))
		} else {
			c.errorf(e.node, e.path, "no field %s in fields", quote(e.value))
		}
	}
	return out
}

// scoper compiles the each of an item rule or a nested field: a CSS
// selector of elements, or a mapping of css, xpath or json; in a JSON rule
// a plain string is a JSON path.
func (c *compiler) scoper(n *yaml.Node, path string, json bool) scoper {
	key, val := "css", n
	if json {
		key = "json"
	}
	switch n.Kind {
	case yaml.ScalarNode:
	case yaml.MappingNode:
		pairs := c.pairs(n, path, selectorKeys, true)
		if len(pairs) == 0 {
			if resolve(n).Kind == yaml.MappingNode && len(c.misspelt[resolve(n)]) == 0 {
				c.errorf(n, path, "missing a selector: css, xpath or json")
			}
			return nil
		}
		if len(pairs) > 1 {
			c.errorf(pairs[1].key, path, "%s and %s: give one selector", pairs[0].key.Value, pairs[1].key.Value)
			return nil
		}
		key, val = pairs[0].key.Value, pairs[0].val
		path += "." + key
	default:
		c.errorf(n, path, "want a selector or a mapping of css, xpath or json, not %s", describe(n))
		return nil
	}
	v, ok := c.str(val, path)
	if !ok || !c.kindOK(val, path, key, json) {
		return nil
	}
	switch key {
	case "css":
		if pseudoRE.MatchString(v) {
			c.errorf(val, path, "want a CSS selector of elements, without ::text, ::attr or ::html")
			return nil
		}
		if sel, ok := c.css(val, path, v); ok {
			return cssScoper{sel}
		}
	case "xpath":
		if id, ok := c.xpath(val, path, v); ok {
			return xpathScoper{id}
		}
	case "json":
		if p := c.jsonPath(val, path, v); p != nil {
			return jsonScoper{p}
		}
	}
	return nil
}

// kindOK reports whether a selector of kind key may be used in a rule that
// reads JSON (json) or HTML, reporting one that may not.
func (c *compiler) kindOK(n *yaml.Node, path, key string, json bool) bool {
	switch {
	case json && key != "json":
		c.errorf(n, path, "%s selects in HTML, but this rule reads JSON (its each is a JSON path, one of its fields is, or the spider has response: json)", key)
		return false
	case !json && key == "json" && c.response == responseHTML:
		c.errorf(n, path, "json selects in JSON, but the spider reads responses as HTML (response: html)")
		return false
	case !json && key == "json":
		c.errorf(n, path, "json selects in JSON, but this rule reads HTML (give it each: {json: …}, or set response: json)")
		return false
	}
	return true
}

// fields compiles the fields mapping of an item rule or nested field. It
// returns the fields that compiled, the names of all the fields the items
// may have, and whether any of them converts to a type.
func (c *compiler) fields(n *yaml.Node, path string, fc fieldCtx) ([]fieldExtractor, []string, bool) {
	var (
		out   []fieldExtractor
		names []string
		typed bool
	)
	for _, p := range c.pairs(n, path, nil, false) {
		name, val := p.key.Value, p.val
		if name == "" {
			c.errorf(p.key, path, "empty field name")
			continue
		}
		ext, outNames, t := c.field(val, path+"."+name, name, fc)
		names = append(names, outNames...)
		typed = typed || t
		if ext != nil {
			out = append(out, ext)
		}
	}
	if n = resolve(n); n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		c.errorf(n, path, "no fields")
	}
	return out, names, typed
}

// field compiles one field: a selector, a list of alternatives, a mapping
// of selectors and processors, or a nested field (each and fields). It
// returns the extractor (nil when the field has problems), the names of
// the item fields it fills, and whether it converts to a type.
func (c *compiler) field(n *yaml.Node, path, name string, fc fieldCtx) (fieldExtractor, []string, bool) {
	names := []string{name}
	switch n.Kind {
	case yaml.ScalarNode:
		e := c.valueField(n, path, name, fc)
		if e == nil {
			return nil, names, false
		}
		return e, names, false
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			c.errorf(n, path, "empty list of selectors")
			return nil, names, false
		}
		f := &fallbackExtractor{name: name}
		ok, typed := true, false
		for i, e := range n.Content {
			e = resolve(e)
			p := fmt.Sprintf("%s[%d]", path, i)
			if e.Kind == yaml.SequenceNode {
				c.errorf(e, p, "want a selector or a mapping of selectors and processors, not a list")
				ok = false
				continue
			}
			if lookup(e, "each") != nil || lookup(e, "fields") != nil {
				c.errorf(e, p, "a list of alternatives cannot hold sub-items (each and fields)")
				ok = false
				continue
			}
			alt := c.valueField(e, p, name, fc)
			if alt == nil {
				ok = false
				continue
			}
			if alt.groups != nil {
				c.errorf(e, p, "a regex with named groups fills several fields, which a list of alternatives cannot")
				ok = false
			}
			typed = typed || alt.conv != nil
			f.alts = append(f.alts, alt)
		}
		if !ok {
			return nil, names, typed
		}
		if len(f.alts) == 1 {
			return f.alts[0], names, typed
		}
		return f, names, typed
	case yaml.MappingNode:
		if lookup(n, "each") != nil || lookup(n, "fields") != nil {
			return c.nested(n, path, name, fc)
		}
		e := c.valueField(n, path, name, fc)
		if e == nil {
			// A regex of named groups declares its fields even when the
			// rest of the field has problems.
			if re := lookup(n, "regex"); re != nil && re.Kind == yaml.ScalarNode {
				if r, err := regexp.Compile(re.Value); err == nil && len(groupNames(r)) > 0 {
					names = groupNames(r)
				}
			}
			return nil, names, false
		}
		if e.groups != nil {
			names = e.groups
		}
		return e, names, e.conv != nil
	}
	c.errorf(n, path, "want a selector, a list of selectors or a mapping, not %s", describe(n))
	return nil, names, false
}

// nested compiles a field of sub-items.
func (c *compiler) nested(n *yaml.Node, path, name string, fc fieldCtx) (fieldExtractor, []string, bool) {
	f := &nestedExtractor{name: name, rule: fc.rule + "." + name}
	var (
		ok    = true
		typed bool
	)
	for _, p := range c.pairs(n, path, nestedKeys, true) {
		field := path + "." + p.key.Value
		switch p.key.Value {
		case "each":
			f.each = c.scoper(p.val, field, fc.json)
			ok = ok && f.each != nil
		case "fields":
			sub := fieldCtx{json: fc.json, rule: f.rule}
			n := len(c.errs)
			f.fields, _, typed = c.fields(p.val, field, sub)
			ok = ok && len(c.errs) == n
		}
	}
	for _, key := range nestedKeys {
		if lookup(n, key) == nil {
			c.missing(n, path, key)
			ok = false
		}
	}
	if !ok {
		return nil, []string{name}, typed
	}
	return f, []string{name}, typed
}

// groupNames returns the names of a regex's named groups, in order.
func groupNames(re *regexp.Regexp) []string {
	var names []string
	for _, n := range re.SubexpNames() {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

// valueField compiles a field that computes a value: a selector string, or
// a mapping of selectors (css, xpath, json: tried in the order written) and
// processors.
func (c *compiler) valueField(n *yaml.Node, path, name string, fc fieldCtx) *valueExtractor {
	e := &valueExtractor{name: name}
	if n.Kind == yaml.ScalarNode {
		if isNull(n) {
			c.errorf(n, path, "missing selector")
			return nil
		}
		key := "css"
		if fc.json {
			key = "json"
		}
		src := c.selector(key, strNode{n.Value, n, path}, false, false)
		if src == nil {
			return nil
		}
		e.srcs = []source{src}
		return e
	}
	if n.Kind != yaml.MappingNode {
		c.errorf(n, path, "want a selector or a mapping of selectors and processors, not %s", describe(n))
		return nil
	}

	type selEntry struct {
		key string
		str strNode
	}
	var (
		ok        = true
		sels      []selEntry
		hasSel    bool
		regexNode *yaml.Node
		re        *regexp.Regexp
		replaces  []processor
		process   []processor
		procNode  *yaml.Node
		normalize *bool
		all       *bool
		allNode   *yaml.Node
		join      *string
		defNode   *yaml.Node
		typ       string
		typNode   *yaml.Node
		dateFmt   *yaml.Node
		absNode   *yaml.Node
	)
	bad := func() { ok = false }
	for _, p := range c.pairs(n, path, fieldKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		switch key {
		case "css", "xpath", "json":
			hasSel = true
			if !c.kindOK(val, field, key, fc.json) {
				bad()
				continue
			}
			list := c.strList(val, field)
			if len(list) == 0 {
				if val.Kind == yaml.SequenceNode {
					c.errorf(val, field, "empty list of selectors")
				}
				bad()
			}
			for _, s := range list {
				sels = append(sels, selEntry{key, s})
			}
		case "regex":
			v, good := c.str(val, field)
			if good {
				re, good = c.regex(strNode{v, val, field})
			}
			if !good {
				bad()
			}
			regexNode = val
		case "replace":
			replaces = c.replace(val, field)
			if replaces == nil {
				bad()
			}
		case "process":
			procNode = val
			process = c.process(val, field)
			if process == nil {
				bad()
			}
		case "normalize":
			v, good := c.boolean(val, field)
			if !good {
				bad()
			}
			normalize = &v
		case "all":
			v, good := c.boolean(val, field)
			if !good {
				bad()
			}
			all, allNode = &v, val
		case "join":
			v, good := c.str(val, field)
			if !good {
				bad()
			}
			join = &v
		case "default":
			defNode = val
		case "type":
			v, good := c.str(val, field)
			if good && !contains(types, v) {
				if s := suggest(v, types); s != "" {
					c.errorf(val, field, "unknown type %s (did you mean %s?)", quote(v), quote(s))
				} else {
					c.errorf(val, field, "unknown type %s (want one of %s)", quote(v), strings.Join(types, ", "))
				}
				good = false
			}
			if !good {
				bad()
			}
			typ, typNode = v, val
		case "date_format":
			dateFmt = val
		case "absolute":
			v, good := c.boolean(val, field)
			if !good {
				bad()
			}
			if v {
				absNode = val
			}
		}
	}

	// Collecting.
	if all != nil && *all {
		e.mode = modeAll
	}
	if join != nil {
		if all != nil && !*all {
			c.errorf(allNode, path+".all", "join joins every value: leave out all: false")
			bad()
		}
		e.mode, e.sep = modeJoin, *join
	}

	// Processors, in the order of the process list, or: normalize, regex,
	// replace.
	if procNode != nil && (regexNode != nil || replaces != nil) {
		c.errorf(procNode, path+".process", "use either process or regex and replace")
		bad()
	}
	if normalize != nil && *normalize {
		e.procs = append(e.procs, normalizeProcessor{})
	}
	raw := normalize != nil && !*normalize
	if re != nil {
		if groups := groupNames(re); len(groups) > 0 {
			if e.mode != modeFirst {
				c.errorf(regexNode, path+".regex", "a regex with named groups fills one field per group, so it takes a single value (no all or join)")
				bad()
			}
			e.groups, e.groupRE, e.pre = groups, re, e.procs
			e.procs = nil
		} else {
			e.procs = append(e.procs, regexProcessor{re})
		}
	}
	e.procs = append(e.procs, replaces...)
	e.procs = append(e.procs, process...)

	// Type and absolute.
	if typ != "" {
		switch typ {
		case "int":
			e.conv = convInt{}
		case "float":
			e.conv = convFloat{}
		case "bool":
			e.conv = convBool{}
		case "date":
			d := convDate{layouts: dateLayouts}
			if dateFmt != nil {
				if v, good := c.str(dateFmt, path+".date_format"); good {
					layout, err := strftime(v)
					if err != nil {
						c.errorf(dateFmt, path+".date_format", "%v", err)
						bad()
					}
					d.layouts = []string{layout}
				} else {
					bad()
				}
			}
			e.conv = d
		}
	}
	if dateFmt != nil && typ != "date" {
		c.errorf(dateFmt, path+".date_format", "date_format goes with type: date")
		bad()
	}
	if absNode != nil {
		if typNode != nil {
			c.errorf(absNode, path+".absolute", "absolute makes a URL, which type %s cannot also be", typ)
			bad()
		}
		e.absolute = true
	}

	// Default, checked against the type.
	if defNode != nil {
		if !c.fieldDefault(e, defNode, path+".default") {
			bad()
		}
	}

	// Sources.
	for _, s := range sels {
		src := c.selector(s.key, s.str, raw, e.mode != modeFirst)
		if src == nil {
			bad()
			continue
		}
		e.srcs = append(e.srcs, src)
	}
	if !hasSel && defNode == nil {
		if m := c.misspelt[resolve(n)]; !contains(m, "css") && !contains(m, "xpath") && !contains(m, "json") {
			if fc.json {
				c.errorf(n, path, "missing json (or a default)")
			} else {
				c.errorf(n, path, "missing a selector: css or xpath (or a default)")
			}
		}
		bad()
	}
	if !ok {
		return nil
	}
	return e
}

// fieldDefault compiles the default of a field: text for a single value,
// a list (or one text) for a list field. It must convert to the field's
// type.
func (c *compiler) fieldDefault(e *valueExtractor, n *yaml.Node, path string) bool {
	var vals []strNode
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		vals = []strNode{{n.Value, n, path}}
	case n.Kind == yaml.SequenceNode && e.mode == modeAll:
		vals = c.strList(n, path)
		if len(vals) != len(n.Content) {
			return false
		}
	case e.mode == modeAll:
		c.errorf(n, path, "want a value or a list of values, not %s", describe(n))
		return false
	default:
		c.errorf(n, path, "want a value, not %s", describe(n))
		return false
	}
	if e.conv != nil {
		for _, v := range vals {
			if _, err := e.conv.convert(value{s: v.value}); err != nil {
				c.errorf(v.node, v.path, "%s is %v", quote(v.value), err)
				return false
			}
		}
	}
	e.hasDef = true
	if e.mode == modeAll {
		e.defList = make([]string, len(vals))
		for i, v := range vals {
			e.defList[i] = v.value
		}
		return true
	}
	e.def = &value{s: vals[0].value}
	return true
}

// replace compiles replace: a mapping of regex to replacement, applied in
// the order written.
func (c *compiler) replace(n *yaml.Node, path string) []processor {
	pairs := c.pairs(n, path, nil, false)
	if resolve(n).Kind != yaml.MappingNode {
		return nil
	}
	out := []processor{}
	ok := true
	for _, p := range pairs {
		re, good := c.regex(strNode{p.key.Value, p.key, path})
		if p.val.Kind != yaml.ScalarNode {
			c.errorf(p.val, path+"."+p.key.Value, "want the replacement text, not %s", describe(p.val))
			good = false
		}
		if !good {
			ok = false
			continue
		}
		with := p.val.Value
		if isNull(p.val) {
			with = ""
		}
		out = append(out, replaceProcessor{re, with})
	}
	if len(pairs) == 0 {
		c.errorf(n, path, "want a mapping of regex: replacement")
		return nil
	}
	if !ok {
		return nil
	}
	return out
}

// process compiles a process list: each entry a mapping of one processor
// (normalize: true, regex: '…', replace: {…}), or the word normalize.
func (c *compiler) process(n *yaml.Node, path string) []processor {
	entries := c.seq(n, path)
	if entries == nil {
		return nil
	}
	out := []processor{}
	ok := true
	for i, e := range entries {
		p := fmt.Sprintf("%s[%d]", path, i)
		if e.Kind == yaml.ScalarNode && e.Value == "normalize" {
			out = append(out, normalizeProcessor{})
			continue
		}
		pairs := c.pairs(e, p, processKeys, true)
		if e.Kind != yaml.MappingNode {
			ok = false
			continue
		}
		switch {
		case len(pairs) > 1:
			c.errorf(e, p, "want one processor per entry, not %s and %s", pairs[0].key.Value, pairs[1].key.Value)
		case len(pairs) == 0 && len(e.Content) == 0:
			c.errorf(e, p, "want a processor: normalize, regex or replace")
		}
		if len(pairs) != 1 {
			ok = false
			continue
		}
		key, val := pairs[0].key.Value, pairs[0].val
		field := p + "." + key
		switch key {
		case "normalize":
			if v, good := c.boolean(val, field); !good {
				ok = false
			} else if v {
				out = append(out, normalizeProcessor{})
			}
		case "regex":
			v, good := c.str(val, field)
			var re *regexp.Regexp
			if good {
				re, good = c.regex(strNode{v, val, field})
			}
			switch {
			case !good:
				ok = false
			case len(groupNames(re)) > 0:
				c.errorf(val, field, "named groups fill several fields: use the regex key of the field for them")
				ok = false
			default:
				out = append(out, regexProcessor{re})
			}
		case "replace":
			if r := c.replace(val, field); r != nil {
				out = append(out, r...)
			} else {
				ok = false
			}
		}
	}
	if !ok {
		return nil
	}
	return out
}

// selector compiles one selector of a field: CSS (with ::text, ::attr or
// ::html), XPath, or a JSON path; "@url" and "@lastmod" in CSS or JSON.
func (c *compiler) selector(key string, e strNode, raw, flat bool) source {
	n, path, sel := e.node, e.path, e.value
	if t := strings.TrimSpace(sel); strings.HasPrefix(t, "@") && key != "xpath" {
		switch t {
		case "@url":
			return pageURL{}
		case "@lastmod":
			return pageLastmod{}
		}
		c.errorf(n, path, "unknown value %s (want \"@url\" or \"@lastmod\")", quote(t))
		return nil
	}
	switch key {
	case "xpath":
		id, ok := c.xpath(n, path, sel)
		if !ok {
			return nil
		}
		return &xpathSource{id: id, raw: raw}
	case "json":
		p := c.jsonPath(n, path, sel)
		if p == nil {
			return nil
		}
		return &jsonSource{path: p, flat: flat}
	}
	spec, err := splitSelector(sel)
	if err != nil {
		c.errorf(n, path, "%v", err)
		return nil
	}
	src := &cssSource{out: spec.out, attr: spec.attr, raw: raw}
	if spec.css == "" {
		if !spec.pseudo {
			c.errorf(n, path, "empty selector")
			return nil
		}
		return src // "::attr(href)" alone: the context element itself
	}
	m, ok := c.css(n, path, spec.css)
	if !ok {
		return nil
	}
	src.sel = m
	return src
}

// xpath checks an XPath expression and adds it to the spider's set.
func (c *compiler) xpath(n *yaml.Node, path, expr string) (int, bool) {
	if strings.TrimSpace(expr) == "" {
		c.errorf(n, path, "empty XPath expression")
		return -1, false
	}
	if _, err := xpath.Compile(expr); err != nil {
		c.errorf(n, path, "invalid XPath expression %s: %v", quote(expr), err)
		return -1, false
	}
	return c.xpaths.add(expr), true
}

// jsonPath compiles a JSON path.
func (c *compiler) jsonPath(n *yaml.Node, path, src string) *jsonPath {
	p, err := parseJSONPath(src)
	if err != nil {
		c.errorf(n, path, "invalid JSON path %s: %v", quote(src), err)
		return nil
	}
	return p
}
