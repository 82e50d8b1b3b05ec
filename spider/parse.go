package spider

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"crawl/downloader"
	"crawl/item"
	"crawl/urls"
)

var (
	// allLinks is what a follow rule without css follows.
	allLinks = cascadia.MustCompile("a[href], area[href]")
	// baseElement is the element whose href links are resolved against.
	baseElement = cascadia.MustCompile("base[href]")
)

// Parse extracts the items and the links to follow from a fetched HTML page,
// lazily as the consumer ranges over the results: first the items of every
// item rule whose urls match the page URL (or only the rule named by
// resp.Request.Rule, when set), then the links of every follow rule, each
// distinct URL once.
//
// The page URL is resp.URL, the URL after redirects. The body is parsed as
// HTML once, whatever its Content-Type. Parse is safe for concurrent use.
func (s *Spider) Parse(resp *downloader.Response) iter.Seq[Result] {
	return func(yield func(Result) bool) {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(resp.Body))
		if err != nil || len(doc.Nodes) == 0 {
			return // the HTML parser fails only when reading fails, which bytes.Reader does not
		}
		pg := &page{url: resp.URL, root: doc.Nodes[0]}
		var rule string
		depth := 1
		if resp.Request != nil {
			rule, depth = resp.Request.Rule, resp.Request.Depth+1
			if pg.url == "" {
				pg.url = resp.Request.URL
			}
		}
		if s.scrape(pg, rule, yield) {
			s.links(pg, depth, yield)
		}
	}
}

// scrape yields the items of the page. It reports whether the consumer
// wants more.
func (s *Spider) scrape(pg *page, rule string, yield func(Result) bool) bool {
	for _, r := range s.items {
		if rule != "" && r.name != rule || rule == "" && !r.matches(pg.url) {
			continue
		}
		if r.each == nil {
			if !yield(Result{Item: r.item(pg, pg.root)}) {
				return false
			}
			continue
		}
		for n := nextMatch(pg.root, nil, r.each); n != nil; n = nextMatch(pg.root, n, r.each) {
			if !yield(Result{Item: r.item(pg, n)}) {
				return false
			}
		}
	}
	return true
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

// item extracts one item with ctx as the context of its fields.
func (r *itemRule) item(pg *page, ctx *html.Node) *item.Item {
	it := &item.Item{Rule: r.name, URL: pg.url, Fields: make([]item.Field, 0, len(r.fields))}
	for _, f := range r.fields {
		if v, ok := f.ext.extract(pg, ctx); ok {
			it.Fields = append(it.Fields, item.Field{Name: f.name, Value: v})
		}
	}
	return it
}

// links yields the links of the page that the follow rules select, as
// requests at depth or as skips.
func (s *Spider) links(pg *page, depth int, yield func(Result) bool) {
	if len(s.follow) == 0 {
		return
	}
	base, err := urls.ParseBase(pg.url)
	if err != nil {
		return // without a page URL no link can be resolved
	}
	if n := nextMatch(pg.root, nil, baseElement); n != nil {
		if href, _ := attr(n, "href"); strings.TrimSpace(href) != "" {
			if abs, err := base.Resolve(href); err == nil {
				if b, err := urls.ParseBase(abs); err == nil {
					base = b
				}
			}
		}
	}
	// A page on the web must never lead the crawler to a local file; a
	// local page may link to other local files and to the web.
	fileOK := urls.Scheme(pg.url) == "file"

	seen := make(map[string]struct{}, 64)
	for _, r := range s.follow {
		sel := r.sel
		if sel == nil {
			sel = allLinks
		}
		for n := nextMatch(pg.root, nil, sel); n != nil; n = nextMatch(pg.root, n, sel) {
			href, ok := r.link(n)
			if href = strings.TrimSpace(href); !ok || href == "" {
				continue
			}
			u, err := base.Resolve(href)
			if err != nil {
				// An href that cannot be resolved is still subject to
				// allow and deny, matched against the href as written.
				if key := "\x00" + href; r.allows(href) && !isSeen(seen, key) {
					if !yield(Result{Skip: SkipInvalid, URL: href}) {
						return
					}
				}
				continue
			}
			if !r.allows(u) || isSeen(seen, u) {
				continue
			}
			var res Result
			switch urls.Scheme(u) {
			case "http", "https":
				host := strings.TrimSuffix(urls.Hostname(u), ".")
				switch {
				case host == "":
					res = Result{Skip: SkipInvalid, URL: u}
				case !s.onsite(host):
					res = Result{Skip: SkipOffsite, URL: u}
				default:
					res = Result{Request: &downloader.Request{URL: u, Depth: depth}}
				}
			case "file":
				if fileOK {
					res = Result{Request: &downloader.Request{URL: u, Depth: depth}}
				} else {
					res = Result{Skip: SkipScheme, URL: u}
				}
			default:
				res = Result{Skip: SkipScheme, URL: u}
			}
			if !yield(res) {
				return
			}
		}
	}
}

// isSeen reports whether key is in seen, adding it if not.
func isSeen(seen map[string]struct{}, key string) bool {
	if _, ok := seen[key]; ok {
		return true
	}
	seen[key] = struct{}{}
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

// allows reports whether the rule's allow and deny patterns let url through.
func (r *followRule) allows(url string) bool {
	for _, re := range r.deny {
		if re.MatchString(url) {
			return false
		}
	}
	if len(r.allow) == 0 {
		return true
	}
	for _, re := range r.allow {
		if re.MatchString(url) {
			return true
		}
	}
	return false
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

// Accepts reports whether Parse can read resp: HTML or XHTML by its
// Content-Type, or by sniffing (the WHATWG algorithm net/http implements)
// when it has none.
func (s *Spider) Accepts(resp *downloader.Response) bool {
	switch resp.ContentType() {
	case "text/html", "application/xhtml+xml":
		return true
	case "":
		return strings.HasPrefix(http.DetectContentType(resp.Body), "text/html")
	}
	return false
}
