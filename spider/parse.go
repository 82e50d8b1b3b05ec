package spider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"regexp"
	"strings"

	"github.com/andybalholm/cascadia"
	"github.com/antchfx/htmlquery"
	"github.com/antchfx/xpath"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"crawl/downloader"
	"crawl/item"
	"crawl/stats"
	"crawl/urls"
)

// baseElement is the element whose href links are resolved against.
var baseElement = cascadia.MustCompile("base[href]")

// readAs is how Parse reads a response.
type readAs uint8

const (
	readHTML readAs = iota
	readJSON
	readSitemap
)

func (k readAs) String() string {
	switch k {
	case readJSON:
		return "json"
	case readSitemap:
		return "sitemap"
	}
	return "html"
}

// Parse extracts the items and the links to follow from a fetched page,
// lazily as the consumer ranges over the results: first the items of every
// item rule whose urls match the page URL (or only the rule named by
// resp.Request.Rule, when set), then the links of every follow rule, each
// distinct URL once.
//
// How the body is read depends on the request and the spider: a request
// for a sitemap (Rule SitemapRule) is read as a sitemap, yielding a request
// for each URL it lists; a spider with response: json or html reads every
// response so; otherwise a JSON Content-Type is read as JSON (by the rules
// that read JSON) and anything else as HTML (by the others).
//
// The page URL is resp.URL, the URL after redirects. Parse is safe for
// concurrent use.
func (s *Spider) Parse(resp *downloader.Response) iter.Seq[Result] {
	return s.ParseContext(context.Background(), resp)
}

// ParseContext is Parse, stopped when ctx is done or when the page costs
// more work than its budget: workPerNode steps per node of the page and
// per selector of the spider, which no page reaches unless an XPath
// expression multiplies its steps. Either way the last Result holds the
// error (ctx's, or ErrTooComplex, which is also counted under
// stats.Skipped+SkipTooComplex), and an item is yielded only when every
// one of its fields was extracted in full.
func (s *Spider) ParseContext(ctx context.Context, resp *downloader.Response) iter.Seq[Result] {
	return func(yield func(Result) bool) {
		pg, rule, depth := s.newPage(resp)
		defer pg.release()
		pg.w.ctx = ctx
		more := true
		s.parse(pg, resp, rule, depth, func(r Result) bool {
			more = yield(r)
			return more
		})
		if pg.w.err != nil {
			s.stopped(pg)
			if more {
				yield(Result{Err: fmt.Errorf("parse %s: %w", pg.url, pg.w.err), URL: pg.url})
			}
		}
	}
}

// stopped counts and explains a page whose parsing was stopped.
func (s *Spider) stopped(pg *page) {
	if !errors.Is(pg.w.err, ErrTooComplex) {
		return
	}
	s.count(stats.Skipped + SkipTooComplex)
	if pg.explain != nil {
		pg.explain.Problem = fmt.Sprintf("the page took more than %d steps to parse, its budget, and was skipped from there on", pg.w.limit)
	}
}

// newPage starts parsing resp: the page, the item rule the request names
// and the depth of the links found.
func (s *Spider) newPage(resp *downloader.Response) (pg *page, rule string, depth int) {
	pg = &page{sp: s, url: resp.URL}
	pg.text.b = pg.textBuf[:0]
	depth = 1
	if resp.Request != nil {
		rule, depth, pg.lastmod = resp.Request.Rule, resp.Request.Depth+1, resp.Request.Lastmod
		if pg.url == "" {
			pg.url = resp.Request.URL
		}
	}
	return pg, rule, depth
}

// parse reads the response as its kind and yields what it finds.
func (s *Spider) parse(pg *page, resp *downloader.Response, rule string, depth int, yield func(Result) bool) {
	kind := s.kindOf(resp, rule)
	if pg.explain != nil {
		pg.explain.As = kind.String()
	}
	switch kind {
	case readSitemap:
		s.sitemap(pg, resp.Body, depth, yield)
	case readJSON:
		dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(resp.Body, []byte("\uFEFF"))))
		dec.UseNumber()
		if err := dec.Decode(&pg.json); err != nil {
			s.count(stats.Skipped + SkipBadJSON)
			if pg.explain != nil {
				pg.explain.Problem = fmt.Sprintf("the body is not JSON: %v", err)
			}
			return
		}
		if s.scrape(pg, rule, true, yield) {
			s.jsonLinks(pg, depth, yield)
		}
	default:
		root, err := s.parseHTML(resp.Body)
		if err != nil {
			if pg.explain != nil {
				pg.explain.Problem = fmt.Sprintf("the body is not HTML that can be read: %v", err)
			}
			return
		}
		pg.root = root
		pg.w.limit = workPerNode * countNodes(root) * int64(1+s.selectors)
		if s.scrape(pg, rule, false, yield) {
			s.htmlLinks(pg, depth, yield)
		}
	}
}

// SkipBadJSON is the reason, under stats.Skipped, for a response read as
// JSON that is not JSON: garbage, or a body cut at the size limit.
const SkipBadJSON = "bad_json"

// kindOf decides how to read a response.
func (s *Spider) kindOf(resp *downloader.Response, rule string) readAs {
	switch {
	case rule == SitemapRule:
		return readSitemap
	case s.response == responseJSON:
		return readJSON
	case s.response == responseHTML:
		return readHTML
	}
	ct := resp.ContentType()
	if isJSONType(ct) || ct == "" && s.hasJSON && looksJSON(resp.Body) {
		return readJSON
	}
	return readHTML
}

// isJSONType reports whether a media type is JSON: application/json,
// text/json, or any type with a +json suffix (application/ld+json).
func isJSONType(ct string) bool {
	return ct == "application/json" || ct == "text/json" || ct == "application/x-json" || strings.HasSuffix(ct, "+json")
}

// looksJSON reports whether a body without a Content-Type starts like a
// JSON object or array.
func looksJSON(body []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\uFEFF")), " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// scrape yields the items of the page: of the rules that read its kind
// (JSON or HTML) and match its URL, or of the rule the request names. It
// reports whether the consumer wants more.
func (s *Spider) scrape(pg *page, rule string, json bool, yield func(Result) bool) bool {
	sc := scope{n: pg.root, j: pg.json}
	for _, r := range s.items {
		if why := r.skips(pg.url, rule, json); why != "" {
			if pg.explain != nil {
				pg.explain.Rules = append(pg.explain.Rules, RuleReport{Name: r.name, Why: why})
			}
			continue
		}
		if pg.explain != nil {
			pg.explain.Rules = append(pg.explain.Rules, RuleReport{Name: r.name, Ran: true})
		}
		if r.each == nil {
			if it := r.item(pg, sc); pg.w.stopped() || !yield(Result{Item: it}) {
				return false
			}
			continue
		}
		more := true
		r.each.scopes(pg, sc, func(sub scope) bool {
			it := r.item(pg, sub)
			more = !pg.w.stopped() && yield(Result{Item: it})
			return more
		})
		if !more || pg.w.stopped() {
			return false
		}
	}
	return true
}

// skips returns why the rule does not scrape a page, or "" when it does.
func (r *itemRule) skips(url, rule string, json bool) string {
	switch {
	case rule != "" && r.name != rule:
		return "the request names rule " + quote(rule)
	case rule == "" && r.onlyCB:
		return WhyCallbackOnly
	case rule == "" && !r.matches(url):
		return "urls do not match the page URL"
	case r.json && !json:
		return "reads JSON, and the page is HTML"
	case !r.json && json:
		return "reads HTML, and the page is JSON"
	}
	return ""
}

// matches reports whether the rule scrapes the page at url.
func (r *itemRule) matches(url string) bool {
	if len(r.urls) == 0 {
		return true
	}
	for _, re := range r.urls {
		if re.MatchString(url) {
			return true
		}
	}
	return false
}

// item extracts one item in a scope.
func (r *itemRule) item(pg *page, sc scope) *item.Item {
	it := &item.Item{Rule: r.name, URL: pg.url, Fields: make([]item.Field, 0, len(r.fields))}
	for _, f := range r.fields {
		f.fill(pg, sc, it)
	}
	return it
}

// Reasons Explain gives for links Parse leaves out without a word, the
// values of LinkReport.Skip besides the Skip* reasons of Result.
const (
	SkipDenied        = "denied"         // a deny regex of the rule matches
	SkipNotAllowed    = "not_allowed"    // no allow regex of the rule matches
	SkipText          = "text"           // no text regex matches the link text
	SkipDuplicate     = "duplicate"      // an earlier rule or link of the page has it
	SkipOld           = "old"            // its sitemap lastmod is before sitemap_since
	SkipNoRule        = "no_rule"        // no sitemap rule matches it
	SkipSitemapFollow = "sitemap_follow" // a sitemap of an index that sitemap_follow does not match
)

// linker checks the links one follow rule selects on one page and yields
// them as requests or skips.
type linker struct {
	s      *Spider
	pg     *page
	r      *followRule
	base   *urls.Base
	fileOK bool
	seen   map[string]struct{} // made with the first link
	depth  int
	yield  func(Result) bool
}

// htmlLinks yields the links the HTML follow rules select, rule by rule in
// file order, so that a link two rules select is the first rule's (its
// callback, method and body). It reports whether the consumer wants more.
func (s *Spider) htmlLinks(pg *page, depth int, yield func(Result) bool) bool {
	if len(s.follow) == 0 {
		return true
	}
	found := pg.scanLinks()
	if pg.w.stopped() {
		return false
	}
	base := pg.linkBase()
	if base == nil {
		return true // without a page URL no link can be resolved
	}
	lk := linker{s: s, pg: pg, base: base, fileOK: urls.Scheme(pg.url) == "file", depth: depth, yield: yield}
	for i, r := range s.follow {
		if r.json != nil {
			continue
		}
		lk.r = r
		if r.xp >= 0 {
			more := true
			evalXPath(pg, r.xp, pg.root, func(nav *htmlquery.NodeNavigator) bool {
				n := nav.Current()
				switch nav.NodeType() {
				case xpath.ElementNode:
					href, ok := r.link(n)
					more = !ok || lk.consider(n, href)
				case xpath.AttributeNode:
					more = lk.consider(n, nav.Value())
				default:
					more = lk.consider(nil, nav.Value())
				}
				return more
			}, func(href string) { more = lk.consider(nil, href) })
			if !more || pg.w.stopped() {
				return false
			}
			continue
		}
		for _, f := range found {
			if f.rule == i && !lk.consider(f.n, f.href) {
				return false
			}
		}
	}
	return true
}

// foundLink is a link that a CSS follow rule (or the default links)
// selects on a page.
type foundLink struct {
	rule int // index in follow
	n    *html.Node
	href string
}

// scanLinks walks the page once for every follow rule that selects by CSS
// (or takes the default links), rather than once per rule, and returns the
// links they select in document order; it also finds the <base href> that
// linkBase needs.
//
// A rule whose selector is a descendant chain ("article.product_pod h3 a")
// is matched as the walk goes down the tree: for each open element the
// walk keeps how many compounds of the chain its ancestors (and itself)
// match in order, so that a candidate needs one compound matched, not a
// walk up its ancestors. FuzzScanLinks checks that it selects what the
// selector does.
func (pg *page) scanLinks() []foundLink {
	pg.scanned = true
	if pg.found == nil {
		if pool := pg.sp.found; pool != nil {
			pg.found, _ = pool.Get().(*[]foundLink)
		}
		if pg.found == nil {
			pg.found = new([]foundLink)
		}
	}
	found := (*pg.found)[:0]
	defer func() { *pg.found = found }()
	rules, chains := pg.sp.follow, pg.sp.chains
	// depths holds, for each open node from the root down, one count per
	// chain: how many of its first compounds that node and its ancestors
	// match. The first frame stands for the root's parent.
	nc := len(chains)
	var buf [256]uint8
	depths := buf[:nc:len(buf)]
	root := pg.root
	for n := root; ; {
		if pg.w.step(); pg.w.err != nil {
			return found
		}
		above := depths[len(depths)-nc:] // the counts of n's parent
		if n.Type == html.ElementNode {
			if pg.baseElem == nil && n.Data == "base" && baseElement.Match(n) {
				pg.baseElem = n
			}
			next := 0 // in chains
			for i, r := range rules {
				if next < nc && chains[next] == i {
					chain := r.sel.(*cssMatcher).chain
					last := len(chain) - 1
					if int(above[next]) == last && hasSubjectName(chain[last], n) {
						if href, ok := r.link(n); ok && pg.matches(chain[last], n) {
							found = append(found, foundLink{rule: i, n: n, href: href})
						}
					}
					next++
					continue
				}
				if r.sel == nil {
					continue
				}
				if href, ok := r.selects(pg, n); ok {
					found = append(found, foundLink{rule: i, n: n, href: href})
				}
			}
		}
		if n.FirstChild != nil {
			for c, i := range chains {
				chain := rules[i].sel.(*cssMatcher).chain
				k := above[c]
				if int(k) < len(chain)-1 && pg.matches(chain[k], n) {
					k++
				}
				depths = append(depths, k)
			}
			n = n.FirstChild
			continue
		}
		for {
			if n == root {
				return found
			}
			if n.NextSibling != nil {
				n = n.NextSibling
				break
			}
			n = n.Parent
			depths = depths[:len(depths)-nc]
		}
	}
}

// chainRules returns the indexes of the rules whose selectors are
// descendant chains.
func chainRules(rules []*followRule) []int {
	var chains []int
	for i, r := range rules {
		if m, ok := r.sel.(*cssMatcher); ok && m.chain != nil {
			chains = append(chains, i)
		}
	}
	return chains
}

// hasSubjectName reports whether n has a name m can match.
func hasSubjectName(m *cssMatcher, n *html.Node) bool {
	return m.names == nil || hasName(m.names, n.Data)
}

// selects returns the link of n when the rule's selector selects n and n
// has one. An element with no link could never be followed, so it is ruled
// out before the selector runs, as is an element without a name the
// selector needs.
func (r *followRule) selects(pg *page, n *html.Node) (string, bool) {
	m, css := r.sel.(*cssMatcher)
	if css && !hasSubjectName(m, n) {
		return "", false
	}
	href, ok := r.link(n)
	switch {
	case !ok:
		return "", false
	case css:
		ok = pg.matches(m, n)
	default:
		ok = r.sel.Match(n)
	}
	if !ok {
		return "", false
	}
	return href, true
}

// jsonLinks yields the links the JSON follow rules select: strings, or
// arrays of strings, at their paths.
func (s *Spider) jsonLinks(pg *page, depth int, yield func(Result) bool) bool {
	var lk *linker
	for _, r := range s.follow {
		if r.json == nil {
			continue
		}
		if lk == nil {
			base := pg.linkBase()
			if base == nil {
				return true
			}
			lk = &linker{s: s, pg: pg, base: base, fileOK: urls.Scheme(pg.url) == "file", depth: depth, yield: yield}
		}
		lk.r = r
		if !r.json.each(pg.json, func(v any) bool {
			if a, ok := v.([]any); ok {
				for _, e := range a {
					if s, ok := e.(string); ok && !lk.consider(nil, s) {
						return false
					}
				}
				return true
			}
			if s, ok := v.(string); ok {
				return lk.consider(nil, s)
			}
			return true
		}) {
			return false
		}
	}
	return true
}

// consider checks one link of element n (nil for a link from JSON or an
// XPath string) and yields what becomes of it. It reports whether the
// consumer wants more.
func (lk *linker) consider(n *html.Node, href string) bool {
	r, pg := lk.r, lk.pg
	from := r.index + 1
	if href = strings.TrimSpace(href); href == "" {
		return true
	}
	u, err := lk.base.Resolve(href)
	if err != nil {
		// An href that cannot be resolved is still subject to allow and
		// deny, matched against the href as written.
		if r.filter(pg, href, n) == "" && !lk.isSeen("\x00"+href) {
			return lk.yield(Result{Skip: SkipInvalid, URL: href, from: from})
		}
		return true
	}
	if why := r.filter(pg, u, n); why != "" {
		if pg.explain != nil {
			return lk.yield(Result{Skip: why, URL: u, from: from})
		}
		return true
	}
	if lk.isSeen(u) {
		if pg.explain != nil {
			return lk.yield(Result{Skip: SkipDuplicate, URL: u, from: from})
		}
		return true
	}
	if lk.s.respectNofollow && n != nil {
		if rel, ok := attr(n, "rel"); ok && hasToken(rel, "nofollow") {
			return lk.yield(Result{Skip: SkipNofollow, URL: u, from: from})
		}
	}
	if why := lk.s.target(u, lk.fileOK); why != "" {
		return lk.yield(Result{Skip: why, URL: u, from: from})
	}
	return lk.yield(Result{Request: &downloader.Request{
		URL: u, Depth: lk.depth, Method: r.method, Header: r.header, Body: r.body, Rule: r.callback,
		Render: r.renderOf(lk.s),
	}, from: from})
}

// target returns why the crawl may not request u, or "": a page on the web
// must never lead the crawler to a local file (a local page may link to
// other local files and to the web), and hosts must be in allowed_domains.
func (s *Spider) target(u string, fileOK bool) string {
	switch urls.Scheme(u) {
	case "http", "https":
		host := strings.TrimSuffix(urls.Hostname(u), ".")
		switch {
		case host == "":
			return SkipInvalid
		case !s.onsite(host):
			return SkipOffsite
		}
		return ""
	case "file":
		if fileOK {
			return ""
		}
	}
	return SkipScheme
}

// filter returns why the rule does not follow url, or "": its deny, allow
// and text patterns.
func (r *followRule) filter(pg *page, url string, n *html.Node) string {
	for _, re := range r.deny {
		if re.MatchString(url) {
			return SkipDenied
		}
	}
	if len(r.allow) > 0 && !anyMatch(r.allow, url) {
		return SkipNotAllowed
	}
	if len(r.text) > 0 {
		text := ""
		if n != nil {
			text = pg.text.of(n)
			if text == "" {
				text, _ = attr(n, "alt")
			}
		}
		if !anyMatch(r.text, text) {
			return SkipText
		}
	}
	return ""
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// isSeen reports whether key was seen on the page, adding it if not.
func (lk *linker) isSeen(key string) bool {
	if lk.seen == nil {
		lk.seen = make(map[string]struct{}, 64)
	}
	if _, ok := lk.seen[key]; ok {
		return true
	}
	lk.seen[key] = struct{}{}
	return false
}

// link returns the URL an element links to: the rule's attribute when it
// names one, else href of a, area and link, src of embedded content, and
// href or else src of any other element.
func (r *followRule) link(n *html.Node) (string, bool) {
	if r.attr != "" {
		return attr(n, r.attr)
	}
	switch n.DataAtom {
	case atom.A, atom.Area, atom.Link:
		return attr(n, "href")
	case atom.Img, atom.Script, atom.Iframe, atom.Frame, atom.Source, atom.Embed, atom.Audio, atom.Video:
		return attr(n, "src")
	}
	if v, ok := attr(n, "href"); ok {
		return v, true
	}
	return attr(n, "src")
}

// onsite reports whether host is one of the allowed domains or a subdomain
// of one. Every host is when there are no allowed domains.
func (s *Spider) onsite(host string) bool {
	if len(s.AllowedDomains) == 0 {
		return true
	}
	for _, d := range s.AllowedDomains {
		if host == d || len(host) > len(d) && host[len(host)-len(d)-1] == '.' && strings.HasSuffix(host, d) {
			return true
		}
	}
	return false
}

// ErrOffsite is wrapped by CheckRedirect's error for a target outside
// allowed_domains.
var ErrOffsite = errors.New("outside allowed_domains")

// CheckRedirect reports whether a redirect may lead to target: every hop is
// held to allowed_domains, as links are. The downloader calls it before it
// follows a redirect, so an off-site host is never contacted.
func (s *Spider) CheckRedirect(target string) error {
	host := strings.TrimSuffix(urls.Hostname(target), ".")
	if !s.onsite(host) {
		return fmt.Errorf("redirect to %s: %w", target, ErrOffsite)
	}
	return nil
}

// Accepts reports whether Parse can read resp:
//   - a sitemap request: XML, gzip or plain text by its Content-Type, or a
//     body that starts like one;
//   - with response: html or json, any response but images, audio, video
//     and fonts;
//   - otherwise HTML or XHTML by its Content-Type, JSON when the spider has
//     rules that read JSON, or, without a Content-Type, a body that sniffs
//     as HTML (the WHATWG algorithm net/http implements) or looks like JSON.
func (s *Spider) Accepts(resp *downloader.Response) bool {
	ct := resp.ContentType()
	if resp.Request != nil && resp.Request.Rule == SitemapRule {
		return isSitemapType(ct) || looksSitemap(resp.Body)
	}
	if s.response != responseAuto {
		// Forced to read every response, but not pictures and sounds.
		for _, media := range []string{"image/", "audio/", "video/", "font/"} {
			if strings.HasPrefix(ct, media) {
				return false
			}
		}
		return true
	}
	switch {
	case ct == "text/html", ct == "application/xhtml+xml":
		return true
	case s.hasJSON && isJSONType(ct):
		return true
	case ct == "":
		return strings.HasPrefix(http.DetectContentType(resp.Body), "text/html") || s.hasJSON && looksJSON(resp.Body)
	}
	return false
}
