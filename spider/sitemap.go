package spider

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/net/html/charset"

	"crawl/downloader"
	"crawl/urls"
)

// maxSitemapSize bounds the decompressed size of a gzipped sitemap, as the
// sitemaps protocol does (50 MB), so that a small hostile file cannot
// expand without end. It is a variable for tests.
var maxSitemapSize int64 = 50 << 20

// sitemapRule is a compiled entry of sitemap_rules: the pages of a sitemap
// it matches are scraped by its callback.
type sitemapRule struct {
	allow    []*regexp.Regexp
	deny     []*regexp.Regexp
	callback string // "" means every item rule whose urls match
}

var sitemapRuleKeys = []string{"allow", "deny", "callback"}

// sitemapRule compiles one entry of sitemap_rules.
func (c *compiler) sitemapRule(s *Spider, n *yaml.Node, path string) *sitemapRule {
	r := &sitemapRule{}
	ok := true
	for _, p := range c.pairs(n, path, sitemapRuleKeys, true) {
		field := path + "." + p.key.Value
		switch p.key.Value {
		case "allow":
			r.allow = c.regexes(p.val, field)
		case "deny":
			r.deny = c.regexes(p.val, field)
		case "callback":
			if v, good := c.str(p.val, field); good && c.callback(s, p.val, field, v) {
				r.callback = v
			} else {
				ok = false
			}
		}
	}
	if resolve(n).Kind != yaml.MappingNode || !ok {
		return nil
	}
	return r
}

// matches reports whether the rule takes the page at url.
func (r *sitemapRule) matches(url string) bool {
	for _, re := range r.deny {
		if re.MatchString(url) {
			return false
		}
	}
	return len(r.allow) == 0 || anyMatch(r.allow, url)
}

// since compiles sitemap_since: a date, or a date and time.
func (c *compiler) since(n *yaml.Node, path string) time.Time {
	v, ok := c.str(n, path)
	if !ok {
		return time.Time{}
	}
	t, ok := parseW3CDate(v)
	if !ok {
		c.errorf(n, path, "want a date such as 2024-01-31 or 2024-01-31T12:00:00Z, not %s", quote(v))
	}
	return t
}

// w3cLayouts are the forms of W3C Datetime that sitemaps use for lastmod.
var w3cLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
	"2006-01",
	"2006",
}

// parseW3CDate parses a lastmod; a time without a zone is taken as UTC.
func parseW3CDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range w3cLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// isSitemapType reports whether a Content-Type may hold a sitemap: XML,
// gzip, plain text (robots.txt or a text sitemap) or unknown bytes.
func isSitemapType(ct string) bool {
	switch ct {
	case "text/xml", "application/xml", "application/gzip", "application/x-gzip",
		"application/octet-stream", "text/plain", "":
		return true
	}
	return strings.HasSuffix(ct, "+xml")
}

// looksSitemap reports whether a body starts like a sitemap: gzip's magic
// bytes, or XML.
func looksSitemap(b []byte) bool {
	if isGzip(b) {
		return true
	}
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\uFEFF")), " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// sitemap yields a request for each page of a sitemap (a <urlset>), or
// for each sitemap of a sitemap index (a <sitemapindex>), as it reads the
// XML, a token at a time: a sitemap of 50,000 URLs is never held as a
// list. A gzipped body is recognised by its magic bytes, whatever its name
// or Content-Type. A robots.txt yields its Sitemap: lines, and a body that
// is not XML is read as a text sitemap, one URL per line.
func (s *Spider) sitemap(pg *page, body []byte, depth int, yield func(Result) bool) {
	base, err := urls.ParseBase(pg.url)
	if err != nil {
		return
	}
	sm := &sitemapper{s: s, pg: pg, base: base, fileOK: urls.Scheme(pg.url) == "file", depth: depth, yield: yield}
	var r io.Reader = bytes.NewReader(body)
	if isGzip(body) {
		gz, err := gzip.NewReader(r)
		if err != nil {
			sm.problem("the gzipped sitemap cannot be read: %v", err)
			return
		}
		defer gz.Close()
		r = io.LimitReader(gz, maxSitemapSize)
	}
	br := bufio.NewReader(r)
	if start, _ := br.Peek(512); !looksSitemap(start) {
		u, err := url.Parse(pg.url)
		sm.text(br, err == nil && strings.HasSuffix(u.Path, "/robots.txt"))
		return
	}
	dec := xml.NewDecoder(br)
	dec.Strict = false // a stray & in a URL is common; take it as written
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = charset.NewReaderLabel
	var (
		level     int
		index     bool   // the root is <sitemapindex>
		entry     bool   // inside a <url> or <sitemap>
		field     string // "loc" or "lastmod" when inside one
		loc, last strings.Builder
	)
	for {
		tok, err := dec.Token()
		if err != nil {
			if err != io.EOF {
				sm.problem("the sitemap stops being XML: %v", err)
			}
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			level++
			name := t.Name.Local
			switch {
			case level == 1:
				if name != "urlset" && name != "sitemapindex" {
					sm.problem("<%s> is not a sitemap: want <urlset> or <sitemapindex>", name)
					return
				}
				index = name == "sitemapindex"
			case level == 2 && (name == "url" || name == "sitemap"):
				entry = true
				loc.Reset()
				last.Reset()
			case level == 3 && entry && (name == "loc" || name == "lastmod"):
				field = name
			}
		case xml.CharData:
			switch field {
			case "loc":
				loc.Write(t)
			case "lastmod":
				last.Write(t)
			}
		case xml.EndElement:
			switch {
			case level == 3:
				field = ""
			case level == 2 && entry:
				entry = false
				kind := entryPage
				if index {
					kind = entryIndex
				}
				if !sm.entry(kind, loc.String(), last.String()) {
					return
				}
			}
			level--
		}
	}
}

// sitemapper turns the entries of one sitemap into results.
type sitemapper struct {
	s      *Spider
	pg     *page
	base   *urls.Base
	fileOK bool
	depth  int
	yield  func(Result) bool
}

func (sm *sitemapper) problem(format string, args ...any) {
	if sm.pg.explain != nil && sm.pg.explain.Problem == "" {
		sm.pg.explain.Problem = fmt.Sprintf(format, args...)
	}
}

// text reads a text sitemap, one URL per line, or the Sitemap: lines of a
// robots.txt.
func (sm *sitemapper) text(r *bufio.Reader, robots bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if robots {
			key, val, ok := strings.Cut(line, ":")
			if !ok || !strings.EqualFold(strings.TrimSpace(key), "sitemap") {
				continue
			}
			if !sm.entry(entryRobots, val, "") {
				return
			}
			continue
		}
		if line != "" && line[0] != '#' && !sm.entry(entryPage, line, "") {
			return
		}
	}
}

// entryKind is what a sitemap entry names.
type entryKind uint8

const (
	entryPage   entryKind = iota // a page, of a <urlset> or a text sitemap
	entryIndex                   // a sitemap, of a <sitemapindex>
	entryRobots                  // a sitemap, of a robots.txt Sitemap: line
)

// entry yields the request for one <loc>: a page of a sitemap, or a
// sitemap of an index (held to sitemap_follow) or of a robots.txt. It
// reports whether the consumer wants more.
func (sm *sitemapper) entry(kind entryKind, loc, lastmod string) bool {
	s, pg := sm.s, sm.pg
	const from = fromSitemap
	loc, lastmod = strings.TrimSpace(loc), strings.TrimSpace(lastmod)
	if loc == "" {
		return true
	}
	u, err := sm.base.Resolve(loc)
	if err != nil {
		return sm.yield(Result{Skip: SkipInvalid, URL: loc, from: from})
	}
	explain := func(why string) bool {
		if pg.explain != nil {
			return sm.yield(Result{Skip: why, URL: u, from: from})
		}
		return true
	}
	if !s.sitemapSince.IsZero() && lastmod != "" {
		if t, ok := parseW3CDate(lastmod); ok && t.Before(s.sitemapSince) {
			return explain(SkipOld)
		}
	}
	rule := SitemapRule
	switch kind {
	case entryIndex:
		if len(s.sitemapFollow) > 0 && !anyMatch(s.sitemapFollow, u) {
			return explain(SkipSitemapFollow)
		}
	case entryPage:
		rule = ""
		if len(s.sitemapRules) > 0 {
			var r *sitemapRule
			for _, sr := range s.sitemapRules {
				if sr.matches(u) {
					r = sr
					break
				}
			}
			if r == nil {
				return explain(SkipNoRule)
			}
			rule = r.callback
		}
	}
	if why := s.target(u, sm.fileOK); why != "" {
		return sm.yield(Result{Skip: why, URL: u, from: from})
	}
	req := &downloader.Request{URL: u, Depth: sm.depth, Rule: rule}
	if kind == entryPage {
		req.Lastmod = lastmod
		req.Render = s.render
	}
	return sm.yield(Result{Request: req, from: from})
}

// fromSitemap is Result.from for what a sitemap lists.
const fromSitemap = -1
