package spider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"crawl/downloader"
	"crawl/item"
	"crawl/urls"
)

// Contract is one entry of a spider's tests, like a Scrapy contract: a page
// and what the spider must find on it. `crawl check --run` verifies them.
type Contract struct {
	// Index is the contract's place in tests; Line its line in the file.
	Index int
	Line  int
	// URL is the page's URL: what item rules match and links resolve
	// against.
	URL string
	// Page is the absolute path of a saved copy of the page, read instead
	// of fetching URL; "" means fetch URL.
	Page string
	// Rule names the item rule that scrapes the page, as a callback would;
	// "" means every rule whose urls match.
	Rule string

	count  *countRange
	items  []wantItem
	fields []string
	links  []string // absolute
}

// countRange is the number of items a contract expects.
type countRange struct{ min, max int64 } // max < 0: no maximum

// wantItem is the fields one item must have, and with what values.
type wantItem []wantField

type wantField struct {
	name string
	want any  // the JSON form of the value (decoded), when present
	none bool // the field must be absent
}

var (
	contractKeys = []string{"url", "page", "rule", "count", "items", "fields", "links"}
	countKeys    = []string{"min", "max"}
)

// Contracts returns the spider's tests, in file order.
func (s *Spider) Contracts() []*Contract { return s.tests }

// contracts compiles tests.
func (c *compiler) contracts(s *Spider, n *yaml.Node) []*Contract {
	var out []*Contract
	for i, e := range c.seq(n, "tests") {
		path := fmt.Sprintf("tests[%d]", i)
		if k := c.contract(s, e, path); k != nil {
			k.Index = i
			out = append(out, k)
		}
	}
	return out
}

func (c *compiler) contract(s *Spider, n *yaml.Node, path string) *Contract {
	k := &Contract{Line: n.Line}
	ok := true
	var (
		itemsNode, linksNode *yaml.Node
		fields               []strNode
	)
	for _, p := range c.pairs(n, path, contractKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		switch key {
		case "url":
			if v, good := c.str(val, field); good {
				u, err := checkStartURL(v, c.dir)
				if err != nil {
					c.errorf(val, field, "invalid URL %s: %v", quote(v), err)
					ok = false
				}
				k.URL = u
			} else {
				ok = false
			}
		case "page":
			if v, good := c.str(val, field); good {
				k.Page = c.savedPage(val, field, v)
				ok = ok && k.Page != ""
			} else {
				ok = false
			}
		case "rule":
			if v, good := c.str(val, field); good && c.callback(s, val, field, v) {
				k.Rule = v
			} else {
				ok = false
			}
		case "count":
			k.count = c.count(val, field)
			ok = ok && k.count != nil
		case "items":
			itemsNode = val
		case "fields":
			fields = c.strList(val, field)
		case "links":
			linksNode = val
		}
	}
	if resolve(n).Kind != yaml.MappingNode {
		return nil
	}
	if k.URL == "" && k.Page == "" && ok {
		if m := c.misspelt[resolve(n)]; !contains(m, "url") && !contains(m, "page") {
			c.errorf(n, path, "missing url or page")
		}
		return nil
	}
	if k.URL == "" && k.Page != "" {
		k.URL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(k.Page)}).String()
	}
	declared := s.fieldNames(k.Rule)
	k.fields = c.fieldNames(fields, declared)
	if len(k.fields) != len(fields) {
		ok = false
	}
	if itemsNode != nil {
		for i, e := range c.seq(itemsNode, path+".items") {
			w, good := c.wantItem(e, fmt.Sprintf("%s.items[%d]", path, i), declared)
			ok = ok && good
			k.items = append(k.items, w)
		}
	}
	if linksNode != nil && k.URL != "" {
		base, err := urls.ParseBase(k.URL)
		for _, e := range c.strList(linksNode, path+".links") {
			var u string
			if err == nil {
				u, err = base.Resolve(e.value)
			}
			if err != nil {
				c.errorf(e.node, e.path, "invalid link %s: %v", quote(e.value), err)
				ok = false
				continue
			}
			k.links = append(k.links, u)
		}
	}
	if !ok {
		return nil
	}
	return k
}

// fieldNames returns the fields the items of a rule may have, or of every
// rule when rule is "".
func (s *Spider) fieldNames(rule string) []string {
	var names []string
	for _, r := range s.items {
		if rule == "" || r.name == rule {
			names = append(names, r.names...)
		}
	}
	return names
}

// savedPage resolves the path of a saved page against the spider file and
// checks that it is a file.
func (c *compiler) savedPage(n *yaml.Node, path, name string) string {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.dir, p)
	}
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.errorf(n, path, "no such file %s", quote(p))
		return ""
	case err != nil:
		c.errorf(n, path, "%v", err)
		return ""
	case fi.IsDir():
		c.errorf(n, path, "%s is a directory", quote(p))
		return ""
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		c.errorf(n, path, "%v", err)
		return ""
	}
	return abs
}

// count compiles a number of items: exact, or {min, max}.
func (c *compiler) count(n *yaml.Node, path string) *countRange {
	if n.Kind == yaml.ScalarNode {
		v, ok := c.integer(n, path)
		if !ok {
			return nil
		}
		if v < 0 {
			c.errorf(n, path, "must not be negative")
			return nil
		}
		return &countRange{v, v}
	}
	r := &countRange{0, -1}
	ok := true
	for _, p := range c.pairs(n, path, countKeys, true) {
		v, good := c.integer(p.val, path+"."+p.key.Value)
		if good && v < 0 {
			c.errorf(p.val, path+"."+p.key.Value, "must not be negative")
			good = false
		}
		ok = ok && good
		if p.key.Value == "min" {
			r.min = v
		} else {
			r.max = v
		}
	}
	if resolve(n).Kind != yaml.MappingNode || !ok {
		return nil
	}
	if r.max >= 0 && r.min > r.max {
		c.errorf(n, path, "min (%d) is greater than max (%d)", r.min, r.max)
		return nil
	}
	return r
}

// wantItem compiles one expected item: field names and values, null for a
// field that must be absent.
func (c *compiler) wantItem(n *yaml.Node, path string, declared []string) (wantItem, bool) {
	var w wantItem
	ok := resolve(n).Kind == yaml.MappingNode
	for _, p := range c.pairs(n, path, nil, false) {
		name := p.key.Value
		if !contains(declared, name) {
			if s := suggest(name, declared); s != "" {
				c.errorf(p.key, path, "no field %s (did you mean %s?)", quote(name), quote(s))
			} else {
				c.errorf(p.key, path, "no field %s in the item rules", quote(name))
			}
			ok = false
			continue
		}
		if isNull(p.val) {
			w = append(w, wantField{name: name, none: true})
			continue
		}
		var v any
		if err := p.val.Decode(&v); err != nil {
			c.errorf(p.val, path+"."+name, "%v", err)
			ok = false
			continue
		}
		norm, err := jsonForm(v)
		if err != nil {
			c.errorf(p.val, path+"."+name, "want a value JSON can hold: %v", err)
			ok = false
			continue
		}
		w = append(w, wantField{name: name, want: norm})
	}
	return w, ok
}

// jsonForm returns v as encoding/json decodes its JSON encoding: the form
// in which expected and scraped values are compared.
func jsonForm(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// Fetcher fetches one request, as *downloader.Downloader does; a response
// of any status is not an error.
type Fetcher interface {
	Fetch(ctx context.Context, req *downloader.Request) (*downloader.Response, error)
}

// ContractResult is what verifying a contract found.
type ContractResult struct {
	Items    int      // items the page yielded that Check would keep
	Links    int      // links that would be followed
	Failures []string // one per failing expectation; empty when the contract holds
}

// Verify fetches the contract's page with f (reading its saved copy when
// it has one), parses it as the crawl would, and checks every expectation,
// reporting each that fails, such as `items[1].price: got "£53.74", want
// "£53.75"`. Items count only when Check would keep them, duplicates of
// other pages aside.
func (s *Spider) Verify(ctx context.Context, k *Contract, f Fetcher) ContractResult {
	var res ContractResult
	fail := func(format string, args ...any) {
		res.Failures = append(res.Failures, fmt.Sprintf(format, args...))
	}
	fetch := k.URL
	if k.Page != "" {
		fetch = (&url.URL{Scheme: "file", Path: filepath.ToSlash(k.Page)}).String()
	}
	req := &downloader.Request{URL: fetch, Rule: k.Rule}
	resp, err := f.Fetch(ctx, req)
	if err != nil {
		fail("%v", err)
		return res
	}
	if resp.Status < 200 || resp.Status > 299 {
		fail("status %d", resp.Status)
		return res
	}
	if k.Page != "" {
		// The saved page stands for the page at URL.
		resp.URL = k.URL
		resp.Request = &downloader.Request{URL: k.URL, Rule: k.Rule}
	}
	if !s.Accepts(resp) {
		fail("not parsed: content type %s", quote(resp.ContentType()))
		return res
	}
	ex := s.Explain(resp)
	if ex.Problem != "" {
		fail("%s", ex.Problem)
	}
	var kept []*item.Item
	for _, it := range ex.Items {
		if it.Drop == nil {
			kept = append(kept, it.Item)
		}
	}
	res.Items = len(kept)
	n := int64(len(kept))
	if r := k.count; r != nil {
		switch {
		case r.min == r.max && n != r.min:
			fail("count: got %s, want %d", items(n), r.min)
		case n < r.min:
			fail("count: got %s, want at least %d", items(n), r.min)
		case r.max >= 0 && n > r.max:
			fail("count: got %s, want at most %d", items(n), r.max)
		}
	}
	for i, w := range k.items {
		if i >= len(kept) {
			fail("items[%d]: missing: got %s", i, items(int64(len(kept))))
			continue
		}
		for _, f := range w {
			v, ok := kept[i].Get(f.name)
			switch {
			case f.none && ok:
				fail("items[%d].%s: got %s, want no field", i, f.name, compact(v))
			case f.none:
			case !ok:
				fail("items[%d].%s: missing, want %s", i, f.name, compact(f.want))
			default:
				got, err := jsonForm(v)
				if err != nil || !jsonEqual(got, f.want) {
					fail("items[%d].%s: got %s, want %s", i, f.name, compact(got), compact(f.want))
				}
			}
		}
	}
	if len(k.fields) > 0 && len(kept) == 0 {
		fail("fields: no items")
	}
	for i, it := range kept {
		var missing []string
		for _, name := range k.fields {
			if v, ok := it.Get(name); !ok || isEmpty(v) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			fail("items[%d]: missing %s", i, strings.Join(missing, ", "))
		}
	}
	followed := map[string]bool{}
	skipped := map[string]string{}
	for _, l := range ex.Links {
		if l.Request != nil {
			followed[l.Request.URL] = true
			res.Links++
		} else if _, ok := skipped[l.URL]; !ok {
			skipped[l.URL] = l.Skip
		}
	}
	for _, u := range k.links {
		switch why, ok := skipped[u]; {
		case followed[u]:
		case ok:
			fail("links: %s not followed (%s)", u, why)
		default:
			fail("links: %s not found", u)
		}
	}
	return res
}

// compact writes a value in the JSON form of messages.
func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonEqual compares two values in the form encoding/json decodes.
func jsonEqual(a, b any) bool {
	return compact(a) == compact(b)
}

// items counts items in words: "1 item", "2 items".
func items(n int64) string {
	if n == 1 {
		return "1 item"
	}
	return strconv.FormatInt(n, 10) + " items"
}
